package raftnode

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// memLog is a Storage that keeps what it is given.
type memLog struct {
	mu    sync.Mutex
	hs    *raftpb.HardState
	ents  []*raftpb.Entry
	syncs int
}

func (m *memLog) Save(hs *raftpb.HardState, ents []*raftpb.Entry, mustSync bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if hs != nil {
		m.hs = hs
	}
	for _, e := range ents {
		for len(m.ents) > 0 && m.ents[len(m.ents)-1].GetIndex() >= e.GetIndex() {
			m.ents = m.ents[:len(m.ents)-1]
		}
		m.ents = append(m.ents, e)
	}
	if mustSync {
		m.syncs++
	}
	return nil
}

type applied struct {
	mu   sync.Mutex
	data []string
	idx  uint64
}

func (a *applied) apply(ents []*raftpb.Entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range ents {
		if e.GetIndex() != a.idx+1 && a.idx != 0 {
			panic(fmt.Sprintf("applied %d after %d", e.GetIndex(), a.idx))
		}
		a.idx = e.GetIndex()
		if e.GetType() == raftpb.EntryNormal && len(e.GetData()) > 0 {
			a.data = append(a.data, string(e.GetData()))
		}
	}
}

func (a *applied) snapshot() ([]string, uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.data...), a.idx
}

func start(t *testing.T, log *memLog, r *Restart, a *applied) *Node {
	t.Helper()
	n, err := New(Config{ID: 1, Peers: []uint64{1}, Storage: log, Restart: r, Apply: a.apply, Tick: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestProposeApplyReadIndexRestart(t *testing.T) {
	log, a := &memLog{}, &applied{}
	n := start(t, log, nil, a)
	if !n.IsLeader() {
		t.Fatal("a one-member group is not led by its member")
	}
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		if err := n.Propose(ctx, []byte(fmt.Sprint(i)), func(err error) { t.Errorf("dropped: %v", err) }); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := n.ReadIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, at := a.snapshot()
		if at >= idx && len(data) == 100 {
			for i, d := range data {
				if d != fmt.Sprint(i) {
					t.Fatalf("entry %d applied as %q: order broken", i, d)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("applied %d entries up to %d, read index %d", len(data), at, idx)
		}
		time.Sleep(5 * time.Millisecond)
	}
	n.Stop()
	if log.syncs == 0 || log.syncs > 100 {
		t.Fatalf("%d synced batches for 100 proposals", log.syncs)
	}

	// Restart from what the log kept: everything is applied again, in order.
	a2 := &applied{}
	n2 := start(t, log, &Restart{HardState: log.hs, Entries: log.ents}, a2)
	defer n2.Stop()
	idx2, err := n2.ReadIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		data, at := a2.snapshot()
		if at >= idx2 {
			if len(data) != 100 {
				t.Fatalf("replayed %d entries, want 100", len(data))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("replay did not reach the read index")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStopBeforeRun(t *testing.T) {
	n, err := New(Config{ID: 1, Peers: []uint64{1}, Apply: func([]*raftpb.Entry) {}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { n.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop blocked on a node that never ran")
	}
}

// waitCount waits until a has applied n data entries and returns its
// applied index then.
func waitCount(t *testing.T, a *applied, n int) uint64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, at := a.snapshot()
		if len(data) >= n {
			return at
		}
		if time.Now().After(deadline) {
			t.Fatalf("applied %d entries, want %d", len(data), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A one-member group drops its applied in-memory log (CompactLog); a
// snapshot's compaction at an index already dropped must neither fail nor
// panic, and proposing, applying and ReadIndex go on.
func TestCompactLogThenSnapshotCompaction(t *testing.T) {
	log, a := &memLog{}, &applied{}
	n := start(t, log, nil, a)
	defer n.Stop()
	ctx := context.Background()
	propose := func(from, to int) uint64 {
		for i := from; i < to; i++ {
			if err := n.Propose(ctx, []byte(fmt.Sprint(i)), func(err error) { t.Errorf("dropped: %v", err) }); err != nil {
				t.Fatal(err)
			}
		}
		// (ReadIndex may answer before the proposals commit: wait for
		// them to be applied instead.)
		return waitCount(t, a, to)
	}
	idx := propose(0, 50)
	if idx < 50 {
		t.Fatalf("50 entries applied up to index %d", idx)
	}
	if err := n.CompactLog(idx); err != nil {
		t.Fatal(err)
	}
	if err := n.CompactLog(idx - 5); err != nil { // already dropped: not an error
		t.Fatal(err)
	}
	if err := n.Compact(idx-10, 5, n.ConfState()); err != nil {
		t.Fatalf("snapshot compaction below the dropped log: %v", err)
	}
	if first, _ := n.storage.FirstIndex(); first != idx+1 {
		t.Fatalf("first index %d after CompactLog(%d)", first, idx)
	}
	idx2 := propose(50, 100)
	if _, err := n.ReadIndex(ctx); err != nil {
		t.Fatalf("ReadIndex after compaction: %v", err)
	}
	data, _ := a.snapshot()
	for i, d := range data {
		if d != fmt.Sprint(i) {
			t.Fatalf("entry %d applied as %q", i, d)
		}
	}
	if err := n.Compact(idx2, 5, n.ConfState()); err != nil {
		t.Fatalf("snapshot compaction above the dropped log: %v", err)
	}
}
