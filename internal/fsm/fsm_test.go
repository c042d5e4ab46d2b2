package fsm

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/txn"
	"github.com/warren-zk/warren/internal/watch"
	"github.com/warren-zk/warren/internal/znode"
)

func TestApplyBasics(t *testing.T) {
	h := newHarness(t, Options{})
	// raft's own (empty) entries consume an index and a zxid but change nothing.
	h.index++
	h.f.Lock()
	res := h.f.Apply(h.term, h.index, nil)
	h.f.Unlock()
	if res.Entry != nil || res.Err != proto.ErrOK || res.Zxid != 1<<32 {
		t.Errorf("empty entry: %+v", res)
	}
	if h.f.LastZxid() != 1<<32 || h.f.AppliedIndex() != 1 {
		t.Errorf("LastZxid %#x AppliedIndex %d", h.f.LastZxid(), h.f.AppliedIndex())
	}
	// Garbage is a MarshallingError that still consumes a zxid.
	h.index++
	h.f.Lock()
	res = h.f.Apply(h.term, h.index, []byte("garbage"))
	h.f.Unlock()
	if res.Err != proto.ErrMarshallingError || res.Zxid != 1<<32|1 {
		t.Errorf("garbage entry: %+v", res)
	}
	// Every write consumes exactly one zxid, failed or not.
	h.session(s1)
	z := h.f.LastZxid()
	h.mustOK(h.create(s1, "/a", nil, open, 0))
	if r := h.create(s1, "/a", nil, open, 0); r.Err != proto.ErrNodeExists || r.Zxid != z+2 {
		t.Errorf("failed create: %v zxid %#x, want NodeExists %#x", r.Err, r.Zxid, z+2)
	}
	r := h.mustOK(h.create(s1, "/b", nil, open, 0))
	if r.Zxid != z+3 || r.Entry == nil || r.Entry.Op != proto.OpCreate {
		t.Errorf("next create: %+v", r)
	}
	// An undecodable body is a MarshallingError.
	if r := h.applyEntry(txn.Entry{Op: proto.OpCreate, Session: s1, Body: []byte{0, 0}}); r.Err != proto.ErrMarshallingError {
		t.Errorf("truncated create body: %v", r.Err)
	}
	// Non-write ops in the log are Unimplemented; reconfig is disabled.
	for op, want := range map[proto.OpCode]proto.Err{
		proto.OpGetData: proto.ErrUnimplemented, proto.OpExists: proto.ErrUnimplemented,
		proto.OpCode(10): proto.ErrUnimplemented, proto.OpReconfig: proto.ErrReconfigDisabled,
	} {
		if r := h.write(s1, op, &proto.GetDataRequest{Path: "/a"}); r.Err != want {
			t.Errorf("op %v in the log: %v, want %v", op, r.Err, want)
		}
	}
}

func TestCreateEffects(t *testing.T) {
	h := newHarness(t, Options{ExtendedTypes: true})
	h.session(s1)
	res := h.mustOK(h.create(s1, "/a", []byte("data"), open, 0))
	if cr, ok := res.Body.(*proto.CreateResponse); !ok || cr.Path != "/a" {
		t.Fatalf("create reply %#v", res.Body)
	}
	st := h.stat("/a")
	want := proto.Stat{Czxid: res.Zxid, Mzxid: res.Zxid, Pzxid: res.Zxid, Ctime: res.Entry.Time, Mtime: res.Entry.Time, DataLength: 4}
	if st != want {
		t.Errorf("stat %+v\nwant %+v", st, want)
	}
	root := h.stat("/")
	if root.Cversion != 0 || root.NumChildren != 2 || root.Pzxid != res.Zxid {
		t.Errorf("root after create /a: %+v", root)
	}
	// create2 / createContainer / createTTL answer with Create2Response and the new stat.
	for _, tc := range []struct {
		op    proto.OpCode
		path  string
		flags int32
		owner int64
	}{
		{proto.OpCreate2, "/b", proto.ModeEphemeral, s1},
		{proto.OpCreateContainer, "/c", proto.ModeContainer, znode.ContainerOwner},
		{proto.OpCreate2, "/d", proto.ModeContainer, 0}, // flag 4 with create2: plain persistent
		{proto.OpCreate, "/e", proto.ModeContainer, 0},
	} {
		res := h.mustOK(h.create2(s1, tc.op, tc.path, tc.flags))
		if tc.op != proto.OpCreate {
			c2, ok := res.Body.(*proto.Create2Response)
			if !ok || c2.Path != tc.path || c2.Stat != h.stat(tc.path) || c2.Stat.Czxid != res.Zxid {
				t.Errorf("%v %s: reply %#v", tc.op, tc.path, res.Body)
			}
		}
		if got := h.node(tc.path).EphemeralOwner; got != tc.owner {
			t.Errorf("%v %s flags %d: owner %#x, want %#x", tc.op, tc.path, tc.flags, got, tc.owner)
		}
	}
	res = h.mustOK(h.createTTL(s1, "/t", proto.ModePersistentWithTTL, 5000))
	if c2 := res.Body.(*proto.Create2Response); c2.Stat.EphemeralOwner != 0 {
		t.Errorf("TTL node shows owner %#x", c2.Stat.EphemeralOwner)
	}
	if got := h.node("/t").EphemeralOwner; got != znode.TTLMask|5000 {
		t.Errorf("TTL owner %#x", got)
	}
	if got := h.f.Tree().Containers(); !reflect.DeepEqual(got, []string{"/c"}) {
		t.Errorf("containers %v", got)
	}
	if got := h.f.Tree().TTLNodes(); !reflect.DeepEqual(got, []string{"/t"}) {
		t.Errorf("TTL nodes %v", got)
	}
	// Null data stays null, empty stays empty.
	h.mustOK(h.create(s1, "/null", nil, open, 0))
	h.mustOK(h.create(s1, "/empty", []byte{}, open, 0))
	if h.node("/null").Data() != nil || h.node("/empty").Data() == nil {
		t.Error("null/empty data not preserved")
	}
	// The ACL is stored as fixed up: duplicates gone, auth expanded.
	h.mustOK(h.create(s1, "/acl", nil, append(append([]proto.ACL{}, proto.CreatorAllACL...), open[0], open[0]), 0, ipLocal, bobID))
	if got := h.node("/acl").ACL(); !reflect.DeepEqual(got, []proto.ACL{{Perms: proto.PermAll, Id: bobID}, open[0]}) {
		t.Errorf("fixed-up ACL %v", got)
	}
}

func TestSetDataSetACLDeleteEffects(t *testing.T) {
	h := newHarness(t, Options{})
	h.session(s1)
	c := h.mustOK(h.create(s1, "/a", []byte("x"), open, 0))
	h.mustOK(h.create(s1, "/a/b", nil, open, 0))
	res := h.mustOK(h.setData(s1, "/a", []byte("hello"), 0))
	st := res.Body.(*proto.SetDataResponse).Stat
	if st.Version != 1 || st.Mzxid != res.Zxid || st.Mtime != res.Entry.Time || st.Czxid != c.Zxid || st.DataLength != 5 {
		t.Errorf("setData stat %+v", st)
	}
	if st != h.stat("/a") {
		t.Error("reply stat differs from the node's")
	}
	res = h.mustOK(h.setData(s1, "/a", []byte("hello"), 1)) // same data still bumps
	if h.stat("/a").Version != 2 {
		t.Error("identical setData did not bump the version")
	}
	res = h.mustOK(h.setACL(s1, "/a", []proto.ACL{{Perms: proto.PermAll &^ proto.PermAdmin, Id: proto.AnyoneID}}, -1))
	st = res.Body.(*proto.SetACLResponse).Stat
	if st.Aversion != 1 || st.Version != 2 || st.Mzxid == res.Zxid {
		t.Errorf("setACL stat %+v (mzxid must not change)", st)
	}
	// Delete: parent pzxid = zxid, stored cversion unchanged, visible +1.
	before := h.stat("/a")
	res = h.mustOK(h.delete(s1, "/a/b", -1))
	after := h.stat("/a")
	if after.Pzxid != res.Zxid || after.Cversion != before.Cversion+1 || after.NumChildren != 0 || h.node("/a").Cversion != 1 {
		t.Errorf("parent after delete: %+v (stored %d)", after, h.node("/a").Cversion)
	}
	if res.Body != nil {
		t.Errorf("delete reply body %#v", res.Body)
	}
	// Version wraps at int32.
	h.node("/a").Version = math.MaxInt32
	h.mustOK(h.setData(s1, "/a", nil, math.MaxInt32))
	if v := h.stat("/a").Version; v != math.MinInt32 {
		t.Errorf("version after MaxInt32: %d", v)
	}
}

func TestSequentialNames(t *testing.T) {
	h := newHarness(t, Options{})
	h.session(s1)
	h.mustOK(h.create(s1, "/s", nil, open, 0))
	seq := func(path string, flags int32) string {
		t.Helper()
		return h.mustOK(h.create(s1, path, nil, open, flags)).Body.(*proto.CreateResponse).Path
	}
	var got []string
	for range 3 {
		got = append(got, seq("/s/s-", proto.ModePersistentSequential))
	}
	if want := []string{"/s/s-0000000000", "/s/s-0000000001", "/s/s-0000000002"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("first three: %v", got)
	}
	h.mustOK(h.delete(s1, "/s/s-0000000001", -1))
	if p := seq("/s/s-", proto.ModePersistentSequential); p != "/s/s-0000000003" {
		t.Errorf("after a delete: %s (numbers are never reused)", p)
	}
	// Shared with non-sequential creates.
	h.mustOK(h.create(s1, "/s/plain", nil, open, 0))
	if p := seq("/s/x", proto.ModeEphemeralSequential); p != "/s/x0000000005" {
		t.Errorf("after a plain create: %s", p)
	}
	if h.node("/s/x0000000005").EphemeralOwner != s1 {
		t.Error("ephemeral sequential is not ephemeral")
	}
	// "/a/" yields "/a/0000000004".
	h.mustOK(h.create(s1, "/a", nil, open, 0))
	for i := range 4 {
		h.mustOK(h.create(s1, fmt.Sprintf("/a/n%d", i), nil, open, 0))
	}
	if p := seq("/a/", proto.ModePersistentSequential); p != "/a/0000000004" {
		t.Errorf("/a/ -> %s", p)
	}
	// The root's counter: "/" + suffix.
	rootCv := h.node("/").Cversion
	if p := seq("/", proto.ModePersistentSequential); p != fmt.Sprintf("/%010d", rootCv) {
		t.Errorf("sequential create of / -> %s (root cversion %d)", p, rootCv)
	}
	// Container and TTL sequential modes use the same counter.
	h2 := newHarness(t, Options{ExtendedTypes: true})
	h2.session(s1)
	h2.mustOK(h2.create(s1, "/q", nil, open, 0))
	h2.mustOK(h2.create(s1, "/q/a", nil, open, 0))
	res := h2.mustOK(h2.createTTL(s1, "/q/t-", proto.ModePersistentSequentialWithTTL, 10))
	if p := res.Body.(*proto.Create2Response).Path; p != "/q/t-0000000001" {
		t.Errorf("TTL sequential: %s", p)
	}
	// After 2^31 creations the suffix goes negative (%010d of the stored value).
	h.node("/s").Cversion = math.MaxInt32
	if p := seq("/s/w-", proto.ModePersistentSequential); p != "/s/w-2147483647" {
		t.Errorf("at MaxInt32: %s", p)
	}
	if p := seq("/s/w-", proto.ModePersistentSequential); p != "/s/w--2147483648" {
		t.Errorf("after wrapping: %s", p)
	}
	h.node("/s").Cversion = -1
	if p := seq("/s/w-", proto.ModePersistentSequential); p != "/s/w--000000001" {
		t.Errorf("at -1: %s", p)
	}
}

func TestSessions(t *testing.T) {
	h := newHarness(t, Options{})
	res := h.applyEntry(txn.Entry{Op: proto.OpCreateSession, Session: s1, Timeout: 12345})
	if res.Err != proto.ErrOK || h.f.Session(s1) == nil || h.f.Session(s1).Timeout != 12345 || h.f.SessionCount() != 1 {
		t.Fatalf("createSession: %+v", res)
	}
	if r := h.applyEntry(txn.Entry{Op: proto.OpCreateSession, Session: s1, Timeout: 1}); r.Err == proto.ErrOK || h.f.Session(s1).Timeout != 12345 {
		t.Errorf("duplicate createSession: %v", r.Err)
	}
	h.session(s2)
	h.mustOK(h.create(s1, "/p", nil, open, 0))
	h.mustOK(h.create(s1, "/e1", nil, open, proto.ModeEphemeral))
	h.mustOK(h.create(s1, "/p/e2", nil, open, proto.ModeEphemeralSequential))
	h.mustOK(h.create(s2, "/e3", nil, open, proto.ModeEphemeral))
	h.mustOK(h.create(s2, "/p/e4", nil, open, proto.ModeEphemeral))

	w := &recorder{}
	h.f.Watches().AddData("/e1", w)
	h.f.Watches().AddChild("/p", w)
	h.f.Watches().AddChild("/", w)
	h.f.Watches().AddData("/e3", w)
	pBefore := h.stat("/p")

	res = h.closeSession(s1)
	if res.Err != proto.ErrOK {
		t.Fatalf("closeSession: %v", res.Err)
	}
	for _, p := range []string{"/e1", "/p/e20000000000"} {
		if h.node(p) != nil {
			t.Errorf("%s survived its session", p)
		}
	}
	if h.node("/e3") == nil || h.node("/p/e4") == nil || h.node("/p") == nil {
		t.Error("other nodes deleted")
	}
	if got := h.stat("/p"); got.Pzxid != res.Zxid || got.Cversion != pBefore.Cversion+1 || got.Mzxid != pBefore.Mzxid {
		t.Errorf("/p after close: %+v", got)
	}
	if got := h.stat("/"); got.Pzxid != res.Zxid {
		t.Errorf("root pzxid %#x, want close zxid %#x", got.Pzxid, res.Zxid)
	}
	for _, ev := range w.events {
		if ev.Zxid != res.Zxid {
			t.Errorf("event %+v does not carry the close zxid %#x", ev, res.Zxid)
		}
	}
	// The deletion order across ephemerals is ZooKeeper's (hash-set) order;
	// each delete's NodeDeleted precedes its parent's NodeChildrenChanged.
	got := w.take()
	if want := []string{"NodeChildrenChanged /", "NodeChildrenChanged /p", "NodeDeleted /e1"}; !reflect.DeepEqual(sortedCopy(got), want) {
		t.Errorf("events %v, want (in some order) %v", got, want)
	}
	if slices.Index(got, "NodeDeleted /e1") > slices.Index(got, "NodeChildrenChanged /") {
		t.Errorf("NodeChildrenChanged / before NodeDeleted /e1: %v", got)
	}
	if h.f.Session(s1) != nil || h.f.SessionCount() != 1 || !reflect.DeepEqual(h.closed, []int64{s1}) {
		t.Errorf("session table after close: count %d, closed %v", h.f.SessionCount(), h.closed)
	}
	if got := h.f.Tree().Ephemerals(s1); len(got) != 0 {
		t.Errorf("ephemeral index still lists %v", got)
	}
	// A closed (or unknown) session can no longer write, and closing it again fails.
	before := h.dump()
	if r := h.create(s1, "/x", nil, open, 0); r.Err != proto.ErrSessionExpired {
		t.Errorf("write from a closed session: %v", r.Err)
	}
	if r := h.create(0x77, "/x", nil, open, 0); r.Err != proto.ErrSessionExpired {
		t.Errorf("write from an unknown session: %v", r.Err)
	}
	if r := h.closeSession(s1); r.Err == proto.ErrOK {
		t.Error("second closeSession succeeded")
	}
	if h.dump() != before || !reflect.DeepEqual(h.closed, []int64{s1}) {
		t.Error("rejected entries changed the state")
	}
	// Closing a session without ephemerals.
	h.session(s1)
	h.mustOK(h.closeSession(s1))
}

func TestWatchTriggers(t *testing.T) {
	h := newHarness(t, Options{})
	h.session(s1)
	w := &recorder{}
	m := h.f.Watches()
	m.AddData("/a", w) // exists watch on a missing node
	m.AddChild("/", w) // child watch on the root
	m.AddRecursive("/r", w)
	res := h.mustOK(h.create(s1, "/a", nil, open, 0))
	if got := w.take(); !reflect.DeepEqual(got, []string{"NodeCreated /a", "NodeChildrenChanged /"}) {
		t.Errorf("create: %v", got)
	}
	m.AddData("/a", w)
	m.AddChild("/a", w)
	h.mustOK(h.setData(s1, "/a", []byte("x"), -1))
	h.mustOK(h.create(s1, "/a/b", nil, open, 0))
	h.mustOK(h.delete(s1, "/a/b", -1)) // child watch already consumed
	h.mustOK(h.setACL(s1, "/a", open, -1))
	if got := w.take(); !reflect.DeepEqual(got, []string{"NodeDataChanged /a", "NodeChildrenChanged /a"}) {
		t.Errorf("setData/create child/setACL: %v", got)
	}
	h.mustOK(h.create(s1, "/r", nil, open, 0))
	h.mustOK(h.create(s1, "/r/c", nil, open, 0))
	h.mustOK(h.setData(s1, "/r/c", nil, -1))
	h.mustOK(h.delete(s1, "/r/c", -1))
	if got := w.take(); !reflect.DeepEqual(got, []string{"NodeCreated /r", "NodeCreated /r/c", "NodeDataChanged /r/c", "NodeDeleted /r/c"}) {
		t.Errorf("recursive: %v", got)
	}
	// Failed writes fire nothing.
	m.AddData("/a", w)
	h.setData(s1, "/a", nil, 99)
	h.create(s1, "/a", nil, open, 0)
	if got := w.take(); len(got) != 0 {
		t.Errorf("failed writes fired %v", got)
	}
	// Events carry the write's zxid.
	res = h.mustOK(h.setData(s1, "/a", nil, -1))
	if len(w.events) != 1 || w.events[0].Zxid != res.Zxid {
		t.Errorf("event zxid: %+v, want %#x", w.events, res.Zxid)
	}
	w.take()
	// ACL filtering uses the created node's ACL (the one in the request) and
	// the parent's ACL for NodeChildrenChanged.
	h.mustOK(h.create(s1, "/sec", nil, open, 0))
	outsider := &recorder{ids: []proto.Id{ipLocal}}
	m.AddData("/sec/x", outsider)
	m.AddChild("/sec", outsider)
	h.mustOK(h.create(s1, "/sec/x", nil, bobACL, 0))
	if got := outsider.take(); !reflect.DeepEqual(got, []string{"NodeChildrenChanged /sec"}) {
		t.Errorf("outsider saw %v", got)
	}
	if m.Check("/sec/x", outsider, proto.WatcherData) {
		t.Error("filtered standard watch not consumed")
	}
}

func TestMultiSuccess(t *testing.T) {
	h := fixture(t, Options{})
	w := &recorder{}
	h.f.Watches().AddRecursive("/", w)
	h.f.Watches().AddChild("/m", w)
	res := h.multi(s1,
		proto.MultiOp{Type: proto.OpCreate, Body: creq("/m", open, 0)},
		proto.MultiOp{Type: proto.OpCreate2, Body: creq("/m/a", open, 0)},
		proto.MultiOp{Type: proto.OpCreateContainer, Body: creq("/m/c", open, proto.ModeContainer)},
		proto.MultiOp{Type: proto.OpCreateTTL, Body: ttlreq("/m/t", open, proto.ModePersistentWithTTL, 100)},
		proto.MultiOp{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: "/m", Data: []byte("d"), Version: 0}},
		proto.MultiOp{Type: proto.OpCheck, Body: &proto.CheckVersionRequest{Path: "/m", Version: 1}},
		proto.MultiOp{Type: proto.OpDelete, Body: &proto.DeleteRequest{Path: "/m/a", Version: 0}},
		proto.MultiOp{Type: proto.OpCreate, Body: creq("/m/a", open, proto.ModeEphemeral)}, // re-create after delete
		proto.MultiOp{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: "/m", Data: []byte("e"), Version: 1}},
	)
	h.mustOK(res)
	results := res.Body.(*proto.MultiResponse).Results
	wantTypes := []proto.OpCode{proto.OpCreate, proto.OpCreate2, proto.OpCreate2, proto.OpCreate2, proto.OpSetData,
		proto.OpCheck, proto.OpDelete, proto.OpCreate, proto.OpSetData}
	if len(results) != len(wantTypes) {
		t.Fatalf("%d results", len(results))
	}
	for i, r := range results {
		if r.Type != wantTypes[i] || r.Err != proto.ErrOK {
			t.Errorf("result %d: %+v, want type %v", i, r, wantTypes[i])
		}
	}
	if p := results[2].Body.(*proto.Create2Response).Path; p != "/m/c" {
		t.Errorf("container result path %s", p)
	}
	if st := results[4].Body.(*proto.SetDataResponse).Stat; st.Version != 1 || st.Mzxid != res.Zxid {
		t.Errorf("setData result %+v", st)
	}
	// One zxid for every op.
	for _, p := range []string{"/m", "/m/c", "/m/t", "/m/a"} {
		if st := h.stat(p); st.Czxid != res.Zxid {
			t.Errorf("%s czxid %#x, want %#x", p, st.Czxid, res.Zxid)
		}
	}
	if h.node("/m/c").EphemeralOwner != znode.ContainerOwner || h.node("/m/a").EphemeralOwner != s1 || !znode.IsTTLOwner(h.node("/m/t").EphemeralOwner) {
		t.Error("node kinds not applied")
	}
	if st := h.stat("/m"); st.Version != 2 || string(h.node("/m").Data()) != "e" || h.node("/m").Cversion != 4 {
		t.Errorf("/m after multi: %+v", st)
	}
	// Each sub-op fires its own watches, in op order, with the multi's zxid.
	want := []string{"NodeCreated /m", "NodeCreated /m/a", "NodeChildrenChanged /m", "NodeCreated /m/c", "NodeCreated /m/t",
		"NodeDataChanged /m", "NodeDeleted /m/a", "NodeCreated /m/a", "NodeDataChanged /m"}
	for _, ev := range w.events {
		if ev.Zxid != res.Zxid {
			t.Errorf("event %+v with zxid != %#x", ev, res.Zxid)
		}
	}
	if got := w.take(); !reflect.DeepEqual(got, want) {
		t.Errorf("events %v\nwant   %v", got, want)
	}
	// Empty multi: OK, just the terminator, consumes a zxid.
	z := h.f.LastZxid()
	before := h.dump()
	res = h.mustOK(h.multi(s1))
	if r := res.Body.(*proto.MultiResponse).Results; len(r) != 0 || res.Zxid != z+1 || h.dump() != before {
		t.Errorf("empty multi: %+v", res)
	}
}

// TestMultiFailureIsAtomic: a failed multi leaves every byte of the state as
// it was and fires nothing; results are (-1,0)... (-1,code) (-1,-2)...
func TestMultiFailureIsAtomic(t *testing.T) {
	ops := []proto.MultiOp{
		{Type: proto.OpCreate, Body: creq("/m", open, 0)},
		{Type: proto.OpCreate2, Body: creq("/m/a", []proto.ACL{{Perms: 1, Id: proto.Id{Scheme: "ip", Id: "10.9.9.9"}}}, proto.ModePersistentSequential)},
		{Type: proto.OpCreateContainer, Body: creq("/m/c", open, proto.ModeContainer)},
		{Type: proto.OpCreateTTL, Body: ttlreq("/r/t", open, proto.ModePersistentWithTTL, 100)},
		{Type: proto.OpCreate, Body: creq("/r/child/e", open, proto.ModeEphemeralSequential)},
		{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: "/ver", Data: []byte("changed, longer"), Version: 2}},
		{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: "/r", Data: nil, Version: -1}},
		{Type: proto.OpDelete, Body: &proto.DeleteRequest{Path: "/eph", Version: -1}},
		{Type: proto.OpDelete, Body: &proto.DeleteRequest{Path: "/c", Version: -1}},
		{Type: proto.OpDelete, Body: &proto.DeleteRequest{Path: "/t", Version: -1}},
		{Type: proto.OpDelete, Body: &proto.DeleteRequest{Path: "/r/child/e0000000000", Version: -1}},
		{Type: proto.OpDelete, Body: &proto.DeleteRequest{Path: "/r/child", Version: -1}},
		{Type: proto.OpCreate, Body: creq("/r/child", open, proto.ModeEphemeral)},
		{Type: proto.OpCheck, Body: &proto.CheckVersionRequest{Path: "/ver", Version: 3}},
	}
	failures := []struct {
		name string
		op   proto.MultiOp
		code proto.Err
	}{
		{"NodeExists", proto.MultiOp{Type: proto.OpCreate, Body: creq("/ro", open, 0)}, proto.ErrNodeExists},
		{"BadVersion", proto.MultiOp{Type: proto.OpCheck, Body: &proto.CheckVersionRequest{Path: "/ver", Version: 7}}, proto.ErrBadVersion},
		{"NoAuth", proto.MultiOp{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: "/ro", Version: -1}}, proto.ErrNoAuth},
		{"NotEmpty", proto.MultiOp{Type: proto.OpDelete, Body: &proto.DeleteRequest{Path: "/r", Version: -1}}, proto.ErrNotEmpty},
		{"NoNode", proto.MultiOp{Type: proto.OpDelete, Body: &proto.DeleteRequest{Path: "/r/child/e0000000000", Version: -1}}, proto.ErrNoNode},
		{"TTL BadArguments", proto.MultiOp{Type: proto.OpCreateTTL, Body: ttlreq("/x", open, proto.ModePersistentWithTTL, 0)}, proto.ErrBadArguments},
	}
	tail := []proto.MultiOp{
		{Type: proto.OpCreate, Body: creq("/after", open, 0)},
		{Type: proto.OpDelete, Body: &proto.DeleteRequest{Path: "/ro", Version: -1}},
	}
	for _, fc := range failures {
		for _, at := range []int{0, len(ops)} {
			t.Run(fmt.Sprintf("%s at %d", fc.name, at), func(t *testing.T) {
				h := fixture(t, Options{})
				w := &recorder{}
				h.f.Watches().AddRecursive("/", w)
				h.f.Watches().AddChild("/r", w)
				h.f.Watches().AddData("/ver", w)
				all := append(append(append([]proto.MultiOp{}, ops[:at]...), fc.op), tail...)
				before := h.dump()
				z := h.f.LastZxid()
				res := h.multi(s1, all...)
				if res.Err != proto.ErrOK {
					t.Fatalf("multi header err %v: a failed multi still answers 0", res.Err)
				}
				if after := h.dump(); after != before {
					t.Fatalf("state changed by a failed multi:\n%s\n---\n%s", before, after)
				}
				if res.Zxid != z+1 || h.f.LastZxid() != z+1 {
					t.Errorf("failed multi did not consume exactly one zxid")
				}
				if len(w.events) != 0 {
					t.Errorf("failed multi fired %v", w.take())
				}
				results := res.Body.(*proto.MultiResponse).Results
				if len(results) != len(all) {
					t.Fatalf("%d results for %d ops", len(results), len(all))
				}
				for i, r := range results {
					want := proto.MultiResult{Type: proto.OpError, Err: proto.ErrOK}
					switch {
					case i == at:
						want.Err = fc.code
					case i > at:
						want.Err = proto.ErrRuntimeInconsistency
					}
					if r != want {
						t.Errorf("result %d: %+v, want %+v", i, r, want)
					}
				}
				// The whole multi succeeds once the failing op is removed.
				if at == len(ops) {
					h.mustOK(h.multi(s1, append(append([]proto.MultiOp{}, ops...), tail[0])...))
					if h.node("/after") == nil || h.node("/r/child").EphemeralOwner != s1 || string(h.node("/ver").Data()) != "changed, longer" {
						t.Error("the successful multi did not apply")
					}
				}
			})
		}
	}
}

// TestFailedMultiBytes: §26's example, end to end.
func TestFailedMultiBytes(t *testing.T) {
	h := fixture(t, Options{})
	res := h.multi(s1,
		proto.MultiOp{Type: proto.OpCreate, Body: creq("/new", open, 0)},
		proto.MultiOp{Type: proto.OpCreate, Body: creq("/r", open, 0)},
		proto.MultiOp{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: "/r", Version: -1}},
	)
	want := []byte{
		0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0x92, 0xff, 0xff, 0xff, 0x92,
		0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfe,
		0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff,
	}
	if got := body(res.Body); res.Err != proto.ErrOK || !bytes.Equal(got, want) {
		t.Errorf("reply %v body %x\nwant %x", res.Err, got, want)
	}
}

func TestMultiUndecodable(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []proto.MultiOp
	}{
		{"TTL flags in a create op", []proto.MultiOp{{Type: proto.OpCreate2, Body: creq("/x", open, proto.ModePersistentWithTTL)}}},
		{"read op in a multi", []proto.MultiOp{{Type: proto.OpGetData, Body: &proto.GetDataRequest{Path: "/r"}}}},
		{"read and write", []proto.MultiOp{
			{Type: proto.OpCreate, Body: creq("/ok", open, 0)},
			{Type: proto.OpGetChildren, Body: &proto.GetChildrenRequest{Path: "/r"}}}},
	} {
		h := fixture(t, Options{})
		before := h.dump()
		res := h.multi(s1, tc.ops...)
		if res.Err != proto.ErrMarshallingError || res.Body != nil {
			t.Errorf("%s: %v %#v", tc.name, res.Err, res.Body)
		}
		if h.dump() != before {
			t.Errorf("%s: state changed", tc.name)
		}
	}
	// Unknown create flags are not a decode error: that op fails alone with
	// BadArguments, as ZooKeeper 3.8.0 answers (MultiOperationRecord maps
	// unknown flags to PERSISTENT; the per-op check rejects them).
	{
		h := fixture(t, Options{})
		before := h.dump()
		res := h.multi(s1, proto.MultiOp{Type: proto.OpCreate, Body: creq("/ok", open, 0)},
			proto.MultiOp{Type: proto.OpCreate, Body: creq("/x", open, 7)})
		mr, ok := res.Body.(*proto.MultiResponse)
		if res.Err != proto.ErrOK || !ok || len(mr.Results) != 2 ||
			mr.Results[0].Err != proto.ErrOK || mr.Results[1].Err != proto.ErrBadArguments {
			t.Errorf("unknown create flags: %v %#v", res.Err, res.Body)
		}
		if h.dump() != before {
			t.Error("unknown create flags: a failed multi changed the state")
		}
	}
	// An unknown op type inside the body.
	h := fixture(t, Options{})
	raw := []byte{0, 0, 0, 7, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff}
	if res := h.applyEntry(txn.Entry{Op: proto.OpMulti, Session: s1, Body: raw}); res.Err != proto.ErrMarshallingError {
		t.Errorf("unknown op type: %v", res.Err)
	}
	// TTL without extended types inside a multi is an op error, not a decode error.
	h2 := newHarness(t, Options{})
	h2.session(s1)
	res := h2.mustOK(h2.multi(s1, proto.MultiOp{Type: proto.OpCreateTTL, Body: ttlreq("/x", open, proto.ModePersistentWithTTL, 10)}))
	if r := res.Body.(*proto.MultiResponse).Results; len(r) != 1 || r[0].Err != proto.ErrUnimplemented {
		t.Errorf("TTL in multi without extended types: %+v", r)
	}
}

func TestContainerAndTTLReaping(t *testing.T) {
	h := fixture(t, Options{})
	w := &recorder{}
	h.f.Watches().AddData("/c", w)
	h.f.Watches().AddChild("/", w)
	h.mustOK(h.create(s1, "/c/x", nil, open, 0))
	h.mustOK(h.delete(s1, "/c/x", -1))
	w.take()
	res := h.reap("/c")
	if res.Err != proto.ErrOK {
		t.Fatalf("reap: %v", res.Err)
	}
	if h.node("/c") != nil || len(h.f.Tree().Containers()) != 0 {
		t.Error("container not reaped")
	}
	if got := h.stat("/").Pzxid; got != res.Zxid {
		t.Errorf("root pzxid %#x, want %#x", got, res.Zxid)
	}
	if got := w.take(); !reflect.DeepEqual(got, []string{"NodeDeleted /c", "NodeChildrenChanged /"}) {
		t.Errorf("reap events %v", got)
	}
	// The TTL clock is mtime, which setData resets.
	h.mustOK(h.setData(s1, "/t", nil, -1))
	mtime := h.node("/t").Mtime
	if r := h.applyEntry(txn.Entry{Op: proto.OpDeleteContainer, Time: mtime + 1_000_000, Body: []byte("/t")}); r.Err != proto.ErrBadVersion {
		t.Errorf("TTL at exactly mtime+ttl: %v", r.Err)
	}
	if r := h.applyEntry(txn.Entry{Op: proto.OpDeleteContainer, Time: mtime + 1_000_001, Body: []byte("/t")}); r.Err != proto.ErrOK {
		t.Errorf("TTL past mtime+ttl: %v", r.Err)
	}
	if len(h.f.Tree().TTLNodes()) != 0 {
		t.Error("TTL set not updated")
	}
}

func TestSetWatchesCatchUp(t *testing.T) {
	h := fixture(t, Options{})
	rel := h.f.LastZxid()
	h.mustOK(h.setData(s1, "/ver", []byte("new"), -1)) // mzxid > rel
	h.mustOK(h.create(s1, "/r/new", nil, open, 0))     // /r pzxid > rel
	h.mustOK(h.create(s1, "/created", nil, open, 0))   // exists watch target
	h.mustOK(h.create(s1, "/exact", nil, open, 0))     // mzxid == pzxid == rel2
	rel2 := h.f.LastZxid()
	w := &recorder{}
	h.f.RLock()
	evs := h.f.SetWatches(w, rel,
		[]string{"/ver", "/ro", "/gone"},       // data
		[]string{"/created", "/ro", "/notyet"}, // exist
		[]string{"/r", "/ro", "/gone2"},        // child
		[]string{"/p1", "/missing-p"},          // persistent
		[]string{"/rec", "/missing-r"},         // recursive
	)
	h.f.RUnlock()
	got := []string{}
	for _, ev := range evs {
		if ev.Zxid != -1 {
			t.Errorf("catch-up event %+v has zxid != -1", ev)
		}
		got = append(got, evName(ev.Type)+" "+ev.Path)
	}
	want := []string{"NodeDataChanged /ver", "NodeDeleted /gone", "NodeCreated /created", "NodeCreated /ro",
		"NodeChildrenChanged /r", "NodeDeleted /gone2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("catch-up events %v\nwant %v", got, want)
	}
	m := h.f.Watches()
	registered := map[string]int32{
		"/ro": proto.WatcherData, "/notyet": proto.WatcherData,
		"/p1": proto.WatcherPersistent, "/missing-p": proto.WatcherPersistent,
		"/rec": proto.WatcherPersistentRecursive, "/missing-r": proto.WatcherPersistentRecursive,
	}
	for p, typ := range registered {
		if !m.Check(p, w, typ) {
			t.Errorf("%s: watch type %d not registered", p, typ)
		}
	}
	if !m.Check("/ro", w, proto.WatcherChildren) {
		t.Error("/ro child watch not registered")
	}
	for _, p := range []string{"/ver", "/gone", "/created", "/r", "/gone2"} {
		if m.Check(p, w, proto.WatcherAny) {
			t.Errorf("%s: watch registered although a catch-up event was sent", p)
		}
	}
	// Boundary: mzxid/pzxid equal to relativeZxid means no change.
	w2 := &recorder{}
	h.f.RLock()
	evs = h.f.SetWatches(w2, rel2, []string{"/exact"}, nil, []string{"/exact"}, nil, nil)
	h.f.RUnlock()
	if len(evs) != 0 || !m.Check("/exact", w2, proto.WatcherData) || !m.Check("/exact", w2, proto.WatcherChildren) {
		t.Errorf("equal zxids: events %v", evs)
	}
	// The registered watches fire later.
	h.mustOK(h.create(s1, "/notyet", nil, open, 0))
	if got := w.take(); !reflect.DeepEqual(got, []string{"NodeCreated /notyet"}) {
		t.Errorf("registered exist watch: %v", got)
	}
}

func TestGetEphemerals(t *testing.T) {
	h := newHarness(t, Options{})
	h.session(s1)
	h.session(s2)
	for _, p := range []string{"/e1", "/e2x", "/f", "/e"} {
		h.mustOK(h.create(s1, p, nil, open, proto.ModeEphemeral))
	}
	h.mustOK(h.create(s1, "/p", nil, open, 0))
	h.mustOK(h.create(s1, "/p/e", nil, open, proto.ModeEphemeral))
	h.mustOK(h.create(s2, "/e3", nil, open, proto.ModeEphemeral))
	h.f.RLock()
	defer h.f.RUnlock()
	all := []string{"/e", "/e1", "/e2x", "/f", "/p/e"}
	for prefix, want := range map[string][]string{
		"": all, " ": all, "\t\n": all, "/": all,
		"/e":     {"/e", "/e1", "/e2x"},
		"/e1":    {"/e1"},
		"/e1/":   {},
		"/p":     {"/p/e"},
		"/p/e":   {"/p/e"},
		"/x":     {},
		"e":      {},
		"/e3":    {},
		"/e2x/y": {},
	} {
		got := h.f.GetEphemerals(s1, prefix)
		if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
			t.Errorf("GetEphemerals(%q) = %v, want %v", prefix, got, want)
		}
	}
	if got := h.f.GetEphemerals(0x99, ""); len(got) != 0 {
		t.Errorf("unknown session: %v", got)
	}
}

func TestReads(t *testing.T) {
	h := fixture(t, Options{})
	h.f.RLock()
	defer h.f.RUnlock()
	anon := Reader{Auth: []proto.Id{ipLocal}}
	bob := Reader{Auth: []proto.Id{ipLocal, bobID}}
	m := h.f.Watches()

	// exists: registers on a missing node, not on NoAuth.
	w := &recorder{}
	if _, err := h.f.Exists(Reader{Auth: anon.Auth, Watcher: w}, "/missing", true); err != proto.ErrNoNode {
		t.Errorf("exists missing: %v", err)
	}
	if !m.Check("/missing", w, proto.WatcherData) {
		t.Error("exists watch on a missing node not registered")
	}
	if _, err := h.f.Exists(Reader{Auth: anon.Auth, Watcher: w}, "/noread", true); err != proto.ErrNoAuth {
		t.Errorf("exists without READ: %v", err)
	}
	if m.Check("/noread", w, proto.WatcherAny) {
		t.Error("watch registered on NoAuth")
	}
	if _, err := h.f.Exists(anon, "/a\x00", false); err != proto.ErrBadArguments {
		t.Errorf("exists with NUL: %v", err)
	}
	if st, err := h.f.Exists(anon, "/ver", false); err != proto.ErrOK || st.Version != 2 || st.Aversion != 1 {
		t.Errorf("exists /ver: %+v %v", st, err)
	}
	// getData: watch only on success; data returned as stored (null stays null).
	if _, _, err := h.f.GetData(Reader{Auth: anon.Auth, Watcher: w}, "/missing2", true); err != proto.ErrNoNode || m.Check("/missing2", w, proto.WatcherAny) {
		t.Errorf("getData missing: %v", err)
	}
	if _, _, err := h.f.GetData(Reader{Auth: anon.Auth, Watcher: w}, "/noperm", true); err != proto.ErrNoAuth || m.Check("/noperm", w, proto.WatcherAny) {
		t.Errorf("getData NoAuth: %v", err)
	}
	if d, _, err := h.f.GetData(bob, "/noperm", false); err != proto.ErrOK || d != nil {
		t.Errorf("getData with digest: %v %#v", err, d)
	}
	if d, st, err := h.f.GetData(Reader{Auth: anon.Auth, Watcher: w}, "/ver", true); err != proto.ErrOK || string(d) != "v2" || st.DataLength != 2 || !m.Check("/ver", w, proto.WatcherData) {
		t.Errorf("getData /ver: %q %+v %v", d, st, err)
	}
	if _, _, err := h.f.GetData(anon, "relative", false); err != proto.ErrNoNode {
		t.Errorf("getData relative: %v", err)
	}
	// getChildren: sorted names, parent's stat.
	if c, st, err := h.f.GetChildren(Reader{Auth: anon.Auth, Watcher: w}, "/", true); err != proto.ErrOK ||
		!reflect.DeepEqual(c, []string{"c", "eph", "locked", "noperm", "noread", "r", "ro", "t", "ver", "zookeeper"}) || st.NumChildren != 10 {
		t.Errorf("getChildren /: %v %+v %v", c, st, err)
	}
	if !m.Check("/", w, proto.WatcherChildren) {
		t.Error("child watch not registered")
	}
	if _, _, err := h.f.GetChildren(anon, "/noread", false); err != proto.ErrNoAuth {
		t.Errorf("getChildren without READ: %v", err)
	}
	// getAllChildrenNumber.
	for p, want := range map[string]int32{"/r": 1, "/zookeeper": 2, "/ver": 0, "/": int32(h.f.Tree().Len() - 1)} {
		if n, err := h.f.GetAllChildrenNumber(anon, p); err != proto.ErrOK || n != want {
			t.Errorf("getAllChildrenNumber(%s) = %d %v, want %d", p, n, err, want)
		}
	}
	if _, err := h.f.GetAllChildrenNumber(anon, "/missing"); err != proto.ErrNoNode {
		t.Errorf("getAllChildrenNumber missing: %v", err)
	}
	if _, err := h.f.GetAllChildrenNumber(anon, "/noread"); err != proto.ErrNoAuth {
		t.Errorf("getAllChildrenNumber NoAuth: %v", err)
	}
	fresh := newHarness(t, Options{})
	if n, _ := fresh.f.GetAllChildrenNumber(anon, "/"); n != 3 {
		t.Errorf("fresh getAllChildrenNumber(/) = %d, want 3", n)
	}
}

func TestGetACLRedaction(t *testing.T) {
	h := newHarness(t, Options{})
	h.session(s1)
	list := []proto.ACL{{Perms: proto.PermRead, Id: proto.AnyoneID}, {Perms: proto.PermAll, Id: bobID}}
	h.mustOK(h.create(s1, "/n", nil, list, 0))
	h.mustOK(h.create(s1, "/adminonly", nil, []proto.ACL{{Perms: proto.PermAdmin, Id: proto.AnyoneID}, {Perms: proto.PermRead, Id: bobID}}, 0))
	h.mustOK(h.create(s1, "/none", nil, []proto.ACL{{Perms: proto.PermWrite, Id: proto.AnyoneID}}, 0))
	h.f.RLock()
	defer h.f.RUnlock()
	redacted := []proto.ACL{{Perms: proto.PermRead, Id: proto.AnyoneID}, {Perms: proto.PermAll, Id: proto.Id{Scheme: "digest", Id: "bob:x"}}}
	for _, tc := range []struct {
		name string
		path string
		ids  []proto.Id
		want []proto.ACL
		err  proto.Err
	}{
		{"READ without ADMIN: redacted", "/n", []proto.Id{ipLocal}, redacted, proto.ErrOK},
		{"ADMIN: full", "/n", []proto.Id{ipLocal, bobID}, list, proto.ErrOK},
		{"super: full", "/n", []proto.Id{superID}, list, proto.ErrOK},
		{"ADMIN without READ is enough", "/adminonly", []proto.Id{ipLocal},
			[]proto.ACL{{Perms: proto.PermAdmin, Id: proto.AnyoneID}, {Perms: proto.PermRead, Id: bobID}}, proto.ErrOK},
		{"neither", "/none", []proto.Id{ipLocal}, nil, proto.ErrNoAuth},
		{"missing", "/missing", nil, nil, proto.ErrNoNode},
	} {
		got, st, err := h.f.GetACL(Reader{Auth: tc.ids}, tc.path)
		if err != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v %v, want %v %v", tc.name, got, err, tc.want, tc.err)
		}
		if err == proto.ErrOK && st != h.f.Tree().Get(tc.path).Stat() {
			t.Errorf("%s: stat %+v", tc.name, st)
		}
	}
	// Redaction never touches the stored list.
	if got := h.f.Tree().Get("/n").ACL(); !reflect.DeepEqual(got, list) {
		t.Errorf("stored ACL changed to %v", got)
	}
}

// randomEntries builds a reproducible mix of writes of every kind, many of
// them failing, for the determinism test.
func randomEntries(seed uint64, n int) []txn.Entry {
	rng := newRand(seed)
	paths := []string{"/a", "/b", "/a/x", "/a/y", "/b/z", "/a/x/q", "/c", "/c/1", "/zookeeper/k"}
	sessions := []int64{s1, s2, 0x0100000000000003}
	acls := [][]proto.ACL{open, readOnly, bobACL, proto.CreatorAllACL, {}}
	auths := [][]proto.Id{{ipLocal}, {ipLocal, bobID}, {superID}}
	path := func() string { return paths[rng.IntN(len(paths))] }
	var out []txn.Entry
	for _, s := range sessions[:2] {
		out = append(out, txn.Entry{Op: proto.OpCreateSession, Session: s, Timeout: 4000})
	}
	for i := 0; len(out) < n; i++ {
		s := sessions[rng.IntN(len(sessions))]
		e := txn.Entry{Session: s, Cxid: int32(i), Time: int64(1_000_000 + i*10), Auth: auths[rng.IntN(len(auths))]}
		var r proto.Record
		switch k := rng.IntN(20); {
		case k < 6:
			e.Op = []proto.OpCode{proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer}[rng.IntN(3)]
			r = &proto.CreateRequest{Path: path() + []string{"", "", "-"}[rng.IntN(3)], Data: []byte(fmt.Sprint(i)),
				Acl: acls[rng.IntN(len(acls))], Flags: int32(rng.IntN(5))}
		case k < 7:
			e.Op = proto.OpCreateTTL
			r = &proto.CreateTTLRequest{Path: path(), Acl: open, Flags: int32(5 + rng.IntN(2)), Ttl: int64(rng.IntN(100))}
		case k < 10:
			e.Op = proto.OpDelete
			r = &proto.DeleteRequest{Path: path(), Version: int32(rng.IntN(3) - 1)}
		case k < 13:
			e.Op = proto.OpSetData
			r = &proto.SetDataRequest{Path: path(), Data: []byte(fmt.Sprint("d", i)), Version: int32(rng.IntN(3) - 1)}
		case k < 14:
			e.Op = proto.OpSetACL
			r = &proto.SetACLRequest{Path: path(), Acl: acls[rng.IntN(len(acls))], Version: -1}
		case k < 17:
			e.Op = proto.OpMulti
			var ops []proto.MultiOp
			for range 1 + rng.IntN(4) {
				switch rng.IntN(4) {
				case 0:
					ops = append(ops, proto.MultiOp{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: path(), Acl: open, Flags: int32(rng.IntN(4))}})
				case 1:
					ops = append(ops, proto.MultiOp{Type: proto.OpDelete, Body: &proto.DeleteRequest{Path: path(), Version: -1}})
				case 2:
					ops = append(ops, proto.MultiOp{Type: proto.OpSetData, Body: &proto.SetDataRequest{Path: path(), Data: []byte("m"), Version: -1}})
				case 3:
					ops = append(ops, proto.MultiOp{Type: proto.OpCheck, Body: &proto.CheckVersionRequest{Path: path(), Version: int32(rng.IntN(2))}})
				}
			}
			r = &proto.MultiRequest{Ops: ops}
		case k < 18:
			e = txn.Entry{Op: proto.OpDeleteContainer, Time: e.Time + int64(rng.IntN(200)), Body: []byte(path())}
		case k < 19:
			e = txn.Entry{Op: proto.OpCloseSession, Session: s}
		default:
			e = txn.Entry{Op: proto.OpCreateSession, Session: s, Timeout: 5000}
		}
		if r != nil {
			e.Body = body(r)
		}
		out = append(out, e)
	}
	return out
}

func TestDeterminism(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		entries := randomEntries(seed, 600)
		var dumps, results [2]string
		for k := range 2 {
			f := New(Options{ExtendedTypes: true})
			var rb bytes.Buffer
			f.Lock()
			for i, e := range entries {
				term := uint64(1 + i/200) // a couple of leader changes
				res := f.Apply(term, uint64(i+1), e.Marshal())
				fmt.Fprintf(&rb, "%d %#x %d %x\n", i, res.Zxid, res.Err, body(res.Body))
			}
			dumps[k] = dumpFSM(f)
			f.Unlock()
			results[k] = rb.String()
		}
		if dumps[0] != dumps[1] {
			t.Errorf("seed %d: trees differ", seed)
		}
		if results[0] != results[1] {
			t.Errorf("seed %d: results differ", seed)
		}
		// The sequence must actually do something for the test to mean anything.
		if lines := bytes.Count([]byte(dumps[0]), []byte("\n")); lines < 10 {
			t.Errorf("seed %d: only %d lines in the final dump", seed, lines)
		}
	}
}

// TestRandomRollbackMatchesReplay: every multi in a random history either
// applies completely or leaves the state exactly as before.
func TestRandomRollback(t *testing.T) {
	entries := randomEntries(42, 800)
	f := New(Options{ExtendedTypes: true})
	f.Lock()
	defer f.Unlock()
	failed := 0
	for i, e := range entries {
		before := ""
		if e.Op == proto.OpMulti {
			before = dumpFSM(f)
		}
		res := f.Apply(1, uint64(i+1), e.Marshal())
		if e.Op != proto.OpMulti || res.Err != proto.ErrOK {
			continue
		}
		rs := res.Body.(*proto.MultiResponse).Results
		if len(rs) > 0 && rs[len(rs)-1].Type == proto.OpError {
			failed++
			if after := dumpFSM(f); after != before {
				t.Fatalf("entry %d: failed multi changed the state:\n%s\n---\n%s", i, before, after)
			}
		}
	}
	if failed < 10 {
		t.Errorf("only %d failed multis exercised", failed)
	}
}

var _ watch.Watcher = (*recorder)(nil)

func BenchmarkApplySetData(b *testing.B) {
	h := newHarness(b, Options{})
	h.session(s1)
	h.mustOK(h.create(s1, "/bench", []byte("0123456789abcdef"), open, 0))
	e := txn.Entry{Op: proto.OpSetData, Session: s1, Auth: []proto.Id{ipLocal}, Time: 1,
		Body: body(&proto.SetDataRequest{Path: "/bench", Data: []byte("fedcba9876543210"), Version: -1})}
	data := e.Marshal()
	b.ReportAllocs()
	h.f.Lock()
	defer h.f.Unlock()
	index := h.index
	for b.Loop() {
		index++
		if r := h.f.Apply(1, index, data); r.Err != proto.ErrOK {
			b.Fatal(r.Err)
		}
	}
}

func BenchmarkApplyCreate(b *testing.B) {
	h := newHarness(b, Options{})
	h.session(s1)
	for i := range 100 {
		h.mustOK(h.create(s1, fmt.Sprintf("/p%02d", i), nil, open, 0))
	}
	// Entries are marshalled in batches outside the timer.
	const batch = 1 << 14
	var entries [][]byte
	next := 0
	index := h.index
	h.f.Lock()
	defer h.f.Unlock()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if next == len(entries) {
			b.StopTimer()
			entries = entries[:0]
			for j := range batch {
				n := i + j
				e := txn.Entry{Op: proto.OpCreate, Session: s1, Auth: []proto.Id{ipLocal}, Time: int64(n),
					Body: body(&proto.CreateRequest{Path: fmt.Sprintf("/p%02d/n%09d", n%100, n), Data: []byte("0123456789abcdef"), Acl: open})}
				entries = append(entries, e.Marshal())
			}
			next = 0
			b.StartTimer()
		}
		index++
		if r := h.f.Apply(1, index, entries[next]); r.Err != proto.ErrOK {
			b.Fatal(r.Err)
		}
		next++
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// TestSnapshotRestoreContinues: a snapshot written while writes continue
// holds the state at capture time, and a replica restored from it applies
// the rest of the log to exactly the same results and state.
func TestSnapshotRestoreContinues(t *testing.T) {
	entries := randomEntries(7, 900)
	term := func(i int) uint64 { return 1 + uint64(i/250) }
	result := func(r Result) string { return fmt.Sprintf("%#x %d %x", r.Zxid, r.Err, body(r.Body)) }

	a := New(Options{ExtendedTypes: true})
	a.Lock()
	for i, e := range entries[:600] {
		a.Apply(term(i), uint64(i+1), e.Marshal())
	}
	atCapture := dumpFSM(a)
	snap := a.Capture()
	a.Unlock()

	// Write the snapshot without the lock while the log keeps applying.
	var buf bytes.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := snap.WriteTo(&buf)
		done <- err
	}()
	var resA []string
	for i := 600; i < 700; i++ {
		a.Lock()
		resA = append(resA, result(a.Apply(term(i), uint64(i+1), entries[i].Marshal())))
		a.Unlock()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	a.Lock()
	snap.Release()
	for i := 700; i < len(entries); i++ {
		resA = append(resA, result(a.Apply(term(i), uint64(i+1), entries[i].Marshal())))
	}
	final := dumpFSM(a)
	a.Unlock()
	if final == atCapture {
		t.Fatal("the entries after the capture changed nothing; the test proves nothing")
	}

	b := New(Options{ExtendedTypes: true})
	b.Lock()
	defer b.Unlock()
	index, _, _, err := b.Restore(&buf)
	if err != nil || index != 600 {
		t.Fatalf("restore: index %d, %v", index, err)
	}
	if got := dumpFSM(b); got != atCapture {
		t.Fatalf("restored state differs from the state at capture:\n%s\n---\n%s", atCapture, got)
	}
	for i := 600; i < len(entries); i++ {
		if got := result(b.Apply(term(i), uint64(i+1), entries[i].Marshal())); got != resA[i-600] {
			t.Fatalf("entry %d: restored replica answered %s, original %s", i, got, resA[i-600])
		}
	}
	if got := dumpFSM(b); got != final {
		t.Errorf("final states differ:\n%s\n---\n%s", final, got)
	}
}
