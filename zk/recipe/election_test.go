package recipe_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-zk/warren/zk"
	"github.com/warren-zk/warren/zk/recipe"
)

// TestLeaderLatch: five candidates; exactly one leads at a time, the
// oldest; leadership passes down the line as leaders leave, including one
// whose session expires (it steps down before the server lets the next one
// in); a leader whose connection breaks briefly steps down and leads again.
func TestLeaderLatch(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 40*time.Second)
	const n = 5
	ec, px := expiringConn(t, srv.Addr(), 1500*time.Millisecond)
	cs := append([]*zk.Conn{ec}, conns(t, srv.Addr(), n-1)...)
	latches := make([]*recipe.LeaderLatch, n)
	var ex exclusion
	order := make(chan string, 2*n)
	var wg sync.WaitGroup
	for i := range latches {
		id := fmt.Sprintf("c%d", i)
		l := recipe.NewLeaderLatch(cs[i], "/election/latch", id)
		latches[i] = l
		if err := l.Start(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { // observe the leadership terms
			defer wg.Done()
			for {
				term, err := l.Await(ctx)
				if err != nil {
					return
				}
				ex.enter()
				order <- id
				<-term.Done()
				ex.leave()
			}
		}()
	}
	defer func() {
		for _, l := range latches {
			l.Close()
		}
		wg.Wait()
	}()
	// await waits until the observer of c<i> has seen it lead (so that the
	// test does not end a term before the observer has counted it).
	var got []string
	await := func(i int) {
		t.Helper()
		select {
		case id := <-order:
			got = append(got, id)
			if id != fmt.Sprintf("c%d", i) {
				t.Fatalf("%s leads, want c%d (terms so far: %v)", id, i, got)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("c%d never leads (terms so far: %v)", i, got)
		}
	}
	await(0)
	cands, err := latches[3].Candidates(ctx)
	if err != nil || len(cands) != n || cands[0].ID != "c0" || !cands[0].Leader || cands[1].Leader {
		t.Fatalf("candidates %+v, %v", cands, err)
	}
	if l, ok, err := latches[4].Leader(ctx); !ok || err != nil || l.ID != "c0" {
		t.Fatalf("Leader: %+v %v %v", l, ok, err)
	}
	for i := 1; i < n; i++ {
		if latches[i].IsLeader() {
			t.Fatalf("c%d leads too", i)
		}
	}

	// A brief disconnect: c0 steps down, reconnects, leads again.
	first, _ := latches[0].Await(ctx)
	px.Cut()
	select {
	case <-first.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("c0 did not step down when its connection broke")
	}
	await(0)

	// c0's session expires: it steps down at once; c1 leads once the server
	// has removed c0's node.
	term, _ := latches[0].Await(ctx)
	cut := time.Now()
	px.Blackhole()
	<-term.Done()
	stepDown := time.Since(cut)
	await(1)
	t.Logf("after the cut: c0 stepped down in %v, c1 leads after %v", stepDown.Round(time.Millisecond),
		time.Since(cut).Round(time.Millisecond))
	if latches[0].IsLeader() {
		t.Fatal("c0 still leads")
	}

	// The others leave in turn.
	for i := 1; i < n-1; i++ {
		if err := latches[i].Close(); err != nil {
			t.Fatal(err)
		}
		if latches[i].IsLeader() {
			t.Fatalf("c%d leads after Close", i)
		}
		if _, err := latches[i].Await(ctx); !errors.Is(err, recipe.ErrClosed) {
			t.Fatalf("Await after Close: %v", err)
		}
		await(i + 1)
	}
	if ex.max.Load() != 1 {
		t.Errorf("%d leaders at once", ex.max.Load())
	}
	if fmt.Sprint(got) != "[c0 c0 c1 c2 c3 c4]" {
		t.Errorf("leadership order %v", got)
	}
}

// TestLeaderSelector: five candidates run leadership rounds; one leads at
// a time (leadership is held while the function runs), and when a leader's
// session is lost its function is canceled and another takes over.
func TestLeaderSelector(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 40*time.Second)
	const n = 5
	ec, px := expiringConn(t, srv.Addr(), 1500*time.Millisecond)
	cs := append([]*zk.Conn{ec}, conns(t, srv.Addr(), n-1)...)
	var ex exclusion
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		mu       sync.Mutex
		leaders  []string
		victimIn = make(chan struct{})
		canceled = make(chan time.Time, 1)
		after    atomic.Int32 // rounds by others after the victim's cancellation
		victim   atomic.Bool
	)
	var wg sync.WaitGroup
	for i, c := range cs {
		id := fmt.Sprintf("s%d", i)
		s := recipe.NewLeaderSelector(c, "/election/selector", id)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Run(runCtx, func(lctx context.Context) {
				ex.enter()
				defer ex.leave()
				mu.Lock()
				leaders = append(leaders, id)
				mu.Unlock()
				if i == 0 && victim.CompareAndSwap(false, true) {
					close(victimIn) // lead until told otherwise
					<-lctx.Done()
					canceled <- time.Now()
					return
				}
				if victim.Load() {
					after.Add(1)
				}
				select {
				case <-lctx.Done():
				case <-time.After(3 * time.Millisecond):
				}
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: Run: %v", id, err)
			}
		}()
	}
	select {
	case <-victimIn:
	case <-time.After(20 * time.Second):
		t.Fatal("s0 never led")
	}
	var cands []recipe.Candidate
	if !eventually(5*time.Second, func() bool {
		cands, _ = recipe.NewLeaderSelector(cs[1], "/election/selector", "x").Candidates(ctx)
		return len(cands) == n
	}) || cands[0].ID != "s0" || !cands[0].Leader {
		t.Fatalf("candidates while s0 leads: %+v", cands)
	}
	cut := time.Now()
	px.Blackhole()
	var canceledAt time.Time
	select {
	case canceledAt = <-canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("s0's leadership not canceled after its connection was cut")
	}
	if !eventually(10*time.Second, func() bool { return after.Load() >= 20 }) {
		t.Fatalf("only %d rounds by the others after s0 was cut off", after.Load())
	}
	stop()
	wg.Wait()
	if ex.max.Load() != 1 {
		t.Errorf("%d leaders at once", ex.max.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]bool{}
	for _, l := range leaders {
		seen[l] = true
	}
	if len(seen) != n {
		t.Errorf("leaders %v: not everyone had a turn", seen)
	}
	t.Logf("%d terms; s0 canceled %v after its connection was cut", len(leaders), canceledAt.Sub(cut).Round(time.Millisecond))
}
