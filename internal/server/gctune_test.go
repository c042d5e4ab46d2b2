package server

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestTunedGCPercent(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 1600},       // an empty server: the runtime's 4 MiB minimum × 16 = 64 MiB
		{1 << 20, 1625}, // small heaps get 64 MiB of headroom (the minimum heap capped)
		{4 << 20, 1600},
		{32 << 20, 200},
		{64 << 20, 100}, // from here on, as much as the live heap
		{100 << 20, 100},
		{128 << 20, 100},
		{200 << 20, 64},
		{256 << 20, 50},
		{512 << 20, 50},
		{4 << 30, 50},
	} {
		if got := tunedGCPercent(tc.live); got != tc.want {
			t.Errorf("tunedGCPercent(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}

// The runtime's heap goal under the tuned GOGC: a small live heap may grow
// by gcMinHeadroom, not by the runtime's minimum heap scaled by GOGC (which
// was 256 MiB for a live heap under 1 MiB).
func TestTunedGCGoal(t *testing.T) {
	runtime.GC()
	live := liveHeap()
	if live >= gcMinHeadroom {
		t.Skipf("the test binary has %d MiB live", live>>20)
	}
	old := debug.SetGCPercent(tunedGCPercent(live))
	defer debug.SetGCPercent(old)
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	goal := s[0].Value.Uint64()
	if goal > live+gcMinHeadroom+1<<20 || goal < gcMinHeadroom/2 {
		t.Errorf("heap goal %.1f MiB with %.1f MiB live, want about %d MiB more", float64(goal)/(1<<20), float64(live)/(1<<20), gcMinHeadroom>>20)
	}
}

// While recovery has collection paused, a tuned value waits for the resume.
func TestTunedGCPercentDuringPause(t *testing.T) {
	resume := pauseGC()
	setTunedGCPercent(42)
	gcPause.mu.Lock()
	before := gcPause.before
	gcPause.mu.Unlock()
	resume()
	if before != 42 {
		t.Fatalf("value to restore after the pause = %d, want 42", before)
	}
	if got := setGCPercentAndRead(100); got != 42 {
		t.Fatalf("GOGC after the pause = %d, want 42", got)
	}
}

func setGCPercentAndRead(p int) int { return debug.SetGCPercent(p) }
