package wal

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// tornSetup is a log with some committed batches followed by one unsynced
// batch whose bytes are at [start, end) of the last segment.
type tornSetup struct {
	opts       Options
	seg        string // path of the last segment
	committed  []byte // its durable content before the unsynced batch
	full       []byte // its content with the whole unsynced batch
	start, end int
	before     model // state without the unsynced batch
	after      model // state with it
	otherSegs  map[string][]byte
}

// newTornSetup writes nCommitted synced batches and one unsynced batch.
func newTornSetup(t *testing.T, segSize int64, nCommitted int) tornSetup {
	m := newMemFS()
	opts := memOpts(m, segSize)
	w, _ := mustOpen(t, opts)
	var mod model
	next := uint64(1)
	for i := 0; i < nCommitted; i++ {
		mustSave(t, w, &mod, mkHS(1, 1, next-1), mkEnts(next, next+2, 1), true)
		next += 3
	}
	before := mod.clone()
	segsBefore := w.Segments()
	mustSave(t, w, &mod, mkHS(1, 1, next-1), mkEnts(next, next+3, 1), false)
	segs := w.Segments()
	seg := segPath(segs[len(segs)-1])
	full := append([]byte(nil), m.file(seg)...)
	end := int(w.off)
	rs := scan(full)
	// The unsynced batch starts after the last commit record before it.
	start := -1
	for i := len(rs) - 2; i >= 0; i-- {
		if rs[i].typ == typeCommit || rs[i].typ == typeHeader {
			start = rs[i].off + rs[i].size
			break
		}
	}
	if start < 0 || rs[len(rs)-1].typ != typeCommit || rs[len(rs)-1].off+rs[len(rs)-1].size != end {
		t.Fatalf("setup: cannot find the unsynced batch in %v", rs)
	}
	// A new segment opens with its header and the carried state (one
	// batch); the rollover batch comes right after.
	if len(segsBefore) != len(segs) && (len(rs) < 2 || rs[1].typ != typeHardState || start != carriedEnd(rs)) {
		t.Fatalf("setup: a rollover batch is not first after the carried state in its segment: %v", rs)
	}
	committed := append([]byte(nil), full...)
	clear(committed[start:end])
	other := map[string][]byte{}
	for _, n := range segs[:len(segs)-1] {
		other[segPath(n)] = append([]byte(nil), m.file(segPath(n))...)
	}
	return tornSetup{opts, seg, committed, full, start, end, before, mod, other}
}

// carriedEnd is the offset after a segment's first commit record (the end
// of the state carried into it).
func carriedEnd(rs []rec) int {
	for _, r := range rs {
		if r.typ == typeCommit {
			return r.off + r.size
		}
	}
	return -1
}

// fs returns a file system holding the log with the last segment replaced.
func (s tornSetup) fs(last []byte) *memFS {
	m := newMemFS()
	m.MkdirAll(testDir, 0o755)
	for n, d := range s.otherSegs {
		m.setFile(n, d)
	}
	m.setFile(s.seg, last)
	return m
}

// The unsynced batch survives only as a prefix of its bytes, followed by
// zeros or garbage: Open must return exactly the committed state, repair the
// tail, and later appends must not resurrect stale bytes.
func TestTornTail(t *testing.T) {
	for _, tc := range []struct {
		name       string
		segSize    int64
		nCommitted int
	}{
		{"one segment", 2400, 3},
		{"first batch of a new segment", 1400, 3},
		{"first batch of the log", 2400, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTornSetup(t, tc.segSize, tc.nCommitted)
			if tc.name == "first batch of a new segment" && len(s.otherSegs) == 0 {
				t.Fatal("setup did not roll over")
			}
			// The batch is committed once its commit record's unpadded bytes are there.
			commitEnd := s.end - (padded(headerLen+8) - (headerLen + 8))
			r := rand.New(rand.NewPCG(1, 2))
			fillers := []struct {
				name string
				fill func([]byte)
			}{
				{"zeros", func(b []byte) {}},
				{"ones", func(b []byte) {
					for i := range b {
						b[i] = 0xff
					}
				}},
				{"random", func(b []byte) {
					for i := range b {
						b[i] = byte(r.Uint32())
					}
				}},
			}
			for k := 0; k <= s.end-s.start; k++ {
				for _, fl := range fillers {
					data := append([]byte(nil), s.committed...)
					copy(data[s.start:], s.full[s.start:s.start+k])
					fl.fill(data[s.start+k : s.end])
					name := fmt.Sprintf("%d of %d bytes, then %s", k, s.end-s.start, fl.name)
					checkTorn(t, s, data, s.start+k >= commitEnd, name)
				}
			}
		})
	}
}

func checkTorn(t *testing.T, s tornSetup, data []byte, complete bool, name string) {
	t.Helper()
	m := s.fs(data)
	opts := s.opts
	opts.FS = m
	w, st, err := Open(testDir, opts)
	if err != nil {
		t.Fatalf("%s: Open: %v", name, err)
	}
	want := s.before.clone()
	wantOff := s.start
	if complete {
		want = s.after.clone()
		wantOff = s.end
	}
	if d := diffState(st, want); d != "" {
		t.Fatalf("%s: %s", name, d)
	}
	if got := !allZero(data[wantOff:]); st.Repaired != got {
		t.Fatalf("%s: Repaired %v, want %v", name, st.Repaired, got)
	}
	if int(w.off) != wantOff {
		t.Fatalf("%s: appending at %d, want %d", name, w.off, wantOff)
	}
	// A short batch now, then a crash: the repair and the batch are
	// durable, and nothing of the torn batch comes back.
	next := want.lastIndex() + 1
	mustSave(t, w, &want, mkHS(2, 1, next-1), mkEnts(next, next, 2), true)
	m.Crash()
	w, st = mustOpen(t, opts)
	if d := diffState(st, want); d != "" {
		t.Fatalf("%s: after repair and Save: %s", name, d)
	}
	if st.Repaired {
		t.Fatalf("%s: second Open repaired again: stale bytes survived the repair", name)
	}
	w.Close()
}

// Unsynced records reach the disk in any order: a later record of the
// unfinished batch may be durable while an earlier one is not. With no
// commit record of that batch durable, it is a torn tail.
func TestTornOutOfOrder(t *testing.T) {
	s := newTornSetup(t, 8192, 2)
	rs := scan(s.full[s.start:s.end])
	if len(rs) < 5 || rs[len(rs)-1].typ != typeCommit {
		t.Fatalf("batch records %v", rs)
	}
	recs := rs[:len(rs)-1] // all but the commit record
	r := rand.New(rand.NewPCG(3, 4))
	for mask := 0; mask < 1<<len(recs); mask++ {
		for _, garbage := range []bool{false, true} {
			data := append([]byte(nil), s.committed...)
			for i, rc := range recs {
				dst := data[s.start+rc.off : s.start+rc.off+rc.size]
				switch {
				case mask&(1<<i) != 0:
					copy(dst, s.full[s.start+rc.off:])
				case garbage:
					for j := range dst {
						dst[j] = byte(r.Uint32())
					}
				}
			}
			// the commit record: torn (a prefix of it), or absent
			c := rs[len(rs)-1]
			copy(data[s.start+c.off:], s.full[s.start+c.off:s.start+c.off+mask%(headerLen+8)])
			checkTorn(t, s, data, false, fmt.Sprintf("records %b durable, garbage %v", mask, garbage))
		}
	}

	// A crash between two Saves where only the second one's records partly
	// reached the disk (the first's are lost or torn).
	m := newMemFS()
	opts := memOpts(m, 8192)
	w, _ := mustOpen(t, opts)
	var mod model
	mustSave(t, w, &mod, mkHS(1, 1, 0), mkEnts(1, 3, 1), true)
	durable := mod.clone()
	off1 := int(w.off)
	mustSave(t, w, nil, mkHS(1, 1, 3), mkEnts(4, 6, 1), false)
	off2 := int(w.off)
	mustSave(t, w, nil, nil, mkEnts(7, 9, 1), false)
	rs2 := scan(m.file(segPath(w.Segments()[0]))[off2:])
	m.CrashWith(func(name string, dur, written []byte) []byte {
		out := append([]byte(nil), dur...)
		// The second Save's entries are durable, its commit record and
		// the whole first Save are not.
		copy(out[off2:], written[off2:off2+rs2[len(rs2)-2].off+rs2[len(rs2)-2].size])
		_ = off1
		return out
	})
	w, st := mustOpen(t, opts)
	checkState(t, st, durable)
	if !st.Repaired {
		t.Fatal("torn tail not reported")
	}
	w.Close()
}

// The format cannot tell an unsynced batch whose commit record reached the
// disk before its other records from committed data damaged later: a valid
// commit record after the damage makes Open refuse, never guess.
func TestTornWithDurableCommitIsRefused(t *testing.T) {
	s := newTornSetup(t, 8192, 2)
	data := append([]byte(nil), s.full...)
	clear(data[s.start : s.start+8]) // the batch's first record is torn
	m := s.fs(data)
	opts := s.opts
	opts.FS = m
	_, _, err := Open(testDir, opts)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
}

// A bit flip in committed data followed by later committed batches is
// refused, naming the file and the offset of the damaged record.
func TestBitFlip(t *testing.T) {
	t.Run("last segment", func(t *testing.T) {
		m := newMemFS()
		opts := memOpts(m, 1<<16)
		w, _ := mustOpen(t, opts)
		for next := uint64(1); next <= 12; next += 2 {
			mustSave(t, w, nil, mkHS(1, 1, next), mkEnts(next, next+1, 1), true)
		}
		if err := w.SaveSnapshot(3, 1); err != nil {
			t.Fatal(err)
		}
		mustSave(t, w, nil, mkHS(1, 1, 13), nil, true)
		w.Close()
		seg := segPath(w.Segments()[0])
		flipEach(t, m, opts, seg, false)
	})
	t.Run("earlier segment", func(t *testing.T) {
		m := newMemFS()
		opts := memOpts(m, 1024)
		w, _ := mustOpen(t, opts)
		for next := uint64(1); next <= 40; next += 2 {
			mustSave(t, w, nil, mkHS(1, 1, next), mkEnts(next, next+1, 1), true)
		}
		w.Close()
		if len(w.Segments()) < 3 {
			t.Fatalf("segments %v", w.Segments())
		}
		for _, n := range w.Segments()[:2] {
			flipEach(t, m, opts, segPath(n), true)
		}
	})
}

// flipEach flips one bit in every checksummed byte of seg's committed
// records (all but the last commit record of the log) and expects Open to
// refuse.
func flipEach(t *testing.T, m *memFS, opts Options, seg string, full bool) {
	t.Helper()
	orig := append([]byte(nil), m.file(seg)...)
	rs := scan(orig)
	if !full {
		rs = rs[:len(rs)-1] // damage to the very last commit record looks like a torn tail
	}
	n := 0
	for _, rc := range rs {
		for i := rc.off; i < rc.end; i++ {
			data := append([]byte(nil), orig...)
			data[i] ^= 1 << (i % 8)
			m.setFile(seg, data)
			_, _, err := Open(testDir, opts)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s: bit flip at %d (record type %d at %d): Open: %v, want ErrCorrupt", seg, i, rc.typ, rc.off, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, seg) {
				t.Fatalf("bit flip at %d: error does not name the file: %v", i, err)
			}
			if rc.typ != typeHeader && !strings.Contains(msg, fmt.Sprintf("offset %d:", rc.off)) {
				t.Fatalf("bit flip at %d: error does not name offset %d: %v", i, rc.off, err)
			}
			n++
		}
	}
	m.setFile(seg, orig)
	if _, _, err := Open(testDir, opts); err != nil {
		t.Fatalf("undamaged log: %v", err)
	}
	if n < 100 {
		t.Fatalf("only %d flips", n)
	}
}

func TestMissingSegment(t *testing.T) {
	m := newMemFS()
	opts := memOpts(m, 1024)
	w, _ := mustOpen(t, opts)
	for next := uint64(1); next <= 40; next += 2 {
		mustSave(t, w, nil, mkHS(1, 1, next), mkEnts(next, next+1, 1), true)
	}
	w.Close()
	segs := w.Segments()
	if len(segs) < 4 {
		t.Fatalf("segments %v", segs)
	}
	m.remove(segPath(segs[2]))
	_, _, err := Open(testDir, opts)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), segs[3]) || !strings.Contains(err.Error(), segs[1]) {
		t.Fatalf("Open with a missing segment: %v", err)
	}
}

// A crash right after creating a segment leaves it all zeros (or empty):
// Open removes it and carries on with the segment before.
func TestEmptyLastSegment(t *testing.T) {
	for _, size := range []int{0, 1024} {
		m := newMemFS()
		opts := memOpts(m, 1024)
		w, _ := mustOpen(t, opts)
		var mod model
		for next := uint64(1); next <= 20; next += 2 {
			mustSave(t, w, &mod, mkHS(1, 1, next), mkEnts(next, next+1, 1), true)
		}
		w.Close()
		segs := w.Segments()
		last, _, _ := parseSegName(segs[len(segs)-1])
		empty := segPath(segName(last+1, 21))
		m.setFile(empty, make([]byte, size))
		w, st := mustOpen(t, opts)
		checkState(t, st, mod)
		if got := m.names(testDir); !equalStrings(got, segs) || !equalStrings(w.Segments(), segs) {
			t.Fatalf("size %d: files %v, Segments %v, want %v", size, got, w.Segments(), segs)
		}
		mustSave(t, w, &mod, nil, mkEnts(21, 30, 1), true)
		w.Close()
		_, st = mustOpen(t, opts)
		checkState(t, st, mod)
	}

	// The same from a real crash inside a rollover: the new segment's name
	// and preallocation reached the disk, its header did not.
	m := newMemFS()
	opts := memOpts(m, 1024)
	w, _ := mustOpen(t, opts)
	var mod model
	for next := uint64(1); next <= 10; next += 2 {
		mustSave(t, w, &mod, mkHS(1, 1, next), mkEnts(next, next+1, 1), true)
	}
	n := len(w.Segments())
	m.failOn(opSync, fmt.Sprintf("wal-%016x", n+1), 0, errEIO)
	for next := uint64(11); len(w.Segments()) == n; next += 2 {
		if err := w.Save(mkHS(1, 1, next), mkEnts(next, next+1, 1), true); err != nil {
			break
		}
		mod.save(mkHS(1, 1, next), mkEnts(next, next+1, 1))
	}
	m.CrashKeepNames(func(name string, durable, written []byte) []byte {
		if strings.Contains(name, fmt.Sprintf("wal-%016x", n+1)) {
			return make([]byte, len(written))
		}
		return durable
	})
	if len(m.names(testDir)) != n+1 {
		t.Fatalf("setup: files %v", m.names(testDir))
	}
	w, st := mustOpen(t, opts)
	checkState(t, st, mod)
	if len(w.Segments()) != n+1 {
		t.Fatalf("segments %v", w.Segments())
	}
	next := mod.lastIndex() + 1
	mustSave(t, w, &mod, nil, mkEnts(next, next, 1), true)
	m.Crash()
	_, st = mustOpen(t, opts)
	checkState(t, st, mod)
}

// The header write of a new segment torn by a crash (its name and size
// durable, a prefix of its header bytes written): the segment holds nothing
// and is removed like an all-zero one. With a valid commit record in it, it
// held committed data and is refused.
func TestTornHeaderLastSegment(t *testing.T) {
	m := newMemFS()
	opts := memOpts(m, 1024)
	w, _ := mustOpen(t, opts)
	var mod model
	for next := uint64(1); next <= 20; next += 2 {
		mustSave(t, w, &mod, mkHS(1, 1, next), mkEnts(next, next+1, 1), true)
	}
	w.Close()
	segs := w.Segments()
	last := segPath(segs[len(segs)-1])
	lastData := append([]byte(nil), m.file(last)...)
	rs := scan(lastData)
	hdr := lastData[:rs[0].size]
	for k := 1; k < rs[0].end; k++ {
		for _, withCommit := range []bool{false, true} {
			data := make([]byte, 1024)
			copy(data, hdr[:k])
			if withCommit {
				copy(data, lastData)
				copy(data, hdr[:k])
				clear(data[k:rs[0].size])
			}
			m.setFile(last, data)
			w, st, err := Open(testDir, opts)
			if withCommit {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%d header bytes, then committed data: Open: %v, want ErrCorrupt", k, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%d header bytes: Open: %v", k, err)
			}
			want := mod.clone()
			want.ents = want.ents[:int(mod.ents[len(mod.ents)-1].GetIndex())-countEntries(lastData)]
			if want.lastIndex() != 0 {
				// the state is that of the earlier segments
				checkEntriesPrefix(t, st, want)
			}
			if len(w.Segments()) != len(segs) {
				t.Fatalf("%d header bytes: segments %v", k, w.Segments())
			}
			w.Close()
			m.remove(segPath(w.Segments()[len(w.Segments())-1]))
		}
	}
}

func countEntries(seg []byte) int {
	n := 0
	for _, r := range scan(seg) {
		if r.typ == typeEntry {
			n++
		}
	}
	return n
}

func checkEntriesPrefix(t *testing.T, st *State, want model) {
	t.Helper()
	got := *st
	got.HardState, got.Snapshot = want.hs, want.snap
	checkState(t, &got, want)
}

// A crash between ending a segment and creating the next leaves the last
// segment ending with an end record: Open creates the next one.
func TestEndRecordWithoutNext(t *testing.T) {
	for _, op := range []string{opOpen, opSyncDir} {
		m := newMemFS()
		opts := memOpts(m, 1024)
		w, _ := mustOpen(t, opts)
		var mod model
		for next := uint64(1); next <= 10; next += 2 {
			mustSave(t, w, &mod, mkHS(1, 1, next), mkEnts(next, next+1, 1), true)
		}
		n := len(w.Segments())
		m.failOn(op, "", 0, errEIO)
		var err error
		for next := uint64(11); err == nil; next += 2 {
			if err = w.Save(mkHS(1, 1, next), mkEnts(next, next+1, 1), true); err == nil {
				mod.save(mkHS(1, 1, next), mkEnts(next, next+1, 1))
			}
		}
		m.Crash()
		if got := m.names(testDir); len(got) != n {
			t.Fatalf("%s: setup: files %v", op, got)
		}
		if rs := scan(m.file(segPath(w.Segments()[n-1]))); rs[len(rs)-1].typ != typeEnd {
			t.Fatalf("%s: setup: last segment does not end with an end record", op)
		}
		w, st := mustOpen(t, opts)
		checkState(t, st, mod)
		if len(w.Segments()) != n+1 || len(m.names(testDir)) != n+1 {
			t.Fatalf("%s: no new segment: %v", op, w.Segments())
		}
		next := mod.lastIndex() + 1
		mustSave(t, w, &mod, mkHS(1, 1, next), mkEnts(next, next+1, 1), true)
		m.Crash()
		w, st = mustOpen(t, opts)
		checkState(t, st, mod)
		w.Close()
	}
}

// Random crashes over a random workload, with random subsets of unsynced
// bytes surviving in page-sized pieces: every Open succeeds and returns every
// batch acknowledged as synced, plus possibly some later ones, as a prefix
// of the history. (A commit record surviving out of order, the case Open
// refuses, cannot happen within one page; pages here are 512 bytes.)
func TestRandomCrashes(t *testing.T) {
	for seed := uint64(0); seed < 40; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		m := newMemFS()
		opts := memOpts(m, 2048)
		w, _ := mustOpen(t, opts)
		var (
			history []model // state after each Save
			acked   int     // history[acked-1] is durable
			mod     model
		)
		for round := 0; round < 8; round++ {
			for i := 0; i < 1+r.IntN(6); i++ {
				next := mod.lastIndex() + 1
				if next > 3 && r.IntN(6) == 0 {
					next -= uint64(r.IntN(3))
				}
				sync := r.IntN(2) == 0
				var ents []*raftpb.Entry
				if r.IntN(5) > 0 {
					ents = mkEnts(next, next+uint64(r.IntN(3)), uint64(round+1))
				}
				mustSave(t, w, &mod, mkHS(uint64(round+1), 1, next-1), ents, sync)
				history = append(history, mod.clone())
				if sync {
					acked = len(history)
				}
			}
			// Crash keeping the durable bytes plus a random subset of
			// unsynced 512-byte pages, each torn to a random prefix.
			m.CrashWith(func(name string, durable, written []byte) []byte {
				out := append([]byte(nil), durable...)
				if len(out) < len(written) {
					out = append(out, make([]byte, len(written)-len(out))...)
				}
				// Only the first unsynced page may be partly written; a
				// later page only if every earlier one is whole.
				for p := 0; p < len(written); p += 512 {
					e := min(p+512, len(written))
					if string(out[p:e]) == string(written[p:e]) {
						continue
					}
					if r.IntN(3) == 0 {
						break
					}
					k := e
					if r.IntN(2) == 0 {
						k = p + r.IntN(e-p)
					}
					copy(out[p:k], written[p:k])
					if k < e {
						break
					}
				}
				return out
			})
			var st *State
			var err error
			w, st, err = Open(testDir, opts)
			if err != nil {
				t.Fatalf("seed %d round %d: Open: %v", seed, round, err)
			}
			found := -1
			for i := acked - 1; i < len(history); i++ {
				if i < 0 {
					if diffState(st, model{}) == "" {
						found = 0
					}
					continue
				}
				if diffState(st, history[i]) == "" {
					found = i + 1
				}
			}
			if found < 0 {
				t.Fatalf("seed %d round %d: recovered state (%s, hs %v) is not in the history since the last sync (%d of %d)",
					seed, round, span(st.Entries), st.HardState, acked, len(history))
			}
			history = history[:found]
			acked = found
			if found > 0 {
				mod = history[found-1].clone()
			} else {
				mod = model{}
			}
		}
		w.Close()
	}
}
