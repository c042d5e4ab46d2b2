//go:build !linux

package wal

import (
	"os"
	"syscall"
)

func fdatasync(f *os.File) error { return f.Sync() }

func fallocate(f *os.File, size int64) error { return syscall.ENOSYS }
