package fsm

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/warren-zk/warren/internal/acl"
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/txn"
	"github.com/warren-zk/warren/internal/watch"
	"github.com/warren-zk/warren/internal/znode"
)

// Sessions used by the tests.
const (
	s1 = int64(0x0100000000000001)
	s2 = int64(0x0100000000000002)
)

var (
	ipLocal  = proto.Id{Scheme: "ip", Id: "127.0.0.1"}
	bobID    = proto.Id{Scheme: "digest", Id: acl.DigestID("bob:secret")}
	superID  = proto.Id{Scheme: "super", Id: ""}
	bobACL   = []proto.ACL{{Perms: proto.PermAll, Id: bobID}}
	open     = proto.OpenACLUnsafe
	readOnly = proto.ReadACLUnsafe
)

// harness applies entries to an FSM the way the raft loop does: one entry
// per index, under Lock.
type harness struct {
	t      testing.TB
	f      *FSM
	term   uint64
	index  uint64
	now    int64
	closed []int64
}

func newHarness(t testing.TB, opts Options) *harness {
	h := &harness{t: t, term: 1, now: 1_700_000_000_000}
	if opts.OnSessionClosed == nil {
		opts.OnSessionClosed = func(id int64) { h.closed = append(h.closed, id) }
	}
	h.f = New(opts)
	return h
}

func body(r proto.Record) []byte {
	if r == nil {
		return nil
	}
	e := jute.NewEncoder(nil)
	r.Encode(e)
	return e.Bytes()
}

// applyEntry applies e (stamping the time if unset) and returns its result.
func (h *harness) applyEntry(e txn.Entry) Result {
	h.index++
	h.now += 1000
	if e.Time == 0 {
		e.Time = h.now
	}
	h.f.Lock()
	defer h.f.Unlock()
	return h.f.Apply(h.term, h.index, e.Marshal())
}

// write applies a client write of session with the given auth ids (ip:127.0.0.1 if none).
func (h *harness) write(session int64, op proto.OpCode, r proto.Record, auth ...proto.Id) Result {
	if auth == nil {
		auth = []proto.Id{ipLocal}
	}
	return h.applyEntry(txn.Entry{Op: op, Session: session, Cxid: int32(h.index), Auth: auth, Body: body(r)})
}

func (h *harness) mustOK(res Result) Result {
	h.t.Helper()
	if res.Err != proto.ErrOK {
		h.t.Fatalf("%v: %v (%d)", res.Entry.Op, res.Err, int32(res.Err))
	}
	return res
}

func (h *harness) session(id int64) {
	h.t.Helper()
	h.mustOK(h.applyEntry(txn.Entry{Op: proto.OpCreateSession, Session: id, Timeout: 30000}))
}

func (h *harness) closeSession(id int64) Result {
	return h.applyEntry(txn.Entry{Op: proto.OpCloseSession, Session: id})
}

func (h *harness) create(session int64, path string, data []byte, list []proto.ACL, flags int32, auth ...proto.Id) Result {
	return h.write(session, proto.OpCreate, &proto.CreateRequest{Path: path, Data: data, Acl: list, Flags: flags}, auth...)
}

func (h *harness) create2(session int64, op proto.OpCode, path string, flags int32) Result {
	return h.write(session, op, &proto.CreateRequest{Path: path, Acl: open, Flags: flags})
}

func (h *harness) createTTL(session int64, path string, flags int32, ttl int64) Result {
	return h.write(session, proto.OpCreateTTL, &proto.CreateTTLRequest{Path: path, Acl: open, Flags: flags, Ttl: ttl})
}

func (h *harness) delete(session int64, path string, version int32, auth ...proto.Id) Result {
	return h.write(session, proto.OpDelete, &proto.DeleteRequest{Path: path, Version: version}, auth...)
}

func (h *harness) setData(session int64, path string, data []byte, version int32, auth ...proto.Id) Result {
	return h.write(session, proto.OpSetData, &proto.SetDataRequest{Path: path, Data: data, Version: version}, auth...)
}

func (h *harness) setACL(session int64, path string, list []proto.ACL, version int32, auth ...proto.Id) Result {
	return h.write(session, proto.OpSetACL, &proto.SetACLRequest{Path: path, Acl: list, Version: version}, auth...)
}

func (h *harness) multi(session int64, ops ...proto.MultiOp) Result {
	return h.write(session, proto.OpMulti, &proto.MultiRequest{Ops: ops})
}

func (h *harness) reap(path string) Result {
	return h.applyEntry(txn.Entry{Op: proto.OpDeleteContainer, Body: []byte(path)})
}

func (h *harness) node(path string) *znode.Node {
	h.f.RLock()
	defer h.f.RUnlock()
	return h.f.Tree().Get(path)
}

func (h *harness) stat(path string) proto.Stat {
	h.t.Helper()
	n := h.node(path)
	if n == nil {
		h.t.Fatalf("%s does not exist", path)
	}
	return n.Stat()
}

// dump renders the whole replicated state: every node with all its fields,
// the indexes and the sessions.
func (h *harness) dump() string {
	h.f.RLock()
	defer h.f.RUnlock()
	return dumpFSM(h.f)
}

func dumpFSM(f *FSM) string {
	var b strings.Builder
	tr := f.Tree()
	tr.Walk("/", func(p string, n *znode.Node) bool {
		fmt.Fprintf(&b, "%s data=%q null=%v acl=%v stat=%+v storedCversion=%d owner=%#x children=%v\n",
			p, n.Data(), n.Data() == nil, n.ACL(), n.Stat(), n.Cversion, n.EphemeralOwner, n.ChildNames())
		return true
	})
	fmt.Fprintf(&b, "len=%d size=%d containers=%v ttls=%v ephemeralCount=%d\n",
		tr.Len(), tr.ApproximateDataSize(), tr.Containers(), tr.TTLNodes(), tr.EphemeralCount())
	for _, s := range tr.EphemeralSessions() {
		fmt.Fprintf(&b, "ephemerals %#x: %v\n", s, tr.Ephemerals(s))
	}
	ids := f.SessionIDs()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		fmt.Fprintf(&b, "session %#x timeout %d\n", id, f.Session(id).Timeout)
	}
	return b.String()
}

// recorder is a watch.Watcher that records events; it reads as ids.
type recorder struct {
	ids    []proto.Id
	events []watch.Event
}

func (r *recorder) Notify(ev watch.Event) { r.events = append(r.events, ev) }

func (r *recorder) CanRead(list []proto.ACL) bool {
	return acl.Check(list, proto.PermRead, r.ids, false)
}

func (r *recorder) take() []string {
	out := []string{}
	for _, ev := range r.events {
		out = append(out, fmt.Sprintf("%s %s", evName(ev.Type), ev.Path))
	}
	r.events = nil
	return out
}

func evName(t int32) string {
	switch t {
	case proto.EventNodeCreated:
		return "NodeCreated"
	case proto.EventNodeDeleted:
		return "NodeDeleted"
	case proto.EventNodeDataChanged:
		return "NodeDataChanged"
	case proto.EventNodeChildrenChanged:
		return "NodeChildrenChanged"
	}
	return fmt.Sprint(t)
}

// fixture builds the tree the precedence tables run against:
//
//	/r          open, one child /r/child (so stored cversion 1)
//	/locked     ALL for digest bob only; child /locked/c
//	/ro         READ for anyone
//	/noread     everything but READ for anyone
//	/ver        data version 2, aversion 1
//	/eph        ephemeral of s1
//	/c          container
//	/t          TTL node, ttl 1000 s
//	/noperm     ACL for bob only, under an open parent
func fixture(t testing.TB, opts Options) *harness {
	t.Helper()
	opts.ExtendedTypes = true
	h := newHarness(t, opts)
	h.session(s1)
	h.session(s2)
	h.mustOK(h.create(s1, "/r", []byte("r"), open, 0))
	h.mustOK(h.create(s1, "/r/child", nil, open, 0))
	h.mustOK(h.create(s1, "/locked", nil, open, 0))
	h.mustOK(h.create(s1, "/locked/c", nil, open, 0))
	h.mustOK(h.setACL(s1, "/locked", bobACL, -1))
	h.mustOK(h.create(s1, "/ro", nil, readOnly, 0))
	h.mustOK(h.create(s1, "/noread", nil, []proto.ACL{{Perms: proto.PermAll &^ proto.PermRead, Id: proto.AnyoneID}}, 0))
	h.mustOK(h.create(s1, "/ver", []byte("v0"), open, 0))
	h.mustOK(h.setData(s1, "/ver", []byte("v1"), -1))
	h.mustOK(h.setData(s1, "/ver", []byte("v2"), -1))
	h.mustOK(h.setACL(s1, "/ver", open, -1))
	h.mustOK(h.create(s1, "/eph", nil, open, proto.ModeEphemeral))
	h.mustOK(h.create2(s1, proto.OpCreateContainer, "/c", proto.ModeContainer))
	h.mustOK(h.createTTL(s1, "/t", proto.ModePersistentWithTTL, 1_000_000))
	h.mustOK(h.create(s1, "/noperm", nil, bobACL, 0))
	return h
}
