package recipe_test

import (
	"sync"
	"testing"
	"time"

	"github.com/warren-zk/warren/zk"
	"github.com/warren-zk/warren/zk/recipe"
)

// TestCounter: 8 sessions add concurrently; no increment is lost, and the
// values Add returns are all distinct.
func TestCounter(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 30*time.Second)
	const workers, adds = 8, 25
	cs := conns(t, srv.Addr(), workers)
	if v, err := recipe.NewCounter(cs[0], "/counters/c").Get(ctx); err != nil || v != 0 {
		t.Fatalf("missing counter reads %d %v", v, err)
	}
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for _, c := range cs {
		k := recipe.NewCounter(c, "/counters/c")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range adds {
				v, err := k.Add(ctx, 1)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[v] {
					t.Errorf("value %d returned twice", v)
				}
				seen[v] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	k := recipe.NewCounter(cs[0], "/counters/c")
	if v, err := k.Get(ctx); err != nil || v != workers*adds {
		t.Fatalf("counter %d %v, want %d", v, err, workers*adds)
	}
	data, _, err := cs[1].Get(ctx, "/counters/c")
	if err != nil || string(data) != "200" {
		t.Fatalf("data %q %v: want decimal text (kazoo's layout)", data, err)
	}
	if ok, err := k.CompareAndSet(ctx, 199, 5); ok || err != nil {
		t.Fatalf("CAS with a stale value: %v %v", ok, err)
	}
	if ok, err := k.CompareAndSet(ctx, 200, 5); !ok || err != nil {
		t.Fatalf("CAS: %v %v", ok, err)
	}
	if v, err := k.Add(ctx, -7); err != nil || v != -2 {
		t.Fatalf("Add -7: %d %v", v, err)
	}
	if _, err := cs[1].Set(ctx, "/counters/c", []byte("junk"), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(ctx); err == nil {
		t.Fatal("junk data read as a number")
	}
	if err := k.Set(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if v, err := recipe.NewCounter(cs[2], "/counters/c").Get(ctx); err != nil || v != 42 {
		t.Fatalf("after Set: %d %v", v, err)
	}
	// Under a missing parent.
	if v, err := recipe.NewCounter(cs[0], "/counters/deep/er/c", recipe.WithACL(zk.WorldACL(zk.PermAll))).Add(ctx, 3); err != nil || v != 3 {
		t.Fatalf("Add under missing parents: %d %v", v, err)
	}
}
