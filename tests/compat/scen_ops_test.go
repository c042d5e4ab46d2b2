package compat

import (
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/tests/compat/rawzk"
)

// Digest ids of test users (§14.3: user + ":" + base64(sha1("user:password"))).
const (
	bobID   = "bob:fyVmFCwVbTJYrznoSu1koqYEYF0="   // bob:secret
	aliceID = "alice:V55/p2T0OpjQ+low3NVAH4aLvm0=" // alice:pw
)

var (
	bobAll   = []proto.ACL{digestACL(proto.PermAll, bobID)}
	noCreate = []proto.ACL{worldACL(proto.PermAll &^ proto.PermCreate)}
	noDelete = []proto.ACL{worldACL(proto.PermAll &^ proto.PermDelete)}
	noWrite  = []proto.ACL{worldACL(proto.PermAll &^ proto.PermWrite)}
	noRead   = []proto.ACL{worldACL(proto.PermAll &^ proto.PermRead)}
	noAdmin  = []proto.ACL{worldACL(proto.PermAll &^ proto.PermAdmin)}
)

func createTTL(h *H, conn, path string, d []byte, flags int32, ttl int64) {
	h.t.Helper()
	h.req(conn, proto.OpCreateTTL, &proto.CreateTTLRequest{Path: path, Data: d, Acl: open, Flags: flags, Ttl: ttl})
}

func createContainer(h *H, conn, path string, d []byte, flags int32) {
	h.t.Helper()
	h.req(conn, proto.OpCreateContainer, &proto.CreateRequest{Path: path, Data: d, Acl: open, Flags: flags})
}

// rawACLCreate builds a CreateRequest body with a hand-encoded ACL vector (count -1 = null).
func nullACLCreate(path string) rawzk.RawBody {
	var bb []byte
	bb = append(bb, be32(len(path))...)
	bb = append(bb, path...)
	bb = append(bb, 0xff, 0xff, 0xff, 0xff) // null data
	bb = append(bb, 0xff, 0xff, 0xff, 0xff) // null ACL vector
	bb = append(bb, 0, 0, 0, 0)             // flags
	return bb
}

// §12.1 create and its variants, §13 sequential names, §10 stat rules.
func createScenarios() []scenario {
	return []scenario{
		{"create/data-null-empty-and-create2-stat", func(h *H) {
			h.connect("a")
			h.create("a", "/null", nil, 0)
			h.create("a", "/empty", []byte{}, 0)
			h.create("a", "/data", b("hello"), 0)
			h.create2("a", "/c2", b("xyz"), 0)
			h.create2("a", "/c2/child", nil, 0)
			h.getData("a", "/null", false)
			h.getData("a", "/empty", false)
			h.getData("a", "/data", false)
			h.children2("a", "/c2", false)
			h.getData("a", "/c2", false)
		}},
		{"create/modes", func(h *H) {
			h.connect("a")
			h.create("a", "/p", nil, 0)
			h.create2("a", "/p/e", b("e"), proto.ModeEphemeral)
			h.create2("a", "/p/s-", b("s"), proto.ModePersistentSequential)
			h.create2("a", "/p/es-", b("es"), proto.ModeEphemeralSequential)
			h.create2("a", "/p/flag4-create", nil, proto.ModeContainer)
			h.create("a", "/p/flag4-create1", nil, proto.ModeContainer)
			createContainer(h, "a", "/p/container", b("c"), proto.ModeContainer)
			createTTL(h, "a", "/p/ttl", b("t"), proto.ModePersistentWithTTL, 60000)
			createTTL(h, "a", "/p/ttls-", b("t"), proto.ModePersistentSequentialWithTTL, 1)
			createTTL(h, "a", "/p/ttlmax", nil, proto.ModePersistentWithTTL, 0xFFFFFFFFFF)
			h.create("a", "/p/container/child", nil, 0)
			h.create("a", "/p/ttl/child", nil, 0)
			h.children2("a", "/p", false)
			h.exists("a", "/p/e", false)
			h.exists("a", "/p/container", false)
			h.exists("a", "/p/ttl", false)
			h.req("a", proto.OpGetEphemerals, &proto.GetEphemeralsRequest{PrefixPath: "/"})
		}},
		{"create/bad-flags", func(h *H) {
			h.connect("a")
			for _, f := range []int32{7, -1, 100, 0x7fffffff} {
				h.create("a", "/x", nil, f)
				h.create2("a", "/x", nil, f)
				createContainer(h, "a", "/x", nil, f)
				createTTL(h, "a", "/x", nil, f, 100)
			}
			h.exists("a", "/x", false)
		}},
		{"create/container-opcode-flags", func(h *H) {
			h.connect("a")
			for i, f := range []int32{0, 1, 2, 3, 5, 6} {
				createContainer(h, "a", "/c"+string(rune('0'+i)), nil, f)
			}
			h.children("a", "/", false)
		}},
		{"create/ttl-arguments", func(h *H) {
			h.connect("a")
			createTTL(h, "a", "/t", nil, proto.ModePersistentWithTTL, 0)
			createTTL(h, "a", "/t", nil, proto.ModePersistentWithTTL, -1)
			createTTL(h, "a", "/t", nil, proto.ModePersistentWithTTL, 0x10000000000)
			createTTL(h, "a", "/t", nil, proto.ModePersistent, 100)
			createTTL(h, "a", "/t", nil, proto.ModeEphemeral, 100)
			createTTL(h, "a", "/t", nil, proto.ModePersistentSequential, 100)
			createTTL(h, "a", "/t", nil, proto.ModeContainer, 100)
			// createTTL with a non-TTL mode and a negative ttl passes ZooKeeper 3.8.0's checks and
			// then kills the server when the txn is applied (EphemeralType.toEphemeralOwner throws);
			// it is not sent to the oracle. TestWarrenCreateTTLNonTTLMode covers Warren's answer.
			h.create("a", "/t", nil, proto.ModePersistentWithTTL)
			h.create("a", "/t", nil, proto.ModePersistentSequentialWithTTL)
			h.create2("a", "/t", nil, proto.ModePersistentWithTTL)
			createContainer(h, "a", "/t", nil, proto.ModePersistentWithTTL)
			h.children("a", "/", false)
		}},
		{"create/light-path-checks", func(h *H) {
			h.connect("a")
			h.create("a", "noslash", nil, 0)
			h.create("a", "", nil, 0)
			h.create("a", "/a\x00b", nil, 0)
			h.create("a", "x/y", nil, 0)
			h.create("a", "noslash", nil, proto.ModePersistentSequential)
		}},
		{"create/full-path-validation", func(h *H) {
			h.connect("a")
			h.create("a", "/r", nil, 0)
			for _, p := range []string{"/r/", "/r/.", "/r/..", "/.", "/..", "/r/./x", "/r\x01", "/r/\x7f",
				"/r/\u0085", "/r/\ufff5", "/r/\ue000", "/r/\U0001F600", "/r/\xff", "/r/\xc3"} {
				h.create("a", p, nil, 0)
			}
			for _, p := range []string{"/r/.hidden", "/r/..x", "/r/ü", "/r/\u00a0", "/r/a b", "/r/\ufeff"} {
				h.create("a", p, nil, 0)
			}
			h.create("a", "/r/", nil, proto.ModePersistentSequential)
			h.create("a", "/r/.", nil, proto.ModePersistentSequential)
			h.create("a", "/r/\x01", nil, proto.ModePersistentSequential)
			h.children("a", "/r", false)
		}},
		{"create/missing-parent", func(h *H) {
			h.connect("a")
			h.create("a", "/nonex/x", nil, 0)
			h.create("a", "/bad//x", nil, 0)
			h.create("a", "/a", nil, 0)
			h.create("a", "/a//b", nil, 0)
			h.create("a", "/a/b/c", nil, proto.ModePersistentSequential)
			h.create("a", "//", nil, 0)
		}},
		{"create/node-exists", func(h *H) {
			h.connect("a")
			h.create("a", "/", nil, 0)
			h.create("a", "/zookeeper", nil, 0)
			h.create("a", "/zookeeper/quota", nil, 0)
			h.create("a", "/x", b("1"), 0)
			h.create("a", "/x", b("2"), 0)
			h.create2("a", "/x", b("2"), proto.ModeEphemeral)
			createContainer(h, "a", "/x", nil, proto.ModeContainer)
			createTTL(h, "a", "/x", nil, proto.ModePersistentWithTTL, 5)
			h.getData("a", "/x", false)
		}},
		{"create/under-zookeeper", func(h *H) {
			h.connect("a")
			h.create("a", "/zookeeper/x", b("ok"), 0)
			h.create("a", "/zookeeper/config/x", nil, 0)
			h.create("a", "/zookeeper/quota/x", nil, 0)
			h.children2("a", "/zookeeper", false)
		}},
		{"create/no-children-for-ephemerals", func(h *H) {
			h.connect("a")
			h.connect("b")
			h.create("a", "/e", nil, proto.ModeEphemeral)
			h.create("a", "/e/c", nil, 0)
			h.create("b", "/e/c", nil, proto.ModeEphemeral)
			h.create("a", "/e/", nil, proto.ModePersistentSequential)
			h.create("a", "/e/.", nil, 0)
			createContainer(h, "a", "/e/c", nil, proto.ModeContainer)
			createTTL(h, "a", "/e/c", nil, proto.ModePersistentWithTTL, 10)
			h.create("a", "/es", nil, proto.ModeEphemeralSequential)
			h.create("a", "/es0000000001/x", nil, 0)
		}},
		{"create/precedence", func(h *H) {
			h.connect("a")
			// bad flags before InvalidACL; light path check before InvalidACL
			h.req("a", proto.OpCreate, &proto.CreateRequest{Path: "/p", Flags: 9, Acl: nil})
			h.req("a", proto.OpCreate, &proto.CreateRequest{Path: "noslash", Acl: []proto.ACL{}})
			// TTL argument checks before the path and the ACL
			h.req("a", proto.OpCreateTTL, &proto.CreateTTLRequest{Path: "noslash", Acl: []proto.ACL{}, Flags: 5, Ttl: 0})
			// InvalidACL before NoNode
			h.req("a", proto.OpCreate, &proto.CreateRequest{Path: "/missing/x", Acl: []proto.ACL{}})
			// NoNode before NoAuth and before a bad final path
			h.create("a", "/missing/.", nil, 0)
			h.create("a", "/noc", nil, 0, noCreate...)
			h.create("a", "/noc/missing/x", nil, 0)
			// NoAuth before a bad final path and before NodeExists
			h.create("a", "/noc/", nil, 0)
			h.create("a", "/noc/.", nil, 0)
			h.create("a", "/noc/x", nil, 0)
			h.create("a", "/noc/x", nil, proto.ModeEphemeralSequential)
			// bad final path before NodeExists
			h.create("a", "/x", nil, 0)
			h.create("a", "/x/", nil, 0)
			// InvalidACL before NodeExists
			h.req("a", proto.OpCreate, &proto.CreateRequest{Path: "/x", Acl: []proto.ACL{worldACL(31), {Perms: 1, Id: proto.Id{Scheme: "world", Id: "x"}}}})
			h.req("a", proto.OpCreate, nullACLCreate("/x"))
			h.req("a", proto.OpCreate, nullACLCreate("/y"))
		}},
		{"create/invalid-acl", func(h *H) {
			h.connect("a")
			for _, l := range [][]proto.ACL{
				{},
				{{Perms: 31, Id: proto.Id{Scheme: "world", Id: "someone"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "world", Id: ""}}},
				{{Perms: 31, Id: proto.Id{Scheme: "digest", Id: "nocolon"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "digest", Id: "a:b:c"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "digest", Id: "user:"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "digest", Id: ""}}},
				{{Perms: 31, Id: proto.Id{Scheme: "auth", Id: ""}}},
				{{Perms: 31, Id: proto.Id{Scheme: "ip", Id: "1.2.3"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "ip", Id: "10.0.0.1/33"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "ip", Id: "10.0.0.1/x"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "ip", Id: "host.example"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "super", Id: ""}}},
				{{Perms: 31, Id: proto.Id{Scheme: "foo", Id: "bar"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "", Id: ""}}},
				{{Perms: 31, Id: proto.Id{Scheme: "x509", Id: "not a dn"}}},
				{worldACL(31), {Perms: 1, Id: proto.Id{Scheme: "digest", Id: "bad"}}},
			} {
				h.req("a", proto.OpCreate, &proto.CreateRequest{Path: "/x", Acl: l})
			}
			h.exists("a", "/x", false)
		}},
		{"create/valid-acl-forms", func(h *H) {
			h.connect("a")
			for i, l := range [][]proto.ACL{
				{{Perms: 31, Id: proto.Id{Scheme: "digest", Id: ":x"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "digest", Id: "u:"}}, worldACL(1)},
				{{Perms: 31, Id: proto.Id{Scheme: "ip", Id: "10.0.0.0/8"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "ip", Id: "127.0.0.1"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "ip", Id: "::1"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "ip", Id: "fe80::/10"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "ip", Id: "0.0.0.0/0"}}},
				{{Perms: 31, Id: proto.Id{Scheme: "x509", Id: "CN=foo,O=bar"}}},
				{worldACL(31), worldACL(31)},
				{worldACL(1), worldACL(2), worldACL(1)},
				{{Perms: 0, Id: proto.AnyoneID}},
				{{Perms: 0x7fffffff, Id: proto.AnyoneID}},
				{{Perms: -1, Id: proto.AnyoneID}},
				{digestACL(31, bobID), worldACL(1)},
			} {
				p := "/v" + string(rune('a'+i))
				h.req("a", proto.OpCreate, &proto.CreateRequest{Path: p, Acl: l})
				h.getACL("a", p)
			}
		}},
		{"create/auth-acl-expansion", func(h *H) {
			h.connect("a")
			h.auth("a", "digest", "bob:secret")
			h.req("a", proto.OpCreate, &proto.CreateRequest{Path: "/x", Acl: proto.CreatorAllACL})
			h.getACL("a", "/x")
			h.auth("a", "digest", "alice:pw")
			h.req("a", proto.OpCreate, &proto.CreateRequest{Path: "/y", Acl: []proto.ACL{{Perms: 5, Id: proto.Id{Scheme: "auth", Id: "ignored"}}, worldACL(1)}})
			h.getACL("a", "/y")
			h.auth("a", "ip", "whatever")
			h.req("a", proto.OpCreate, &proto.CreateRequest{Path: "/z", Acl: proto.CreatorAllACL})
			h.getACL("a", "/z")
			h.whoAmI("a")
		}},
		{"sequential/names", func(h *H) {
			h.connect("a")
			h.create("a", "/s", nil, 0)
			h.create("a", "/s/s-", nil, proto.ModePersistentSequential)
			h.create("a", "/s/s-", nil, proto.ModePersistentSequential)
			h.create("a", "/s/s-", nil, proto.ModePersistentSequential)
			h.del("a", "/s/s-0000000001", -1)
			h.create("a", "/s/s-", nil, proto.ModePersistentSequential)
			h.create("a", "/s/plain", nil, 0)
			h.create("a", "/s/s-", nil, proto.ModeEphemeralSequential)
			h.create("a", "/s/", nil, proto.ModePersistentSequential)
			h.create("a", "/s/plain", nil, 0) // NodeExists does not bump the counter
			h.create("a", "/s/", nil, proto.ModePersistentSequential)
			h.multi("a", opCreate("/s/m-", nil, proto.ModePersistentSequential), opCreate("/s/m-", nil, proto.ModePersistentSequential), opCreate("/s/plain", nil, 0))
			h.create("a", "/s/after-failed-multi-", nil, proto.ModePersistentSequential)
			h.create2("a", "/s/c2-", nil, proto.ModePersistentSequential)
			createTTL(h, "a", "/s/ttl-", nil, proto.ModePersistentSequentialWithTTL, 1000)
			h.children2("a", "/s", false)
			h.exists("a", "/s", false)
			h.create("a", "/0000000000", nil, 0)
			h.create("a", "/", nil, proto.ModePersistentSequential)
			h.create("a", "/", nil, proto.ModeEphemeralSequential)
		}},
		{"stat/cversion-visible", func(h *H) {
			h.connect("a")
			h.create("a", "/a", nil, 0)
			h.exists("a", "/a", false)
			h.create("a", "/a/s", nil, proto.ModePersistentSequential)
			h.create("a", "/a/s", nil, proto.ModePersistentSequential)
			h.create("a", "/a/s", nil, proto.ModePersistentSequential)
			h.del("a", "/a/s0000000000", -1)
			h.exists("a", "/a", false)
			h.create("a", "/a/s", nil, proto.ModePersistentSequential)
			h.exists("a", "/a", false)
			h.setData("a", "/a", b("x"), -1)
			h.exists("a", "/a", false)
			h.setACL("a", "/a", -1, open...)
			h.exists("a", "/a", false)
			h.setData("a", "/a", b("x"), -1)
			h.setData("a", "/a", nil, -1)
			h.exists("a", "/a", false)
		}},
	}
}

// §12.2 delete.
func deleteScenarios() []scenario {
	return []scenario{
		{"delete/special-and-light-path", func(h *H) {
			h.connect("a")
			for _, p := range []string{"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config", "noslash", "", "/a\x00", "/r/", "//", "/.", "/zookeeper/"} {
				h.del("a", p, -1)
			}
			h.del("a", "/zookeeper", 0)
		}},
		{"delete/errors-and-precedence", func(h *H) {
			h.connect("a")
			h.del("a", "/missing/x", -1)
			h.del("a", "/missing", -1)
			h.create("a", "/p", b("p"), 0)
			h.create("a", "/p/c", nil, 0)
			h.create("a", "/p/c/d", nil, 0)
			h.del("a", "/p/c", 5)  // BadVersion beats NotEmpty
			h.del("a", "/p/c", -1) // NotEmpty
			h.del("a", "/p/c", 0)  // NotEmpty
			h.del("a", "/p/c/d", 1)
			h.del("a", "/p/c/d", 0)
			h.del("a", "/p/c/d", 0)
			h.exists("a", "/p/c", false)
			h.del("a", "/p/c", -1)
			h.exists("a", "/p", false)
			h.create("a", "/nd", nil, 0, noDelete...)
			h.create("a", "/nd/c", nil, 0)
			h.del("a", "/nd/c", -1)       // NoAuth (DELETE on the parent)
			h.del("a", "/nd/missing", -1) // NoAuth before NoNode
			h.del("a", "/nd/c", 9)        // NoAuth before BadVersion
			h.del("a", "/nd", -1)         // the node's own ACL does not matter
			h.create("a", "/nd2", nil, 0, noDelete...)
			h.del("a", "/nd2", -1)
			h.setData("a", "/p", b("v1"), -1)
			h.del("a", "/p", 0)
			h.del("a", "/p", 1)
			h.del("a", "/p", -2)
		}},
		{"delete/version-wrap-and-negative", func(h *H) {
			h.connect("a")
			h.create("a", "/v", nil, 0)
			h.del("a", "/v", -2)
			h.del("a", "/v", 0x7fffffff)
			h.del("a", "/v", 0)
		}},
	}
}

// §12.3 setData, §12.4 setACL, §12.5 check.
func setScenarios() []scenario {
	return []scenario{
		{"setData/errors-and-precedence", func(h *H) {
			h.connect("a")
			h.setData("a", "/r/", nil, -1)
			h.setData("a", "noslash", nil, -1)
			h.setData("a", "/r/.", nil, -1)
			h.setData("a", "", nil, -1)
			h.setData("a", "/missing", nil, -1)
			h.setData("a", "/missing", nil, 7)
			h.create("a", "/nw", nil, 0, noWrite...)
			h.setData("a", "/nw", b("x"), 5) // NoAuth beats BadVersion
			h.setData("a", "/nw", b("x"), -1)
			h.create("a", "/d", b("0"), 0)
			h.setData("a", "/d", b("1"), 1)
			h.setData("a", "/d", b("1"), 0)
			h.setData("a", "/d", b("1"), 1)
			h.setData("a", "/d", b("1"), -1) // same data still bumps the version
			h.setData("a", "/d", nil, 3)
			h.getData("a", "/d", false)
			h.setData("a", "/d", []byte{}, -1)
			h.getData("a", "/d", false)
			h.setData("a", "/", b("root"), -1)
			h.getData("a", "/", false)
			h.setData("a", "/", []byte{}, -1)
			h.setData("a", "/zookeeper/config", b("x"), -1)
			h.setData("a", "/zookeeper", b("x"), -1)
			h.setData("a", "/zookeeper", []byte{}, -1)
			h.setData("a", "/d", []byte{0, 1, 2, 255}, -2)
		}},
		{"setACL/errors-and-precedence", func(h *H) {
			h.connect("a")
			h.setACL("a", "/r/", -1, open...)
			h.setACL("a", "noslash", -1)
			h.setACL("a", "/missing", -1)          // InvalidACL before NoNode
			h.setACL("a", "/missing", -1, open...) // NoNode
			h.create("a", "/na", nil, 0, noAdmin...)
			h.setACL("a", "/na", 7, open...) // NoAuth beats BadVersion
			h.setACL("a", "/na", -1)         // InvalidACL beats NoAuth
			h.create("a", "/x", b("d"), 0)
			h.setACL("a", "/x", 1, readAll...)
			h.setACL("a", "/x", 0, noCreate...)
			h.setACL("a", "/x", 1, open...)
			h.setACL("a", "/x", -1, open...)
			h.exists("a", "/x", false)
			h.setACL("a", "/x", -1, worldACL(1), worldACL(1), digestACL(31, bobID))
			h.getACL("a", "/x")
			h.setACL("a", "/x", -1, proto.CreatorAllACL...)
			h.setACL("a", "/x", -1, proto.ACL{Perms: 31, Id: proto.Id{Scheme: "world", Id: "nobody"}})
			h.setACL("a", "/zookeeper/config", -1, open...)
			h.setACL("a", "/", -1, open...)
			h.getACL("a", "/")
		}},
		{"setACL/auth-scheme-and-admin", func(h *H) {
			h.connect("a")
			h.connect("b")
			h.auth("a", "digest", "bob:secret")
			h.create("a", "/x", nil, 0)
			h.setACL("a", "/x", -1, proto.CreatorAllACL...)
			h.getACL("a", "/x")
			h.getACL("b", "/x")
			h.setACL("b", "/x", -1, open...)
			h.setData("b", "/x", b("no"), -1)
			h.getData("b", "/x", false)
			h.setACL("a", "/x", -1, digestACL(proto.PermRead, bobID), worldACL(proto.PermAdmin))
			h.getACL("b", "/x")
			h.getData("b", "/x", false)
			h.setACL("b", "/x", -1, open...)
			h.getACL("b", "/x")
		}},
		{"check/in-multi", func(h *H) {
			h.connect("a")
			h.create("a", "/c", nil, 0)
			h.create("a", "/nr", nil, 0, noRead...)
			h.multi("a", opCheck("/c", 0))
			h.multi("a", opCheck("/c", -1))
			h.multi("a", opCheck("/c", 1))
			h.multi("a", opCheck("/missing", -1))
			h.multi("a", opCheck("/c/", -1))
			h.multi("a", opCheck("noslash", -1))
			h.multi("a", opCheck("/nr", -1))
			h.multi("a", opCheck("/nr", 3))
			h.multi("a", opCheck("/missing/", 3))
			h.multi("a", opSetData("/c", b("1"), -1), opCheck("/c", 1), opCheck("/c", 0))
			h.exists("a", "/c", false)
		}},
	}
}

// §12.6 reads, §12.7 sync, §10.6 children counts and ephemerals.
func readScenarios() []scenario {
	return []scenario{
		{"read/exists", func(h *H) {
			h.connect("a")
			h.exists("a", "/a\x00b", false)
			h.exists("a", "/missing", false)
			h.exists("a", "relative", false)
			h.exists("a", "/trailing/", false)
			h.exists("a", "", false)
			h.create("a", "/nr", b("secret"), 0, noRead...)
			h.known("exists-acl-check", &reqAct{conn: "a", op: proto.OpExists, body: &proto.ExistsRequest{Path: "/nr"}}, []string{
				"a: reply xid=7 zxid=z4 err=0 Stat{czxid=z4 mzxid=z4 ctime=T mtime=T version=0 cversion=0 aversion=0 owner=0 dataLength=6 numChildren=0 pzxid=z4}",
				"a: ping xid=-2 zxid=z4 err=0",
			}, []string{
				"a: reply xid=7 zxid=z4 err=-102(NoAuth)",
				"a: ping xid=-2 zxid=z4 err=0",
			}, false)
			// ZooKeeper 3.8.0 sets the watch; Warren refuses the read and sets none. The watch
			// shows when the node changes (the event itself is not ACL-filtered on 3.8.0).
			h.known("exists-acl-check", &reqAct{conn: "a", op: proto.OpExists, body: &proto.ExistsRequest{Path: "/nr", Watch: true}}, []string{
				"a: reply xid=8 zxid=z4 err=0 Stat{czxid=z4 mzxid=z4 ctime=T mtime=T version=0 cversion=0 aversion=0 owner=0 dataLength=6 numChildren=0 pzxid=z4}",
				"a: ping xid=-2 zxid=z4 err=0",
			}, []string{
				"a: reply xid=8 zxid=z4 err=-102(NoAuth)",
				"a: ping xid=-2 zxid=z4 err=0",
			}, false)
			// ZooKeeper 3.8.0 has set the watch: once the node is readable, the change fires it.
			h.setACL("a", "/nr", -1, open...)
			h.known("exists-acl-check", &reqAct{conn: "a", op: proto.OpSetData, body: &proto.SetDataRequest{Path: "/nr", Data: b("y"), Version: -1}}, []string{
				"a: event NodeDataChanged \"/nr\" state=3 zxid=<notification> (before the reply)",
				"a: reply xid=10 zxid=z6 err=0 Stat{czxid=z4 mzxid=z6 ctime=T mtime=T version=1 cversion=0 aversion=1 owner=0 dataLength=1 numChildren=0 pzxid=z4}",
				"a: ping xid=-2 zxid=z6 err=0",
			}, []string{
				"a: reply xid=10 zxid=z6 err=0 Stat{czxid=z4 mzxid=z6 ctime=T mtime=T version=1 cversion=0 aversion=1 owner=0 dataLength=1 numChildren=0 pzxid=z4}",
				"a: ping xid=-2 zxid=z6 err=0",
			}, false)
			h.exists("a", "/zookeeper/config", false)
			h.exists("a", "/missing", true)
			h.create("a", "/missing", nil, 0, noRead...)
		}},
		{"read/getData", func(h *H) {
			h.connect("a")
			h.getData("a", "/missing", false)
			h.getData("a", "relative", false)
			h.getData("a", "", false)
			h.getData("a", "/a\x00b", false)
			h.create("a", "/nr", b("secret"), 0, noRead...)
			h.getData("a", "/nr", false)
			h.create("a", "/ok", b("v"), 0, readAll...)
			h.getData("a", "/ok", true)
		}},
		{"read/getChildren", func(h *H) {
			h.connect("a")
			h.children("a", "/missing", false)
			h.children2("a", "/missing", false)
			h.children("a", "relative", false)
			h.create("a", "/p", nil, 0)
			for _, c := range []string{"b", "a", "c", "aa", "z0", "Z", "0"} {
				h.create("a", "/p/"+c, nil, 0)
			}
			h.children("a", "/p", false)
			h.children2("a", "/p", false)
			h.children("a", "/p/a", false)
			h.create("a", "/nr", nil, 0, noRead...)
			h.create("a", "/nr/x", nil, 0)
			h.children("a", "/nr", false)
			h.children2("a", "/nr", false)
			h.children("a", "/", false)
		}},
		{"read/getACL-read-or-admin-and-redaction", func(h *H) {
			h.connect("a")
			h.connect("bob")
			h.auth("bob", "digest", "bob:secret")
			h.getACL("a", "/missing")
			h.getACL("a", "relative")
			h.create("a", "/ra", nil, 0, worldACL(proto.PermRead), digestACL(proto.PermAll, bobID), digestACL(proto.PermRead, aliceID))
			h.getACL("a", "/ra") // READ, no ADMIN: digests redacted
			h.getACL("bob", "/ra")
			h.create("a", "/aa", nil, 0, worldACL(proto.PermAdmin), digestACL(proto.PermRead, bobID))
			h.getACL("a", "/aa") // ADMIN only: full
			h.create("a", "/none", nil, 0, worldACL(proto.PermWrite), digestACL(proto.PermAll, bobID))
			h.getACL("a", "/none")
			h.getACL("bob", "/none")
			h.create("a", "/ip", nil, 0, proto.ACL{Perms: proto.PermRead, Id: proto.Id{Scheme: "ip", Id: "127.0.0.1"}}, digestACL(proto.PermAll, bobID))
			h.getACL("a", "/ip")
			h.getData("a", "/ip", false)
			h.create("a", "/ip2", nil, 0, proto.ACL{Perms: proto.PermAll, Id: proto.Id{Scheme: "ip", Id: "10.0.0.0/8"}})
			h.getData("a", "/ip2", false)
		}},
		{"read/getAllChildrenNumber", func(h *H) {
			h.connect("a")
			h.req("a", proto.OpGetAllChildrenNumber, &proto.GetAllChildrenNumberRequest{Path: "/missing"})
			h.req("a", proto.OpGetAllChildrenNumber, &proto.GetAllChildrenNumberRequest{Path: "relative"})
			h.create("a", "/p", nil, 0)
			h.create("a", "/p/a", nil, 0)
			h.create("a", "/p/a/b", nil, 0)
			h.create("a", "/p/a/b/c", nil, 0)
			h.create("a", "/p/x", nil, 0)
			h.create("a", "/pp", nil, 0)
			for _, p := range []string{"/p", "/p/a", "/p/a/b/c", "/", "/zookeeper"} {
				h.req("a", proto.OpGetAllChildrenNumber, &proto.GetAllChildrenNumberRequest{Path: p})
			}
			h.create("a", "/nr", nil, 0, noRead...)
			h.req("a", proto.OpGetAllChildrenNumber, &proto.GetAllChildrenNumberRequest{Path: "/nr"})
		}},
		{"read/getEphemerals", func(h *H) {
			h.connect("a")
			h.connect("b")
			h.req("a", proto.OpGetEphemerals, &proto.GetEphemeralsRequest{PrefixPath: "/"})
			h.create("a", "/e1", nil, proto.ModeEphemeral)
			h.create("a", "/e2x", nil, proto.ModeEphemeral)
			h.create("a", "/p", nil, 0)
			h.create("a", "/p/e", nil, proto.ModeEphemeralSequential)
			h.create("b", "/e3", nil, proto.ModeEphemeral)
			for _, p := range []string{"/", "", " ", "/e", "/e1", "/p", "/p/", "/q", "e", "/e2x/"} {
				h.req("a", proto.OpGetEphemerals, &proto.GetEphemeralsRequest{PrefixPath: p})
			}
			h.req("b", proto.OpGetEphemerals, &proto.GetEphemeralsRequest{PrefixPath: "/"})
		}},
		{"read/sync", func(h *H) {
			h.connect("a")
			for _, p := range []string{"/", "/missing", "relative", "", "/trailing/", "/a\x00b"} {
				h.req("a", proto.OpSync, &proto.SyncRequest{Path: p})
			}
			h.create("a", "/x", nil, 0)
			h.req("a", proto.OpSync, &proto.SyncRequest{Path: "/x"})
		}},
		{"read/whoAmI-and-auth", func(h *H) {
			h.connect("a")
			h.whoAmI("a")
			h.auth("a", "digest", "bob:secret")
			h.whoAmI("a")
			h.auth("a", "digest", "bob:secret")
			h.whoAmI("a")
			h.auth("a", "digest", "alice:pw")
			h.whoAmI("a")
			h.auth("a", "ip", "ignored")
			h.whoAmI("a")
			h.auth("a", "digest", "nocolon")
			h.whoAmI("a")
			h.auth("a", "digest", "")
			h.whoAmI("a")
			h.req("a", proto.OpAuth, &proto.AuthPacket{Type: 5, Scheme: "digest", Auth: b("carol:pw")})
			h.whoAmI("a")
		}},
		{"read/whoAmI-super", func(h *H) {
			h.connect("a")
			h.auth("a", "digest", superAuth)
			h.whoAmI("a")
		}},
		{"acl/super-bypasses-acls", func(h *H) {
			h.connect("a")
			h.connect("su")
			h.auth("a", "digest", "bob:secret")
			h.auth("su", "digest", superAuth)
			h.create("a", "/s", b("secret"), 0, bobAll...)
			h.create("a", "/s/c", nil, 0, bobAll...)
			h.getData("su", "/s", false)
			h.getACL("su", "/s")
			h.setData("su", "/s", b("by super"), -1)
			h.create("su", "/s/d", nil, 0)
			h.del("su", "/s/c", -1)
			h.setACL("su", "/s", -1, readAll...)
			h.create("su", "/zookeeper/config/x", nil, 0)
			h.setData("su", "/zookeeper/config", b("x"), 5)
			h.setACL("su", "/zookeeper/config", 7, open...)
			h.del("su", "/zookeeper/config", -1)
			h.children2("su", "/zookeeper/config", false)
			h.getData("a", "/s", false)
			h.setData("a", "/s", b("x"), -1)
		}},
		{"acl/digest-and-ip-matching", func(h *H) {
			h.connect("a")
			h.connect("b")
			h.auth("b", "digest", "bob:wrong")
			h.whoAmI("b")
			h.create("a", "/d", nil, 0, worldACL(proto.PermRead), digestACL(proto.PermWrite, bobID))
			h.setData("b", "/d", b("x"), -1) // wrong password: another digest id
			h.auth("b", "digest", "bob:secret")
			h.setData("b", "/d", b("x"), -1)
			for i, id := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.0/8", "127.0.0.1/32", "127.1.0.0/16", "0.0.0.0/0", "127.000.000.001", "+127.0.0.1", "127.0.0.1/+24", "10.0.0.0/8"} {
				p := "/ip" + string(rune('a'+i))
				h.create("a", p, nil, 0, proto.ACL{Perms: proto.PermAll, Id: proto.Id{Scheme: "ip", Id: id}})
				h.getData("b", p, false)
			}
			for _, id := range []string{"127.0.0.1.", "127..0.1", "256.0.0.1", "127.0.0.-1", "127.0.0.1/-1", "127.0.0.1/8/8", "1.2.3.4/ 8", " 1.2.3.4"} {
				h.create("a", "/bad", nil, 0, proto.ACL{Perms: proto.PermAll, Id: proto.Id{Scheme: "ip", Id: id}})
			}
		}},
		{"auth/unknown-scheme-closes", func(h *H) {
			h.connect("a")
			h.connect("b")
			h.auth("a", "foo", "bar")
			h.auth("b", "world", "anyone")
		}},
		{"auth/other-schemes", func(h *H) {
			h.connect("a")
			h.auth("a", "super", "x")
		}},
		{"auth/sasl-x509-schemes", func(h *H) {
			h.connect("a")
			h.connect("b")
			h.auth("a", "sasl", "x")
			h.auth("b", "x509", "CN=x")
		}},
		{"auth/empty-scheme", func(h *H) {
			h.connect("a")
			h.auth("a", "", "x")
		}},
	}
}
