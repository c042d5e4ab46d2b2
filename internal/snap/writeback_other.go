//go:build !linux

package snap

import (
	"os"
	"syscall"
)

func startWrite(f *os.File, off, n int64) error  { return syscall.ENOSYS }
func waitWritten(f *os.File, off, n int64) error { return syscall.ENOSYS }
