package snap

import "os"

// writebackStep is how many bytes of a snapshot are written before the
// kernel is asked to start writing them to disk (see doc.go).
const writebackStep = 8 << 20

// writeback writes to f and, every writebackStep bytes, starts the disk
// write of the bytes just written and waits for the step before them. A
// snapshot then never holds more than two steps of dirty pages, and its
// final fsync has little left to do: without it the whole file (hundreds of
// megabytes at a million znodes) reaches the disk in that fsync, and every
// fdatasync of the write-ahead log on the same file system waits behind it.
type writeback struct {
	f        *os.File
	off      int64 // bytes written
	started  int64 // bytes whose disk write was started
	finished int64 // bytes waited for
}

func (w *writeback) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if err == nil && w.off-w.started >= writebackStep {
		// Advice only: a file system without it still gets the final fsync.
		if startWrite(w.f, w.started, w.off-w.started) == nil && w.started > w.finished {
			waitWritten(w.f, w.finished, w.started-w.finished)
			w.finished = w.started
		}
		w.started = w.off
	}
	return n, err
}
