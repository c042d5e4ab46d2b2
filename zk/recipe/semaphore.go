package recipe

import (
	"context"
	"errors"
	"sync"

	"github.com/warren-zk/warren/zk"
)

// Semaphore is a distributed counting semaphore: at most max leases are
// held at a time across all its participants. It has the layout of
// Curator's InterProcessSemaphoreV2, and works with it: a lease is a
// sequential-ephemeral node <path>/leases/_c_<uuid>-lease-<seq>, and
// acquirers take turns through a Mutex on <path>/locks, so only one of
// them at a time counts the leases (and waits, watching the leases'
// parent, for one to be released). A lease whose session ends is released
// by the server.
//
// Every participant must use the same max; Curator does not check it and
// neither does Semaphore.
type Semaphore struct {
	c    *zk.Conn
	path string
	max  int
	o    options
}

// NewSemaphore returns a semaphore on path allowing max leases (max ≥ 1).
// Options: WithACL, WithData (each lease node's data),
// WithPersistentParents.
func NewSemaphore(c *zk.Conn, path string, max int, opts ...Option) *Semaphore {
	if max < 1 {
		max = 1
	}
	return &Semaphore{c: c, path: path, max: max, o: buildOptions(opts)}
}

// Lease is one lease of a Semaphore, held until Release.
type Lease struct {
	c    *zk.Conn
	node string

	mu       sync.Mutex
	released bool
}

// Node returns the lease's node path.
func (l *Lease) Node() string { return l.node }

// Release gives the lease back by deleting its node. Releasing twice
// returns ErrNotHeld.
func (l *Lease) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return ErrNotHeld
	}
	if err := deleteNode(ctx, l.c, l.node); err != nil && !isDead(err) {
		return err
	}
	l.released = true
	return nil
}

// Acquire takes a lease, waiting until one is free or ctx ends.
func (s *Semaphore) Acquire(ctx context.Context) (*Lease, error) {
	l, err := s.acquire(ctx, false)
	return l, err
}

// TryAcquire takes a lease if one is free now; it returns nil, nil if
// none is (or if the only free one is about to go to a participant that
// was waiting for it).
func (s *Semaphore) TryAcquire(ctx context.Context) (*Lease, error) {
	return s.acquire(ctx, true)
}

var errNoLease = errors.New("recipe: no lease free")

func (s *Semaphore) acquire(ctx context.Context, try bool) (*Lease, error) {
	if !try {
		// Take turns: the holder of the lock waits for a lease to be
		// released while the others wait for the lock. TryAcquire does not
		// wait, so it need not take its turn: like everyone it counts the
		// leases only after creating its own, so two acquirers never both
		// see room for one.
		lock, err := acquire(ctx, s.c, join(s.path, "locks"), mutexKind, options{acl: s.o.acl, parentMode: s.o.parentMode}, false)
		if err != nil {
			return nil, err
		}
		defer cleanupNode(ctx, s.c, lock)
	}
	dir := join(s.path, "leases")
	node, err := createProtected(ctx, s.c, dir, "lease-", s.o.data, s.o.acl, zk.ModeEphemeralSequential, s.o.parentMode)
	if err != nil {
		return nil, err
	}
	name := base(node)
	for {
		var (
			children []string
			ch       <-chan zk.Event
		)
		err := retry(ctx, func() error {
			var err error
			children, _, ch, err = s.c.ChildrenW(ctx, dir)
			return err
		})
		if errors.Is(err, zk.ErrNoNode) {
			err = ErrNodeGone
		}
		if err != nil {
			return nil, fail(ctx, s.c, node, err)
		}
		found := false
		for _, n := range children {
			found = found || n == name
		}
		if !found {
			return nil, ErrNodeGone
		}
		if len(children) <= s.max {
			return &Lease{c: s.c, node: node}, nil
		}
		if try {
			fail(ctx, s.c, node, errNoLease)
			return nil, nil
		}
		select {
		case ev := <-ch:
			if ev.Type == zk.EventNotWatching {
				return nil, fail(ctx, s.c, node, ev.Err)
			}
		case <-ctx.Done():
			return nil, fail(ctx, s.c, node, ctx.Err())
		}
	}
}

// Leases returns the node names of the leases currently held (and, briefly,
// of a lease being acquired).
func (s *Semaphore) Leases(ctx context.Context) ([]string, error) {
	return participants(ctx, s.c, join(s.path, "leases"), "lease-")
}
