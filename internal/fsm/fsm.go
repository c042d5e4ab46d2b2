package fsm

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/warren-zk/warren/internal/acl"
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/txn"
	"github.com/warren-zk/warren/internal/watch"
	"github.com/warren-zk/warren/internal/znode"
)

// Options are fixed at construction and must be equal on every replica.
type Options struct {
	// ExtendedTypes enables TTL nodes (extendedTypesEnabled).
	ExtendedTypes bool
	// SkipACL disables ACL checks (skipACL=yes).
	SkipACL bool
	// ACLSchemes are the optional authentication providers that make ACL entries of their
	// scheme valid (x509, sasl) or invalid (digest, when disabled).
	ACLSchemes acl.Schemes
	// EnforceQuota rejects creates and setData that would exceed a hard quota
	// (zookeeper.enforceQuota).
	EnforceQuota bool
	// QuotaLog, if set, is told about soft and hard quota violations (rate-limited).
	QuotaLog func(msg string)
	// Watches receives triggers; nil means a private Manager.
	Watches *watch.Manager
	// OnSessionClosed is called (with the lock held) when a session is closed
	// or expired by an applied entry. It must not block.
	OnSessionClosed func(id int64)
}

// Session is a session as the replicated state knows it.
type Session struct {
	ID      int64
	Timeout int32
	// Owner is the server holding the session's connection (the origin of
	// its createSession or latest setOwner entry).
	Owner int64
}

// FSM is the replicated state.
type FSM struct {
	mu       sync.RWMutex
	tree     *znode.Tree
	sessions map[int64]*Session
	zx       txn.ZxidState
	opts     Options
	watches  *watch.Manager

	lastZxid atomic.Int64
	applied  atomic.Uint64

	// Scratch of Apply (under the write lock), reused so that applying a
	// single operation allocates neither: its undo log (unused unless
	// quotas look at it) and its triggers.
	undo  undoLog
	trigs []trigger
	dec   jute.Decoder
}

// New returns an FSM holding ZooKeeper's initial tree.
func New(opts Options) *FSM {
	w := opts.Watches
	if w == nil {
		w = watch.New()
	}
	return &FSM{tree: znode.New(), sessions: map[int64]*Session{}, opts: opts, watches: w}
}

// Lock takes the tree lock for writing.
func (f *FSM) Lock() { f.mu.Lock() }

// Unlock releases the write lock.
func (f *FSM) Unlock() { f.mu.Unlock() }

// RLock takes the tree lock for reading.
func (f *FSM) RLock() { f.mu.RLock() }

// RUnlock releases the read lock.
func (f *FSM) RUnlock() { f.mu.RUnlock() }

// Tree returns the tree; callers hold the lock.
func (f *FSM) Tree() *znode.Tree { return f.tree }

// Watches returns the watch manager.
func (f *FSM) Watches() *watch.Manager { return f.watches }

// LastZxid returns the zxid of the last applied entry (lock-free).
func (f *FSM) LastZxid() int64 { return f.lastZxid.Load() }

// AppliedIndex returns the raft index of the last applied entry (lock-free).
func (f *FSM) AppliedIndex() uint64 { return f.applied.Load() }

// Session returns the session with id, or nil; callers hold the lock.
func (f *FSM) Session(id int64) *Session { return f.sessions[id] }

// Sessions returns the number of sessions; callers hold the lock.
func (f *FSM) SessionCount() int { return len(f.sessions) }

// SessionIDs returns all session ids; callers hold the lock.
func (f *FSM) SessionIDs() []int64 {
	out := make([]int64, 0, len(f.sessions))
	for id := range f.sessions {
		out = append(out, id)
	}
	return out
}

// Result is the outcome of applying one entry.
type Result struct {
	// Entry is the decoded envelope, nil for raft's own entries.
	Entry *txn.Entry
	Zxid  int64
	Err   proto.Err
	// Body is the reply body when Err is OK (nil for body-less replies).
	Body proto.Record
}

type trigger struct {
	typ  int32
	path string
	acl  []proto.ACL
}

// Apply applies the entry at (term, index). The caller holds Lock.
func (f *FSM) Apply(term, index uint64, data []byte) Result {
	zxid := f.zx.Next(term, index)
	f.lastZxid.Store(zxid)
	f.applied.Store(index)
	if len(data) == 0 {
		return Result{Zxid: zxid}
	}
	e, err := txn.Unmarshal(data)
	if err != nil {
		return Result{Zxid: zxid, Err: proto.ErrMarshallingError}
	}
	res := Result{Entry: e, Zxid: zxid}
	var trig []trigger
	res.Err, res.Body, trig = f.applyEntry(e, zxid)
	for _, t := range trig {
		f.watches.Trigger(t.typ, t.path, zxid, t.acl)
	}
	if cap(trig) <= 64 { // keep a small slice as the next scratch
		clear(trig) // without its references
		f.trigs = trig[:0]
	}
	return res
}

// decode decodes an entry's body into r with the FSM's scratch decoder
// (the write lock held).
func (f *FSM) decode(body []byte, r proto.Record) bool {
	d := &f.dec
	d.Reset(body)
	r.Decode(d)
	return d.Err() == nil
}

func (f *FSM) applyEntry(e *txn.Entry, zxid int64) (proto.Err, proto.Record, []trigger) {
	switch e.Op {
	case proto.OpCreateSession:
		if _, ok := f.sessions[e.Session]; ok {
			// Only a client-sent createSession (opcode -10 on an
			// established session) gets here; ZooKeeper fails it as an
			// undecodable write.
			return proto.ErrMarshallingError, nil, nil
		}
		f.sessions[e.Session] = &Session{ID: e.Session, Timeout: e.Timeout, Owner: e.Origin}
		return proto.ErrOK, nil, nil
	case txn.OpSetOwner:
		x, ok := f.sessions[e.Session]
		if !ok {
			return proto.ErrSessionExpired, nil, nil
		}
		x.Owner = e.Origin
		return proto.ErrOK, nil, nil
	case proto.OpCloseSession:
		if _, ok := f.sessions[e.Session]; !ok {
			return proto.ErrSessionExpired, nil, nil
		}
		return proto.ErrOK, nil, f.closeSession(e.Session, zxid)
	case proto.OpDeleteContainer:
		return f.reap(e, zxid)
	}
	if x, ok := f.sessions[e.Session]; !ok {
		return proto.ErrSessionExpired, nil, nil
	} else if x.Owner != e.Origin {
		// The session moved to another server after this request was sent
		// through the old one (ZooKeeper's checkSession owner test).
		return proto.ErrSessionMoved, nil, nil
	}
	var trig []trigger
	switch e.Op {
	case proto.OpMulti:
		var req proto.MultiRequest
		if !f.decode(e.Body, &req) {
			return proto.ErrMarshallingError, nil, nil
		}
		return f.multi(e, &req, zxid)
	case proto.OpReconfig:
		return proto.ErrReconfigDisabled, nil, nil
	}
	trig = f.trigs[:0]
	u := &f.undo
	code, body := f.applyOp(e, e.Op, nil, zxid, &trig, u)
	clear(u.steps)
	u.steps = u.steps[:0]
	return code, body, trig
}

func (f *FSM) closeSession(id, zxid int64) []trigger {
	var trig []trigger
	for _, p := range f.ephemeralDeleteOrder(f.tree.Ephemerals(id)) {
		n := f.tree.Get(p)
		parentPath, _ := znode.Split(p)
		f.tree.Delete(p, zxid)
		f.quotaAdd(p, -int64(n.DataLen()), -1, nil)
		trig = append(trig, trigger{proto.EventNodeDeleted, p, n.ACL()})
		if pn := f.tree.Get(parentPath); pn != nil {
			trig = append(trig, trigger{proto.EventNodeChildrenChanged, parentPath, pn.ACL()})
		}
	}
	delete(f.sessions, id)
	if f.opts.OnSessionClosed != nil {
		f.opts.OnSessionClosed(id)
	}
	return trig
}

// reap deletes a container or expired TTL node on the reaper's behalf.
func (f *FSM) reap(e *txn.Entry, zxid int64) (proto.Err, proto.Record, []trigger) {
	path := string(e.Body)
	if !znode.HasSlashAndNoNUL(path) || znode.IsSpecial(path) {
		return proto.ErrBadArguments, nil, nil
	}
	n := f.tree.Get(path)
	if n == nil {
		return proto.ErrNoNode, nil, nil
	}
	if n.NumChildren() > 0 {
		return proto.ErrNotEmpty, nil, nil
	}
	switch {
	case n.EphemeralOwner == znode.ContainerOwner:
	case znode.IsTTLOwner(n.EphemeralOwner):
		if e.Time-n.Mtime <= znode.TTLOf(n.EphemeralOwner) {
			return proto.ErrBadVersion, nil, nil
		}
	default:
		return proto.ErrBadVersion, nil, nil
	}
	parentPath, _ := znode.Split(path)
	f.tree.Delete(path, zxid)
	f.quotaAdd(path, -int64(n.DataLen()), -1, nil)
	trig := []trigger{{proto.EventNodeDeleted, path, n.ACL()}}
	if pn := f.tree.Get(parentPath); pn != nil {
		trig = append(trig, trigger{proto.EventNodeChildrenChanged, parentPath, pn.ACL()})
	}
	return proto.ErrOK, nil, trig
}

// parentOf returns the path up to the last '/', "/" for top-level paths.
func parentOf(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "/"
	}
	return path[:i]
}

func (f *FSM) can(n *znode.Node, perm int32, ids []proto.Id) bool {
	return acl.Check(n.ACL(), perm, ids, f.opts.SkipACL)
}

// applyOp applies one write op. body is the decoded request (for multi) or
// nil (decode e.Body). Mutations are recorded in u for rollback.
func (f *FSM) applyOp(e *txn.Entry, op proto.OpCode, body proto.Record, zxid int64, trig *[]trigger, u *undoLog) (proto.Err, proto.Record) {
	if body == nil {
		body = proto.NewMultiOpBody(op)
		if op == proto.OpSetACL {
			// setACL is a top-level write but not a multi op.
			body = &proto.SetACLRequest{}
		}
		if op == proto.OpCheck || body == nil || proto.IsReadOp(op) {
			return proto.ErrUnimplemented, nil
		}
		if !f.decode(e.Body, body) {
			return proto.ErrMarshallingError, nil
		}
	}
	switch r := body.(type) {
	case *proto.CreateRequest:
		return f.create(e, op, r.Path, r.Data, r.Acl, r.Flags, -1, zxid, trig, u)
	case *proto.CreateTTLRequest:
		return f.create(e, op, r.Path, r.Data, r.Acl, r.Flags, r.Ttl, zxid, trig, u)
	case *proto.DeleteRequest:
		return f.delete(e, r, zxid, trig, u)
	case *proto.SetDataRequest:
		return f.setData(e, r, zxid, trig, u)
	case *proto.SetACLRequest:
		return f.setACL(e, r)
	case *proto.CheckVersionRequest:
		return f.check(e, r)
	}
	return proto.ErrUnimplemented, nil
}

func (f *FSM) create(e *txn.Entry, op proto.OpCode, path string, data []byte, acls []proto.ACL, flags int32, ttl int64, zxid int64, trig *[]trigger, u *undoLog) (proto.Err, proto.Record) {
	mode, ok := proto.ParseMode(flags)
	if !ok {
		return proto.ErrBadArguments, nil
	}
	if mode.TTL && !f.opts.ExtendedTypes {
		return proto.ErrUnimplemented, nil
	}
	if mode.TTL {
		if ttl < 1 || ttl > znode.MaxTTL {
			return proto.ErrBadArguments, nil
		}
	} else if ttl >= 0 || op == proto.OpCreateTTL {
		// createTTL with a non-TTL mode and a negative ttl passes
		// ZooKeeper's checks and then crashes its apply; refuse it.
		return proto.ErrBadArguments, nil
	}
	if !znode.HasSlashAndNoNUL(path) {
		return proto.ErrBadArguments, nil
	}
	fixed, err := acl.FixupWith(acls, e.Auth, f.opts.ACLSchemes)
	if err != nil {
		return proto.ErrInvalidACL, nil
	}
	parentPath := parentOf(path)
	parent := f.tree.Get(parentPath)
	if parent == nil {
		return proto.ErrNoNode, nil
	}
	if !f.can(parent, proto.PermCreate, e.Auth) {
		return proto.ErrNoAuth, nil
	}
	if mode.Sequential {
		path = fmt.Sprintf("%s%010d", path, parent.Cversion)
	}
	if znode.ValidatePath(path) != nil {
		return proto.ErrBadArguments, nil
	}
	if f.tree.Get(path) != nil {
		return proto.ErrNodeExists, nil
	}
	if znode.IsSessionOwner(parent.EphemeralOwner) {
		return proto.ErrNoChildrenForEphemerals, nil
	}
	if code := f.checkQuota(path, 0, len(data), 1, u); code != proto.ErrOK {
		return code, nil
	}
	var owner int64
	switch {
	case op == proto.OpCreateContainer:
		owner = znode.ContainerOwner
	case op == proto.OpCreateTTL:
		owner = znode.TTLMask | ttl
	case mode.Ephemeral:
		owner = e.Session
	}
	u.created(f.tree, path, parent)
	n := f.tree.Create(znode.CreateArgs{Path: path, Data: data, ACL: fixed, EphemeralOwner: owner, Zxid: zxid, Time: e.Time})
	*trig = append(*trig, trigger{proto.EventNodeCreated, path, n.ACL()}, trigger{proto.EventNodeChildrenChanged, parentPath, parent.ACL()})
	var resp proto.Record = &proto.CreateResponse{Path: path}
	if op != proto.OpCreate {
		resp = &proto.Create2Response{Path: path, Stat: n.Stat()}
	}
	// After the reply's stat, as in ZooKeeper (a new zookeeper_stats node
	// reports the data it was created with).
	f.quotaCreated(path, len(data), u)
	return proto.ErrOK, resp
}

func (f *FSM) delete(e *txn.Entry, r *proto.DeleteRequest, zxid int64, trig *[]trigger, u *undoLog) (proto.Err, proto.Record) {
	if !znode.HasSlashAndNoNUL(r.Path) || znode.IsSpecial(r.Path) {
		return proto.ErrBadArguments, nil
	}
	parentPath := parentOf(r.Path)
	parent := f.tree.Get(parentPath)
	if parent == nil {
		return proto.ErrNoNode, nil
	}
	if !f.can(parent, proto.PermDelete, e.Auth) {
		return proto.ErrNoAuth, nil
	}
	n := f.tree.Get(r.Path)
	if n == nil {
		return proto.ErrNoNode, nil
	}
	if r.Version != -1 && r.Version != n.Version {
		return proto.ErrBadVersion, nil
	}
	if n.NumChildren() > 0 {
		return proto.ErrNotEmpty, nil
	}
	u.deleted(r.Path, n, parent)
	f.tree.Delete(r.Path, zxid)
	f.quotaAdd(r.Path, -int64(n.DataLen()), -1, u)
	*trig = append(*trig, trigger{proto.EventNodeDeleted, r.Path, n.ACL()}, trigger{proto.EventNodeChildrenChanged, parentPath, parent.ACL()})
	return proto.ErrOK, nil
}

func (f *FSM) setData(e *txn.Entry, r *proto.SetDataRequest, zxid int64, trig *[]trigger, u *undoLog) (proto.Err, proto.Record) {
	if znode.ValidatePath(r.Path) != nil {
		return proto.ErrBadArguments, nil
	}
	n := f.tree.Get(r.Path)
	if n == nil {
		return proto.ErrNoNode, nil
	}
	if !f.can(n, proto.PermWrite, e.Auth) {
		return proto.ErrNoAuth, nil
	}
	if code := f.checkQuota(r.Path, n.DataLen(), len(r.Data), 0, u); code != proto.ErrOK {
		return code, nil
	}
	if r.Version != -1 && r.Version != n.Version {
		return proto.ErrBadVersion, nil
	}
	u.dataSet(r.Path, n)
	oldLen := n.DataLen()
	n = f.tree.SetData(n, r.Path, r.Data, zxid, e.Time)
	f.quotaAdd(r.Path, int64(len(r.Data)-oldLen), 0, u)
	*trig = append(*trig, trigger{proto.EventNodeDataChanged, r.Path, n.ACL()})
	return proto.ErrOK, &proto.SetDataResponse{Stat: n.Stat()}
}

func (f *FSM) setACL(e *txn.Entry, r *proto.SetACLRequest) (proto.Err, proto.Record) {
	if znode.ValidatePath(r.Path) != nil {
		return proto.ErrBadArguments, nil
	}
	fixed, err := acl.FixupWith(r.Acl, e.Auth, f.opts.ACLSchemes)
	if err != nil {
		return proto.ErrInvalidACL, nil
	}
	n := f.tree.Get(r.Path)
	if n == nil {
		return proto.ErrNoNode, nil
	}
	if !f.can(n, proto.PermAdmin, e.Auth) {
		return proto.ErrNoAuth, nil
	}
	if r.Version != -1 && r.Version != n.Aversion {
		return proto.ErrBadVersion, nil
	}
	n = f.tree.SetACL(n, r.Path, fixed)
	return proto.ErrOK, &proto.SetACLResponse{Stat: n.Stat()}
}

func (f *FSM) check(e *txn.Entry, r *proto.CheckVersionRequest) (proto.Err, proto.Record) {
	if znode.ValidatePath(r.Path) != nil {
		return proto.ErrBadArguments, nil
	}
	n := f.tree.Get(r.Path)
	if n == nil {
		return proto.ErrNoNode, nil
	}
	if !f.can(n, proto.PermRead, e.Auth) {
		return proto.ErrNoAuth, nil
	}
	if r.Version != -1 && r.Version != n.Version {
		return proto.ErrBadVersion, nil
	}
	return proto.ErrOK, nil
}

func (f *FSM) multi(e *txn.Entry, req *proto.MultiRequest, zxid int64) (proto.Err, proto.Record, []trigger) {
	for i, op := range req.Ops {
		if proto.IsReadOp(op.Type) {
			return proto.ErrMarshallingError, nil, nil
		}
		// Op kinds as ZooKeeper's MultiOperationRecord decodes them: a
		// create, create2 or createContainer op with TTL flags makes the
		// multi undecodable, container flags make it a createContainer;
		// unknown flags decode as a plain create that then fails alone with
		// BadArguments (Op.create maps them to PERSISTENT; the per-op check
		// rejects them). A createTTL op without TTL flags is a plain create
		// (or createContainer) and its ttl is dropped.
		switch r := op.Body.(type) {
		case *proto.CreateRequest:
			mode, ok := proto.ParseMode(r.Flags)
			if ok && mode.TTL {
				return proto.ErrMarshallingError, nil, nil
			}
			if mode.Container {
				req.Ops[i].Type = proto.OpCreateContainer
			}
		case *proto.CreateTTLRequest:
			if mode, ok := proto.ParseMode(r.Flags); !ok || !mode.TTL {
				t := proto.OpCreate
				if ok && mode.Container {
					t = proto.OpCreateContainer
				}
				req.Ops[i] = proto.MultiOp{Type: t, Body: &proto.CreateRequest{Path: r.Path, Data: r.Data, Acl: r.Acl, Flags: r.Flags}}
			}
		}
	}
	var (
		trig []trigger
		u    undoLog
		resp = &proto.MultiResponse{Results: make([]proto.MultiResult, 0, len(req.Ops))}
	)
	failed := -1
	for i, op := range req.Ops {
		code, body := f.applyOp(e, op.Type, op.Body, zxid, &trig, &u)
		if code != proto.ErrOK {
			failed = i
			resp.Results = append(resp.Results, proto.MultiResult{Type: proto.OpError, Err: code})
			break
		}
		t := op.Type
		switch t {
		case proto.OpCreateContainer, proto.OpCreateTTL:
			t = proto.OpCreate2
		}
		resp.Results = append(resp.Results, proto.MultiResult{Type: t, Body: body})
	}
	if failed < 0 {
		return proto.ErrOK, resp, trig
	}
	u.rollback(f.tree)
	for i := range resp.Results[:failed] {
		resp.Results[i] = proto.MultiResult{Type: proto.OpError, Err: proto.ErrOK}
	}
	for range req.Ops[failed+1:] {
		resp.Results = append(resp.Results, proto.MultiResult{Type: proto.OpError, Err: proto.ErrRuntimeInconsistency})
	}
	return proto.ErrOK, resp, nil
}
