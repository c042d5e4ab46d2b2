package wal

import (
	"testing"
)

// A segment is filled with written zeros a chunk ahead of the write offset,
// never past the segment size, and the zeros never reach committed data
// (also after recovery reopens a segment in its middle).
func TestZeroFillAhead(t *testing.T) {
	for _, tc := range []struct {
		name    string
		segSize int64
	}{
		{"several chunks per segment", 4 * zeroChunk},
		{"segment not a multiple of the chunk", zeroChunk + zeroChunk/3},
		{"segment smaller than a chunk", zeroChunk / 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemFS()
			opts := memOpts(m, tc.segSize)
			w, _ := mustOpen(t, opts)
			var mod model
			check := func(when string) {
				t.Helper()
				segs := w.Segments()
				got := m.wrote(segPath(segs[len(segs)-1]))
				if got < w.off {
					t.Fatalf("%s: written up to %d, below the write offset %d", when, got, w.off)
				}
				if got > tc.segSize {
					t.Fatalf("%s: written up to %d, past the segment size %d", when, got, tc.segSize)
				}
				if want := min(tc.segSize, (w.off+zeroChunk-1)/zeroChunk*zeroChunk); got < want {
					t.Fatalf("%s: written up to %d, want at least %d (write offset %d)", when, got, want, w.off)
				}
				if got > w.off+zeroChunk {
					t.Fatalf("%s: written up to %d, more than a chunk ahead of the write offset %d", when, got, w.off)
				}
			}
			check("after open")
			next := uint64(1)
			save := func(n uint64) {
				for end := next + n; next < end; next += 10 {
					mustSave(t, w, &mod, mkHS(1, 1, next), mkEnts(next, next+9, 1), true)
					check("after a save")
				}
			}
			save(4000) // ~500 KiB of records: rolls small segments over
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			w, st := mustOpen(t, opts)
			checkState(t, st, mod)
			check("after reopening")
			save(2000)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			m.Crash()
			_, st = mustOpen(t, opts)
			checkState(t, st, mod)
		})
	}
}
