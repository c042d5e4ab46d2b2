package fsm

import (
	"strings"

	"github.com/warren-zk/warren/internal/acl"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/watch"
	"github.com/warren-zk/warren/internal/znode"
)

// Reader identifies the caller of a read: its auth ids and, when the read
// sets a watch, the watcher to register.
type Reader struct {
	Auth    []proto.Id
	Watcher watch.Watcher
}

// Exists implements exists. The caller holds at least RLock.
func (f *FSM) Exists(r Reader, path string, setWatch bool) (proto.Stat, proto.Err) {
	if strings.IndexByte(path, 0) >= 0 {
		return proto.Stat{}, proto.ErrBadArguments
	}
	n := f.node(path)
	if n != nil && !f.can(n, proto.PermRead, r.Auth) {
		return proto.Stat{}, proto.ErrNoAuth
	}
	if setWatch && r.Watcher != nil {
		f.watches.AddData(path, r.Watcher)
	}
	if n == nil {
		return proto.Stat{}, proto.ErrNoNode
	}
	return n.Stat(), proto.ErrOK
}

// GetData implements getData.
func (f *FSM) GetData(r Reader, path string, setWatch bool) ([]byte, proto.Stat, proto.Err) {
	n := f.node(path)
	if n == nil {
		return nil, proto.Stat{}, proto.ErrNoNode
	}
	if !f.can(n, proto.PermRead, r.Auth) {
		return nil, proto.Stat{}, proto.ErrNoAuth
	}
	if setWatch && r.Watcher != nil {
		f.watches.AddData(path, r.Watcher)
	}
	return n.Data(), n.Stat(), proto.ErrOK
}

// GetChildren implements getChildren and getChildren2 (sorted names).
func (f *FSM) GetChildren(r Reader, path string, setWatch bool) ([]string, proto.Stat, proto.Err) {
	n := f.node(path)
	if n == nil {
		return nil, proto.Stat{}, proto.ErrNoNode
	}
	if !f.can(n, proto.PermRead, r.Auth) {
		return nil, proto.Stat{}, proto.ErrNoAuth
	}
	if setWatch && r.Watcher != nil {
		f.watches.AddChild(path, r.Watcher)
	}
	return n.ChildNames(), n.Stat(), proto.ErrOK
}

// GetACL implements getACL: READ or ADMIN needed; digests redacted without ADMIN.
func (f *FSM) GetACL(r Reader, path string) ([]proto.ACL, proto.Stat, proto.Err) {
	n := f.node(path)
	if n == nil {
		return nil, proto.Stat{}, proto.ErrNoNode
	}
	admin := f.can(n, proto.PermAdmin, r.Auth)
	if !admin && !f.can(n, proto.PermRead, r.Auth) {
		return nil, proto.Stat{}, proto.ErrNoAuth
	}
	list := n.ACL()
	if !admin {
		list = acl.Redact(list)
	}
	return list, n.Stat(), proto.ErrOK
}

// GetAllChildrenNumber implements getAllChildrenNumber.
func (f *FSM) GetAllChildrenNumber(r Reader, path string) (int32, proto.Err) {
	n := f.node(path)
	if n == nil {
		return 0, proto.ErrNoNode
	}
	if !f.can(n, proto.PermRead, r.Auth) {
		return 0, proto.ErrNoAuth
	}
	if path == "" {
		// ZooKeeper counts the keys that start with path+"/": for "" that is
		// every node but its "" alias of the root, "/" included.
		return int32(f.tree.Len()), proto.ErrOK
	}
	return int32(f.tree.CountDescendants(path)), proto.ErrOK
}

// GetEphemerals implements getEphemerals for session: a plain string prefix
// match; null, empty, blank or "/" means all.
func (f *FSM) GetEphemerals(session int64, prefix string) []string {
	all := f.tree.Ephemerals(session)
	if strings.TrimSpace(prefix) == "" || prefix == "/" {
		return all
	}
	out := make([]string, 0, len(all))
	for _, p := range all {
		if strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	return out
}

// SetWatches re-registers watches after a reconnect and returns the catch-up
// events to send first (ZooKeeper's rules; zxid -1).
func (f *FSM) SetWatches(w watch.Watcher, rel int64, data, exist, child, persistent, recursive []string) []watch.Event {
	var evs []watch.Event
	for _, p := range data {
		switch n := f.node(p); {
		case n == nil:
			evs = append(evs, watch.Event{Type: proto.EventNodeDeleted, Path: p, Zxid: -1})
		case n.Mzxid > rel:
			evs = append(evs, watch.Event{Type: proto.EventNodeDataChanged, Path: p, Zxid: -1})
		default:
			f.watches.AddData(p, w)
		}
	}
	for _, p := range exist {
		if f.node(p) != nil {
			evs = append(evs, watch.Event{Type: proto.EventNodeCreated, Path: p, Zxid: -1})
		} else {
			f.watches.AddData(p, w)
		}
	}
	for _, p := range child {
		switch n := f.node(p); {
		case n == nil:
			evs = append(evs, watch.Event{Type: proto.EventNodeDeleted, Path: p, Zxid: -1})
		case n.Pzxid > rel:
			evs = append(evs, watch.Event{Type: proto.EventNodeChildrenChanged, Path: p, Zxid: -1})
		default:
			f.watches.AddChild(p, w)
		}
	}
	for _, p := range persistent {
		f.watches.AddPersistent(p, w)
	}
	for _, p := range recursive {
		f.watches.AddRecursive(p, w)
	}
	return evs
}

// node looks a path up for a read. ZooKeeper's tree holds the root under
// both "" and "/", so reads of "" see the root.
func (f *FSM) node(path string) *znode.Node {
	if path == "" {
		path = "/"
	}
	return f.tree.Get(path)
}

// Znode returns the node at path; callers hold the lock.
func (f *FSM) Znode(path string) *znode.Node { return f.tree.Get(path) }
