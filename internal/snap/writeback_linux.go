package snap

import (
	"os"
	"syscall"
)

// startWrite starts writing the dirty pages of [off, off+n) without waiting.
func startWrite(f *os.File, off, n int64) error {
	return syscall.SyncFileRange(int(f.Fd()), off, n, 0x2 /* SYNC_FILE_RANGE_WRITE */)
}

// waitWritten waits until the pages of [off, off+n) are written (a range
// whose write was started before).
func waitWritten(f *os.File, off, n int64) error {
	const waitBefore, write, waitAfter = 0x1, 0x2, 0x4
	return syscall.SyncFileRange(int(f.Fd()), off, n, waitBefore|write|waitAfter)
}
