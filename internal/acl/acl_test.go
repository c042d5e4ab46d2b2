package acl

import (
	"reflect"
	"testing"

	"github.com/warren-zk/warren/internal/proto"
)

func id(scheme, v string) proto.Id { return proto.Id{Scheme: scheme, Id: v} }

func entry(perms int32, scheme, v string) proto.ACL {
	return proto.ACL{Perms: perms, Id: id(scheme, v)}
}

func TestDigestID(t *testing.T) {
	tests := map[string]string{
		"super:test": "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
		"bob:secret": "bob:fyVmFCwVbTJYrznoSu1koqYEYF0=",
	}
	for in, want := range tests {
		if got := DigestID(in); got != want {
			t.Errorf("DigestID(%q) = %q, want %q", in, got, want)
		}
	}
	// The user is the part before the first ':'; the hash covers the whole string.
	if got := DigestID("a:b:c"); got[:2] != "a:" || got == DigestID("a:b") {
		t.Errorf("DigestID(a:b:c) = %q", got)
	}
	if got := DigestID("nocolon"); got[:8] != "nocolon:" {
		t.Errorf("DigestID(nocolon) = %q", got)
	}
	if got := DigestID(":pw"); got[0] != ':' {
		t.Errorf("DigestID(:pw) = %q", got)
	}
}

func TestCheck(t *testing.T) {
	bob := DigestID("bob:secret")
	alice := DigestID("alice:pw")
	ipLocal := id("ip", "127.0.0.1")
	tests := []struct {
		name string
		acl  []proto.ACL
		perm int32
		ids  []proto.Id
		skip bool
		want bool
	}{
		{"empty list allows", nil, proto.PermAdmin, nil, false, true},
		{"empty non-nil list allows", []proto.ACL{}, proto.PermWrite, nil, false, true},
		{"world anyone", proto.OpenACLUnsafe, proto.PermWrite, nil, false, true},
		{"world anyone, bit missing", proto.ReadACLUnsafe, proto.PermWrite, nil, false, false},
		{"world anyone, bit present", proto.ReadACLUnsafe, proto.PermRead, nil, false, true},
		{"world someone never matches", []proto.ACL{entry(31, "world", "someone")}, proto.PermRead, []proto.Id{id("world", "someone")}, false, false},
		{"zero perms", []proto.ACL{entry(0, "world", "anyone")}, proto.PermRead, nil, false, false},
		{"skipACL", []proto.ACL{entry(0, "digest", bob)}, proto.PermAdmin, nil, true, true},
		{"super", []proto.ACL{entry(proto.PermRead, "digest", bob)}, proto.PermAdmin, []proto.Id{id("super", "")}, false, true},
		{"super with an id", []proto.ACL{entry(0, "ip", "1.2.3.4")}, proto.PermDelete, []proto.Id{ipLocal, id("super", "x")}, false, true},
		{"digest equal", []proto.ACL{entry(proto.PermAll, "digest", bob)}, proto.PermRead, []proto.Id{ipLocal, id("digest", bob)}, false, true},
		{"digest other user", []proto.ACL{entry(proto.PermAll, "digest", bob)}, proto.PermRead, []proto.Id{id("digest", alice)}, false, false},
		{"digest same user other password", []proto.ACL{entry(proto.PermAll, "digest", bob)}, proto.PermRead, []proto.Id{id("digest", DigestID("bob:wrong"))}, false, false},
		{"digest is exact, not prefix", []proto.ACL{entry(proto.PermAll, "digest", "bob:x")}, proto.PermRead, []proto.Id{id("digest", "bob:xy")}, false, false},
		{"scheme must match", []proto.ACL{entry(proto.PermAll, "digest", "127.0.0.1")}, proto.PermRead, []proto.Id{ipLocal}, false, false},
		{"digest bit missing", []proto.ACL{entry(proto.PermRead|proto.PermWrite, "digest", bob)}, proto.PermAdmin, []proto.Id{id("digest", bob)}, false, false},
		{"second entry matches", []proto.ACL{entry(proto.PermRead, "digest", alice), entry(proto.PermAdmin, "digest", bob)}, proto.PermAdmin,
			[]proto.Id{id("digest", bob)}, false, true},
		{"x509 equal", []proto.ACL{entry(proto.PermAll, "x509", "CN=a,O=b")}, proto.PermRead, []proto.Id{id("x509", "CN=a,O=b")}, false, true},
		{"x509 differ", []proto.ACL{entry(proto.PermAll, "x509", "CN=a,O=b")}, proto.PermRead, []proto.Id{id("x509", "CN=a")}, false, false},
		{"no ids", []proto.ACL{entry(proto.PermAll, "digest", bob)}, proto.PermRead, nil, false, false},
		{"unknown scheme", []proto.ACL{entry(proto.PermAll, "foo", "x")}, proto.PermRead, []proto.Id{id("foo", "x")}, false, false},
		// ip
		{"ip exact", []proto.ACL{entry(31, "ip", "127.0.0.1")}, proto.PermRead, []proto.Id{ipLocal}, false, true},
		{"ip other", []proto.ACL{entry(31, "ip", "127.0.0.2")}, proto.PermRead, []proto.Id{ipLocal}, false, false},
		{"ip /8", []proto.ACL{entry(31, "ip", "10.0.0.0/8")}, proto.PermRead, []proto.Id{id("ip", "10.200.3.4")}, false, true},
		{"ip /8 outside", []proto.ACL{entry(31, "ip", "10.0.0.0/8")}, proto.PermRead, []proto.Id{id("ip", "11.0.0.1")}, false, false},
		{"ip /24", []proto.ACL{entry(31, "ip", "192.168.1.0/24")}, proto.PermRead, []proto.Id{id("ip", "192.168.1.254")}, false, true},
		{"ip /24 outside", []proto.ACL{entry(31, "ip", "192.168.1.0/24")}, proto.PermRead, []proto.Id{id("ip", "192.168.2.1")}, false, false},
		{"ip /0", []proto.ACL{entry(31, "ip", "0.0.0.0/0")}, proto.PermRead, []proto.Id{id("ip", "8.8.8.8")}, false, true},
		{"ip /32", []proto.ACL{entry(31, "ip", "8.8.8.8/32")}, proto.PermRead, []proto.Id{id("ip", "8.8.8.8")}, false, true},
		{"ip acl host bits ignored", []proto.ACL{entry(31, "ip", "10.1.2.3/16")}, proto.PermRead, []proto.Id{id("ip", "10.1.99.99")}, false, true},
		{"ip /31", []proto.ACL{entry(31, "ip", "10.0.0.4/31")}, proto.PermRead, []proto.Id{id("ip", "10.0.0.5")}, false, true},
		{"ip /31 outside", []proto.ACL{entry(31, "ip", "10.0.0.4/31")}, proto.PermRead, []proto.Id{id("ip", "10.0.0.6")}, false, false},
		// ZooKeeper's IPAuthenticationProvider only parses IPv4 (addr2Bytes has no v6 branch).
		{"ipv6 never matches", []proto.ACL{entry(31, "ip", "::1")}, proto.PermRead, []proto.Id{id("ip", "::1")}, false, false},
		{"ipv4 leading zeros (Integer.parseInt)", []proto.ACL{entry(31, "ip", "010.0.0.1")}, proto.PermRead, []proto.Id{id("ip", "10.0.0.1")}, false, true},
		{"ipv6 acl, ipv4 caller", []proto.ACL{entry(31, "ip", "::/0")}, proto.PermRead, []proto.Id{ipLocal}, false, false},
		{"ipv4 acl, ipv6 caller", []proto.ACL{entry(31, "ip", "0.0.0.0/0")}, proto.PermRead, []proto.Id{id("ip", "::1")}, false, false},
		{"ip malformed caller", []proto.ACL{entry(31, "ip", "0.0.0.0/0")}, proto.PermRead, []proto.Id{id("ip", "localhost")}, false, false},
		{"ip malformed acl", []proto.ACL{entry(31, "ip", "10.0.0.0/33")}, proto.PermRead, []proto.Id{id("ip", "10.0.0.1")}, false, false},
	}
	for _, tc := range tests {
		if got := Check(tc.acl, tc.perm, tc.ids, tc.skip); got != tc.want {
			t.Errorf("%s: Check = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFixup(t *testing.T) {
	bob := DigestID("bob:secret")
	alice := DigestID("alice:pw")
	ipLocal := id("ip", "127.0.0.1")
	tests := []struct {
		name string
		acl  []proto.ACL
		ids  []proto.Id
		want []proto.ACL // nil: InvalidACL
	}{
		{"open", proto.OpenACLUnsafe, nil, proto.OpenACLUnsafe},
		{"read", proto.ReadACLUnsafe, nil, proto.ReadACLUnsafe},
		{"nil list", nil, nil, nil},
		{"empty list", []proto.ACL{}, nil, nil},
		{"duplicates removed", []proto.ACL{entry(31, "world", "anyone"), entry(1, "ip", "1.2.3.4"), entry(31, "world", "anyone"), entry(1, "ip", "1.2.3.4")}, nil,
			[]proto.ACL{entry(31, "world", "anyone"), entry(1, "ip", "1.2.3.4")}},
		{"different perms are not duplicates", []proto.ACL{entry(1, "world", "anyone"), entry(2, "world", "anyone")}, nil,
			[]proto.ACL{entry(1, "world", "anyone"), entry(2, "world", "anyone")}},
		{"world someone", []proto.ACL{entry(31, "world", "someone")}, nil, nil},
		{"world empty id", []proto.ACL{entry(31, "world", "")}, nil, nil},
		{"one bad entry spoils the list", []proto.ACL{entry(31, "world", "anyone"), entry(31, "world", "nobody")}, nil, nil},
		{"perms not range-checked", []proto.ACL{entry(0, "world", "anyone"), entry(-1, "world", "anyone"), entry(1024, "world", "anyone")}, nil,
			[]proto.ACL{entry(0, "world", "anyone"), entry(-1, "world", "anyone"), entry(1024, "world", "anyone")}},
		// auth expansion
		{"auth with digest", []proto.ACL{entry(31, "auth", "")}, []proto.Id{ipLocal, id("digest", bob)}, []proto.ACL{entry(31, "digest", bob)}},
		{"auth id ignored", []proto.ACL{entry(5, "auth", "whatever")}, []proto.Id{id("digest", bob)}, []proto.ACL{entry(5, "digest", bob)}},
		{"auth with two digests", []proto.ACL{entry(31, "auth", "")}, []proto.Id{id("digest", bob), ipLocal, id("digest", alice)},
			[]proto.ACL{entry(31, "digest", bob), entry(31, "digest", alice)}},
		{"auth with ip only", []proto.ACL{entry(31, "auth", "")}, []proto.Id{ipLocal}, nil},
		{"auth with no ids", []proto.ACL{entry(31, "auth", "")}, nil, nil},
		{"auth with super only", []proto.ACL{entry(31, "auth", "")}, []proto.Id{id("super", "")}, nil},
		{"auth with x509", []proto.ACL{entry(31, "auth", "")}, []proto.Id{ipLocal, id("x509", "CN=a")}, []proto.ACL{entry(31, "x509", "CN=a")}},
		{"auth kept in order", []proto.ACL{entry(1, "world", "anyone"), entry(31, "auth", ""), entry(2, "ip", "10.0.0.1")}, []proto.Id{id("digest", bob)},
			[]proto.ACL{entry(1, "world", "anyone"), entry(31, "digest", bob), entry(2, "ip", "10.0.0.1")}},
		// digest ids: Java's split(":").length == 2
		{"digest ok", []proto.ACL{entry(31, "digest", bob)}, nil, []proto.ACL{entry(31, "digest", bob)}},
		{"digest no colon", []proto.ACL{entry(31, "digest", "bob")}, nil, nil},
		{"digest empty", []proto.ACL{entry(31, "digest", "")}, nil, nil},
		{"digest user:", []proto.ACL{entry(31, "digest", "user:")}, nil, nil},
		{"digest a:b:c", []proto.ACL{entry(31, "digest", "a:b:c")}, nil, nil},
		{"digest :x", []proto.ACL{entry(31, "digest", ":x")}, nil, []proto.ACL{entry(31, "digest", ":x")}},
		{"digest a:b:", []proto.ACL{entry(31, "digest", "a:b:")}, nil, []proto.ACL{entry(31, "digest", "a:b:")}},
		{"digest a:b::", []proto.ACL{entry(31, "digest", "a:b::")}, nil, []proto.ACL{entry(31, "digest", "a:b::")}},
		{"digest :", []proto.ACL{entry(31, "digest", ":")}, nil, nil},
		{"digest a::b", []proto.ACL{entry(31, "digest", "a::b")}, nil, nil},
		// ip ids
		{"ip v4", []proto.ACL{entry(31, "ip", "127.0.0.1")}, nil, []proto.ACL{entry(31, "ip", "127.0.0.1")}},
		{"ip v4 /0", []proto.ACL{entry(31, "ip", "0.0.0.0/0")}, nil, []proto.ACL{entry(31, "ip", "0.0.0.0/0")}},
		{"ip v4 /32", []proto.ACL{entry(31, "ip", "10.0.0.1/32")}, nil, []proto.ACL{entry(31, "ip", "10.0.0.1/32")}},
		{"ip v4 /33", []proto.ACL{entry(31, "ip", "10.0.0.1/33")}, nil, nil},
		{"ip v4 /-1", []proto.ACL{entry(31, "ip", "10.0.0.1/-1")}, nil, nil},
		{"ip v4 /x", []proto.ACL{entry(31, "ip", "10.0.0.1/x")}, nil, nil},
		{"ip v4 empty bits", []proto.ACL{entry(31, "ip", "10.0.0.1/")}, nil, nil},
		{"ip v4 octet 256", []proto.ACL{entry(31, "ip", "10.0.0.256")}, nil, nil},
		{"ip v4 three octets", []proto.ACL{entry(31, "ip", "10.0.0")}, nil, nil},
		{"ip hostname", []proto.ACL{entry(31, "ip", "localhost")}, nil, nil},
		{"ip empty", []proto.ACL{entry(31, "ip", "")}, nil, nil},
		{"ip leading zeros and sign", []proto.ACL{entry(31, "ip", "010.+0.00.1/+8")}, nil, []proto.ACL{entry(31, "ip", "010.+0.00.1/+8")}},
		{"ip trailing dot", []proto.ACL{entry(31, "ip", "10.0.0.1.")}, nil, nil},
		{"ip v6 (no v6 support in ZooKeeper)", []proto.ACL{entry(31, "ip", "::1")}, nil, nil},
		{"ip v6 /64", []proto.ACL{entry(31, "ip", "2001:db8::/64")}, nil, nil},
		// other schemes: only ip and digest have providers by default
		{"x509 has no default provider", []proto.ACL{entry(31, "x509", "CN=a")}, nil, nil},
		{"sasl has no default provider", []proto.ACL{entry(31, "sasl", "bob")}, nil, nil},
		{"super is not a provider", []proto.ACL{entry(31, "super", "")}, []proto.Id{id("super", "")}, nil},
		{"unknown scheme", []proto.ACL{entry(31, "foo", "bar")}, nil, nil},
		{"bad entry among duplicates", []proto.ACL{entry(31, "world", "anyone"), entry(31, "world", "anyone"), entry(1, "ip", "x")}, nil, nil},
		{"bad entry next to auth", []proto.ACL{entry(31, "auth", ""), entry(1, "digest", "nocolon")}, []proto.Id{id("digest", bob)}, nil},
		{"empty scheme", []proto.ACL{entry(31, "", "anyone")}, nil, nil},
	}
	for _, tc := range tests {
		in := append([]proto.ACL(nil), tc.acl...)
		got, err := Fixup(tc.acl, tc.ids)
		if tc.want == nil {
			if err != ErrInvalidACL || got != nil {
				t.Errorf("%s: Fixup = %v, %v; want ErrInvalidACL", tc.name, got, err)
			}
		} else if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Fixup = %v, %v; want %v", tc.name, got, err, tc.want)
		}
		if len(in) > 0 && !reflect.DeepEqual(in, tc.acl) {
			t.Errorf("%s: Fixup modified its input", tc.name)
		}
	}
}

func TestValidIPAndMatches(t *testing.T) {
	for s, ok := range map[string]bool{
		"1.2.3.4": true, "1.2.3.4/0": true, "1.2.3.4/32": true, "1.2.3.4/33": false, "1.2.3.4/": false,
		"::": false, "::/0": false, "fe80::1/10": false, "1.2.3": false, "a.b.c.d": false,
		"": false, "/8": false, "1.2.3.4/8/8": false, "1.2.3.4/+8": true, "1.2.3.4/-0": true, "1.2.3.4/+": false,
		"1.2.3.-1": false, "1.2.3.4.": false, "255.255.255.255": true, "1.2.3.4/99999999999": false,
	} {
		if ValidIP(s) != ok {
			t.Errorf("ValidIP(%q) = %v, want %v", s, !ok, ok)
		}
	}
	for _, tc := range []struct {
		addr, acl string
		want      bool
	}{
		{"10.1.2.3", "10.1.2.3", true},
		{"10.1.2.3", "10.0.0.0/8", true},
		{"10.1.2.3", "10.1.2.0/25", true},
		{"10.1.2.200", "10.1.2.0/25", false},
		{"10.1.2.3", "0.0.0.0/0", true},
		{"::ffff:10.1.2.3", "10.0.0.0/8", false}, // a v6 address does not match a v4 ACL
		{"2001:db8::1", "2001:db8::/32", false},
		{"garbage", "10.0.0.0/8", false},
		{"10.1.2.3", "garbage", false},
	} {
		if got := IPMatches(tc.addr, tc.acl); got != tc.want {
			t.Errorf("IPMatches(%q, %q) = %v, want %v", tc.addr, tc.acl, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	bob := DigestID("bob:secret")
	in := []proto.ACL{
		entry(31, "digest", bob),
		entry(1, "world", "anyone"),
		entry(3, "ip", "10.0.0.1"),
		entry(2, "digest", ":hash"),
		entry(4, "x509", "CN=a:b"),
	}
	orig := append([]proto.ACL(nil), in...)
	want := []proto.ACL{
		entry(31, "digest", "bob:x"),
		entry(1, "world", "anyone"),
		entry(3, "ip", "10.0.0.1"),
		entry(2, "digest", ":x"),
		entry(4, "x509", "CN=a:b"),
	}
	if got := Redact(in); !reflect.DeepEqual(got, want) {
		t.Errorf("Redact = %v, want %v", got, want)
	}
	if !reflect.DeepEqual(in, orig) {
		t.Error("Redact modified its input (it is the node's interned list)")
	}
	if got := Redact(nil); len(got) != 0 {
		t.Errorf("Redact(nil) = %v", got)
	}
}

// The usual list (valid, no duplicates, no auth entry) is stored as given:
// Fixup runs on every create and allocated two copies of it.
func TestFixupKeepsAPlainList(t *testing.T) {
	bob := DigestID("bob:secret")
	for _, list := range [][]proto.ACL{proto.OpenACLUnsafe, {entry(31, "digest", bob), entry(1, "world", "anyone")}} {
		got, err := Fixup(list, nil)
		if err != nil || len(got) != len(list) || &got[0] != &list[0] {
			t.Errorf("Fixup(%v) = %v, %v; want the list itself", list, got, err)
		}
		if n := testing.AllocsPerRun(100, func() { Fixup(list, nil) }); n != 0 {
			t.Errorf("Fixup(%v) allocates %v times", list, n)
		}
	}
}
