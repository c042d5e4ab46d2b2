package session

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Entry is one tracked session.
type Entry struct {
	ID       int64
	timeout  atomic.Int64 // nanoseconds
	deadline atomic.Int64 // unix nanoseconds, on a tick boundary
	closing  atomic.Bool
	tick     int64
}

// Touch moves the deadline to roundUp(now + timeout, tick).
func (e *Entry) Touch(now time.Time) {
	d := now.UnixNano() + e.timeout.Load()
	e.deadline.Store((d/e.tick + 1) * e.tick)
}

// Deadline returns the current expiry time.
func (e *Entry) Deadline() time.Time { return time.Unix(0, e.deadline.Load()) }

// Timeout returns the session timeout.
func (e *Entry) Timeout() time.Duration { return time.Duration(e.timeout.Load()) }

// Closing reports whether the session was reported expired (or closed).
func (e *Entry) Closing() bool { return e.closing.Load() }

// Tracker holds the tracked sessions.
type Tracker struct {
	tick time.Duration
	mu   sync.Mutex
	m    map[int64]*Entry
}

// New returns a tracker with the given tick (ZooKeeper's tickTime).
func New(tick time.Duration) *Tracker {
	if tick <= 0 {
		tick = 2 * time.Second
	}
	return &Tracker{tick: tick, m: map[int64]*Entry{}}
}

// Add tracks a session (or updates its timeout) and touches it: a fresh
// start, which also clears a mark left by Expired.
func (t *Tracker) Add(id int64, timeout time.Duration, now time.Time) *Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.m[id]
	if e == nil {
		e = &Entry{ID: id, tick: int64(t.tick)}
		t.m[id] = e
	}
	e.timeout.Store(int64(timeout))
	e.closing.Store(false)
	e.Touch(now)
	return e
}

// Get returns the entry for id, or nil.
func (t *Tracker) Get(id int64) *Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[id]
}

// Remove stops tracking id.
func (t *Tracker) Remove(id int64) {
	t.mu.Lock()
	delete(t.m, id)
	t.mu.Unlock()
}

// Reopen clears the closing mark (the close proposal failed) and touches it.
func (t *Tracker) Reopen(id int64, now time.Time) {
	if e := t.Get(id); e != nil {
		e.closing.Store(false)
		e.Touch(now)
	}
}

// Expired marks and returns, sorted, the sessions whose deadline has passed.
func (t *Tracker) Expired(now time.Time) []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int64
	n := now.UnixNano()
	for id, e := range t.m {
		if n >= e.deadline.Load() && e.closing.CompareAndSwap(false, true) {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Entries returns all entries sorted by deadline, then id.
func (t *Tracker) Entries() []*Entry {
	t.mu.Lock()
	out := make([]*Entry, 0, len(t.m))
	for _, e := range t.m {
		out = append(out, e)
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		di, dj := out[i].deadline.Load(), out[j].deadline.Load()
		return di < dj || (di == dj && out[i].ID < out[j].ID)
	})
	return out
}

// Len returns the number of tracked sessions.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// Run checks for expired sessions at every tick boundary until ctx ends,
// calling expire with each non-empty batch.
//
// If a check comes much later than scheduled (more than two ticks late:
// the process was paused, e.g. by SIGSTOP, or starved), the tracker could
// not have heard from any client meanwhile: instead of expiring everyone it
// re-arms every deadline from now.
func (t *Tracker) Run(ctx context.Context, expire func(ids []int64)) {
	tick := int64(t.tick)
	for {
		now := time.Now().UnixNano()
		next := (now/tick + 1) * tick
		timer := time.NewTimer(time.Duration(next - now))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		woke := time.Now()
		if woke.UnixNano()-next > 2*tick {
			t.TouchAll(woke)
			continue
		}
		if ids := t.Expired(woke); len(ids) > 0 {
			expire(ids)
		}
	}
}

// TouchAll gives every session a full timeout from now (after a pause, or
// when this server becomes the one that decides expiry).
func (t *Tracker) TouchAll(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.m {
		e.closing.Store(false)
		e.Touch(now)
	}
}
