package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Role is what a server does in an ensemble.
type Role int

// The roles of server.N lines and peerType.
const (
	Participant Role = iota // votes in elections and commits
	Observer                // follows the leader without voting
)

func (r Role) String() string {
	if r == Observer {
		return "observer"
	}
	return "participant"
}

// Server is one server.N line.
type Server struct {
	ID           int64
	Host         string // without brackets for IPv6
	PeerPort     int
	ElectionPort int
	Role         Role
	ClientAddr   string // "" = all interfaces
	ClientPort   int    // 0 = not given
	Line         int
}

const serverForm = "host:peerPort:electionPort[:participant|observer][;[clientAddr:]clientPort]"

// parseServer parses the value of server.N, as QuorumPeer.QuorumServer does.
// With multiAddr, "addr|addr" lists are accepted and the first address used;
// warn is then set.
func parseServer(id int64, v string, multiAddr bool) (s Server, warn string, err error) {
	s.ID = id
	wrong := fmt.Errorf("%q does not have the form %s", v, serverForm)
	parts := javaSplit(v, ";")
	if len(parts) == 0 || len(parts) > 2 {
		return s, "", wrong
	}
	if len(parts) == 2 {
		cp, err := hostAndPort(parts[1])
		if err != nil {
			return s, "", err
		}
		if len(cp) == 0 || len(cp) > 2 {
			return s, "", wrong
		}
		if len(cp) == 2 {
			s.ClientAddr = cp[0]
		}
		if s.ClientPort, err = serverPort(cp[len(cp)-1], "client"); err != nil {
			return s, "", err
		}
	}
	addrs := javaSplit(parts[0], "|")
	if len(addrs) > 1 {
		if !multiAddr {
			return s, "", fmt.Errorf("several addresses given but multiAddress.enabled is not true")
		}
		warn = "several addresses given; only the first is used"
	}
	for i, a := range addrs {
		sp, err := hostAndPort(a)
		if err != nil {
			return s, "", err
		}
		if len(sp) < 3 || len(sp) > 4 {
			return s, "", wrong
		}
		if sp[0] == "" {
			return s, "", fmt.Errorf("%q has an empty host", v)
		}
		peer, err := serverPort(sp[1], "peer")
		if err != nil {
			return s, "", err
		}
		election, err := serverPort(sp[2], "election")
		if err != nil {
			return s, "", err
		}
		if peer == election {
			return s, "", fmt.Errorf("peer and election port must be different (%d)", peer)
		}
		role := Participant
		if len(sp) == 4 {
			switch strings.ToLower(javaTrim(sp[3])) {
			case "participant":
			case "observer":
				role = Observer
			default:
				return s, "", fmt.Errorf("unrecognised peer type %q", sp[3])
			}
		}
		if i == 0 {
			s.Host, s.PeerPort, s.ElectionPort, s.Role = sp[0], peer, election, role
		} else if len(sp) == 4 && role != s.Role {
			return s, "", fmt.Errorf("multiple addresses should have the same role: %s vs %s", s.Role, role)
		}
	}
	return s, warn, nil
}

func serverPort(p, what string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil {
		return 0, fmt.Errorf("%s port %q is not a number", what, p)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("%s port %d is out of range", what, n)
	}
	return n, nil
}

// hostAndPort splits "host:port…" or "[v6]:port…" as ConfigUtils.getHostAndPort.
func hostAndPort(s string) ([]string, error) {
	if !strings.HasPrefix(s, "[") {
		return javaSplit(s, ":"), nil
	}
	i := strings.IndexByte(s, ']')
	switch {
	case i < 0:
		return nil, fmt.Errorf("%q starts with '[' but has no matching ']'", s)
	case i+1 == len(s):
		return []string{s[1:i]}, nil
	case s[i+1] != ':' || i+2 == len(s):
		return nil, fmt.Errorf("%q doesn't have a port after ']:'", s)
	}
	return append([]string{s[1:i]}, javaSplit(s[i+2:], ":")...), nil
}

// javaSplit is Java's String.split for a literal separator: trailing empty
// strings are dropped, and a string without the separator is returned whole.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	if len(parts) == 1 {
		return parts
	}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}
