package zk

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// DefaultPort is used for a server given without a port.
const DefaultPort = "2181"

// parseConnectString splits "h1:2181,h2:2181/chroot" into host:port
// addresses and a chroot ("" for none).
func parseConnectString(s string) (servers []string, chroot string, err error) {
	hosts := s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, chroot = s[:i], s[i:]
		if err := validateChroot(chroot); err != nil {
			return nil, "", err
		}
		if chroot == "/" {
			chroot = ""
		}
	}
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			// No port: "host" or "[v6]" or a bare IPv6 address.
			host := strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
			h = net.JoinHostPort(host, DefaultPort)
			if _, _, err := net.SplitHostPort(h); err != nil {
				return nil, "", fmt.Errorf("zk: bad server address %q", h)
			}
		}
		servers = append(servers, h)
	}
	if len(servers) == 0 {
		return nil, "", errors.New("zk: no servers in connect string " + fmt.Sprintf("%q", s))
	}
	return servers, chroot, nil
}

func validateChroot(p string) error {
	if p == "/" {
		return nil
	}
	bad := !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") ||
		strings.ContainsRune(p, 0)
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." {
			bad = true
		}
	}
	if bad {
		return fmt.Errorf("zk: invalid chroot %q", p)
	}
	return nil
}

// serverPath prefixes the chroot.
func (c *Conn) serverPath(p string) string {
	if c.chroot == "" {
		return p
	}
	if p == "/" {
		return c.chroot
	}
	return c.chroot + p
}

// clientPath strips the chroot from a path the server sent.
func (c *Conn) clientPath(p string) string {
	if c.chroot == "" {
		return p
	}
	if p == c.chroot {
		return "/"
	}
	if strings.HasPrefix(p, c.chroot) && len(p) > len(c.chroot) && p[len(c.chroot)] == '/' {
		return p[len(c.chroot):]
	}
	return p
}

// checkPath rejects a path that cannot be prefixed with a chroot: it must
// be absolute. Everything else is the server's to judge.
func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return ErrBadArguments
	}
	return nil
}
