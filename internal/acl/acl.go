package acl

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net"
	"strconv"
	"strings"

	"github.com/warren-zk/warren/internal/proto"
)

// ErrInvalidACL reports an ACL list Fixup rejects.
var ErrInvalidACL = errors.New("invalid ACL")

// Check reports whether ids grant perm on a node with list acl.
func Check(acl []proto.ACL, perm int32, ids []proto.Id, skip bool) bool {
	if skip || len(acl) == 0 {
		return true
	}
	for _, id := range ids {
		if id.Scheme == "super" {
			return true
		}
	}
	for _, a := range acl {
		if a.Perms&perm == 0 {
			continue
		}
		if a.Id.Scheme == "world" && a.Id.Id == "anyone" {
			return true
		}
		for _, id := range ids {
			if id.Scheme != a.Id.Scheme {
				continue
			}
			switch id.Scheme {
			case "digest", "x509", "sasl":
				if id.Id == a.Id.Id {
					return true
				}
			case "ip":
				if IPMatches(id.Id, a.Id.Id) {
					return true
				}
			}
		}
	}
	return false
}

// Fixup validates acl for create/setACL and returns the list to store.
func Fixup(acl []proto.ACL, ids []proto.Id) ([]proto.ACL, error) {
	if len(acl) == 0 {
		return nil, ErrInvalidACL
	}
	uniq := make([]proto.ACL, 0, len(acl))
	for _, a := range acl {
		dup := false
		for _, u := range uniq {
			if u == a {
				dup = true
				break
			}
		}
		if !dup {
			uniq = append(uniq, a)
		}
	}
	out := make([]proto.ACL, 0, len(uniq))
	for _, a := range uniq {
		switch a.Id.Scheme {
		case "world":
			if a.Id.Id != "anyone" {
				return nil, ErrInvalidACL
			}
			out = append(out, a)
		case "auth":
			added := false
			for _, id := range ids {
				if id.Scheme == "ip" || id.Scheme == "super" {
					continue
				}
				out = append(out, proto.ACL{Perms: a.Perms, Id: id})
				added = true
			}
			if !added {
				return nil, ErrInvalidACL
			}
		case "digest":
			if !validDigestID(a.Id.Id) {
				return nil, ErrInvalidACL
			}
			out = append(out, a)
		case "ip":
			if !ValidIP(a.Id.Id) {
				return nil, ErrInvalidACL
			}
			out = append(out, a)
		case "x509":
			if a.Id.Id == "" {
				return nil, ErrInvalidACL
			}
			out = append(out, a)
		default:
			return nil, ErrInvalidACL
		}
	}
	return out, nil
}

// validDigestID mirrors Java's id.split(":").length == 2 (trailing empty
// strings dropped).
func validDigestID(id string) bool {
	parts := strings.Split(id, ":")
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return len(parts) == 2
}

// DigestID returns the digest scheme id for "user:password" auth bytes.
func DigestID(auth string) string {
	user := auth
	if i := strings.IndexByte(auth, ':'); i >= 0 {
		user = auth[:i]
	}
	sum := sha1.Sum([]byte(auth))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// Redact hides digest password hashes (getACL without ADMIN).
func Redact(acl []proto.ACL) []proto.ACL {
	out := make([]proto.ACL, len(acl))
	for i, a := range acl {
		if a.Id.Scheme == "digest" {
			user := a.Id.Id
			if j := strings.IndexByte(user, ':'); j >= 0 {
				user = user[:j]
			}
			a.Id.Id = user + ":x"
		}
		out[i] = a
	}
	return out
}

func parseIPMask(s string) (net.IP, int, bool) {
	addr, bits := s, -1
	if i := strings.IndexByte(s, '/'); i >= 0 {
		addr = s[:i]
		b, err := strconv.Atoi(s[i+1:])
		if err != nil || b < 0 {
			return nil, 0, false
		}
		bits = b
	}
	ip := net.ParseIP(addr)
	if ip == nil {
		return nil, 0, false
	}
	if v4 := ip.To4(); v4 != nil && strings.IndexByte(addr, ':') < 0 {
		ip = v4
	}
	if bits < 0 {
		bits = len(ip) * 8
	}
	if bits > len(ip)*8 {
		return nil, 0, false
	}
	return ip, bits, true
}

// ValidIP reports whether s is a valid ip ACL id: an address with an optional /bits.
func ValidIP(s string) bool {
	_, _, ok := parseIPMask(s)
	return ok
}

// IPMatches reports whether the address addr lies within the ACL id aclID.
func IPMatches(addr, aclID string) bool {
	ip, _, ok := parseIPMask(addr)
	if !ok {
		return false
	}
	net_, bits, ok := parseIPMask(aclID)
	if !ok || len(ip) != len(net_) {
		return false
	}
	mask := net.CIDRMask(bits, len(ip)*8)
	return ip.Mask(mask).Equal(net_.Mask(mask))
}
