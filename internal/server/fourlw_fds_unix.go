//go:build unix

package server

import (
	"math"
	"syscall"
)

// maxFDs is RLIMIT_NOFILE's soft limit (mntr's
// zk_max_file_descriptor_count).
func maxFDs() int64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return -1
	}
	if uint64(rl.Cur) > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(rl.Cur)
}
