package recipe_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-zk/warren/zk"
	"github.com/warren-zk/warren/zk/recipe"
)

// TestBarrier: waiters in 6 sessions block while the barrier is up and are
// all released when it is removed.
func TestBarrier(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 20*time.Second)
	const n = 6
	cs := conns(t, srv.Addr(), n+1)
	b := recipe.NewBarrier(cs[n], "/barriers/b1")
	if err := b.Set(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx); err != nil {
		t.Fatalf("second Set: %v", err)
	}
	var released atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		w := recipe.NewBarrier(cs[i], "/barriers/b1")
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Wait(ctx); err != nil {
				t.Error(err)
				return
			}
			released.Add(1)
		}()
	}
	time.Sleep(200 * time.Millisecond)
	if r := released.Load(); r != 0 {
		t.Fatalf("%d waiters passed a raised barrier", r)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := recipe.NewBarrier(cs[0], "/barriers/b1").Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with a short deadline: %v", err)
	}
	if err := b.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if r := released.Load(); r != n {
		t.Fatalf("%d of %d waiters released", r, n)
	}
	if err := b.Remove(ctx); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
	if err := recipe.NewBarrier(cs[0], "/barriers/b1").Wait(ctx); err != nil {
		t.Fatalf("Wait on a lowered barrier: %v", err)
	}
}

// TestDoubleBarrier: 5 members in separate sessions, two rounds. Nobody
// gets out of Enter before everyone has entered, and nobody out of Leave
// before everyone has left.
func TestDoubleBarrier(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 20*time.Second)
	const n = 5
	cs := conns(t, srv.Addr(), n)
	for round := range 2 {
		var entered, passedEnter, left, passedLeave atomic.Int32
		var bad atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			b := recipe.NewDoubleBarrier(cs[i], "/barriers/double", n)
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(i*20) * time.Millisecond) // stagger arrivals
				entered.Add(1)
				if err := b.Enter(ctx); err != nil {
					t.Error(err)
					return
				}
				if entered.Load() != n {
					bad.Add(1)
				}
				passedEnter.Add(1)
				time.Sleep(time.Duration((n-i)*10) * time.Millisecond) // leave in another order
				left.Add(1)
				if err := b.Leave(ctx); err != nil {
					t.Error(err)
					return
				}
				if left.Load() != n {
					bad.Add(1)
				}
				passedLeave.Add(1)
			}()
		}
		wg.Wait()
		if bad.Load() != 0 || passedEnter.Load() != n || passedLeave.Load() != n {
			t.Fatalf("round %d: %d early exits, %d through Enter, %d through Leave", round, bad.Load(),
				passedEnter.Load(), passedLeave.Load())
		}
	}
	// A member that gives up on Enter leaves no node behind.
	b := recipe.NewDoubleBarrier(cs[0], "/barriers/double", n)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := b.Enter(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lonely Enter: %v", err)
	}
	kids, err := cs[1].Children(ctx, "/barriers/double")
	if errors.Is(err, zk.ErrNoNode) { // the emptied container was reaped
		err = nil
	}
	if err != nil || len(kids) != 0 {
		t.Fatalf("children after a canceled Enter: %v %v", kids, err)
	}
}
