package security

import (
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/acl"
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
)

var bobDigest = proto.Id{Scheme: "digest", Id: acl.DigestID("bob:secret")}

func aclOf(perms int32, id proto.Id) []proto.ACL { return []proto.ACL{{Perms: perms, Id: id}} }

func world(perms int32) []proto.ACL {
	return aclOf(perms, proto.Id{Scheme: "world", Id: "anyone"})
}

func addauth(t *testing.T, c *rawConn, scheme, auth string) proto.Err {
	t.Helper()
	c.xid++
	// Auth packets carry xid -4 in real clients; any xid is answered.
	r := c.call(t, proto.OpAuth, &proto.AuthPacket{Scheme: scheme, Auth: []byte(auth)})
	return r.err
}

func mustCreate(t *testing.T, c *rawConn, path string, data string, list []proto.ACL) {
	t.Helper()
	if r := c.call(t, proto.OpCreate, &proto.CreateRequest{Path: path, Data: []byte(data), Acl: list}); r.err != proto.ErrOK {
		t.Fatalf("create %s: %v", path, r.err)
	}
}

func getData(t *testing.T, c *rawConn, path string) (string, proto.Stat, proto.Err) {
	t.Helper()
	r := c.call(t, proto.OpGetData, &proto.GetDataRequest{Path: path})
	if r.err != proto.ErrOK {
		return "", proto.Stat{}, r.err
	}
	var g proto.GetDataResponse
	decodeInto(t, r.body, &g)
	return string(g.Data), g.Stat, proto.ErrOK
}

// TestS1PerOpACL: every op needs its permission (create and delete on the parent, setData
// WRITE, getData/getChildren READ, setACL ADMIN); without it the answer is NoAuth (-102) and
// nothing changes.
func TestS1PerOpACL(t *testing.T) {
	s := start(t, options{})
	owner := raw(t, s.Addr)
	owner.connect(t)
	if err := addauth(t, owner, "digest", "bob:secret"); err != proto.ErrOK {
		t.Fatal(err)
	}
	all := aclOf(proto.PermAll, bobDigest)
	mustCreate(t, owner, "/s1", "v", all)
	mustCreate(t, owner, "/s1/child", "c", all)

	other := raw(t, s.Addr)
	other.connect(t)
	for _, v := range []struct {
		name string
		op   proto.OpCode
		req  proto.Record
	}{
		{"create needs CREATE on the parent", proto.OpCreate, &proto.CreateRequest{Path: "/s1/x", Acl: world(proto.PermAll)}},
		{"delete needs DELETE on the parent", proto.OpDelete, &proto.DeleteRequest{Path: "/s1/child", Version: -1}},
		{"setData needs WRITE", proto.OpSetData, &proto.SetDataRequest{Path: "/s1", Data: []byte("x"), Version: -1}},
		{"getData needs READ", proto.OpGetData, &proto.GetDataRequest{Path: "/s1"}},
		{"getChildren needs READ", proto.OpGetChildren, &proto.GetChildrenRequest{Path: "/s1"}},
		{"getChildren2 needs READ", proto.OpGetChildren2, &proto.GetChildren2Request{Path: "/s1"}},
		{"setACL needs ADMIN", proto.OpSetACL, &proto.SetACLRequest{Path: "/s1", Acl: world(proto.PermAll), Version: -1}},
	} {
		if r := other.call(t, v.op, v.req); r.err != proto.ErrNoAuth {
			t.Errorf("%s: %v, want NoAuth", v.name, r.err)
		}
	}
	// Each permission alone grants only its op.
	for _, v := range []struct {
		perm int32
		op   proto.OpCode
		req  proto.Record
	}{
		{proto.PermRead, proto.OpGetData, &proto.GetDataRequest{Path: "/s1/p"}},
		{proto.PermWrite, proto.OpSetData, &proto.SetDataRequest{Path: "/s1/p", Data: []byte("w"), Version: -1}},
		{proto.PermAdmin, proto.OpSetACL, &proto.SetACLRequest{Path: "/s1/p", Acl: world(proto.PermAll), Version: -1}},
	} {
		owner.call(t, proto.OpDelete, &proto.DeleteRequest{Path: "/s1/p", Version: -1})
		mustCreate(t, owner, "/s1/p", "p", append(world(v.perm), all...))
		if r := other.call(t, v.op, v.req); r.err != proto.ErrOK {
			t.Errorf("perm %d: op %v: %v", v.perm, v.op, r.err)
		}
	}
	// exists checks READ on an existing node, as ZooKeeper does since ZOOKEEPER-2590
	// (3.8.4, 3.9.2; a known difference from Debian's 3.8.0, tests/compat known_test.go).
	if r := other.call(t, proto.OpExists, &proto.ExistsRequest{Path: "/s1"}); r.err != proto.ErrNoAuth {
		t.Errorf("exists of an unreadable node: %v, want NoAuth", r.err)
	}
	if r := other.call(t, proto.OpExists, &proto.ExistsRequest{Path: "/s1/none"}); r.err != proto.ErrNoNode {
		t.Errorf("exists of a missing node: %v, want NoNode", r.err)
	}
	// No state changed.
	data, st, _ := getData(t, owner, "/s1")
	if data != "v" || st.Version != 0 || st.NumChildren != 2 {
		t.Errorf("/s1 changed: %q %+v", data, st)
	}
	s.stillServes(t)
}

// TestS2NotInherited: a child created open under a closed parent stays open.
func TestS2NotInherited(t *testing.T) {
	s := start(t, options{})
	c := raw(t, s.Addr)
	c.connect(t)
	mustCreate(t, c, "/s2", "", world(proto.PermCreate))
	mustCreate(t, c, "/s2/open", "data", world(proto.PermAll))
	if _, _, err := getData(t, c, "/s2"); err != proto.ErrNoAuth {
		t.Errorf("parent readable: %v", err)
	}
	if d, _, err := getData(t, c, "/s2/open"); err != proto.ErrOK || d != "data" {
		t.Errorf("child: %q %v", d, err)
	}
	s.stillServes(t)
}

// TestS3GetACLLeak (CVE-2019-0201): getACL needs READ or ADMIN; with READ only, digest
// hashes are masked; with ADMIN they are shown.
func TestS3GetACLLeak(t *testing.T) {
	s := start(t, options{})
	owner := raw(t, s.Addr)
	owner.connect(t)
	addauth(t, owner, "digest", "bob:secret")
	mustCreate(t, owner, "/s3", "", aclOf(proto.PermAll, bobDigest))
	mustCreate(t, owner, "/s3r", "", append(world(proto.PermRead), aclOf(proto.PermAll, bobDigest)...))

	other := raw(t, s.Addr)
	other.connect(t)
	if r := other.call(t, proto.OpGetACL, &proto.GetACLRequest{Path: "/s3"}); r.err != proto.ErrNoAuth || len(r.body) != 0 {
		t.Errorf("unauthenticated getACL: %v with %d body bytes, want NoAuth and no body", r.err, len(r.body))
	}
	r := other.call(t, proto.OpGetACL, &proto.GetACLRequest{Path: "/s3r"})
	var g proto.GetACLResponse
	decodeInto(t, r.body, &g)
	if r.err != proto.ErrOK || len(g.Acl) != 2 || g.Acl[1].Id.Id != "bob:x" {
		t.Errorf("READ-only getACL: %v %+v, want the digest masked as bob:x", r.err, g.Acl)
	}
	r = owner.call(t, proto.OpGetACL, &proto.GetACLRequest{Path: "/s3"})
	decodeInto(t, r.body, &g)
	if r.err != proto.ErrOK || g.Acl[0].Id != bobDigest {
		t.Errorf("ADMIN getACL: %v %+v", r.err, g.Acl)
	}
	s.stillServes(t)
}

// TestS4Digest: addauth digest stores user:base64(sha1(user:pw)); a wrong password grants
// nothing; an unknown scheme is AuthFailed and closes; a malformed auth packet closes the
// connection without an answer.
func TestS4Digest(t *testing.T) {
	s := start(t, options{})
	c := raw(t, s.Addr)
	c.connect(t)
	addauth(t, c, "digest", "bob:secret")
	mustCreate(t, c, "/s4", "x", []proto.ACL{{Perms: proto.PermAll, Id: proto.Id{Scheme: "auth"}}})
	r := c.call(t, proto.OpGetACL, &proto.GetACLRequest{Path: "/s4"})
	var g proto.GetACLResponse
	decodeInto(t, r.body, &g)
	if len(g.Acl) != 1 || g.Acl[0].Id.Id != "bob:fyVmFCwVbTJYrznoSu1koqYEYF0=" {
		t.Errorf("stored ACL %+v, want digest bob:fyVmFCwVbTJYrznoSu1koqYEYF0=", g.Acl)
	}
	wrong := raw(t, s.Addr)
	wrong.connect(t)
	if err := addauth(t, wrong, "digest", "bob:wrong"); err != proto.ErrOK {
		t.Errorf("addauth with a wrong password: %v (digest auth always succeeds)", err)
	}
	if _, _, err := getData(t, wrong, "/s4"); err != proto.ErrNoAuth {
		t.Errorf("wrong password read: %v, want NoAuth", err)
	}
	unk := raw(t, s.Addr)
	unk.connect(t)
	if err := addauth(t, unk, "nosuch", "x"); err != proto.ErrAuthFailed {
		t.Errorf("unknown scheme: %v, want AuthFailed", err)
	}
	if !unk.closedByServer(5 * time.Second) {
		t.Error("connection left open after AuthFailed")
	}
	bad := raw(t, s.Addr)
	bad.connect(t)
	bad.send(proto.OpAuth, rawBytes{0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff}) // scheme length 2^31-1
	if r, _, err := bad.readReply(); err == nil {
		t.Errorf("malformed auth packet answered: %+v", r)
	}
	s.stillServes(t)
}

// rawBytes is a request body sent as is.
type rawBytes []byte

func (b rawBytes) Encode(e *jute.Encoder) { e.Raw(b) }
func (b rawBytes) Decode(*jute.Decoder)   {}

// TestS5SuperDigest: without superDigest, "super" is an ordinary digest user; with it, only
// the right password bypasses ACLs.
func TestS5SuperDigest(t *testing.T) {
	s := start(t, options{})
	c := raw(t, s.Addr)
	c.connect(t)
	mustCreate(t, c, "/s5", "x", world(proto.PermCreate))
	su := raw(t, s.Addr)
	su.connect(t)
	addauth(t, su, "digest", "super:test")
	if _, _, err := getData(t, su, "/s5"); err != proto.ErrNoAuth {
		t.Errorf("super without superDigest: %v, want NoAuth", err)
	}

	s2 := start(t, options{props: map[string]string{"DigestAuthenticationProvider.superDigest": "super:D/InIHSb7yEEbrWz8b9l71RjZJU="}})
	c2 := raw(t, s2.Addr)
	c2.connect(t)
	mustCreate(t, c2, "/s5", "x", world(proto.PermCreate))
	bad := raw(t, s2.Addr)
	bad.connect(t)
	addauth(t, bad, "digest", "super:nottest")
	if _, _, err := getData(t, bad, "/s5"); err != proto.ErrNoAuth {
		t.Errorf("wrong super password: %v, want NoAuth", err)
	}
	good := raw(t, s2.Addr)
	good.connect(t)
	addauth(t, good, "digest", "super:test")
	if d, _, err := getData(t, good, "/s5"); err != proto.ErrOK || d != "x" {
		t.Errorf("super: %q %v, want the data", d, err)
	}
	s2.stillServes(t)
}

// TestS6WatchDisclosure (CVE-2024-23944): a persistent recursive watcher with READ on /p but
// not on /p/secret gets no event for /p/secret; the check runs when the event fires.
func TestS6WatchDisclosure(t *testing.T) {
	s := start(t, options{})
	owner := raw(t, s.Addr)
	owner.connect(t)
	addauth(t, owner, "digest", "bob:secret")
	mustCreate(t, owner, "/p", "", world(proto.PermAll))
	mustCreate(t, owner, "/p/open", "", world(proto.PermAll))
	mustCreate(t, owner, "/p/secret", "", world(proto.PermAll)) // readable when the watch is set

	w := raw(t, s.Addr)
	w.connect(t)
	if r := w.call(t, proto.OpAddWatch, &proto.AddWatchRequest{Path: "/p", Mode: proto.AddWatchPersistentRecursive}); r.err != proto.ErrOK {
		t.Fatal(r.err)
	}
	// Close /p/secret after the watch is set, then change both nodes.
	owner.call(t, proto.OpSetACL, &proto.SetACLRequest{Path: "/p/secret", Acl: aclOf(proto.PermAll, bobDigest), Version: -1})
	owner.call(t, proto.OpSetData, &proto.SetDataRequest{Path: "/p/secret", Data: []byte("s"), Version: -1})
	owner.call(t, proto.OpSetData, &proto.SetDataRequest{Path: "/p/open", Data: []byte("o"), Version: -1})
	w.send(proto.OpPing, nil)
	_, evs, err := w.readReply()
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Path != "/p/open" || evs[0].Type != proto.EventNodeDataChanged {
		t.Errorf("events %+v, want only NodeDataChanged /p/open", evs)
	}
	s.stillServes(t)
}
