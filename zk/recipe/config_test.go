package recipe_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/warren-zk/warren/zk"
	"github.com/warren-zk/warren/zk/recipe"
)

// TestWatchConfig: watchers in 4 sessions follow a configuration node
// through creation, 50 quick updates (each sees the last), a connection
// cut, deletion and re-creation.
func TestWatchConfig(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 20*time.Second)
	const n = 4
	cs := conns(t, srv.Addr(), n)
	pc, px := expiringConn(t, srv.Addr(), 4*time.Second) // one watcher's connection gets cut
	cs = append(cs, pc)
	writer := connect(t, srv.Addr())
	var ws []*recipe.Watch[recipe.ConfigValue]
	for _, c := range cs {
		w, err := recipe.WatchConfig(ctx, c, "/config/app")
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if w.Value().Exists {
			t.Fatal("missing node reads as existing")
		}
		ws = append(ws, w)
	}
	all := func(what string, ok func(v recipe.ConfigValue) bool) {
		t.Helper()
		for i, w := range ws {
			if !eventually(5*time.Second, func() bool { return ok(w.Value()) }) {
				t.Fatalf("watcher %d never saw %s: %+v", i, what, w.Value())
			}
		}
	}
	if _, err := writer.Create(ctx, "/config", nil, zk.WorldACL(zk.PermAll), zk.ModePersistent); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Create(ctx, "/config/app", []byte("v0"), zk.WorldACL(zk.PermAll), zk.ModePersistent); err != nil {
		t.Fatal(err)
	}
	all("v0", func(v recipe.ConfigValue) bool { return v.Exists && string(v.Data) == "v0" })
	// Updates delivers changes.
	select {
	case v := <-ws[0].Updates():
		if string(v.Data) != "v0" {
			t.Fatalf("update %q", v.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no update for the creation")
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= 50; i++ {
			if _, err := writer.Set(ctx, "/config/app", []byte("v"+strconv.Itoa(i)), -1); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	px.Cut() // the last watcher reconnects and catches up
	wg.Wait()
	all("v50", func(v recipe.ConfigValue) bool { return string(v.Data) == "v50" && v.Stat.Version == 50 })
	if err := writer.Delete(ctx, "/config/app", -1); err != nil {
		t.Fatal(err)
	}
	all("the deletion", func(v recipe.ConfigValue) bool { return !v.Exists })
	if _, err := writer.Create(ctx, "/config/app", []byte("again"), zk.WorldACL(zk.PermAll), zk.ModePersistent); err != nil {
		t.Fatal(err)
	}
	all("the re-creation", func(v recipe.ConfigValue) bool { return v.Exists && string(v.Data) == "again" })
	// Close ends the watch; Updates is closed.
	ws[1].Close()
	for range ws[1].Updates() { // buffered values, then closed
	}
	if ws[1].Err() != nil {
		t.Fatalf("Err after Close: %v", ws[1].Err())
	}
	// A canceled first read fails.
	dead, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := recipe.WatchConfig(dead, cs[0], "/config/app"); err == nil {
		t.Fatal("WatchConfig with a canceled context succeeded")
	}
}
