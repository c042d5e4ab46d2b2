package zk_test

import (
	"errors"
	"testing"
	"time"

	"github.com/warren-zk/warren/zk"
)

func testOneShotWatches(t *testing.T, e *env) {
	c := connect(t, e.addr)
	other := connect(t, e.addr)
	ctx := ctxT(t, 15*time.Second)
	r := root(t, c)

	// getData watch: fires once, on the first change only.
	ok(t, err2(c.Create(ctx, r+"/d", []byte("0"), open, zk.ModePersistent)))
	_, _, ch, err := c.GetW(ctx, r+"/d")
	ok(t, err)
	ok(t, err2(other.Set(ctx, r+"/d", []byte("1"), -1)))
	ok(t, err2(other.Set(ctx, r+"/d", []byte("2"), -1)))
	wantEvent(t, ch, zk.EventNodeDataChanged, r+"/d")
	wantClosed(t, ch)

	// The event reaches the watcher before the reply to the write that
	// caused it, on the same connection.
	_, _, ch, err = c.GetW(ctx, r+"/d")
	ok(t, err)
	ok(t, err2(c.Set(ctx, r+"/d", []byte("3"), -1)))
	select {
	case ev := <-ch:
		if ev.Type != zk.EventNodeDataChanged {
			t.Fatalf("event %+v", ev)
		}
	default:
		t.Fatal("event not delivered before the reply to setData")
	}

	// exists watch on a missing node: NodeCreated.
	exists, _, ch, err := c.ExistsW(ctx, r+"/x")
	if exists || err != nil || ch == nil {
		t.Fatalf("ExistsW(missing) = %v, %v, %v", exists, ch, err)
	}
	ok(t, err2(other.Create(ctx, r+"/x", nil, open, zk.ModePersistent)))
	wantEvent(t, ch, zk.EventNodeCreated, r+"/x")
	wantClosed(t, ch)

	// exists watch on an existing node: NodeDeleted.
	exists, _, ch, err = c.ExistsW(ctx, r+"/x")
	if !exists || err != nil {
		t.Fatalf("ExistsW(existing) = %v, %v", exists, err)
	}
	ok(t, other.Delete(ctx, r+"/x", -1))
	wantEvent(t, ch, zk.EventNodeDeleted, r+"/x")
	wantClosed(t, ch)

	// child watch: NodeChildrenChanged of the parent.
	_, _, ch, err = c.ChildrenW(ctx, r)
	ok(t, err)
	ok(t, err2(other.Create(ctx, r+"/k", nil, open, zk.ModePersistent)))
	wantEvent(t, ch, zk.EventNodeChildrenChanged, r)
	wantClosed(t, ch)

	// data and child watches on a node that is deleted: NodeDeleted to both.
	_, _, dch, err := c.GetW(ctx, r+"/k")
	ok(t, err)
	_, _, cch, err := c.ChildrenW(ctx, r+"/k")
	ok(t, err)
	ok(t, other.Delete(ctx, r+"/k", -1))
	wantEvent(t, dch, zk.EventNodeDeleted, r+"/k")
	wantEvent(t, cch, zk.EventNodeDeleted, r+"/k")

	// A failed getData sets no watch.
	_, _, ch, err = c.GetW(ctx, r+"/missing")
	wantErr(t, "GetW missing", err, zk.ErrNoNode)
	if ch != nil {
		t.Fatal("GetW returned a channel with an error")
	}
	wantErr(t, "checkWatches after failed getData", c.CheckWatches(ctx, r+"/missing", zk.WatcherData), zk.ErrNoWatcher)
}

func testPersistentWatch(t *testing.T, e *env) {
	c := connect(t, e.addr)
	other := connect(t, e.addr)
	ctx := ctxT(t, 15*time.Second)
	r := root(t, c)
	p := r + "/p"
	ok(t, err2(c.Create(ctx, p, nil, open, zk.ModePersistent)))
	w, err := c.AddWatch(ctx, p, false)
	ok(t, err)
	if w.Path() != p || w.Recursive() {
		t.Fatalf("watcher %q recursive=%v", w.Path(), w.Recursive())
	}
	ev := w.Events()
	ok(t, err2(other.Set(ctx, p, []byte("1"), -1)))
	ok(t, err2(other.Create(ctx, p+"/c", nil, open, zk.ModePersistent)))
	ok(t, err2(other.Set(ctx, p+"/c", []byte("x"), -1))) // not watched
	ok(t, err2(other.Set(ctx, p, []byte("2"), -1)))
	ok(t, other.Delete(ctx, p+"/c", -1))
	ok(t, other.Delete(ctx, p, -1))
	ok(t, err2(other.Create(ctx, p, nil, open, zk.ModePersistent)))
	for _, want := range []struct {
		typ  zk.EventType
		path string
	}{
		{zk.EventNodeDataChanged, p},
		{zk.EventNodeChildrenChanged, p},
		{zk.EventNodeDataChanged, p},
		{zk.EventNodeChildrenChanged, p},
		{zk.EventNodeDeleted, p},
		{zk.EventNodeCreated, p}, // still armed after the node went away
	} {
		wantEvent(t, ev, want.typ, want.path)
	}
	ok(t, w.Close())
	if _, open := <-ev; open {
		t.Fatal("events after Close")
	}
	if w.Err() != nil {
		t.Fatalf("Err after Close = %v", w.Err())
	}
	ok(t, w.Close())
	// The server forgot the watch.
	wantErr(t, "checkWatches after Close", c.CheckWatches(ctx, p, zk.WatcherAny), zk.ErrNoWatcher)
}

func testRecursiveWatch(t *testing.T, e *env) {
	c := connect(t, e.addr)
	other := connect(t, e.addr)
	ctx := ctxT(t, 15*time.Second)
	r := root(t, c)
	p := r + "/r"
	w, err := c.AddWatch(ctx, p, true) // the node need not exist
	ok(t, err)
	ev := w.Events()
	for _, p := range []string{p, p + "/c", p + "/c/d"} {
		ok(t, err2(other.Create(ctx, p, nil, open, zk.ModePersistent)))
	}
	ok(t, err2(other.Set(ctx, p+"/c/d", []byte("x"), -1)))
	ok(t, other.Delete(ctx, p+"/c/d", -1))
	ok(t, err2(other.Create(ctx, r+"/sibling", nil, open, zk.ModePersistent))) // outside
	ok(t, err2(other.Set(ctx, p, []byte("y"), -1)))
	for _, want := range []struct {
		typ  zk.EventType
		path string
	}{
		{zk.EventNodeCreated, p},
		{zk.EventNodeCreated, p + "/c"},
		{zk.EventNodeCreated, p + "/c/d"},
		{zk.EventNodeDataChanged, p + "/c/d"},
		{zk.EventNodeDeleted, p + "/c/d"},
		{zk.EventNodeDataChanged, p}, // never NodeChildrenChanged
	} {
		wantEvent(t, ev, want.typ, want.path)
	}
	wantNoEvent(t, ev, 100*time.Millisecond)
	ok(t, w.Close())
	wantErr(t, "checkWatches after Close", c.CheckWatches(ctx, p, zk.WatcherAny), zk.ErrNoWatcher)
}

func testWatcherOverflow(t *testing.T, e *env) {
	c := connect(t, e.addr, zk.WithWatcherBuffer(2))
	ctx := ctxT(t, 15*time.Second)
	r := root(t, c)
	w, err := c.AddWatch(ctx, r, false)
	ok(t, err)
	w2, err := c.AddWatch(ctx, r, false) // a second one on the same path
	ok(t, err)
	for i := range 4 {
		ok(t, err2(c.Set(ctx, r, []byte(itoa(i)), -1)))
	}
	// Events precede the replies: the third overflowed the buffers, so each
	// stream holds two events and is closed.
	for _, w := range []*zk.Watcher{w, w2} {
		n := 0
		for range w.Events() {
			n++
		}
		if n != 2 || !errors.Is(w.Err(), zk.ErrWatcherOverflow) {
			t.Fatalf("got %d events, Err %v; want 2 and ErrWatcherOverflow", n, w.Err())
		}
	}
	// The server-side watch is removed in the background.
	deadline := time.Now().Add(5 * time.Second)
	for c.CheckWatches(ctx, r, zk.WatcherAny) == nil {
		if time.Now().After(deadline) {
			t.Fatal("server still has the watch of an overflowed Watcher")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ok(t, w.Close())
}

func testRemoveCheckWatches(t *testing.T, e *env) {
	c := connect(t, e.addr)
	ctx := ctxT(t, 15*time.Second)
	r := root(t, c)

	wantErr(t, "check without watch", c.CheckWatches(ctx, r, zk.WatcherData), zk.ErrNoWatcher)
	_, _, dch, err := c.GetW(ctx, r)
	ok(t, err)
	ok(t, c.CheckWatches(ctx, r, zk.WatcherData))
	wantErr(t, "check children", c.CheckWatches(ctx, r, zk.WatcherChildren), zk.ErrNoWatcher)
	ok(t, c.RemoveWatches(ctx, r, zk.WatcherData))
	wantEvent(t, dch, zk.EventDataWatchRemoved, r)
	wantClosed(t, dch)
	wantErr(t, "second remove", c.RemoveWatches(ctx, r, zk.WatcherData), zk.ErrNoWatcher)

	_, _, cch, err := c.ChildrenW(ctx, r)
	ok(t, err)
	ok(t, c.RemoveWatches(ctx, r, zk.WatcherAny))
	wantEvent(t, cch, zk.EventChildWatchRemoved, r)

	w, err := c.AddWatch(ctx, r, false)
	ok(t, err)
	err = c.RemoveWatches(ctx, r, zk.WatcherPersistent)
	if e.zk38() {
		// 3.8 does not know the persistent watcher types (3.9 does).
		wantErr(t, "remove persistent on 3.8", err, zk.ErrMarshallingError)
		ok(t, c.RemoveWatches(ctx, r, zk.WatcherAny))
	} else {
		ok(t, err)
	}
	wantEvent(t, w.Events(), zk.EventPersistentWatchRemoved, r)
	if _, open := <-w.Events(); open {
		t.Fatal("watcher still open after RemoveWatches")
	}
	wantErr(t, "check after remove", c.CheckWatches(ctx, r, zk.WatcherAny), zk.ErrNoWatcher)
}
