package acl

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net"
	"strings"

	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/tlsutil"
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
			case "digest", "x509":
				if id.Id == a.Id.Id {
					return true
				}
			case "sasl":
				// SASLAuthenticationProvider.matches: the authenticated id "super"
				// matches every sasl entry.
				if id.Id == a.Id.Id || id.Id == "super" {
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

// Schemes says which optional authentication providers a server has registered, as
// ZooKeeper's ProviderRegistry does: ip and digest always (digest unless disabled), x509 and
// sasl only when configured. An ACL entry of a scheme without a provider is invalid. It is
// part of the replicated state's configuration: every replica must use the same.
type Schemes struct {
	X509           bool // x509: the X509AuthenticationProvider (or TLS) is configured
	SASL           bool // sasl: the SASLAuthenticationProvider (or a JAAS Server section) is configured
	DigestDisabled bool // DigestAuthenticationProvider.enabled=false
}

// Fixup validates acl for create/setACL and returns the list to store, with only the
// always-present providers (ip, digest) registered.
func Fixup(acl []proto.ACL, ids []proto.Id) ([]proto.ACL, error) {
	return FixupWith(acl, ids, Schemes{})
}

// FixupWith is Fixup with the providers of sch registered. A list with no
// duplicates and no auth entry (the usual one: OPEN_ACL_UNSAFE, a digest
// list) is returned as given, without a copy; the caller must not change it
// while it uses the result.
func FixupWith(acl []proto.ACL, ids []proto.Id, sch Schemes) ([]proto.ACL, error) {
	if len(acl) == 0 {
		return nil, ErrInvalidACL
	}
	if asGiven(acl) {
		for _, a := range acl {
			if !validEntry(a, sch) {
				return nil, ErrInvalidACL
			}
		}
		return acl, nil
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
		if a.Id.Scheme != "auth" {
			if !validEntry(a, sch) {
				return nil, ErrInvalidACL
			}
			out = append(out, a)
			continue
		}
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
	}
	return out, nil
}

// asGiven reports whether FixupWith would store acl unchanged if it is
// valid: no entry repeats another and none is of scheme auth.
func asGiven(acl []proto.ACL) bool {
	for i, a := range acl {
		if a.Id.Scheme == "auth" {
			return false
		}
		for _, b := range acl[:i] {
			if a == b {
				return false
			}
		}
	}
	return true
}

// validEntry reports whether an entry of any scheme but auth is valid.
func validEntry(a proto.ACL, sch Schemes) bool {
	switch a.Id.Scheme {
	case "world":
		return a.Id.Id == "anyone"
	case "digest":
		return !sch.DigestDisabled && validDigestID(a.Id.Id)
	case "x509":
		return sch.X509 && tlsutil.ValidDN(a.Id.Id)
	case "sasl":
		return sch.SASL && ValidKerberosName(a.Id.Id)
	case "ip":
		return ValidIP(a.Id.Id)
	default:
		// No provider for any other scheme (custom
		// zookeeper.authProvider.N classes are not supported): InvalidACL.
		return false
	}
}

// ValidKerberosName is SASLAuthenticationProvider.isValid (new KerberosName(id)): a name
// with '@' must have the form service[/host]@realm with no further '/' or '@'.
func ValidKerberosName(id string) bool {
	at := strings.IndexByte(id, '@')
	if at < 0 {
		return true
	}
	name, realm := id[:at], id[at+1:]
	if strings.ContainsAny(realm, "/@") {
		return false
	}
	if i := strings.IndexByte(name, '/'); i >= 0 {
		name = name[:i] + name[i+1:]
	}
	return !strings.ContainsAny(name, "/@")
}

// validDigestID mirrors Java's id.split(":").length == 2 (trailing empty
// strings dropped).
func validDigestID(id string) bool {
	// Java's id.split(":") drops trailing empty strings, so trailing
	// colons do not count; two parts remain iff one colon is left.
	return strings.Count(strings.TrimRight(id, ":"), ":") == 1
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

// parseIPMask parses an ip ACL id the way ZooKeeper's IPAuthenticationProvider does (3.8 and
// 3.9 alike): a dotted IPv4 address of exactly four Integer.parseInt fields in 0..255 (IPv6 is
// not supported: its addr2Bytes has no v6 branch), optionally followed by "/bits" with
// 0 <= bits <= 32.
func parseIPMask(s string) ([]byte, int, bool) {
	parts := strings.SplitN(s, "/", 2)
	ip, ok := v4Bytes(parts[0])
	if !ok {
		return nil, 0, false
	}
	bits := 32
	if len(parts) == 2 {
		b, ok := javaParseInt(parts[1])
		if !ok || b < 0 || b > 32 {
			return nil, 0, false
		}
		bits = b
	}
	return ip, bits, true
}

// v4Bytes is IPAuthenticationProvider.v4addr2Bytes.
func v4Bytes(addr string) ([]byte, bool) {
	parts := strings.Split(addr, ".") // like Java's split("\\.", -1): trailing empties kept
	if len(parts) != 4 {
		return nil, false
	}
	b := make([]byte, 4)
	for i, p := range parts {
		v, ok := javaParseInt(p)
		if !ok || v < 0 || v > 255 {
			return nil, false
		}
		b[i] = byte(v)
	}
	return b, true
}

// javaParseInt is Integer.parseInt for ASCII input: an optional sign, then decimal digits,
// within int32.
func javaParseInt(s string) (int, bool) {
	i, neg := 0, false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, i = s[0] == '-', 1
	}
	if i == len(s) {
		return 0, false
	}
	var v int64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
		if v > 1<<31 {
			return 0, false
		}
	}
	if neg {
		v = -v
	}
	if v > 1<<31-1 {
		return 0, false
	}
	return int(v), true
}

// ValidIP reports whether s is a valid ip ACL id: an address with an optional /bits.
func ValidIP(s string) bool {
	_, _, ok := parseIPMask(s)
	return ok
}

// IPMatches reports whether the address addr lies within the ACL id aclID
// (IPAuthenticationProvider.matches: only IPv4 clients can match).
func IPMatches(addr, aclID string) bool {
	ip, ok := v4Bytes(addr)
	if !ok {
		return false
	}
	acl, bits, ok := parseIPMask(aclID)
	if !ok {
		return false
	}
	mask := net.CIDRMask(bits, 32)
	for i := range ip {
		if ip[i]&mask[i] != acl[i]&mask[i] {
			return false
		}
	}
	return true
}
