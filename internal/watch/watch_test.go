package watch

import (
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/znode"
)

// fakeWatcher records the events it is sent and the ACLs it was asked about.
type fakeWatcher struct {
	name    string
	mu      sync.Mutex
	events  []Event
	asked   [][]proto.ACL
	canRead func(acl []proto.ACL) bool
}

func newWatcher(name string) *fakeWatcher { return &fakeWatcher{name: name} }

func (w *fakeWatcher) Notify(ev Event) {
	w.mu.Lock()
	w.events = append(w.events, ev)
	w.mu.Unlock()
}

func (w *fakeWatcher) CanRead(acl []proto.ACL) bool {
	w.mu.Lock()
	w.asked = append(w.asked, acl)
	w.mu.Unlock()
	if w.canRead == nil {
		return true
	}
	return w.canRead(acl)
}

// take returns and clears the recorded events, rendered as "Type path".
func (w *fakeWatcher) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := []string{}
	for _, ev := range w.events {
		out = append(out, evString(ev.Type, ev.Path))
	}
	w.events = nil
	return out
}

func (w *fakeWatcher) String() string { return w.name }

var evNames = map[int32]string{
	proto.EventNodeCreated: "NodeCreated", proto.EventNodeDeleted: "NodeDeleted",
	proto.EventNodeDataChanged: "NodeDataChanged", proto.EventNodeChildrenChanged: "NodeChildrenChanged",
}

func evString(typ int32, path string) string { return evNames[typ] + " " + path }

// The operations of §15.2, as the state machine reports them.
func opCreate(m *Manager, path string, zxid int64) {
	m.Trigger(proto.EventNodeCreated, path, zxid, proto.OpenACLUnsafe)
	parent, _ := znode.Split(path)
	m.Trigger(proto.EventNodeChildrenChanged, parent, zxid, proto.OpenACLUnsafe)
}

func opDelete(m *Manager, path string, zxid int64) {
	m.Trigger(proto.EventNodeDeleted, path, zxid, proto.OpenACLUnsafe)
	parent, _ := znode.Split(path)
	m.Trigger(proto.EventNodeChildrenChanged, parent, zxid, proto.OpenACLUnsafe)
}

func opSetData(m *Manager, path string, zxid int64) {
	m.Trigger(proto.EventNodeDataChanged, path, zxid, proto.OpenACLUnsafe)
}

// checkConsistent verifies the Manager's internal bookkeeping.
func checkConsistent(t *testing.T, m *Manager) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	rec := 0
	for _, tb := range []table{m.data, m.child} {
		for p, ws := range tb {
			if len(ws) == 0 {
				t.Errorf("empty watcher set left for %s", p)
			}
			for w, md := range ws {
				if md == 0 {
					t.Errorf("zero mode left for %v at %s", w, p)
				}
				if _, ok := m.byWatcher[w][p]; !ok {
					t.Errorf("byWatcher misses %v at %s", w, p)
				}
			}
		}
	}
	for _, ws := range m.data {
		for _, md := range ws {
			if md&PersistentRecursive != 0 {
				rec++
			}
		}
	}
	for _, ws := range m.child {
		for _, md := range ws {
			if md&PersistentRecursive != 0 {
				t.Errorf("recursive mode in the child table")
			}
		}
	}
	if rec != m.recursive {
		t.Errorf("recursive counter %d, entries %d", m.recursive, rec)
	}
	for w, ps := range m.byWatcher {
		if len(ps) == 0 {
			t.Errorf("empty byWatcher set for %v", w)
		}
		for p := range ps {
			if m.data[p][w] == 0 && m.child[p][w] == 0 {
				t.Errorf("byWatcher lists %s for %v without an entry", p, w)
			}
		}
	}
}

func expect(t *testing.T, w *fakeWatcher, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := w.take(); !reflect.DeepEqual(got, want) {
		t.Errorf("%s got %q, want %q", w.name, got, want)
	}
}

func TestFiringRules(t *testing.T) {
	type setup func(m *Manager, w Watcher)
	data := func(p string) setup { return func(m *Manager, w Watcher) { m.AddData(p, w) } }
	child := func(p string) setup { return func(m *Manager, w Watcher) { m.AddChild(p, w) } }
	pers := func(p string) setup { return func(m *Manager, w Watcher) { m.AddPersistent(p, w) } }
	rec := func(p string) setup { return func(m *Manager, w Watcher) { m.AddRecursive(p, w) } }
	create := func(p string) func(*Manager) { return func(m *Manager) { opCreate(m, p, 1) } }
	del := func(p string) func(*Manager) { return func(m *Manager) { opDelete(m, p, 1) } }
	set := func(p string) func(*Manager) { return func(m *Manager) { opSetData(m, p, 1) } }
	setACL := func(p string) func(*Manager) { return func(m *Manager) {} } // fires nothing

	tests := []struct {
		name  string
		watch []setup
		ops   []func(*Manager)
		want  []string
	}{
		// create P
		{"data watch on P, create P", []setup{data("/a")}, []func(*Manager){create("/a")}, []string{"NodeCreated /a"}},
		{"child watch on parent, create P", []setup{child("/")}, []func(*Manager){create("/w3")}, []string{"NodeChildrenChanged /"}},
		{"child watch on P, create P", []setup{child("/a")}, []func(*Manager){create("/a")}, nil},
		{"data watch on parent, create P", []setup{data("/a")}, []func(*Manager){create("/a/b")}, nil},
		{"data+child on P and parent, create P", []setup{data("/a/b"), child("/a")}, []func(*Manager){create("/a/b")},
			[]string{"NodeCreated /a/b", "NodeChildrenChanged /a"}},
		// delete P
		{"data watch, delete", []setup{data("/a")}, []func(*Manager){del("/a")}, []string{"NodeDeleted /a"}},
		{"child watch on P, delete P", []setup{child("/a")}, []func(*Manager){del("/a")}, []string{"NodeDeleted /a"}},
		{"getData+getChildren watch, delete: one event", []setup{data("/w1"), child("/w1")}, []func(*Manager){del("/w1")},
			[]string{"NodeDeleted /w1"}},
		{"child watch on parent, delete", []setup{child("/p")}, []func(*Manager){del("/p/c")}, []string{"NodeChildrenChanged /p"}},
		{"data watch on parent, delete child", []setup{data("/p")}, []func(*Manager){del("/p/c")}, nil},
		// setData P
		{"data watch, setData", []setup{data("/a")}, []func(*Manager){set("/a")}, []string{"NodeDataChanged /a"}},
		{"child watch, setData", []setup{child("/a")}, []func(*Manager){set("/a")}, nil},
		{"child watch on parent, setData child", []setup{child("/")}, []func(*Manager){set("/a")}, nil},
		{"setACL fires nothing", []setup{data("/a"), child("/a")}, []func(*Manager){setACL("/a")}, nil},
		// standard: consumed
		{"standard data consumed", []setup{data("/a")}, []func(*Manager){set("/a"), set("/a"), del("/a")},
			[]string{"NodeDataChanged /a"}},
		{"standard child consumed", []setup{child("/a")}, []func(*Manager){create("/a/1"), create("/a/2")},
			[]string{"NodeChildrenChanged /a"}},
		{"exists watch on missing node, then create", []setup{data("/n")}, []func(*Manager){create("/n"), del("/n")},
			[]string{"NodeCreated /n"}},
		// persistent: [verified] consequences
		{"persistent: create child", []setup{pers("/p")}, []func(*Manager){create("/p/c")}, []string{"NodeChildrenChanged /p"}},
		{"persistent: setData", []setup{pers("/p")}, []func(*Manager){set("/p")}, []string{"NodeDataChanged /p"}},
		{"persistent: setData child", []setup{pers("/p")}, []func(*Manager){set("/p/c")}, nil},
		{"persistent: create grandchild", []setup{pers("/p")}, []func(*Manager){create("/p/c/d")}, nil},
		{"persistent: delete P, stays", []setup{pers("/p")}, []func(*Manager){del("/p"), create("/p"), set("/p")},
			[]string{"NodeDeleted /p", "NodeCreated /p", "NodeDataChanged /p"}},
		{"persistent: kept", []setup{pers("/p")}, []func(*Manager){set("/p"), set("/p"), create("/p/x"), del("/p/x")},
			[]string{"NodeDataChanged /p", "NodeDataChanged /p", "NodeChildrenChanged /p", "NodeChildrenChanged /p"}},
		// recursive: [verified] consequences
		{"recursive: create child", []setup{rec("/r")}, []func(*Manager){create("/r/c")}, []string{"NodeCreated /r/c"}},
		{"recursive: create, set, delete grandchild", []setup{rec("/r")},
			[]func(*Manager){create("/r/c"), create("/r/c/d"), set("/r/c/d"), del("/r/c/d")},
			[]string{"NodeCreated /r/c", "NodeCreated /r/c/d", "NodeDataChanged /r/c/d", "NodeDeleted /r/c/d"}},
		{"recursive: on the path itself", []setup{rec("/r")}, []func(*Manager){create("/r"), set("/r"), del("/r")},
			[]string{"NodeCreated /r", "NodeDataChanged /r", "NodeDeleted /r"}},
		{"recursive: never NodeChildrenChanged", []setup{rec("/r")},
			[]func(*Manager){func(m *Manager) { m.Trigger(proto.EventNodeChildrenChanged, "/r", 1, nil) }}, nil},
		{"recursive on /", []setup{rec("/")}, []func(*Manager){create("/x"), set("/zookeeper/config")},
			[]string{"NodeCreated /x", "NodeDataChanged /zookeeper/config"}},
		{"recursive: not for a sibling prefix", []setup{rec("/r")}, []func(*Manager){create("/rx"), create("/r2/c")}, nil},
		{"recursive: not for the parent", []setup{rec("/r/c")}, []func(*Manager){set("/r")}, nil},
		// only recursive fires at ancestors
		{"standard data at ancestor", []setup{data("/a")}, []func(*Manager){set("/a/b")}, nil},
		{"persistent at ancestor", []setup{pers("/a")}, []func(*Manager){set("/a/b"), del("/a/b/c")}, nil},
		// at most one copy
		{"one copy: all modes on P", []setup{data("/x"), child("/x"), pers("/x"), rec("/x")}, []func(*Manager){del("/x")},
			[]string{"NodeDeleted /x"}},
		{"one copy: recursive at P and ancestors", []setup{rec("/"), rec("/a"), rec("/a/b"), data("/a/b")},
			[]func(*Manager){set("/a/b")}, []string{"NodeDataChanged /a/b"}},
		{"one copy per event, not per op", []setup{rec("/a"), child("/a")}, []func(*Manager){create("/a/b")},
			[]string{"NodeCreated /a/b", "NodeChildrenChanged /a"}},
		// standard + persistent coexist (3.9): standard consumed, persistent stays
		{"standard+persistent coexist", []setup{data("/p"), pers("/p")}, []func(*Manager){set("/p"), set("/p")},
			[]string{"NodeDataChanged /p", "NodeDataChanged /p"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			w := newWatcher("w")
			other := newWatcher("other")
			m.AddData("/unrelated", other)
			for _, s := range tc.watch {
				s(m, w)
			}
			checkConsistent(t, m)
			for _, op := range tc.ops {
				op(m)
			}
			expect(t, w, tc.want...)
			expect(t, other)
			checkConsistent(t, m)
		})
	}
}

func TestStandardConsumedPersistentKept(t *testing.T) {
	m := New()
	w := newWatcher("w")
	m.AddData("/a", w)
	m.AddChild("/a", w)
	m.AddPersistent("/p", w)
	m.AddRecursive("/r", w)
	opSetData(m, "/a", 1)
	if m.Check("/a", w, proto.WatcherData) {
		t.Error("fired data watch still registered")
	}
	if !m.Check("/a", w, proto.WatcherChildren) {
		t.Error("child watch consumed by a data event")
	}
	opDelete(m, "/a", 2)
	if m.Check("/a", w, proto.WatcherAny) {
		t.Error("child watch not consumed by NodeDeleted")
	}
	expect(t, w, "NodeDataChanged /a", "NodeDeleted /a")
	opDelete(m, "/p", 3)
	opDelete(m, "/r", 4)
	if !m.Check("/p", w, proto.WatcherPersistent) || !m.Check("/r", w, proto.WatcherPersistentRecursive) {
		t.Error("persistent watch removed by firing")
	}
	expect(t, w, "NodeDeleted /p", "NodeDeleted /r")
	if paths := m.PathsOf(w); !reflect.DeepEqual(paths, []string{"/p", "/r"}) {
		t.Errorf("PathsOf = %v", paths)
	}
	checkConsistent(t, m)
}

func TestEventZxidAndAllWatchers(t *testing.T) {
	m := New()
	ws := make([]*fakeWatcher, 5)
	for i := range ws {
		ws[i] = newWatcher(fmt.Sprint("w", i))
	}
	m.AddData("/a", ws[0])
	m.AddData("/a", ws[1])
	m.AddPersistent("/a", ws[2])
	m.AddRecursive("/", ws[3])
	m.AddChild("/a", ws[4])
	if n := m.Trigger(proto.EventNodeDataChanged, "/a", 0x500000007, proto.OpenACLUnsafe); n != 4 {
		t.Errorf("Trigger returned %d, want 4", n)
	}
	for _, w := range ws[:4] {
		w.mu.Lock()
		if len(w.events) != 1 || w.events[0] != (Event{Type: proto.EventNodeDataChanged, Path: "/a", Zxid: 0x500000007}) {
			t.Errorf("%s: %+v", w.name, w.events)
		}
		w.mu.Unlock()
	}
	expect(t, ws[4])
	if n := m.Trigger(proto.EventNodeDataChanged, "/nobody", 1, nil); n != 1 { // only the recursive on /
		t.Errorf("Trigger on an unwatched path returned %d", n)
	}
}

func TestACLFiltering(t *testing.T) {
	secret := []proto.ACL{{Perms: proto.PermAll, Id: proto.Id{Scheme: "digest", Id: "bob:x"}}}
	parentACL := []proto.ACL{{Perms: proto.PermRead, Id: proto.AnyoneID}}
	m := New()
	denied := newWatcher("denied")
	denied.canRead = func(acl []proto.ACL) bool { return !reflect.DeepEqual(acl, secret) }
	allowed := newWatcher("allowed")
	for _, w := range []*fakeWatcher{denied, allowed} {
		m.AddData("/s", w)
		m.AddChild("/s", w)
		m.AddPersistent("/q", w)
		m.AddChild("/", w)
	}

	// The node's ACL decides NodeDataChanged; the standard watch is consumed
	// even for the watcher that may not see it.
	m.Trigger(proto.EventNodeDataChanged, "/s", 1, secret)
	expect(t, denied)
	expect(t, allowed, "NodeDataChanged /s")
	if m.Check("/s", denied, proto.WatcherData) {
		t.Error("filtered standard watch was not consumed")
	}
	if !reflect.DeepEqual(denied.asked[len(denied.asked)-1], secret) {
		t.Errorf("CanRead asked about %v", denied.asked)
	}
	// Persistent watches stay after a filtered event.
	m.Trigger(proto.EventNodeDataChanged, "/q", 2, secret)
	expect(t, denied)
	expect(t, allowed, "NodeDataChanged /q")
	if !m.Check("/q", denied, proto.WatcherPersistent) {
		t.Error("filtered persistent watch was removed")
	}
	// NodeChildrenChanged is filtered by the ACL passed in (the parent's).
	m.Trigger(proto.EventNodeChildrenChanged, "/", 3, parentACL)
	expect(t, denied, "NodeChildrenChanged /")
	expect(t, allowed, "NodeChildrenChanged /")
	// NodeDeleted to the child watcher: filtered, consumed.
	m.Trigger(proto.EventNodeDeleted, "/s", 4, secret)
	expect(t, denied)
	expect(t, allowed, "NodeDeleted /s")
	if m.Check("/s", denied, proto.WatcherAny) {
		t.Error("filtered child watch was not consumed")
	}
	checkConsistent(t, m)
}

func TestCheckAndRemoveTypes(t *testing.T) {
	type regs struct{ data, child, pers, rec bool }
	all := []int32{proto.WatcherChildren, proto.WatcherData, proto.WatcherAny, proto.WatcherPersistent, proto.WatcherPersistentRecursive}
	tests := []struct {
		name  string
		have  regs
		check map[int32]bool // §15.6 "check looks for"
	}{
		{"none", regs{}, map[int32]bool{}},
		{"data", regs{data: true}, map[int32]bool{proto.WatcherData: true, proto.WatcherAny: true}},
		{"child", regs{child: true}, map[int32]bool{proto.WatcherChildren: true, proto.WatcherAny: true}},
		{"persistent", regs{pers: true}, map[int32]bool{proto.WatcherPersistent: true, proto.WatcherAny: true}},
		{"recursive", regs{rec: true}, map[int32]bool{proto.WatcherPersistentRecursive: true, proto.WatcherAny: true}},
		{"all", regs{true, true, true, true}, map[int32]bool{proto.WatcherChildren: true, proto.WatcherData: true,
			proto.WatcherAny: true, proto.WatcherPersistent: true, proto.WatcherPersistentRecursive: true}},
	}
	register := func(m *Manager, w Watcher, r regs) {
		if r.data {
			m.AddData("/x", w)
		}
		if r.child {
			m.AddChild("/x", w)
		}
		if r.pers {
			m.AddPersistent("/x", w)
		}
		if r.rec {
			m.AddRecursive("/x", w)
		}
	}
	for _, tc := range tests {
		for _, typ := range all {
			t.Run(fmt.Sprintf("%s/type%d", tc.name, typ), func(t *testing.T) {
				m := New()
				w, other := newWatcher("w"), newWatcher("other")
				register(m, w, tc.have)
				register(m, other, regs{true, true, true, true})
				m.AddData("/y", w)
				if got := m.Check("/x", w, typ); got != tc.check[typ] {
					t.Errorf("Check = %v, want %v", got, tc.check[typ])
				}
				// Check removes nothing.
				before := m.Stats()
				m.Check("/x", w, typ)
				if m.Stats() != before {
					t.Error("Check changed the tables")
				}
				// Remove removes what Check finds, and reports it.
				if got := m.Remove("/x", w, typ); got != tc.check[typ] {
					t.Errorf("Remove = %v, want %v", got, tc.check[typ])
				}
				if m.Check("/x", w, typ) {
					t.Error("still found after Remove")
				}
				if m.Remove("/x", w, typ) {
					t.Error("second Remove reported success (must be NoWatcher)")
				}
				// What remains for w: everything of other types.
				remain := tc.have
				switch typ {
				case proto.WatcherChildren:
					remain.child = false
				case proto.WatcherData:
					remain.data = false
				case proto.WatcherPersistent:
					remain.pers = false
				case proto.WatcherPersistentRecursive:
					remain.rec = false
				case proto.WatcherAny:
					remain = regs{}
				}
				if m.Check("/x", w, proto.WatcherData) != remain.data || m.Check("/x", w, proto.WatcherChildren) != remain.child ||
					m.Check("/x", w, proto.WatcherPersistent) != remain.pers || m.Check("/x", w, proto.WatcherPersistentRecursive) != remain.rec {
					t.Errorf("after Remove: data %v child %v pers %v rec %v, want %+v",
						m.Check("/x", w, proto.WatcherData), m.Check("/x", w, proto.WatcherChildren),
						m.Check("/x", w, proto.WatcherPersistent), m.Check("/x", w, proto.WatcherPersistentRecursive), remain)
				}
				// Other watchers and other paths are untouched.
				for _, ty := range all {
					if !m.Check("/x", other, ty) {
						t.Errorf("other watcher lost type %d", ty)
					}
				}
				if !m.Check("/y", w, proto.WatcherData) {
					t.Error("watch on another path removed")
				}
				checkConsistent(t, m)
			})
		}
	}
	// Unknown types find and remove nothing.
	m := New()
	w := newWatcher("w")
	m.AddData("/x", w)
	if m.Check("/x", w, 0) || m.Check("/x", w, 6) || m.Remove("/x", w, 99) {
		t.Error("unknown watcher type matched")
	}
}

// TestRemovePersistentBothTables: removing Persistent clears it from the child
// table too, so the watch no longer fires NodeChildrenChanged.
func TestRemovePersistentBothTables(t *testing.T) {
	m := New()
	w := newWatcher("w")
	m.AddPersistent("/p", w)
	m.AddChild("/p", w)
	m.Remove("/p", w, proto.WatcherPersistent)
	opCreate(m, "/p/a", 1)
	opCreate(m, "/p/b", 2)
	expect(t, w, "NodeChildrenChanged /p") // the standard child watch only
	checkConsistent(t, m)
	if s := m.Stats(); s.Total != 0 {
		t.Errorf("Stats after everything fired/removed: %+v", s)
	}
}

func TestRemoveWatcher(t *testing.T) {
	m := New()
	w, keep := newWatcher("w"), newWatcher("keep")
	for _, p := range []string{"/a", "/b", "/c"} {
		m.AddData(p, w)
		m.AddChild(p, w)
		m.AddPersistent(p, w)
		m.AddRecursive(p, w)
	}
	m.AddRecursive("/", keep)
	m.RemoveWatcher(w)
	checkConsistent(t, m)
	if s := m.Stats(); s != (Stats{DataWatchers: 1, DataPaths: 1, DataWatches: 1, Total: 1}) {
		t.Errorf("Stats after RemoveWatcher: %+v", s)
	}
	opCreate(m, "/a/x", 1)
	opSetData(m, "/b", 2)
	opDelete(m, "/c", 3)
	expect(t, w)
	expect(t, keep, "NodeCreated /a/x", "NodeDataChanged /b", "NodeDeleted /c")
	if m.PathsOf(w) != nil {
		t.Errorf("PathsOf removed watcher = %v", m.PathsOf(w))
	}
	m.RemoveWatcher(w) // again: no-op
	m.RemoveWatcher(keep)
	checkConsistent(t, m)
	if m.recursive != 0 {
		t.Errorf("recursive counter %d after removing everything", m.recursive)
	}
	if len(m.byWatcher) != 0 || len(m.data) != 0 || len(m.child) != 0 {
		t.Error("tables not empty")
	}
}

func TestStats(t *testing.T) {
	m := New()
	w1, w2, w3 := newWatcher("w1"), newWatcher("w2"), newWatcher("w3")
	m.AddData("/a", w1)
	m.AddData("/a", w1) // same entry again
	m.AddData("/a", w2)
	m.AddData("/b", w2)
	m.AddChild("/a", w3)      // child table only
	m.AddPersistent("/p", w3) // both tables
	m.AddRecursive("/r", w1)  // data table only
	m.AddPersistent("/a", w1) // merges with w1's /a data entry; adds a child entry
	want := Stats{
		DataWatchers: 3,     // w1, w2, w3
		DataPaths:    4,     // /a /b /p /r
		DataWatches:  5,     // /a: w1 w2; /b: w2; /p: w3; /r: w1
		Total:        5 + 3, // child: /a: w3 w1; /p: w3
	}
	if s := m.Stats(); s != want {
		t.Errorf("Stats = %+v, want %+v", s, want)
	}
	key := func(w Watcher) int64 { return int64(w.(*fakeWatcher).name[1] - '0') }
	if got := m.ByPath(key); !reflect.DeepEqual(got, map[string][]int64{"/a": {1, 2}, "/b": {2}, "/p": {3}, "/r": {1}}) {
		t.Errorf("ByPath = %v", got)
	}
	if got := m.PathsOf(w1); !reflect.DeepEqual(got, []string{"/a", "/r"}) {
		t.Errorf("PathsOf(w1) = %v", got)
	}
	if got := m.PathsOf(w3); !reflect.DeepEqual(got, []string{"/p"}) { // child-only /a not listed
		t.Errorf("PathsOf(w3) = %v", got)
	}
	checkConsistent(t, m)
}

// TestConcurrentUse exercises the Manager's mutex under -race.
func TestConcurrentUse(t *testing.T) {
	m := New()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWatcher(fmt.Sprint("g", g))
			for i := range 200 {
				p := fmt.Sprintf("/n%d", i%10)
				switch i % 5 {
				case 0:
					m.AddData(p, w)
				case 1:
					m.AddRecursive("/", w)
				case 2:
					m.AddChild(p, w)
				case 3:
					opCreate(m, p+"/c", int64(i))
				case 4:
					m.Remove(p, w, proto.WatcherAny)
				}
				_ = m.Stats()
			}
			m.RemoveWatcher(w)
		}()
	}
	wg.Wait()
	checkConsistent(t, m)
	if s := m.Stats(); s.Total != 0 {
		t.Errorf("watches left: %+v", s)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// TestDeliveryIsPerWatcherOrdered: a single Trigger sequence reaches each
// watcher in the order of the triggers.
func TestDeliveryIsPerWatcherOrdered(t *testing.T) {
	m := New()
	ws := []*fakeWatcher{newWatcher("a"), newWatcher("b"), newWatcher("c")}
	for _, w := range ws {
		m.AddRecursive("/", w)
	}
	var want []string
	for i := range 50 {
		p := fmt.Sprintf("/n%d", i)
		opCreate(m, p, int64(i))
		want = append(want, "NodeCreated "+p)
	}
	for _, w := range ws {
		got := w.take()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d events, first %q", w.name, len(got), got[:min(3, len(got))])
		}
		if !reflect.DeepEqual(sortedCopy(got), sortedCopy(want)) {
			t.Errorf("%s: wrong set of events", w.name)
		}
	}
}
