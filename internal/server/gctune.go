package server

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Heap headroom: how much the heap may grow between collections. Go's
// default (GOGC=100) is as much as the live heap. TuneGC changes it at both
// ends:
//
//   - A small live heap gets at least gcMinHeadroom: with a few MiB live
//     (a server with a small tree under a write load) GOGC=100 meant a
//     collection every ~9 ms (185 in 8 s at 40k setData/s, 4 MiB live),
//     each with its marking, write barriers and assists. GOGC becomes
//     100 × gcMinHeadroom / live instead, so up to 64 MiB more resident
//     memory buys about one collection a second. (Measured, alternating
//     runs of warren bench on 2 CPUs: get 84-88k/s instead of 69-78k/s, p99
//     4.5-4.6 ms instead of 4.8-5.2 ms; set p99 4.0-4.5 ms instead of
//     4.6-5.1 ms, throughput within the noise.) The runtime's minimum heap
//     goal (4 MiB at GOGC=100) scales with GOGC, so GOGC is also capped at
//     100 × (live + gcMinHeadroom) / 4 MiB: uncapped, a live heap under
//     1 MiB got GOGC=6400 and a 256 MiB goal, and a server with a small
//     tree under write load reached 274 MiB resident (VmHWM) instead of
//     90 MiB, with no throughput to show for it (alternating warren bench
//     runs, set 32.2-40.7k/s against 34.8-37.9k/s capped; create p99
//     10.1-11.5 ms against 8.2-9.6 ms capped).
//   - A large live heap (mostly the tree) gets at most half of itself above
//     gcHeadroom: GOGC = 100 × gcHeadroom / live, at least gcMinPercent. A
//     server holding a large tree would otherwise carry about as much
//     garbage again as resident memory; the cost is marking a large heap
//     twice as often under write load. (Measured with 1M znodes of 100
//     bytes, 420 MiB live: resident memory after the load 718-721 MiB
//     instead of 831-860 MiB, with no throughput difference beyond the
//     noise; a 25% floor gave 616-650 MiB but cost about a fifth of the
//     load and set throughput.)
//
// Between gcMinHeadroom and gcHeadroom of live heap, GOGC stays 100.
const (
	gcMinHeadroom = 64 << 20
	gcHeadroom    = 128 << 20
	gcMinPercent  = 50
	gcMaxPercent  = 100
	// gcSmallLive bounds the live heap used for a small one (an empty
	// server has well under 1 MiB live; GOGC stays below 100 × 64).
	gcSmallLive = 1 << 20
	// goMinHeap is the Go runtime's minimum heap goal at GOGC=100
	// (runtime.defaultHeapMinimum); it scales with GOGC.
	goMinHeap = 4 << 20
)

var gcTuning atomic.Bool

// gcSentinel's finalizer runs once per garbage collection cycle. (It holds
// a pointer so it is not combined with other objects by the tiny
// allocator, whose blocks are freed late.)
type gcSentinel struct{ _ *int }

// TuneGC adjusts GOGC after every garbage collection as described above,
// for the rest of the process's life. It does nothing if the GOGC
// environment variable is set (the operator chose) or if it already runs.
// Servers run as processes call it; tests running many servers in one
// process need not.
func TuneGC() {
	if os.Getenv("GOGC") != "" || !gcTuning.CompareAndSwap(false, true) {
		return
	}
	armGCSentinel()
}

func armGCSentinel() {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		setTunedGCPercent(tunedGCPercent(liveHeap()))
		armGCSentinel()
	})
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// tunedGCPercent is the GOGC for a live heap of live bytes.
func tunedGCPercent(live uint64) int {
	if live < gcMinHeadroom {
		// The runtime never lets the heap goal fall below its minimum heap
		// (4 MiB) scaled by GOGC/100: cap GOGC so that the minimum is at most
		// live + gcMinHeadroom.
		return int(min(uint64(gcMinHeadroom)*100/max(live, gcSmallLive), (live+gcMinHeadroom)*100/goMinHeap))
	}
	if live <= gcHeadroom {
		return gcMaxPercent
	}
	return max(gcMinPercent, int(uint64(gcHeadroom)*100/live))
}

// setTunedGCPercent applies p, or, while recovery has collection paused
// (gcpause.go), makes p the value restored when it resumes.
func setTunedGCPercent(p int) {
	gcPause.mu.Lock()
	defer gcPause.mu.Unlock()
	if gcPause.n > 0 {
		gcPause.before = p
		return
	}
	debug.SetGCPercent(p)
}
