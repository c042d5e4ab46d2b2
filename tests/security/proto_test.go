package security

import (
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
)

// TestS8FourLetterWords: only whitelisted words run (srvr by default); a word that is not
// whitelisted is refused and the connection closed; four unknown letters are a frame length
// far past jute.maxbuffer and close the connection.
func TestS8FourLetterWords(t *testing.T) {
	s := start(t, options{edit: func(c *config.Config) { c.FourLetterWords = map[string]bool{"srvr": true} }})
	send := func(word string) string {
		c := raw(t, s.Addr)
		c.Write([]byte(word))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(c)
		return string(b)
	}
	if out := send("srvr"); !strings.Contains(out, "Mode: standalone") {
		t.Errorf("srvr: %q", out)
	}
	for _, w := range []string{"wchp", "wchc", "dump", "cons"} {
		if out := send(w); out != w+" is not executed because it is not in the whitelist.\n" {
			t.Errorf("%s: %q", w, out)
		}
	}
	if out := send("abcd"); out != "" {
		t.Errorf("unknown word answered %q", out)
	}
	s.stillServes(t)
}

// TestS11OversizedFrame: a frame length below 0 or above jute.maxbuffer closes the
// connection before anything is allocated, at any point of the connection.
func TestS11OversizedFrame(t *testing.T) {
	s := start(t, options{})
	for _, n := range []uint32{0xffffffff, 0x80000000, 0x7fffffff, 0x100000} {
		c := raw(t, s.Addr)
		c.Write(binary.BigEndian.AppendUint32(nil, n))
		if !c.closedByServer(5 * time.Second) {
			t.Errorf("first frame length %#x: connection left open", n)
		}
		c = raw(t, s.Addr)
		c.connect(t)
		c.Write(binary.BigEndian.AppendUint32(nil, n))
		if !c.closedByServer(5 * time.Second) {
			t.Errorf("request frame length %#x: connection left open", n)
		}
	}
	s.stillServes(t)
}

// TestS12BadLengths: negative or huge string and buffer lengths inside a frame never
// allocate: a read is answered MarshallingError (as ZooKeeper's FinalRequestProcessor does),
// a write fails with MarshallingError without changing state, and a bad ConnectRequest closes
// the connection.
func TestS12BadLengths(t *testing.T) {
	s := start(t, options{})
	c := raw(t, s.Addr)
	c.connect(t)
	for _, l := range []int32{-2, -1000, 0x7fffffff, 1 << 20} {
		body := binary.BigEndian.AppendUint32(nil, uint32(l)) // path length
		body = append(body, "/x"...)
		if r := c.call(t, proto.OpGetData, rawBytes(body)); r.err != proto.ErrMarshallingError {
			t.Errorf("getData with path length %d: %v, want MarshallingError", l, r.err)
		}
		// create: path ok, data length bad
		e := jute.NewEncoder(nil)
		e.String("/created")
		e.Int(l)
		if r := c.call(t, proto.OpCreate, rawBytes(e.Bytes())); r.err != proto.ErrMarshallingError {
			t.Errorf("create with data length %d: %v, want MarshallingError", l, r.err)
		}
	}
	if r := c.call(t, proto.OpExists, &proto.ExistsRequest{Path: "/created"}); r.err != proto.ErrNoNode {
		t.Errorf("/created exists after failed creates: %v", r.err)
	}
	// A ConnectRequest whose password length is a lie.
	bad := raw(t, s.Addr)
	e := jute.NewEncoder(nil)
	e.Int(0)
	e.Long(0)
	e.Int(30000)
	e.Long(0)
	e.Int(0x7ffffff0)
	bad.writeFrame(e.Bytes())
	if !bad.closedByServer(5 * time.Second) {
		t.Error("bad ConnectRequest: connection left open")
	}
	s.stillServes(t)
}

// TestS13VectorCounts: element counts far beyond what the frame holds (ACL lists, multi
// ops, SetWatches paths) are refused before allocating: MarshallingError, state unchanged.
func TestS13VectorCounts(t *testing.T) {
	s := start(t, options{})
	c := raw(t, s.Addr)
	c.connect(t)
	e := jute.NewEncoder(nil)
	e.String("/v")
	e.Buffer(nil)
	e.Int(1 << 30) // ACL count
	if r := c.call(t, proto.OpCreate, rawBytes(e.Bytes())); r.err != proto.ErrMarshallingError {
		t.Errorf("create with 2^30 ACLs: %v", r.err)
	}
	e = jute.NewEncoder(nil)
	e.Long(0)
	e.Int(0x7fffffff) // dataWatches count
	if r := c.call(t, proto.OpSetWatches, rawBytes(e.Bytes())); r.err != proto.ErrMarshallingError {
		t.Errorf("SetWatches with 2^31-1 paths: %v", r.err)
	}
	e = jute.NewEncoder(nil)
	(&proto.MultiHeader{Type: int32(proto.OpCreate), Done: false, Err: -1}).Encode(e)
	e.String("/m")
	e.Buffer(nil)
	e.Int(1 << 28) // ACL count inside a multi op
	if r := c.call(t, proto.OpMulti, rawBytes(e.Bytes())); r.err != proto.ErrMarshallingError {
		t.Errorf("multi op with 2^28 ACLs: %v", r.err)
	}
	if r := c.call(t, proto.OpExists, &proto.ExistsRequest{Path: "/v"}); r.err != proto.ErrNoNode {
		t.Errorf("/v: %v", r.err)
	}
	s.stillServes(t)
}

// TestS14MalformedPaths: invalid paths are BadArguments (-8) and never stored.
func TestS14MalformedPaths(t *testing.T) {
	s := start(t, options{})
	c := raw(t, s.Addr)
	c.connect(t)
	// create checks the full path once the parent is found (ZooKeeper's order: a missing
	// parent is NoNode first), setData checks it first of all.
	mustCreate(t, c, "/ok", "", world(proto.PermAll))
	for _, p := range []string{"a", "//", "/ok/", "/ok/.", "/ok/..", "/ok/\x01", "/ok/\u007f",
		"/ok/\ufff0", "/ok/\U0001F600", "/ok/a\xff", "/ok/\ue000", "/ok/a\x00b"} {
		if r := c.call(t, proto.OpCreate, &proto.CreateRequest{Path: p, Acl: world(proto.PermAll)}); r.err != proto.ErrBadArguments {
			t.Errorf("create %q: %v, want BadArguments", p, r.err)
		}
	}
	for _, p := range []string{"", "a", "/a/", "//a", "/a//b", "/a/./b", "/a/../b", "/.", "/..", "/a\x00b", "/\x01", "/\U0001F600"} {
		if r := c.call(t, proto.OpSetData, &proto.SetDataRequest{Path: p, Version: -1}); r.err != proto.ErrBadArguments {
			t.Errorf("setData %q: %v, want BadArguments", p, r.err)
		}
	}
	r := c.call(t, proto.OpGetChildren, &proto.GetChildrenRequest{Path: "/"})
	var g proto.GetChildrenResponse
	decodeInto(t, r.body, &g)
	if len(g.Children) != 2 {
		t.Errorf("root children %q: something was stored", g.Children)
	}
	s.stillServes(t)
}

// TestS15DeepPaths: a 1000-level chain, a path of almost jute.maxbuffer bytes and the
// ephemeral cleanup and subtree counts over them need no recursion and leave the server
// serving.
func TestS15DeepPaths(t *testing.T) {
	s := start(t, options{})
	c := raw(t, s.Addr)
	c.connect(t)
	p := ""
	for i := 0; i < 1000; i++ {
		p += "/d"
		if _, err := c.send(proto.OpCreate, &proto.CreateRequest{Path: p, Acl: world(proto.PermAll)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 1000; i++ {
		if r, _, err := c.readReply(); err != nil || r.err != proto.ErrOK {
			t.Fatalf("create level %d: %v %v", i+1, r.err, err)
		}
	}
	mustCreate(t, c, p+"/eph", "", world(proto.PermAll))
	r := c.call(t, proto.OpGetAllChildrenNumber, &proto.GetAllChildrenNumberRequest{Path: "/d"})
	var n proto.GetAllChildrenNumberResponse
	decodeInto(t, r.body, &n)
	if n.TotalNumber != 1000 {
		t.Errorf("getAllChildrenNumber /d = %d, want 1000", n.TotalNumber)
	}
	long := "/" + strings.Repeat("a/", 500_000/2)[:499_999]
	if r := c.call(t, proto.OpGetData, &proto.GetDataRequest{Path: long}); r.err != proto.ErrNoNode {
		t.Errorf("getData of a 500 kB path: %v, want NoNode", r.err)
	}
	if r := c.call(t, proto.OpCreate, &proto.CreateRequest{Path: long, Acl: world(proto.PermAll)}); r.err != proto.ErrNoNode {
		t.Errorf("create of a 500 kB path: %v, want NoNode", r.err)
	}
	s.stillServes(t)
}

// TestS16UnknownOpcode: an unknown opcode (or a notification, or a top-level check) is
// answered Unimplemented (-6, zxid -1) and the connection closed; a first frame that is not
// a ConnectRequest closes the connection unanswered.
func TestS16UnknownOpcode(t *testing.T) {
	s := start(t, options{})
	for _, op := range []proto.OpCode{999, 0, proto.OpCheck, -1000} {
		c := raw(t, s.Addr)
		c.connect(t)
		r := c.call(t, op, nil)
		if r.err != proto.ErrUnimplemented || r.zxid != -1 {
			t.Errorf("opcode %d: %v zxid %d, want Unimplemented zxid -1", op, r.err, r.zxid)
		}
		if !c.closedByServer(5 * time.Second) {
			t.Errorf("opcode %d: connection left open", op)
		}
	}
	c := raw(t, s.Addr)
	c.send(proto.OpGetData, &proto.GetDataRequest{Path: "/zookeeper"})
	if !c.closedByServer(5 * time.Second) {
		t.Error("a getData as the first frame: connection left open")
	}
	s.stillServes(t)
}

// TestS17SessionHijack: reattaching to another client's session with a wrong password is
// refused (timeout 0 and session 0, then close), and the real owner keeps its session.
func TestS17SessionHijack(t *testing.T) {
	s := start(t, options{})
	owner := raw(t, s.Addr)
	resp := owner.connect(t)
	mustCreate(t, owner, "/s17", "", world(proto.PermAll))

	thief := raw(t, s.Addr)
	pw := append([]byte(nil), resp.Passwd...)
	pw[0] ^= 1
	r, err := thief.tryConnect(proto.ConnectRequest{TimeOut: 30000, SessionID: resp.SessionID, Passwd: pw})
	if err != nil {
		t.Fatalf("hijack: %v", err)
	}
	if r.TimeOut != 0 || r.SessionID != 0 {
		t.Errorf("hijack answered timeout %d session %#x, want 0 and 0", r.TimeOut, r.SessionID)
	}
	if !thief.closedByServer(5 * time.Second) {
		t.Error("hijack: connection left open")
	}
	// The owner's connection was closed by the attempt (as in ZooKeeper), but the session
	// lives: the owner reattaches with the right password.
	again := raw(t, s.Addr)
	r, err = again.tryConnect(proto.ConnectRequest{TimeOut: 30000, SessionID: resp.SessionID, Passwd: resp.Passwd})
	if err != nil || r.SessionID != resp.SessionID || r.TimeOut == 0 {
		t.Fatalf("owner reattach: %+v %v", r, err)
	}
	if _, _, err := getData(t, again, "/s17"); err != proto.ErrOK {
		t.Errorf("owner read after reattach: %v", err)
	}
	s.stillServes(t)
}

// TestS18FutureClient: a client that has seen a zxid newer than the server's is refused:
// the connection closes without a ConnectResponse, so it tries another server.
func TestS18FutureClient(t *testing.T) {
	s := start(t, options{})
	c := raw(t, s.Addr)
	if r, err := c.tryConnect(proto.ConnectRequest{TimeOut: 30000, LastZxidSeen: 1 << 40, Passwd: make([]byte, 16)}); err == nil {
		t.Errorf("answered %+v", r)
	}
	s.stillServes(t)
}

// TestS22Multi: a multi with a read op fails as a whole (MarshallingError), an empty multi
// succeeds with no results, a multi larger than jute.maxbuffer closes the connection, and a
// large one within it is answered.
func TestS22Multi(t *testing.T) {
	s := start(t, options{})
	c := raw(t, s.Addr)
	c.connect(t)
	mixed := &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: "/mixed", Acl: world(proto.PermAll)}},
		{Type: proto.OpGetData, Body: &proto.GetDataRequest{Path: "/"}},
	}}
	if r := c.call(t, proto.OpMulti, mixed); r.err != proto.ErrMarshallingError {
		t.Errorf("multi with a read op: %v, want MarshallingError", r.err)
	}
	if r := c.call(t, proto.OpExists, &proto.ExistsRequest{Path: "/mixed"}); r.err != proto.ErrNoNode {
		t.Errorf("/mixed was created: %v", r.err)
	}
	r := c.call(t, proto.OpMulti, &proto.MultiRequest{})
	var m proto.MultiResponse
	decodeInto(t, r.body, &m)
	if r.err != proto.ErrOK || len(m.Results) != 0 {
		t.Errorf("empty multi: %v %+v", r.err, m)
	}
	checks := func(n int) *proto.MultiRequest {
		req := &proto.MultiRequest{}
		for i := 0; i < n; i++ {
			req.Ops = append(req.Ops, proto.MultiOp{Type: proto.OpCheck, Body: &proto.CheckVersionRequest{Path: "/", Version: -1}})
		}
		return req
	}
	r = c.call(t, proto.OpMulti, checks(30_000))
	decodeInto(t, r.body, &m)
	if r.err != proto.ErrOK || len(m.Results) != 30_000 {
		t.Errorf("multi of 30000 checks: %v, %d results", r.err, len(m.Results))
	}
	c.send(proto.OpMulti, checks(100_000)) // about 2.2 MB
	if !c.closedByServer(5 * time.Second) {
		t.Error("multi of 100000 ops: connection left open")
	}
	s.stillServes(t)
}

// TestS23ExtendedTypes: TTL nodes need extendedTypesEnabled (Unimplemented without it),
// containers do not; an ephemeral cannot have children.
func TestS23ExtendedTypes(t *testing.T) {
	s := start(t, options{})
	c := raw(t, s.Addr)
	c.connect(t)
	ttl := &proto.CreateTTLRequest{Path: "/ttl", Acl: world(proto.PermAll), Flags: 5, Ttl: 1000}
	if r := c.call(t, proto.OpCreateTTL, ttl); r.err != proto.ErrUnimplemented {
		t.Errorf("TTL node without extended types: %v, want Unimplemented", r.err)
	}
	if r := c.call(t, proto.OpCreateContainer, &proto.CreateRequest{Path: "/cont", Acl: world(proto.PermAll), Flags: 4}); r.err != proto.ErrOK {
		t.Errorf("container: %v", r.err)
	}
	mustCreate(t, c, "/eph", "", world(proto.PermAll))
	c.call(t, proto.OpDelete, &proto.DeleteRequest{Path: "/eph", Version: -1})
	if r := c.call(t, proto.OpCreate, &proto.CreateRequest{Path: "/eph", Acl: world(proto.PermAll), Flags: 1}); r.err != proto.ErrOK {
		t.Fatal(r.err)
	}
	if r := c.call(t, proto.OpCreate, &proto.CreateRequest{Path: "/eph/child", Acl: world(proto.PermAll)}); r.err != proto.ErrNoChildrenForEphemerals {
		t.Errorf("child of an ephemeral: %v, want NoChildrenForEphemerals", r.err)
	}
	s2 := start(t, options{props: map[string]string{"extendedTypesEnabled": "true"}})
	c2 := raw(t, s2.Addr)
	c2.connect(t)
	if r := c2.call(t, proto.OpCreateTTL, ttl); r.err != proto.ErrOK {
		t.Errorf("TTL node with extended types: %v", r.err)
	}
	s.stillServes(t)
}
