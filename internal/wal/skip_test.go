package wal

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// skipLog writes a log of several segments: batches of three entries, the
// HardState only in the first batch when hsOnce (so the newest HardState
// lives in the first segment), a snapshot mark at snapAt, and an overwrite
// of the last entries at term 2 when overwrite is set.
func skipLog(t *testing.T, m *memFS, hsOnce bool, snapAt uint64, overwrite bool) (model, Options) {
	t.Helper()
	opts := memOpts(m, 1400)
	w, _ := mustOpen(t, opts)
	var mod model
	next := uint64(1)
	for i := 0; i < 20; i++ {
		var hs *raftpb.HardState
		if i == 0 || !hsOnce {
			hs = mkHS(1, 1, next-1)
		}
		mustSave(t, w, &mod, hs, mkEnts(next, next+2, 1), true)
		next += 3
		if snapAt > 0 && next-1 >= snapAt && mod.snap.Index == 0 {
			if err := w.SaveSnapshot(snapAt, 1); err != nil {
				t.Fatal(err)
			}
			mod.snapshot(snapAt, 1)
		}
	}
	if overwrite {
		mustSave(t, w, &mod, nil, mkEnts(next-5, next-4, 2), true)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(w.Segments()); n < 4 {
		t.Fatalf("setup wrote %d segments, want several", n)
	}
	return mod, opts
}

// above returns the model with only the entries above skip.
func above(m model, skip uint64) model {
	m = m.clone()
	for len(m.ents) > 0 && m.ents[0].GetIndex() <= skip {
		m.ents = m.ents[1:]
	}
	return m
}

// Open with SkipThrough returns exactly the entries above it, the newest
// HardState and snapshot mark, and the bounds of the whole log, reading only
// the segments it needs.
func TestSkipThrough(t *testing.T) {
	for _, tc := range []struct {
		name      string
		hsOnce    bool
		snapAt    uint64
		overwrite bool
		skip      uint64
		wantSkip  bool // some segments are not read
	}{
		{"no skip", false, 0, false, 0, false},
		{"skip to the middle", false, 0, false, 30, true},
		{"skip to the end", false, 0, false, 60, true},
		{"skip past the end", false, 0, false, 100, true},
		{"hard state only in the first segment", true, 0, false, 45, true},
		{"snapshot mark early, skip late", false, 12, false, 50, true},
		{"overwrite at the end", false, 9, true, 40, true},
		{"skip inside the first segment", false, 0, false, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemFS()
			mod, opts := skipLog(t, m, tc.hsOnce, tc.snapAt, tc.overwrite)
			full, stFull := mustOpen(t, opts)
			full.Close()
			opts.SkipThrough = tc.skip
			w, st := mustOpen(t, opts)
			defer w.Close()
			checkState(t, st, above(mod, tc.skip))
			if st.FirstIndex > tc.skip+1 && st.LastIndex > tc.skip {
				t.Errorf("FirstIndex %d: the log must cover the index after the skip (%d)", st.FirstIndex, tc.skip+1)
			}
			if st.LastIndex != mod.lastIndex() || stFull.LastIndex != mod.lastIndex() || stFull.FirstIndex != 1 {
				t.Errorf("bounds: skipped [%d, %d], full [%d, %d], want last %d", st.FirstIndex, st.LastIndex, stFull.FirstIndex, stFull.LastIndex, mod.lastIndex())
			}
			total := len(full.Segments())
			if stFull.SegmentsRead != total {
				t.Errorf("without a skip %d of %d segments were read", stFull.SegmentsRead, total)
			}
			if got := st.SegmentsRead < total; got != tc.wantSkip {
				t.Errorf("read %d of %d segments, want skipping %v", st.SegmentsRead, total, tc.wantSkip)
			}
			// Appending after a skipped recovery continues the log, and a
			// full recovery afterwards sees everything.
			next := mod.lastIndex() + 1
			mustSave(t, w, &mod, mkHS(2, 1, next), mkEnts(next, next+1, 2), true)
			w.Close()
			opts.SkipThrough = 0
			w2, st2 := mustOpen(t, opts)
			defer w2.Close()
			checkState(t, st2, mod)
		})
	}
}

// Segments written before state was carried into each segment (header magic
// WRNWAL01) are always read in full.
func TestSkipThroughOldSegments(t *testing.T) {
	m := newMemFS()
	mod, opts := skipLog(t, m, true, 0, false)
	w, _ := mustOpen(t, opts)
	names := w.Segments()
	w.Close()
	for _, n := range names {
		data := m.file(segPath(n))
		rs := scan(data)
		if rs[0].typ != typeHeader {
			t.Fatalf("%s: no header", n)
		}
		_, payload, _, _ := parseRecord(data)
		old := appendRecord(nil, typeHeader, append([]byte(magicV1), payload[8:]...))
		if len(old) != rs[0].size {
			t.Fatalf("header size %d, want %d", len(old), rs[0].size)
		}
		copy(data, old)
		m.setFile(segPath(n), data)
	}
	opts.SkipThrough = 45
	w, st := mustOpen(t, opts)
	defer w.Close()
	if st.SegmentsRead != len(names) {
		t.Errorf("read %d of %d old-format segments", st.SegmentsRead, len(names))
	}
	checkState(t, st, above(mod, 45))
}

func TestPeekIndex(t *testing.T) {
	for _, e := range []*raftpb.Entry{
		{Index: proto.Uint64(0)},
		{Term: proto.Uint64(3), Index: proto.Uint64(1 << 40), Type: raftpb.EntryConfChange.Enum(), Data: []byte("x")},
		{Term: proto.Uint64(1), Index: proto.Uint64(7)},
		mkEnts(300, 300, 9)[0],
	} {
		b, err := proto.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := peekIndex(b)
		if e.Index != nil && (!ok || got != e.GetIndex()) {
			t.Errorf("%v: peekIndex = %d, %v", e, got, ok)
		}
	}
	for i, b := range [][]byte{nil, {0x22, 0x01, 0x00}, {0x18}, {0x18, 0x80}, {0x0a, 0x00}} {
		if v, ok := peekIndex(b); ok {
			t.Errorf("case %d (%x): peekIndex = %d, true; want false", i, b, v)
		}
	}
}

// A crash while the newest segment was being created can leave its header
// durable but not the batch carrying the log's state after it: recovery must
// then start at the segment before, or the HardState would be lost.
func TestSkipThroughTornCarriedState(t *testing.T) {
	m := newMemFS()
	mod, opts := skipLog(t, m, true, 0, false)
	// Cut one more segment holding only its header and carried state (as a
	// rollover does before writing the batch that caused it).
	w, _ := mustOpen(t, opts)
	next := mod.lastIndex() + 1
	if err := w.rollover(next); err != nil {
		t.Fatal(err)
	}
	names := w.Segments()
	w.Close()
	last := segPath(names[len(names)-1])
	data := m.file(last)
	rs := scan(data)
	if len(rs) < 3 || rs[1].typ != typeHardState {
		t.Fatalf("new segment does not start with carried state: %v", rs)
	}
	clear(data[rs[0].size:]) // the carried batch never reached the disk
	m.setFile(last, data)
	opts.SkipThrough = next - 1 // every entry is covered: skipping would start at the last segment
	w2, st := mustOpen(t, opts)
	defer w2.Close()
	checkState(t, st, above(mod, next-1))
	if st.SegmentsRead < 2 {
		t.Fatalf("read %d segments: the torn newest one cannot be the start", st.SegmentsRead)
	}
}
