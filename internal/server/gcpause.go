package server

import (
	"runtime/debug"
	"sync"
)

// Recovery pauses garbage collection: loading a snapshot and replaying the
// log allocate the tree and little garbage, and collecting while the heap
// grows would mark the same nodes again and again (about a third of the CPU
// time of loading a large tree). The pause is counted per process, since
// tests run several servers in one.
var gcPause struct {
	mu     sync.Mutex
	n      int
	before int
}

// pauseGC turns garbage collection off until the matching resume.
func pauseGC() (resume func()) {
	gcPause.mu.Lock()
	if gcPause.n == 0 {
		gcPause.before = debug.SetGCPercent(-1)
	}
	gcPause.n++
	gcPause.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			gcPause.mu.Lock()
			gcPause.n--
			if gcPause.n == 0 {
				debug.SetGCPercent(gcPause.before)
			}
			gcPause.mu.Unlock()
		})
	}
}
