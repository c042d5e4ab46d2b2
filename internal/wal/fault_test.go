package wal

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// A failed write, fdatasync or preallocation is returned once; from then on
// every Save and SaveSnapshot fails with ErrFailed without touching the
// disk (an fsync is never retried), and after a crash the log holds every
// batch acknowledged before the failure.
func TestWriteFailures(t *testing.T) {
	for _, tc := range []struct {
		op     string
		err    error
		short  int  // bytes written by a failing WriteAt
		rollov bool // fail during a rollover rather than a plain Save
	}{
		{op: opSync, err: syscall.EIO},
		{op: opSync, err: syscall.ENOSPC},
		{op: opWrite, err: syscall.EIO},
		{op: opWrite, err: syscall.ENOSPC, short: 37},
		{op: opWrite, err: syscall.ENOSPC, short: 37, rollov: true},
		{op: opSync, err: syscall.EIO, rollov: true},
		{op: opAllocate, err: syscall.ENOSPC, rollov: true},
		{op: opOpen, err: syscall.ENOSPC, rollov: true},
		{op: opSyncDir, err: syscall.EIO, rollov: true},
	} {
		name := fmt.Sprintf("%s %v short %d rollover %v", tc.op, tc.err, tc.short, tc.rollov)
		t.Run(name, func(t *testing.T) {
			m := newMemFS()
			opts := memOpts(m, 1024)
			if !tc.rollov {
				opts.SegmentSize = 1 << 20
			}
			w, _ := mustOpen(t, opts)
			var mod model
			next := uint64(1)
			for ; next <= 4; next += 2 {
				mustSave(t, w, &mod, mkHS(1, 1, next), mkEnts(next, next+1, 1), true)
			}
			n := len(w.Segments())
			m.setShort(tc.short)
			if tc.rollov && (tc.op == opSync || tc.op == opWrite) {
				// fail on the new segment, not the end record of the old
				m.failOn(tc.op, fmt.Sprintf("wal-%016x", n+1), 0, tc.err)
			} else {
				m.failOn(tc.op, "", 0, tc.err)
			}
			var err error
			for ; err == nil; next += 2 {
				if err = w.Save(mkHS(1, 1, next), mkEnts(next, next+1, 1), true); err == nil {
					mod.save(mkHS(1, 1, next), mkEnts(next, next+1, 1))
				}
				if next > 100 {
					t.Fatal("no failure injected")
				}
			}
			if !errors.Is(err, tc.err) || errors.Is(err, ErrFailed) {
				t.Fatalf("first failure: %v, want one wrapping %v", err, tc.err)
			}
			m.clearFaults() // the disk is fine again: still no retry
			syncs, dirSyncs, writes := m.counts()
			for i := 0; i < 3; i++ {
				if err := w.Save(mkHS(1, 1, next), mkEnts(next, next+1, 1), true); !errors.Is(err, ErrFailed) {
					t.Fatalf("Save after a failure: %v, want ErrFailed", err)
				}
				if err := w.Save(nil, mkEnts(next, next, 1), false); !errors.Is(err, ErrFailed) {
					t.Fatalf("unsynced Save after a failure: %v, want ErrFailed", err)
				}
				if err := w.SaveSnapshot(1, 1); !errors.Is(err, ErrFailed) {
					t.Fatalf("SaveSnapshot after a failure: %v, want ErrFailed", err)
				}
			}
			if s, d, wr := m.counts(); s != syncs || d != dirSyncs || wr != writes {
				t.Fatalf("after a failure: %d syncs, %d dir syncs, %d writes", s-syncs, d-dirSyncs, wr-writes)
			}
			w.Close()

			// After a crash, every acknowledged batch is there (the failed
			// one may or may not be).
			m.Crash()
			w, st := mustOpen(t, opts)
			if len(st.Entries) < len(mod.ents) {
				t.Fatalf("entries %s, acknowledged %s", span(st.Entries), span(mod.ents))
			}
			got := *st
			got.Entries = got.Entries[:len(mod.ents)]
			got.HardState = mod.hs
			if d := diffState(&got, mod); d != "" {
				t.Fatal(d)
			}
			last := st.Entries[len(st.Entries)-1].GetIndex()
			var after model
			after.save(st.HardState, st.Entries)
			mustSave(t, w, &after, mkHS(2, 1, last), mkEnts(last+1, last+1, 2), true)
			m.Crash()
			_, st = mustOpen(t, opts)
			checkState(t, st, after)
		})
	}
}

func TestSnapshotSyncFailure(t *testing.T) {
	m := newMemFS()
	opts := memOpts(m, 1<<20)
	w, _ := mustOpen(t, opts)
	mustSave(t, w, nil, mkHS(1, 1, 2), mkEnts(1, 2, 1), true)
	m.failOn(opSync, "", 0, syscall.EIO)
	if err := w.SaveSnapshot(2, 1); !errors.Is(err, syscall.EIO) {
		t.Fatalf("SaveSnapshot: %v", err)
	}
	m.clearFaults()
	if err := w.Save(nil, mkEnts(3, 3, 1), true); !errors.Is(err, ErrFailed) {
		t.Fatalf("Save after a failed SaveSnapshot: %v", err)
	}
}

// Failures while opening are reported, never panics, and leave the log
// openable once the disk recovers.
func TestOpenFailures(t *testing.T) {
	for _, op := range []string{opOpen, opTruncate, opAllocate, opSync, opRemove} {
		m := newMemFS()
		opts := memOpts(m, 4096)
		w, _ := mustOpen(t, opts)
		var mod model
		mustSave(t, w, &mod, mkHS(1, 1, 2), mkEnts(1, 2, 1), true)
		w.Close()
		// a torn tail (so that Open repairs) and an empty segment after it
		// (so that Open removes a file)
		seg := segPath(w.Segments()[0])
		data := append([]byte(nil), m.file(seg)...)
		copy(data[w.off:], appendRecord(nil, typeEntry, []byte("torn"))[:12])
		m.setFile(seg, data)
		m.setFile(segPath(segName(2, 3)), make([]byte, 4096))

		m.failOn(op, "", 0, syscall.EIO)
		if _, _, err := Open(testDir, opts); !errors.Is(err, syscall.EIO) {
			t.Fatalf("%s: Open: %v", op, err)
		}
		m.clearFaults()
		w, st := mustOpen(t, opts)
		checkState(t, st, mod)
		mustSave(t, w, &mod, nil, mkEnts(3, 3, 1), true)
		m.Crash()
		_, st = mustOpen(t, opts)
		checkState(t, st, mod)
	}
}

// A failed Remove in ReleaseTo is reported; the segments removed before it
// are forgotten, so a later ReleaseTo carries on instead of failing forever
// on a file that is gone.
func TestReleaseRemoveFailure(t *testing.T) {
	m := newMemFS()
	opts := memOpts(m, 1024)
	w, _ := mustOpen(t, opts)
	var mod model
	for next := uint64(1); next <= 60; next += 2 {
		mustSave(t, w, &mod, mkHS(1, 1, next), mkEnts(next, next+1, 1), true)
	}
	segs := w.Segments()
	if len(segs) < 5 {
		t.Fatalf("segments %v", segs)
	}
	m.failOn(opRemove, "", 2, syscall.EIO) // the third Remove fails
	if err := w.ReleaseTo(55); !errors.Is(err, syscall.EIO) {
		t.Fatalf("ReleaseTo: %v", err)
	}
	if got := m.names(testDir); !equalStrings(got, w.Segments()) {
		t.Fatalf("files %v, Segments() %v", got, w.Segments())
	}
	m.clearFaults()
	if err := w.ReleaseTo(55); err != nil {
		t.Fatalf("ReleaseTo after the disk recovered: %v", err)
	}
	if got := m.names(testDir); !equalStrings(got, w.Segments()) || len(got) >= len(segs)-2 {
		t.Fatalf("files %v, Segments() %v", got, w.Segments())
	}
	// Save keeps working: ReleaseTo errors do not fail the log.
	mustSave(t, w, &mod, mkHS(1, 1, 62), mkEnts(61, 62, 1), true)
	w.Close()
	_, st := mustOpen(t, opts)
	if st.Entries[len(st.Entries)-1].GetIndex() != 62 || !proto.Equal(st.HardState, mod.hs) {
		t.Fatalf("entries %s, hard state %v", span(st.Entries), st.HardState)
	}
}

// An entry too large for a record is refused by Save (replay would take it
// for damage and refuse the whole log); the log stays usable.
func TestSaveOversizedEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 128 MiB")
	}
	m := newMemFS()
	opts := memOpts(m, 1<<20)
	w, _ := mustOpen(t, opts)
	var mod model
	mustSave(t, w, &mod, mkHS(1, 1, 1), mkEnts(1, 1, 1), true)
	big := &raftpb.Entry{Term: proto.Uint64(1), Index: proto.Uint64(2), Data: make([]byte, maxRecord)}
	if err := w.Save(mkHS(1, 1, 2), []*raftpb.Entry{big}, true); err == nil || errors.Is(err, ErrFailed) {
		t.Fatalf("Save of a %d-byte entry: %v", maxRecord, err)
	}
	big = nil
	mustSave(t, w, &mod, mkHS(1, 1, 2), mkEnts(2, 2, 1), true)
	w.Close()
	_, st := mustOpen(t, opts)
	checkState(t, st, mod)
}
