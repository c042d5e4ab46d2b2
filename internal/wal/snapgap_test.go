package wal

import "testing"

// A follower far behind installs a snapshot from the leader whose index lies past the end of
// its log, then appends the entries that follow it. Replay must accept the jump (found by
// tests/robustness: such a member could never restart, "entry N after M: gap").
func TestSnapshotPastTheEndOfTheLog(t *testing.T) {
	m := newMemFS()
	opts := memOpts(m, 1<<20)
	w, _ := mustOpen(t, opts)
	mustSave(t, w, nil, mkHS(1, 1, 5), mkEnts(1, 5, 1), true)
	mustSave(t, w, nil, mkHS(2, 1, 20), nil, true)
	if err := w.SaveSnapshot(20, 2); err != nil {
		t.Fatal(err)
	}
	mustSave(t, w, nil, mkHS(2, 1, 22), mkEnts(21, 25, 2), true)
	w.Close()
	w, st := mustOpen(t, opts)
	defer w.Close()
	if st.Snapshot != (SnapshotMark{Index: 20, Term: 2}) {
		t.Fatalf("snapshot mark %+v", st.Snapshot)
	}
	if len(st.Entries) != 5 || st.Entries[0].GetIndex() != 21 || st.Entries[4].GetIndex() != 25 {
		t.Fatalf("entries %s, want 21..25", span(st.Entries))
	}
	// A gap that no snapshot explains is still corruption (TestGapIsCorrupt).
}
