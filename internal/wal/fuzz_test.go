package wal

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// fuzzSeeds returns segment contents: a valid log, and damaged variants.
func fuzzSeeds(t testing.TB) [][]byte {
	m := newMemFS()
	opts := memOpts(m, 4096)
	w, _ := mustOpen(t, opts)
	mustSave(t, w, nil, mkHS(1, 1, 0), mkEnts(1, 2, 1), true)
	mustSave(t, w, nil, mkHS(1, 1, 2), nil, true)
	if err := w.SaveSnapshot(2, 1); err != nil {
		t.Fatal(err)
	}
	mustSave(t, w, nil, mkHS(2, 1, 2), mkEnts(2, 3, 2), true)
	end := int(w.off)
	mustSave(t, w, nil, nil, mkEnts(4, 4, 2), false)
	w.Close()
	full := m.file(segPath(w.Segments()[0]))
	valid := append([]byte(nil), full[:end]...)
	torn := append([]byte(nil), full[:int(w.off)-5]...)
	flipped := append([]byte(nil), valid...)
	flipped[100] ^= 4
	ended := appendRecord(append([]byte(nil), valid...), typeEnd, u64(1))
	return [][]byte{valid, torn, flipped, ended, full[:200], nil, make([]byte, 64)}
}

// FuzzOpen opens a log whose single segment holds arbitrary bytes (raw, or
// after a valid header). Open must not panic; if it succeeds, the recovered
// entries are contiguous, and the log takes a new batch that a reopen
// after a crash returns.
func FuzzOpen(f *testing.F) {
	hdr := appendRecord(nil, typeHeader, append([]byte(magic), u64(1, 1)...))
	for _, s := range fuzzSeeds(f) {
		f.Add(s, false)
		if len(s) >= len(hdr) {
			f.Add(s[len(hdr):], true)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, withHeader bool) {
		if withHeader {
			data = append(append([]byte(nil), hdr...), data...)
		}
		m := newMemFS()
		m.MkdirAll(testDir, 0o755)
		m.setFile(segPath(segName(1, 1)), data)
		opts := memOpts(m, 1024)
		w, st, err := Open(testDir, opts)
		if err != nil {
			return
		}
		for i := 1; i < len(st.Entries); i++ {
			if st.Entries[i].GetIndex() != st.Entries[i-1].GetIndex()+1 {
				t.Fatalf("entries not contiguous: %d after %d", st.Entries[i].GetIndex(), st.Entries[i-1].GetIndex())
			}
		}
		if w.batch > 1<<62 || (len(st.Entries) > 0 && st.Entries[len(st.Entries)-1].GetIndex() > 1<<62) {
			return // counters near overflow: not reachable by a real log
		}
		next := uint64(1)
		if n := len(st.Entries); n > 0 {
			next = st.Entries[n-1].GetIndex() + 1
		}
		hs := mkHS(7, 1, next)
		e := &raftpb.Entry{Term: proto.Uint64(7), Index: proto.Uint64(next), Data: []byte("fuzz")}
		if err := w.Save(hs, []*raftpb.Entry{e}, true); err != nil {
			t.Fatalf("Save after a successful Open: %v", err)
		}
		m.Crash()
		_, st2, err := Open(testDir, opts)
		if err != nil {
			t.Fatalf("reopen after Save: %v", err)
		}
		if st2.Repaired {
			t.Fatal("reopen repaired: the first Open left a torn tail behind")
		}
		if !proto.Equal(st2.HardState, hs) {
			t.Fatalf("hard state %v, want %v", st2.HardState, hs)
		}
		if n := len(st2.Entries); n != len(st.Entries)+1 || !proto.Equal(st2.Entries[n-1], e) {
			t.Fatalf("entries after reopen %s, before %s + %d", span(st2.Entries), span(st.Entries), next)
		}
		if st2.Snapshot != st.Snapshot {
			t.Fatalf("snapshot %+v, was %+v", st2.Snapshot, st.Snapshot)
		}
	})
}
