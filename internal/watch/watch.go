package watch

import (
	"sort"
	"sync"

	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/znode"
)

// Mode is a set of watch modes.
type Mode uint8

// Watch modes.
const (
	Standard Mode = 1 << iota
	Persistent
	PersistentRecursive
)

// Event is a watch notification.
type Event struct {
	Type int32
	Path string
	Zxid int64
}

// Watcher receives events. Both methods are called with locks held and must
// not block.
type Watcher interface {
	Notify(ev Event)
	// CanRead reports whether the watcher may see an event whose node has acl.
	CanRead(acl []proto.ACL) bool
}

type table map[string]map[Watcher]Mode

// Manager holds the watch tables. It is safe for concurrent use.
type Manager struct {
	mu        sync.Mutex
	data      table
	child     table
	recursive int // entries with PersistentRecursive, to skip ancestor walks
	byWatcher map[Watcher]map[string]struct{}
}

// New returns an empty Manager.
func New() *Manager {
	return &Manager{data: table{}, child: table{}, byWatcher: map[Watcher]map[string]struct{}{}}
}

func (m *Manager) add(t table, path string, w Watcher, md Mode) {
	ws := t[path]
	if ws == nil {
		ws = map[Watcher]Mode{}
		t[path] = ws
	}
	old := ws[w]
	if md&PersistentRecursive != 0 && old&PersistentRecursive == 0 {
		m.recursive++
	}
	ws[w] = old | md
	ps := m.byWatcher[w]
	if ps == nil {
		ps = map[string]struct{}{}
		m.byWatcher[w] = ps
	}
	ps[path] = struct{}{}
}

// clear removes modes md of w at path from t, reporting whether any was set.
func (m *Manager) clear(t table, path string, w Watcher, md Mode) bool {
	ws := t[path]
	old, ok := ws[w]
	if !ok || old&md == 0 {
		return false
	}
	if old&md&PersistentRecursive != 0 {
		m.recursive--
	}
	if nm := old &^ md; nm != 0 {
		ws[w] = nm
	} else {
		delete(ws, w)
		if len(ws) == 0 {
			delete(t, path)
		}
	}
	return true
}

// AddData registers a standard data watch (exists/getData).
func (m *Manager) AddData(path string, w Watcher) {
	m.mu.Lock()
	m.add(m.data, path, w, Standard)
	m.mu.Unlock()
}

// AddChild registers a standard child watch (getChildren).
func (m *Manager) AddChild(path string, w Watcher) {
	m.mu.Lock()
	m.add(m.child, path, w, Standard)
	m.mu.Unlock()
}

// AddPersistent registers a persistent watch (addWatch mode 0).
func (m *Manager) AddPersistent(path string, w Watcher) {
	m.mu.Lock()
	m.add(m.data, path, w, Persistent)
	m.add(m.child, path, w, Persistent)
	m.mu.Unlock()
}

// AddRecursive registers a persistent recursive watch (addWatch mode 1).
func (m *Manager) AddRecursive(path string, w Watcher) {
	m.mu.Lock()
	m.add(m.data, path, w, PersistentRecursive)
	m.mu.Unlock()
}

// RemoveWatcher drops every watch of w.
func (m *Manager) RemoveWatcher(w Watcher) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := range m.byWatcher[w] {
		m.clear(m.data, p, w, Standard|Persistent|PersistentRecursive)
		m.clear(m.child, p, w, Standard|Persistent|PersistentRecursive)
	}
	delete(m.byWatcher, w)
}

// Check reports whether w has a watch of the given WatcherType on path.
func (m *Manager) Check(path string, w Watcher, typ int32) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, c := m.data[path][w], m.child[path][w]
	switch typ {
	case proto.WatcherChildren:
		return c&Standard != 0
	case proto.WatcherData:
		return d&Standard != 0
	case proto.WatcherPersistent:
		return d&Persistent != 0
	case proto.WatcherPersistentRecursive:
		return d&PersistentRecursive != 0
	case proto.WatcherAny:
		return d != 0 || c != 0
	}
	return false
}

// Remove removes w's watches of the given WatcherType on path, reporting
// whether anything was removed.
func (m *Manager) Remove(path string, w Watcher, typ int32) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	var removed bool
	switch typ {
	case proto.WatcherChildren:
		removed = m.clear(m.child, path, w, Standard)
	case proto.WatcherData:
		removed = m.clear(m.data, path, w, Standard)
	case proto.WatcherPersistent:
		a := m.clear(m.child, path, w, Persistent)
		b := m.clear(m.data, path, w, Persistent)
		removed = a || b
	case proto.WatcherPersistentRecursive:
		removed = m.clear(m.data, path, w, PersistentRecursive)
	case proto.WatcherAny:
		a := m.clear(m.child, path, w, Standard|Persistent|PersistentRecursive)
		b := m.clear(m.data, path, w, Standard|Persistent|PersistentRecursive)
		removed = a || b
	}
	if removed && m.data[path][w] == 0 && m.child[path][w] == 0 {
		if ps := m.byWatcher[w]; ps != nil {
			delete(ps, path)
			if len(ps) == 0 {
				delete(m.byWatcher, w)
			}
		}
	}
	return removed
}

// Trigger fires the watches an event of type typ at path sets off. acl is the
// ACL that decides who may see it (the node's, or the parent's for
// NodeChildrenChanged). It returns the number of watchers notified.
func (m *Manager) Trigger(typ int32, path string, zxid int64, acl []proto.ACL) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	ev := Event{Type: typ, Path: path, Zxid: zxid}
	var seen map[Watcher]struct{}
	fire := func(w Watcher) {
		if seen == nil {
			seen = map[Watcher]struct{}{}
		}
		if _, ok := seen[w]; ok {
			return
		}
		seen[w] = struct{}{}
		if w.CanRead(acl) {
			w.Notify(ev)
		}
	}
	if typ == proto.EventNodeChildrenChanged {
		for w, md := range m.child[path] {
			if md&(Standard|Persistent) != 0 {
				fire(w)
				m.consume(m.child, path, w, md)
			}
		}
		return len(seen)
	}
	for w, md := range m.data[path] {
		fire(w)
		m.consume(m.data, path, w, md)
	}
	if m.recursive > 0 {
		for p := path; p != "/"; {
			p, _ = znode.Split(p)
			for w, md := range m.data[p] {
				if md&PersistentRecursive != 0 {
					fire(w)
				}
			}
		}
	}
	if typ == proto.EventNodeDeleted {
		for w, md := range m.child[path] {
			fire(w)
			m.consume(m.child, path, w, md)
		}
	}
	return len(seen)
}

// consume removes a fired standard watch.
func (m *Manager) consume(t table, path string, w Watcher, md Mode) {
	if md&Standard == 0 {
		return
	}
	m.clear(t, path, w, Standard)
	if t[path][w] == 0 && m.data[path][w] == 0 && m.child[path][w] == 0 {
		if ps := m.byWatcher[w]; ps != nil {
			delete(ps, path)
			if len(ps) == 0 {
				delete(m.byWatcher, w)
			}
		}
	}
}

// Stats summarises the tables.
type Stats struct {
	// DataWatchers is the number of distinct watchers with data-table entries.
	DataWatchers int
	// DataPaths is the number of paths in the data table.
	DataPaths int
	// DataWatches is the number of data-table entries.
	DataWatches int
	// Total is data-table plus child-table entries (zk_watch_count).
	Total int
}

// Stats returns table sizes.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	var s Stats
	ws := map[Watcher]struct{}{}
	for _, e := range m.data {
		s.DataPaths++
		s.DataWatches += len(e)
		for w := range e {
			ws[w] = struct{}{}
		}
	}
	s.DataWatchers = len(ws)
	s.Total = s.DataWatches
	for _, e := range m.child {
		s.Total += len(e)
	}
	return s
}

// ByPath returns, for each data-table path (sorted), its watchers, via key.
func (m *Manager) ByPath(key func(Watcher) int64) map[string][]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]int64{}
	for p, e := range m.data {
		for w := range e {
			out[p] = append(out[p], key(w))
		}
		sort.Slice(out[p], func(i, j int) bool { return out[p][i] < out[p][j] })
	}
	return out
}

// PathsOf returns the sorted data-table paths w watches.
func (m *Manager) PathsOf(w Watcher) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for p := range m.byWatcher[w] {
		if m.data[p][w] != 0 {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
