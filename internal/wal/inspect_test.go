package wal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// PurgeSegments (warren purge, offline or beside a running server) must,
// like ReleaseTo, keep the segments holding the newest HardState and
// snapshot mark.
func TestPurgeSegmentsKeepsHardState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	opts := Options{SegmentSize: 2048, Logger: quietLogger(), NoSync: true}
	w, _, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	var mod model
	mustSave(t, w, &mod, mkHS(5, 2, 20), mkEnts(1, 20, 5), true)
	for next := uint64(21); next <= 200; next += 4 { // no HardState change
		mustSave(t, w, &mod, nil, mkEnts(next, next+3, 5), true)
	}
	if err := w.SaveSnapshot(20, 5); err != nil {
		t.Fatal(err)
	}
	mod.snapshot(20, 5)
	w.Close()
	removed, err := PurgeSegments(dir, 20)
	if err != nil {
		t.Fatal(err)
	}
	_, st, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if st.Snapshot != mod.snap || st.HardState.GetTerm() != 5 || st.HardState.GetVote() != 2 {
		t.Fatalf("after purging %v: hard state %v, snapshot %+v", removed, st.HardState, st.Snapshot)
	}

	// Segments purged by the tool while the server runs: the server's own
	// ReleaseTo skips the files already gone.
	w, _, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	mustSave(t, w, &mod, mkHS(5, 2, 200), nil, true)
	for next := uint64(201); next <= 260; next += 4 {
		mustSave(t, w, &mod, nil, mkEnts(next, next+3, 5), true)
	}
	if err := w.SaveSnapshot(240, 5); err != nil {
		t.Fatal(err)
	}
	if removed, err := PurgeSegments(dir, 240); err != nil || len(removed) == 0 {
		t.Fatalf("PurgeSegments: %v, %v", removed, err)
	}
	if err := w.ReleaseTo(240); err != nil {
		t.Fatalf("ReleaseTo after PurgeSegments: %v", err)
	}
	names, _ := SegmentNames(dir)
	if !equalStrings(names, w.Segments()) {
		t.Fatalf("files %v, Segments() %v", names, w.Segments())
	}
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	w.Close()
}
