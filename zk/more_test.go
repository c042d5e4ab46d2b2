package zk_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/warren-zk/warren/zk"
)

// testManyWatchesReconnect re-arms more watches than fit in one SetWatches
// packet (~300 KiB of paths, so three packets) after a reconnect.
func testManyWatchesReconnect(t *testing.T, e *env) {
	ctx := ctxT(t, 20*time.Second)
	other := connect(t, e.addr)
	r := root(t, other)
	px := newProxy(t, e.addr)
	c := connect(t, px.Addr())
	states := c.StateEvents()
	long := strings.Repeat("w", 150)
	const n = 2000
	chans := make([]<-chan zk.Event, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			_, _, ch, err := c.ExistsW(ctx, fmt.Sprintf("%s/%s-%04d", r, long, i))
			chans[i] = ch
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	t.Logf("%d watches set in %v", n, time.Since(start))
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	start = time.Now()
	px.Cut()
	waitState(t, states, 5*time.Second, zk.StateDisconnected)
	waitState(t, states, 5*time.Second, zk.StateConnected)
	t.Logf("reconnected in %v", time.Since(start))
	// Nodes from the start, middle and end of the path list.
	for _, i := range []int{0, n / 2, n - 1} {
		p := fmt.Sprintf("%s/%s-%04d", r, long, i)
		ok(t, err2(other.Create(ctx, p, nil, open, zk.ModePersistent)))
		wantEvent(t, chans[i], zk.EventNodeCreated, p)
	}
	t.Logf("done in %v", time.Since(start))
}

// testConcurrent runs many operations from many goroutines on one Conn.
func testConcurrent(t *testing.T, e *env) {
	c := connect(t, e.addr)
	ctx := ctxT(t, 20*time.Second)
	r := root(t, c)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			p := fmt.Sprintf("%s/g%d", r, g)
			if _, err := c.Create(ctx, p, nil, open, zk.ModePersistent); err != nil {
				t.Error(err)
				return
			}
			for i := range 15 {
				st, err := c.Set(ctx, p, []byte(itoa(i)), int32(i))
				if err != nil || st.Version != int32(i+1) {
					t.Errorf("set %s #%d: %+v %v", p, i, st, err)
					return
				}
				d, _, ch, err := c.GetW(ctx, p)
				if err != nil || string(d) != itoa(i) || ch == nil {
					t.Errorf("get %s #%d: %q %v", p, i, d, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n, err := c.GetAllChildrenNumber(ctx, r); err != nil || n != 8 {
		t.Fatalf("children %d %v", n, err)
	}
}

// TestConnectGivesUp checks that Connect returns when its context ends while
// no server answers, wrapping the context's error, and leaves nothing running.
func TestConnectGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	c, err := zk.Connect(ctx, addr, zk.WithMaxBackoff(50*time.Millisecond), zk.WithLogger(testLogger(t)))
	if c != nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Connect = %v, %v", c, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Connect took %v", d)
	}
	_, err = zk.Connect(context.Background(), "127.0.0.1:1/bad/")
	if err == nil {
		t.Fatal("bad chroot accepted")
	}
}

// TestConnectServerList checks that a dead server in the list is skipped.
func TestConnectServerList(t *testing.T) {
	e := startWarren(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	c := connect(t, dead+","+e.addr, zk.WithoutShuffle())
	if c.Server() != e.addr {
		t.Fatalf("attached to %q", c.Server())
	}
	_, _, err = c.Exists(ctxT(t, 5*time.Second), "/")
	ok(t, err)
}

// TestNoGoroutinesAfterClose checks that Close leaves no goroutine behind,
// after a life with watches, a persistent Watcher and a reconnect.
func TestNoGoroutinesAfterClose(t *testing.T) {
	e := startWarren(t)
	px := newProxy(t, e.addr)
	ignore := goleak.IgnoreCurrent()
	ctx := ctxT(t, 10*time.Second)
	c, err := zk.Connect(ctx, px.Addr(), zk.WithLogger(testLogger(t)), zk.WithMaxBackoff(50*time.Millisecond))
	ok(t, err)
	states := c.StateEvents()
	_, _, _, err = c.GetW(ctx, "/")
	ok(t, err)
	w, err := c.AddWatch(ctx, "/", true)
	ok(t, err)
	px.Cut()
	waitState(t, states, 5*time.Second, zk.StateDisconnected)
	waitState(t, states, 5*time.Second, zk.StateConnected)
	_, err = c.Sync(ctx, "/")
	ok(t, err)
	_ = w
	ok(t, c.Close())
	goleak.VerifyNone(t, ignore)
}
