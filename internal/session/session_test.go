package session

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestTouchRoundsUpToTick(t *testing.T) {
	tr := New(2 * time.Second)
	base := time.Unix(1000, 0) // on a tick boundary
	tests := []struct {
		name    string
		timeout time.Duration
		now     time.Time
		want    time.Time
	}{
		{"on boundary", 4 * time.Second, base, base.Add(6 * time.Second)},
		{"mid tick", 4 * time.Second, base.Add(500 * time.Millisecond), base.Add(6 * time.Second)},
		{"just before boundary", 4 * time.Second, base.Add(1999 * time.Millisecond), base.Add(6 * time.Second)},
		{"long timeout", 40 * time.Second, base.Add(time.Second), base.Add(42 * time.Second)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tr.Add(1, tc.timeout, tc.now)
			if got := e.Deadline(); !got.Equal(tc.want) {
				t.Fatalf("deadline = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestExpiredReportsOnce(t *testing.T) {
	tr := New(time.Second)
	now := time.Unix(100, 0)
	tr.Add(7, 2*time.Second, now)
	tr.Add(3, 2*time.Second, now)
	tr.Add(9, 10*time.Second, now)
	if got := tr.Expired(now.Add(2 * time.Second)); len(got) != 0 {
		t.Fatalf("expired too early: %v", got)
	}
	got := tr.Expired(now.Add(3 * time.Second))
	if len(got) != 2 || got[0] != 3 || got[1] != 7 {
		t.Fatalf("Expired = %v, want [3 7]", got)
	}
	if again := tr.Expired(now.Add(4 * time.Second)); len(again) != 0 {
		t.Fatalf("reported twice: %v", again)
	}
	tr.Reopen(3, now.Add(4*time.Second))
	if tr.Get(3).Closing() {
		t.Fatal("Reopen left the session closing")
	}
	// Add again (a new leader's extension) is a fresh start: the mark goes,
	// and the session is reported again once its new deadline passes.
	tr.Add(7, 2*time.Second, now.Add(4*time.Second))
	if tr.Get(7).Closing() {
		t.Fatal("Add left the session closing")
	}
	if got := tr.Expired(now.Add(7 * time.Second)); len(got) != 2 || got[1] != 7 { // 3 was reopened alike
		t.Fatalf("after Add: Expired = %v, want [3 7]", got)
	}
	tr.Remove(7)
	if tr.Get(7) != nil || tr.Len() != 2 {
		t.Fatalf("Remove: len %d", tr.Len())
	}
}

// TestRunExpiresSilentSessions checks, on a fake clock, that a session is
// expired between timeout and timeout+tick after its last touch and that
// touching keeps it alive.
func TestRunExpiresSilentSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := New(2 * time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		expired := make(chan int64, 10)
		go tr.Run(ctx, func(ids []int64) {
			for _, id := range ids {
				expired <- id
			}
		})
		start := time.Now()
		tr.Add(1, 4*time.Second, start)       // silent
		e2 := tr.Add(2, 4*time.Second, start) // touched every second
		for i := 0; i < 10; i++ {
			time.Sleep(time.Second)
			e2.Touch(time.Now())
		}
		synctest.Wait()
		select {
		case id := <-expired:
			if id != 1 {
				t.Fatalf("expired %d, want 1", id)
			}
		default:
			t.Fatal("silent session not expired after 10s")
		}
		select {
		case id := <-expired:
			t.Fatalf("unexpected expiry of %d", id)
		default:
		}
		d := tr.Get(1).Deadline().Sub(start)
		if d < 4*time.Second || d > 6*time.Second {
			t.Fatalf("deadline %v after start, want within [4s, 6s]", d)
		}
		// Session 2 goes silent now and must expire within timeout+tick.
		silentAt := time.Now()
		id := <-expired
		if id != 2 {
			t.Fatalf("expired %d, want 2", id)
		}
		if el := time.Since(silentAt); el < 4*time.Second || el > 6*time.Second {
			t.Fatalf("expired %v after going silent, want within [4s, 6s]", el)
		}
	})
}

// TestRunDoesNotExpireAfterAPause: when the tracker's own check comes far
// later than scheduled (the process was stopped), sessions get a fresh
// timeout instead of being expired for silence nobody could have heard.
func TestRunDoesNotExpireAfterAPause(t *testing.T) {
	tr := New(100 * time.Millisecond)
	now := time.Now()
	tr.Add(1, 400*time.Millisecond, now.Add(-5*time.Second)) // long overdue
	tr.TouchAll(now)
	if got := tr.Expired(now.Add(100 * time.Millisecond)); len(got) != 0 {
		t.Fatalf("expired right after TouchAll: %v", got)
	}
	if got := tr.Expired(now.Add(time.Second)); len(got) != 1 {
		t.Fatalf("a silent session must still expire a timeout after TouchAll: %v", got)
	}
}
