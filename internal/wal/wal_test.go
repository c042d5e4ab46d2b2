package wal

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func TestRoundTrip(t *testing.T) {
	m := newMemFS()
	opts := memOpts(m, 1<<20)
	w, st := mustOpen(t, opts)
	checkState(t, st, model{})
	if st.Repaired {
		t.Fatal("fresh log reported Repaired")
	}
	if got := m.names(testDir); len(got) != 1 || got[0] != segName(1, 1) {
		t.Fatalf("files after creating a log: %v", got)
	}

	var mod model
	next := uint64(1)
	for i := 0; i < 40; i++ {
		var ents []*raftpb.Entry
		if n := uint64(i % 5); n > 0 { // i%5 == 0: a HardState-only batch
			ents = mkEnts(next, next+n-1, 1)
			next += n
		}
		mustSync := i%3 != 0
		syncs, _, _ := m.counts()
		walSyncs := w.Syncs()
		mustSave(t, w, &mod, mkHS(1, 1, next-1), ents, mustSync)
		want := 0
		if mustSync {
			want = 1
		}
		if got, _, _ := m.counts(); got-syncs != want {
			t.Fatalf("Save %d (mustSync %v): %d fsyncs, want %d", i, mustSync, got-syncs, want)
		}
		if got := w.Syncs() - walSyncs; got != uint64(want) {
			t.Fatalf("Save %d: Syncs() advanced by %d, want %d", i, got, want)
		}
	}
	// A Save with nothing to save writes and syncs nothing.
	syncs, _, writes := m.counts()
	if err := w.Save(nil, nil, true); err != nil {
		t.Fatal(err)
	}
	if s, _, wr := m.counts(); s != syncs || wr != writes {
		t.Fatalf("empty Save: %d syncs, %d writes", s-syncs, wr-writes)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	w, st = mustOpen(t, opts)
	checkState(t, st, mod)
	if st.Repaired {
		t.Fatal("clean log reported Repaired")
	}
	// Appends continue after reopening.
	mustSave(t, w, &mod, mkHS(2, 3, next), mkEnts(next, next+2, 2), true)
	w.Close()
	_, st = mustOpen(t, opts)
	checkState(t, st, mod)
}

// An empty (but non-nil) HardState must not replace the saved one: Save
// documents that it writes the HardState only if it is not nil or empty.
func TestEmptyHardStateIgnored(t *testing.T) {
	m := newMemFS()
	opts := memOpts(m, 1<<20)
	w, _ := mustOpen(t, opts)
	var mod model
	mustSave(t, w, &mod, mkHS(3, 2, 1), mkEnts(1, 1, 3), true)
	mustSave(t, w, &mod, &raftpb.HardState{}, mkEnts(2, 2, 3), true)
	_, _, writes := m.counts()
	mustSave(t, w, &mod, &raftpb.HardState{}, nil, true)
	if _, _, wr := m.counts(); wr != writes {
		t.Fatal("Save of an empty HardState and no entries wrote")
	}
	w.Close()
	_, st := mustOpen(t, opts)
	checkState(t, st, mod)
}

// Only synced batches survive a crash; unsynced ones may be lost whole.
func TestCrashKeepsSyncedBatches(t *testing.T) {
	m := newMemFS()
	opts := memOpts(m, 1<<20)
	w, _ := mustOpen(t, opts)
	var mod model
	mustSave(t, w, &mod, mkHS(1, 1, 0), mkEnts(1, 3, 1), true)
	mustSave(t, w, &mod, mkHS(1, 1, 3), nil, false) // HardState-only: synced by the next Save
	mustSave(t, w, &mod, nil, mkEnts(4, 5, 1), true)
	durable := mod.clone()
	mustSave(t, w, nil, mkHS(1, 1, 5), mkEnts(6, 9, 1), false)
	m.Crash()

	w, st := mustOpen(t, opts)
	checkState(t, st, durable)
	if st.Repaired {
		t.Fatal("Repaired set though the unsynced batch left no bytes")
	}
	mod = durable
	mustSave(t, w, &mod, mkHS(2, 2, 5), mkEnts(6, 7, 2), true)
	m.Crash()
	_, st = mustOpen(t, opts)
	checkState(t, st, mod)
}

func TestOverwriteOnReplay(t *testing.T) {
	for _, segSize := range []int64{1 << 20, 700} {
		m := newMemFS()
		opts := memOpts(m, segSize)
		w, _ := mustOpen(t, opts)
		var mod model
		mustSave(t, w, &mod, mkHS(1, 1, 0), mkEnts(1, 10, 1), true)
		mustSave(t, w, &mod, mkHS(2, 2, 5), mkEnts(6, 8, 2), true) // replaces 6..10
		mustSave(t, w, &mod, nil, mkEnts(9, 9, 2), true)
		if len(mod.ents) != 9 || mod.ents[5].GetTerm() != 2 || mod.ents[4].GetTerm() != 1 {
			t.Fatalf("model is wrong: %v", span(mod.ents))
		}
		w.Close()
		w, st := mustOpen(t, opts)
		checkState(t, st, mod)

		mustSave(t, w, &mod, mkHS(3, 3, 0), mkEnts(1, 2, 3), true) // replaces everything
		mustSave(t, w, &mod, nil, mkEnts(3, 20, 3), true)
		mustSave(t, w, &mod, nil, mkEnts(15, 16, 4), true) // replaces 15..20
		w.Close()
		_, st = mustOpen(t, opts)
		checkState(t, st, mod)
		if st.Entries[0].GetTerm() != 3 || st.Entries[len(st.Entries)-1].GetIndex() != 16 {
			t.Fatalf("segment size %d: entries %s", segSize, span(st.Entries))
		}
	}
}

// A gap between entries cannot come from raft; replay refuses it.
func TestGapIsCorrupt(t *testing.T) {
	m := newMemFS()
	opts := memOpts(m, 1<<20)
	w, _ := mustOpen(t, opts)
	mustSave(t, w, nil, nil, mkEnts(1, 3, 1), true)
	mustSave(t, w, nil, nil, mkEnts(5, 6, 1), true)
	w.Close()
	if _, _, err := Open(testDir, opts); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open of a log with a gap: %v, want ErrCorrupt", err)
	}
}

func TestRollover(t *testing.T) {
	const segSize = 1024
	m := newMemFS()
	opts := memOpts(m, segSize)
	w, _ := mustOpen(t, opts)
	var mod model
	for next := uint64(1); next <= 300; {
		n := next%3 + 1
		mustSave(t, w, &mod, mkHS(1, 1, next-1), mkEnts(next, next+n-1, 1), true)
		next += n
	}
	names := w.Segments()
	if len(names) < 30 {
		t.Fatalf("only %d segments", len(names))
	}
	if got := m.names(testDir); !equalStrings(got, names) {
		t.Fatalf("files %v, Segments() %v", got, names)
	}
	for i, name := range names {
		seq, first, ok := parseSegName(name)
		if !ok || seq != uint64(i+1) {
			t.Fatalf("segment %d is named %s", i, name)
		}
		data := m.file(segPath(name))
		if len(data) != segSize {
			t.Fatalf("%s: size %d, want the preallocated %d", name, len(data), segSize)
		}
		rs := scan(data)
		if len(rs) == 0 || rs[0].typ != typeHeader {
			t.Fatalf("%s: no header", name)
		}
		// The first entry of a segment is at its firstIndex.
		for _, r := range rs {
			if r.typ == typeEntry {
				_, payload, _, _ := parseRecord(data[r.off:])
				e := &raftpb.Entry{}
				if err := proto.Unmarshal(payload, e); err != nil {
					t.Fatal(err)
				}
				if e.GetIndex() != first {
					t.Fatalf("%s: first entry %d", name, e.GetIndex())
				}
				break
			}
		}
		last := rs[len(rs)-1]
		if i < len(names)-1 {
			if last.typ != typeEnd {
				t.Fatalf("%s: full segment does not end with an end record (last type %d)", name, last.typ)
			}
			_, payload, _, _ := parseRecord(data[last.off:])
			if binary.BigEndian.Uint64(payload) != seq {
				t.Fatalf("%s: end record names segment %d", name, binary.BigEndian.Uint64(payload))
			}
		} else if last.typ == typeEnd {
			t.Fatalf("%s: the open segment has an end record", name)
		}
	}
	w.Close()
	w, st := mustOpen(t, opts)
	checkState(t, st, mod)
	if !equalStrings(w.Segments(), names) {
		t.Fatalf("reopen changed segments: %v", w.Segments())
	}
	// A batch larger than a whole segment still goes in (in a segment of its own).
	mustSave(t, w, &mod, mkHS(1, 1, 300), mkEnts(301, 320, 1), true)
	mustSave(t, w, &mod, nil, mkEnts(321, 321, 1), true)
	w.Close()
	_, st = mustOpen(t, opts)
	checkState(t, st, mod)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReleaseTo(t *testing.T) {
	m := newMemFS()
	opts := memOpts(m, 1024)
	w, _ := mustOpen(t, opts)
	var mod model
	for next := uint64(1); next <= 200; next += 2 {
		mustSave(t, w, &mod, mkHS(1, 1, next+1), mkEnts(next, next+1, 1), true)
	}
	firsts := func() []uint64 {
		var out []uint64
		for _, n := range w.Segments() {
			_, f, _ := parseSegName(n)
			out = append(out, f)
		}
		return out
	}
	for _, idx := range []uint64{0, 5, 40, 41, 42, 99, 150} {
		before := firsts()
		if err := w.SaveSnapshot(idx, 1); err != nil {
			t.Fatal(err)
		}
		mod.snapshot(idx, 1)
		if err := w.ReleaseTo(idx); err != nil {
			t.Fatal(err)
		}
		after := firsts()
		removed := len(before) - len(after)
		if removed < 0 || !equalU64(before[removed:], after) {
			t.Fatalf("ReleaseTo(%d): segments %v -> %v", idx, before, after)
		}
		// Exactly the segments whose successor starts at or below idx+1 went.
		for i := 0; i+1 < len(before); i++ {
			if gone := i < removed; gone != (before[i+1] <= idx+1) {
				t.Fatalf("ReleaseTo(%d): segment with entries [%d,%d) removed=%v", idx, before[i], before[i+1], gone)
			}
		}
		if got := m.names(testDir); !equalStrings(got, w.Segments()) {
			t.Fatalf("files %v, Segments() %v", got, w.Segments())
		}
		// Reopen: the entries start later but reach the end; HardState and
		// snapshot mark survive.
		w.Close()
		var st *State
		w, st = mustOpen(t, opts)
		if len(st.Entries) == 0 || st.Entries[0].GetIndex() > idx+1 || st.Entries[0].GetIndex() != after[0] {
			t.Fatalf("ReleaseTo(%d): entries %s after reopen, segments start at %v", idx, span(st.Entries), after)
		}
		want := mod.clone()
		want.ents = want.ents[st.Entries[0].GetIndex()-1:]
		checkState(t, st, want)
	}
	// The open segment is never removed, whatever the index.
	if err := w.ReleaseTo(math.MaxUint64); err != nil {
		t.Fatal(err)
	}
	segs := w.Segments()
	if len(segs) != 1 {
		t.Fatalf("ReleaseTo(max) left %v", segs)
	}
	mustSave(t, w, &mod, mkHS(1, 1, 202), mkEnts(201, 202, 1), true)
	w.Close()
	_, st := mustOpen(t, opts)
	if st.Entries[len(st.Entries)-1].GetIndex() != 202 {
		t.Fatalf("entries %s", span(st.Entries))
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ReleaseTo must never delete the only copy of the newest HardState (term
// and vote: losing them lets the node vote twice in a term) or of the newest
// snapshot mark, even if the segment holding it holds only old entries.
func TestReleaseKeepsHardStateAndSnapshot(t *testing.T) {
	t.Run("hardstate", func(t *testing.T) {
		m := newMemFS()
		opts := memOpts(m, 2048)
		w, _ := mustOpen(t, opts)
		var mod model
		mustSave(t, w, &mod, mkHS(5, 2, 20), mkEnts(1, 20, 5), true)
		// A leader cut off from its quorum keeps appending; the commit index
		// (and so the HardState) does not change.
		for next := uint64(21); next <= 200; next += 4 {
			mustSave(t, w, &mod, nil, mkEnts(next, next+3, 5), true)
		}
		if err := w.SaveSnapshot(20, 5); err != nil {
			t.Fatal(err)
		}
		mod.snapshot(20, 5)
		if err := w.ReleaseTo(20); err != nil {
			t.Fatal(err)
		}
		w.Close()
		_, st := mustOpen(t, opts)
		if !proto.Equal(st.HardState, mod.hs) {
			t.Fatalf("hard state %v, want %v", st.HardState, mod.hs)
		}
	})
	t.Run("snapshot", func(t *testing.T) {
		// The mark lands at the end of a segment whose successor starts
		// right after the snapshot index, for some number of batches
		// before it.
		for c := uint64(1); c <= 12; c++ {
			m := newMemFS()
			opts := memOpts(m, 1024)
			w, _ := mustOpen(t, opts)
			var mod model
			for i := uint64(1); i <= c; i++ {
				mustSave(t, w, &mod, mkHS(1, 1, i), mkEnts(i, i, 1), true)
			}
			if err := w.SaveSnapshot(c, 1); err != nil {
				t.Fatal(err)
			}
			mod.snapshot(c, 1)
			for i := c + 1; i <= c+12; i++ {
				mustSave(t, w, &mod, mkHS(1, 1, i), mkEnts(i, i, 1), true)
			}
			if err := w.ReleaseTo(c); err != nil {
				t.Fatal(err)
			}
			w.Close()
			_, st := mustOpen(t, opts)
			if st.Snapshot != mod.snap || !proto.Equal(st.HardState, mod.hs) {
				t.Fatalf("%d batches: snapshot %+v, hard state %v; want %+v, %v", c, st.Snapshot, st.HardState, mod.snap, mod.hs)
			}
		}
	})
	t.Run("randomized", func(t *testing.T) {
		for seed := uint64(0); seed < 20; seed++ {
			releaseRandomized(t, seed)
		}
	})
}

func releaseRandomized(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	m := newMemFS()
	opts := memOpts(m, 600+int64(r.IntN(1500)))
	w, _ := mustOpen(t, opts)
	var mod model
	term := uint64(1)
	released := uint64(0)
	for step := 0; step < 300; step++ {
		switch k := r.IntN(10); {
		case k < 6: // append, sometimes with a HardState
			var hs *raftpb.HardState
			if r.IntN(4) == 0 {
				hs = mkHS(term, 1, mod.lastIndex())
			}
			first := mod.lastIndex() + 1
			if r.IntN(15) == 0 && first > released+3 { // a new leader overwrites an uncommitted tail
				term++
				first -= uint64(r.IntN(3) + 1)
				hs = mkHS(term, 2, first-1)
			}
			mustSave(t, w, &mod, hs, mkEnts(first, first+uint64(r.IntN(4)), term), true)
		case k < 7:
			mustSave(t, w, &mod, mkHS(term, 1, mod.lastIndex()), nil, r.IntN(2) == 0)
		case k < 8: // snapshot at the last index and release
			idx := mod.lastIndex()
			if err := w.SaveSnapshot(idx, term); err != nil {
				t.Fatal(err)
			}
			mod.snapshot(idx, term)
			if err := w.ReleaseTo(idx); err != nil {
				t.Fatal(err)
			}
			released = idx
		default:
			w.Close()
			var st *State
			w, st = mustOpen(t, opts)
			// Everything newer than the release point is there; older
			// entries may have gone with their segments.
			want := mod.clone()
			if len(st.Entries) == 0 && mod.lastIndex() <= released {
				want.ents = nil
			} else if len(st.Entries) > 0 {
				if st.Entries[0].GetIndex() > released+1 {
					t.Fatalf("seed %d step %d: entries %s, released to %d", seed, step, span(st.Entries), released)
				}
				if f := mod.ents[0].GetIndex(); st.Entries[0].GetIndex() >= f {
					want.ents = want.ents[st.Entries[0].GetIndex()-f:]
				}
			}
			if d := diffState(st, want); d != "" {
				t.Fatalf("seed %d step %d (released to %d, segments %v): %s", seed, step, released, w.Segments(), d)
			}
		}
	}
	w.Close()
}

func TestSnapshotMark(t *testing.T) {
	m := newMemFS()
	opts := memOpts(m, 1<<20)
	w, st := mustOpen(t, opts)
	if st.Snapshot != (SnapshotMark{}) {
		t.Fatalf("fresh log has snapshot %+v", st.Snapshot)
	}
	var mod model
	mustSave(t, w, &mod, mkHS(1, 1, 5), mkEnts(1, 5, 1), true)
	syncs, _, _ := m.counts()
	if err := w.SaveSnapshot(5, 1); err != nil {
		t.Fatal(err)
	}
	mod.snapshot(5, 1)
	if s, _, _ := m.counts(); s != syncs+1 {
		t.Fatalf("SaveSnapshot made %d fsyncs, want 1", s-syncs)
	}
	m.Crash() // the mark is durable when SaveSnapshot returns
	w, st = mustOpen(t, opts)
	checkState(t, st, mod)

	mustSave(t, w, &mod, mkHS(2, 1, 9), mkEnts(6, 9, 2), true)
	if err := w.SaveSnapshot(9, 2); err != nil {
		t.Fatal(err)
	}
	mod.snapshot(9, 2)
	if err := w.SaveSnapshot(7, 2); err != nil { // an older one does not win
		t.Fatal(err)
	}
	w.Close()
	_, st = mustOpen(t, opts)
	checkState(t, st, mod)
}

// The WAL on the real file system, with real fdatasync.
func TestOSFS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	opts := Options{SegmentSize: 4096, Logger: quietLogger()}
	w, _, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	var mod model
	for next := uint64(1); next <= 100; next += 5 {
		mustSave(t, w, &mod, mkHS(1, 1, next-1), mkEnts(next, next+4, 1), true)
	}
	if err := w.SaveSnapshot(50, 1); err != nil {
		t.Fatal(err)
	}
	mod.snapshot(50, 1)
	if len(w.Segments()) < 3 {
		t.Fatalf("segments %v", w.Segments())
	}
	for _, n := range w.Segments() {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil || fi.Size() != 4096 {
			t.Fatalf("%s: %v, size %d", n, err, fi.Size())
		}
	}
	w.Close()
	w, st, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkState(t, st, mod)

	// A torn tail on a real file: append garbage after the last batch.
	last := filepath.Join(dir, w.Segments()[len(w.Segments())-1])
	off := w.off
	w.Close()
	f, err := os.OpenFile(last, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(appendRecord(nil, typeEntry, []byte("torn"))[:11], off); err != nil {
		t.Fatal(err)
	}
	f.Close()
	w, st, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkState(t, st, mod)
	if !st.Repaired {
		t.Fatal("torn tail not reported")
	}
	if fi, _ := os.Stat(last); fi.Size() != 4096 {
		t.Fatalf("repaired segment has size %d", fi.Size())
	}
	w.Close()
}

// Syncs and Segments may be read (for metrics) while the raft loop saves.
func TestConcurrentReaders(t *testing.T) {
	m := newMemFS()
	w, _ := mustOpen(t, memOpts(m, 2048))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for next := uint64(1); next <= 100; next += 2 {
			if err := w.Save(mkHS(1, 1, next), mkEnts(next, next+1, 1), true); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for {
		select {
		case <-done:
			if w.Syncs() < 50 || len(w.Segments()) < 2 {
				t.Fatalf("%d syncs, segments %v", w.Syncs(), w.Segments())
			}
			w.Close()
			return
		default:
			_ = w.Syncs()
			_ = w.Segments()
		}
	}
}
