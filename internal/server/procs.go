package server

import (
	"os"
	"runtime"
)

// minProcs is the fewest Ps (GOMAXPROCS) a server runs with. Go gives a
// process one P per CPU it may use (its affinity mask or cgroup CPU limit). A
// goroutine in a blocking system call keeps its P until the runtime's
// monitor takes it back, which can take up to milliseconds when the monitor
// has been idle: with a single P, every WAL fdatasync (0.1-0.5 ms) could
// stop the whole server, and group commit found nothing to group. Measured
// with a standalone server on one CPU (taskset -c 1) and `warren bench
// -workload set` (64 sessions, 100-byte values) on the other, three runs
// each: 6.5k, 14.8k and 7.8k sets/s with GOMAXPROCS=1, 39.2k, 36.6k and
// 35.7k with 2 (p99 4.5-4.9 ms instead of 21-22 ms), 35.5k-40.9k with 3
// (p99 6.4-6.9 ms). With two Ps the other P keeps serving while one thread
// waits for the disk; the kernel shares the CPU between them.
const minProcs = 2

// TuneProcs raises GOMAXPROCS to minProcs when it is lower, unless the
// GOMAXPROCS environment variable is set (the operator chose). It returns
// the value in effect. Servers run as processes call it.
func TuneProcs() int {
	n := runtime.GOMAXPROCS(0)
	if want := tunedProcs(n, os.Getenv("GOMAXPROCS")); want != n {
		runtime.GOMAXPROCS(want)
		return want
	}
	return n
}

// tunedProcs is the GOMAXPROCS for a process that has cur Ps and the
// GOMAXPROCS environment variable env.
func tunedProcs(cur int, env string) int {
	if env != "" {
		return cur
	}
	return max(cur, minProcs)
}
