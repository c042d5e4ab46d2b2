package server

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Heap headroom. Go's default (GOGC=100) lets the heap grow to twice the
// live heap before collecting; Warren's live heap is mostly the tree, so a
// server holding a large tree would carry about as much garbage again as
// resident memory. TuneGC bounds the growth for large heaps instead:
// GOGC = 100 × gcHeadroom / live heap, between gcMinPercent and 100. Below
// gcHeadroom of live heap nothing changes; from 256 MiB live up the heap
// grows by half the live heap between collections instead of all of it.
// The cost is marking a large heap twice as often under write load.
// (Measured with 1M znodes of 100 bytes, 420 MiB live: resident memory
// after the load 718-721 MiB instead of 831-860 MiB, with no throughput
// difference beyond the noise; a 25% floor gave 616-650 MiB but cost
// about a fifth of the load and set throughput.)
const (
	gcHeadroom   = 128 << 20
	gcMinPercent = 50
	gcMaxPercent = 100
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
