package server

import (
	"runtime/debug"
	"testing"
)

func TestTunedGCPercent(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 6400},       // an empty server: 64 MiB above 1 MiB
		{1 << 20, 6400}, // small heaps get 64 MiB of headroom
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
