package recipe_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-zk/warren/zk"
	"github.com/warren-zk/warren/zk/recipe"
)

// exclusion counts the goroutines inside a critical section and remembers
// the largest count seen.
type exclusion struct {
	inside, max atomic.Int32
	rounds      atomic.Int32
}

func (e *exclusion) enter() int32 {
	n := e.inside.Add(1)
	for {
		m := e.max.Load()
		if n <= m || e.max.CompareAndSwap(m, n) {
			return n
		}
	}
}

func (e *exclusion) leave() { e.inside.Add(-1); e.rounds.Add(1) }

// TestMutexExclusion: 8 sessions take the lock 15 times each; never two
// holders at once, and every round completes.
func TestMutexExclusion(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	const workers, rounds = 8, 15
	ctx := testCtx(t, 30*time.Second)
	var ex exclusion
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for _, c := range conns(t, srv.Addr(), workers) {
		m := recipe.NewMutex(c, "/locks/ex")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := m.Lock(ctx); err != nil {
					errs <- err
					return
				}
				ex.enter()
				time.Sleep(time.Millisecond)
				ex.leave()
				if err := m.Unlock(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := ex.max.Load(); got != 1 {
		t.Errorf("%d holders at once", got)
	}
	if got := ex.rounds.Load(); got != workers*rounds {
		t.Errorf("%d rounds, want %d", got, workers*rounds)
	}
}

// TestMutexSharedObject: one Mutex used by several goroutines of one
// process excludes them like sync.Mutex.
func TestMutexSharedObject(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	m := recipe.NewMutex(connect(t, srv.Addr()), "/locks/shared")
	ctx := testCtx(t, 20*time.Second)
	var ex exclusion
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if err := m.Lock(ctx); err != nil {
					t.Error(err)
					return
				}
				ex.enter()
				time.Sleep(time.Millisecond)
				ex.leave()
				if err := m.Unlock(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if ex.max.Load() != 1 || ex.rounds.Load() != 40 {
		t.Errorf("max holders %d, rounds %d", ex.max.Load(), ex.rounds.Load())
	}
	if err := m.Unlock(ctx); !errors.Is(err, recipe.ErrNotHeld) {
		t.Errorf("Unlock of an unlocked Mutex: %v", err)
	}
}

// TestMutexFairNoHerd: waiters get the lock in the order they asked for
// it, and each waiter watches only the contender just ahead of it (the
// server's watch table says so).
func TestMutexFairNoHerd(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	const n = 6
	cs := conns(t, srv.Addr(), n)
	ctx := testCtx(t, 20*time.Second)
	ms := make([]*recipe.Mutex, n)
	for i := range ms {
		ms[i] = recipe.NewMutex(cs[i], "/locks/fair", recipe.WithData([]byte(fmt.Sprint(i))))
	}
	if err := ms[0].Lock(ctx); err != nil {
		t.Fatal(err)
	}
	order := make(chan int, n)
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ms[i].Lock(ctx); err != nil {
				t.Error(err)
				return
			}
			order <- i
			ms[i].Unlock(ctx)
		}()
		// Queue the waiters one after the other.
		if !eventually(5*time.Second, func() bool {
			p, _ := ms[0].Participants(ctx)
			return len(p) == i+1
		}) {
			t.Fatalf("waiter %d did not queue", i)
		}
	}
	parts, err := ms[0].Participants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Let every waiter set its watch, then read the server's watch table.
	want := map[string][]string{} // session → watched lock nodes
	sid := func(c *zk.Conn) string { return fmt.Sprintf("0x%x", uint64(c.SessionID())) }
	want[sid(cs[0])] = []string{"/locks/fair/" + parts[0]} // the holder's own node (Lost)
	for i := 1; i < n; i++ {
		want[sid(cs[i])] = []string{"/locks/fair/" + parts[i-1]}
	}
	var got map[string][]string
	if !eventually(5*time.Second, func() bool {
		got = watchesBySession(t, srv.Addr(), "/locks/fair/")
		return fmt.Sprint(got) == fmt.Sprint(want)
	}) {
		t.Fatalf("watches on lock nodes by session:\n got %v\nwant %v", got, want)
	}
	if err := ms[0].Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(order)
	var seq []int
	for i := range order {
		seq = append(seq, i)
	}
	if fmt.Sprint(seq) != "[1 2 3 4 5]" {
		t.Fatalf("acquisition order %v, want arrival order", seq)
	}
}

// watchesBySession reads the server's watch table (wchp) for paths under
// prefix.
func watchesBySession(t testing.TB, addr, prefix string) map[string][]string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	nc.Write([]byte("wchp"))
	var b strings.Builder
	buf := make([]byte, 8192)
	for {
		n, err := nc.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	out := map[string][]string{}
	path := ""
	for _, l := range strings.Split(b.String(), "\n") {
		switch {
		case strings.HasPrefix(l, "\t"):
			if strings.HasPrefix(path, prefix) {
				s := strings.TrimSpace(l)
				out[s] = append(out[s], path)
			}
		case l != "":
			path = l
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// TestMutexExpiredHolder: the holder's session expires (its connection is
// black-holed); the holder learns it may have lost the lock (Lost) before
// the server deletes its node, and the lock then passes to the next
// waiter, never with two holders at once.
func TestMutexExpiredHolder(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 30*time.Second)
	hc, px := expiringConn(t, srv.Addr(), 1500*time.Millisecond)
	holder := recipe.NewMutex(hc, "/locks/expire")
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	node := holder.Node()
	var ex exclusion
	ex.enter()
	lost := make(chan time.Time, 1)
	go func() {
		<-holder.Lost()
		lost <- time.Now()
		ex.leave() // the holder stops working on the news
	}()

	const waiters = 3
	got := make(chan time.Time, waiters)
	var wg sync.WaitGroup
	for _, c := range conns(t, srv.Addr(), waiters) {
		m := recipe.NewMutex(c, "/locks/expire")
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.Lock(ctx); err != nil {
				t.Error(err)
				return
			}
			ex.enter()
			got <- time.Now()
			time.Sleep(5 * time.Millisecond)
			ex.leave()
			m.Unlock(ctx)
		}()
	}
	if !eventually(5*time.Second, func() bool {
		p, _ := holder.Participants(ctx)
		return len(p) == 1+waiters
	}) {
		t.Fatal("waiters did not queue")
	}
	select {
	case <-got:
		t.Fatal("a waiter got the lock while the holder held it")
	case <-time.After(200 * time.Millisecond):
	}
	cut := time.Now()
	px.Blackhole()
	wg.Wait()
	close(got)
	lostAt := <-lost
	first := <-got
	if ex.max.Load() != 1 {
		t.Errorf("%d holders at once", ex.max.Load())
	}
	if !lostAt.Before(first) {
		t.Errorf("holder learned of the loss %v after cut, the next holder got the lock %v after cut",
			lostAt.Sub(cut), first.Sub(cut))
	}
	waitGone(t, connect(t, srv.Addr()), node, time.Second)
	t.Logf("cut → holder's Lost %v, → next holder %v", lostAt.Sub(cut).Round(time.Millisecond), first.Sub(cut).Round(time.Millisecond))
	if d := first.Sub(cut); d > 5*time.Second {
		t.Errorf("lock passed on only %v after the holder's connection was cut", d)
	}
}

// TestMutexCancel: a waiter whose context ends gives up and removes its
// node; TryLock does not wait and leaves nothing behind.
func TestMutexCancel(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 20*time.Second)
	cs := conns(t, srv.Addr(), 2)
	a, b := recipe.NewMutex(cs[0], "/locks/cancel"), recipe.NewMutex(cs[1], "/locks/cancel")
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := b.Lock(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock with a short deadline: %v", err)
	}
	if ok, err := b.TryLock(ctx); ok || err != nil {
		t.Fatalf("TryLock while held: %v %v", ok, err)
	}
	if p, err := a.Participants(ctx); err != nil || len(p) != 1 {
		t.Fatalf("participants after the waiters gave up: %v %v", p, err)
	}
	select {
	case <-a.Lost():
		t.Fatal("holder's Lost closed while it holds the lock")
	default:
	}
	if err := a.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Lost():
	default:
		t.Fatal("Lost of an unlocked Mutex not closed")
	}
	if ok, err := b.TryLock(ctx); !ok || err != nil {
		t.Fatalf("TryLock when free: %v %v", ok, err)
	}
	if err := b.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	// A lock node deleted by someone else is a lost lock.
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cs[1].Delete(ctx, a.Node(), -1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("Lost not closed after the lock node was deleted")
	}
	if err := a.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRWMutex: readers share, writers exclude everyone; a waiting writer
// holds back readers that come after it.
func TestRWMutex(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 30*time.Second)
	const n = 6
	cs := conns(t, srv.Addr(), n)
	rws := make([]*recipe.RWMutex, n)
	for i := range rws {
		rws[i] = recipe.NewRWMutex(cs[i], "/locks/rw")
	}
	// Three readers at once.
	for i := 0; i < 3; i++ {
		if err := rws[i].RLock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wgot, rgot := make(chan struct{}), make(chan struct{})
	go func() {
		if err := rws[3].Lock(ctx); err != nil {
			t.Error(err)
		}
		close(wgot)
	}()
	if !eventually(5*time.Second, func() bool { p, _ := rws[0].Participants(ctx); return len(p) == 4 }) {
		t.Fatal("writer did not queue")
	}
	go func() {
		if err := rws[4].RLock(ctx); err != nil {
			t.Error(err)
		}
		close(rgot)
	}()
	if !eventually(5*time.Second, func() bool { p, _ := rws[0].Participants(ctx); return len(p) == 5 }) {
		t.Fatal("late reader did not queue")
	}
	time.Sleep(100 * time.Millisecond)
	select {
	case <-wgot:
		t.Fatal("writer got the lock while readers hold it")
	case <-rgot:
		t.Fatal("a reader got past a waiting writer")
	default:
	}
	for i := 0; i < 3; i++ {
		if err := rws[i].RUnlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	<-wgot
	select {
	case <-rgot:
		t.Fatal("reader got the lock while the writer holds it")
	case <-time.After(100 * time.Millisecond):
	}
	if err := rws[3].Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	<-rgot
	if err := rws[4].RUnlock(ctx); err != nil {
		t.Fatal(err)
	}

	// Under load: writers alone, readers never with a writer.
	var readers, writers, maxReaders atomic.Int32
	var bad atomic.Int32
	var wg sync.WaitGroup
	for i, rw := range rws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 8 {
				if (i+r)%3 == 0 {
					if err := rw.Lock(ctx); err != nil {
						t.Error(err)
						return
					}
					if writers.Add(1) != 1 || readers.Load() != 0 {
						bad.Add(1)
					}
					time.Sleep(time.Millisecond)
					writers.Add(-1)
					rw.Unlock(ctx)
				} else {
					if err := rw.RLock(ctx); err != nil {
						t.Error(err)
						return
					}
					n := readers.Add(1)
					if writers.Load() != 0 {
						bad.Add(1)
					}
					for m := maxReaders.Load(); n > m && !maxReaders.CompareAndSwap(m, n); m = maxReaders.Load() {
					}
					time.Sleep(2 * time.Millisecond)
					readers.Add(-1)
					rw.RUnlock(ctx)
				}
			}
		}()
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d violations of reader/writer exclusion", bad.Load())
	}
	t.Logf("at most %d readers at once under load", maxReaders.Load())
}

// TestSemaphore: never more than max leases at once, under load; a lease
// of an expired session is released by the server.
func TestSemaphore(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 30*time.Second)
	const max, workers, rounds = 3, 8, 6
	cs := conns(t, srv.Addr(), workers)
	// max leases at once, then no more.
	var held []*recipe.Lease
	for i := 0; i < max; i++ {
		l, err := recipe.NewSemaphore(cs[i], "/sem", max).Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
	}
	if l, err := recipe.NewSemaphore(cs[max], "/sem", max).TryAcquire(ctx); l != nil || err != nil {
		t.Fatalf("TryAcquire with every lease taken: %v %v", l, err)
	}
	for _, l := range held {
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := held[0].Release(ctx); !errors.Is(err, recipe.ErrNotHeld) {
		t.Fatalf("second Release: %v", err)
	}

	var ex exclusion
	var wg sync.WaitGroup
	for _, c := range cs {
		s := recipe.NewSemaphore(c, "/sem", max)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				l, err := s.Acquire(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				ex.enter()
				time.Sleep(2 * time.Millisecond)
				ex.leave()
				if err := l.Release(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if ex.max.Load() > max || ex.rounds.Load() != workers*rounds {
		t.Errorf("max leases at once %d (limit %d), rounds %d", ex.max.Load(), max, ex.rounds.Load())
	}

	// An expired session's lease comes back.
	ec, px := expiringConn(t, srv.Addr(), time.Second)
	dead, err := recipe.NewSemaphore(ec, "/sem", 1).Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s1 := recipe.NewSemaphore(cs[0], "/sem", 1)
	if l, _ := s1.TryAcquire(ctx); l != nil {
		t.Fatal("got a second lease of a semaphore of one")
	}
	px.Blackhole()
	start := time.Now()
	l, err := s1.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("lease of the expired session released after %v", time.Since(start).Round(time.Millisecond))
	waitGone(t, cs[1], dead.Node(), time.Second)
	l.Release(ctx)
}
