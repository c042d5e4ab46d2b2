package snap

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

// Bodies of every size around the write-back steps come back byte for byte,
// and the file on disk is the header, the body, the trailer and nothing else.
func TestSaveLoadRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, writebackStep - 1, writebackStep, 2*writebackStep + 12345, 5 * writebackStep} {
		body := make([]byte, size)
		for i := range body {
			body[i] = byte(rng.Uint32())
		}
		dir := t.TempDir()
		m, err := Save(dir, 42, 7, func(w io.Writer) error {
			// Uneven writes, as a snapshot encoder makes them.
			for b := body; len(b) > 0; {
				n := min(len(b), 1+rng.IntN(300000))
				if _, err := w.Write(b[:n]); err != nil {
					return err
				}
				b = b[n:]
			}
			return nil
		})
		if err != nil {
			t.Fatalf("size %d: Save: %v", size, err)
		}
		if want := int64(24 + size + 8); m.Size != want {
			t.Fatalf("size %d: file is %d bytes, want %d", size, m.Size, want)
		}
		var got []byte
		if _, err := Load(m.Path, func(r io.Reader) error {
			got, err = io.ReadAll(r)
			return err
		}); err != nil {
			t.Fatalf("size %d: Load: %v", size, err)
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("size %d: the body read back differs", size)
		}
		if left := RemoveTemp(dir); len(left) != 0 {
			t.Fatalf("size %d: temporary files left: %v", size, left)
		}
		os.RemoveAll(dir)
	}
}

// The write-back wrapper starts the disk write of each step once it is
// written and waits for the step before it, never for bytes it did not start.
func TestWritebackSteps(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		writes                    []int
		wantStarted, wantFinished int64
	}{
		{"less than a step", []int{writebackStep - 1}, 0, 0},
		{"one step", []int{writebackStep}, writebackStep, 0},
		{"two steps in small writes", repeat(1<<20, 16), 2 * writebackStep, writebackStep},
		{"one big write", []int{3*writebackStep + 5}, 3*writebackStep + 5, 0},
		{"three and a half steps", repeat(writebackStep/2, 7), 3 * writebackStep, 2 * writebackStep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Create(t.TempDir() + "/f")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w := &writeback{f: f}
			var total int64
			for _, n := range tc.writes {
				if _, err := w.Write(make([]byte, n)); err != nil {
					t.Fatal(err)
				}
				total += int64(n)
				if w.finished > w.started || w.started > w.off {
					t.Fatalf("after %d bytes: finished %d, started %d, written %d", total, w.finished, w.started, w.off)
				}
			}
			if w.off != total || w.started != tc.wantStarted || w.finished != tc.wantFinished {
				t.Fatalf("written %d, started %d, finished %d; want %d, %d, %d",
					w.off, w.started, w.finished, total, tc.wantStarted, tc.wantFinished)
			}
		})
	}
}

func repeat(n, times int) []int {
	out := make([]int, times)
	for i := range out {
		out[i] = n
	}
	return out
}
