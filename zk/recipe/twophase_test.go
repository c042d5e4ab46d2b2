package recipe_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/warren-zk/warren/zk/recipe"
)

// TestTwoPhaseCommit: a coordinator and 4 cohorts in separate sessions run
// transactions: all commit votes → committed; one abort vote → aborted;
// a missing vote → aborted when the coordinator's deadline passes. Every
// cohort learns the same outcome as the coordinator.
func TestTwoPhaseCommit(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 30*time.Second)
	const n = 4
	cs := conns(t, srv.Addr(), n+1)
	co := recipe.NewCoordinator(cs[n], "/2pc")
	names := []string{"a", "b", "c", "d"}

	type result struct {
		cohort, tx string
		committed  bool
	}
	// vote decides each cohort's vote for each transaction (by its data).
	vote := func(cohort string, data []byte) (bool, bool) { // (vote?, commit?)
		switch string(data) {
		case "all-commit":
			return true, true
		case "b-aborts":
			return true, cohort != "b"
		case "d-silent":
			return cohort != "d", true
		}
		return true, true
	}
	results := make(chan result, 3*n)
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, name := range names {
		coh := recipe.NewCohort(cs[i], "/2pc", name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				p, err := coh.Next(cctx)
				if err != nil {
					if cctx.Err() == nil {
						t.Error(err)
					}
					return
				}
				cast, commit := vote(name, p.Data)
				if !cast {
					continue
				}
				if err := p.Vote(cctx, commit); err != nil {
					t.Errorf("%s votes on %s: %v", name, p.TxID, err)
					return
				}
				if err := p.Vote(cctx, commit); err == nil {
					t.Errorf("%s voted twice on %s", name, p.TxID)
				}
				committed, err := p.Outcome(cctx)
				if err != nil {
					t.Errorf("%s: outcome of %s: %v", name, p.TxID, err)
					return
				}
				results <- result{name, p.TxID, committed}
			}
		}()
	}
	out1, err := co.Commit(ctx, []byte("all-commit"), names)
	if err != nil || !out1.Committed || len(out1.Votes) != n {
		t.Fatalf("all-commit: %+v %v", out1, err)
	}
	out2, err := co.Commit(ctx, []byte("b-aborts"), names)
	if err != nil || out2.Committed || out2.Votes["b"] {
		t.Fatalf("b-aborts: %+v %v", out2, err)
	}
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	out3, err := co.Commit(short, []byte("d-silent"), names)
	if !errors.Is(err, context.DeadlineExceeded) || out3.Committed {
		t.Fatalf("d-silent: %+v %v", out3, err)
	}
	// Every voter learns the outcome the coordinator decided.
	want := map[string]bool{out1.TxID: true, out2.TxID: false, out3.TxID: false}
	seen := map[string]int{}
	timeout := time.After(10 * time.Second)
	for len(seen) < 3 || seen[out1.TxID] < n || seen[out3.TxID] < n-1 || seen[out2.TxID] < 1 {
		select {
		case r := <-results:
			if r.committed != want[r.tx] {
				t.Errorf("%s learned committed=%v for %s, coordinator decided %v", r.cohort, r.committed, r.tx, want[r.tx])
			}
			seen[r.tx]++
		case <-timeout:
			t.Fatalf("outcomes learned: %v", seen)
		}
	}
	stop()
	wg.Wait()
	// A forgotten transaction is gone.
	if err := co.Forget(ctx, out1.TxID); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := cs[0].Exists(ctx, "/2pc/"+out1.TxID); ok || err != nil {
		t.Fatalf("forgotten transaction exists: %v %v", ok, err)
	}
	if _, err := co.Commit(ctx, nil, nil); err == nil {
		t.Fatal("a transaction without cohorts")
	}
}
