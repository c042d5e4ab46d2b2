package watch

import (
	"fmt"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

// dumpWatcher is a watcher that ignores events.
type dumpWatcher struct{ id int }

func (*dumpWatcher) Notify(Event)                 {}
func (*dumpWatcher) CanRead(acl []proto.ACL) bool { return true }

func TestDataWatchesListsOnlyTheDataTable(t *testing.T) {
	m := New()
	a, b := &dumpWatcher{1}, &dumpWatcher{2}
	m.AddData("/x", a)
	m.AddData("/x", b)
	m.AddChild("/y", a)      // child table: not listed
	m.AddRecursive("/r", b)  // data table only
	m.AddPersistent("/p", a) // both tables
	got, truncated := m.DataWatches(100, 0)
	if truncated {
		t.Fatalf("truncated with 4 entries and a limit of 100")
	}
	want := map[DataWatch]bool{{"/x", a}: true, {"/x", b}: true, {"/r", b}: true, {"/p", a}: true}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, e := range got {
		if !want[e] {
			t.Fatalf("unexpected entry %v", e)
		}
	}
	if got, truncated := m.DataWatches(4, 0); len(got) != 4 || truncated {
		t.Fatalf("limit == size: %d entries, truncated=%v", len(got), truncated)
	}
}

// TestDataWatchesIsBounded checks that listing from a huge table costs what
// the limit allows, not what the table holds.
func TestDataWatchesIsBounded(t *testing.T) {
	m := New()
	ws := make([]*dumpWatcher, 100)
	for i := range ws {
		ws[i] = &dumpWatcher{i}
	}
	const paths = 20_000
	for p := 0; p < paths; p++ {
		path := fmt.Sprintf("/node-%06d", p)
		for i := 0; i < 10; i++ {
			m.AddData(path, ws[(p+i)%len(ws)])
		}
	}
	start := time.Now()
	for i := 0; i < 100; i++ {
		got, truncated := m.DataWatches(50, 0)
		if len(got) != 50 || !truncated {
			t.Fatalf("limit 50 of %d: %d entries, truncated=%v", paths*10, len(got), truncated)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("100 bounded listings of a %d-entry table took %v", paths*10, d)
	}
	got, truncated := m.DataWatches(1000, 100) // paths are 12 bytes
	if len(got) != 9 || !truncated {
		t.Fatalf("byte limit 100 with 12-byte paths: %d entries, truncated=%v; want 9, true", len(got), truncated)
	}
}
