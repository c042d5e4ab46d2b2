package recipe

import (
	"context"
	"errors"
	"sync"

	"github.com/warren-zk/warren/zk"
)

// Node names of the lock layouts. Curator's InterProcessMutex creates
// _c_<uuid>-lock-<seq>; kazoo's Lock creates <uuid hex>__lock__<seq>. A
// Mutex creates the former and treats both as contenders.
const (
	mutexMarker     = "lock-"
	kazooLockMarker = "__lock__"
	readMarker      = "__READ__" // Curator InterProcessReadWriteLock
	writeMarker     = "__WRIT__"
)

var mutexMarkers = []string{mutexMarker, kazooLockMarker}

// lockKind says which children of the lock's node take part and which one
// a contender waits for.
type lockKind struct {
	name    string   // the node name after the protected prefix
	markers []string // children carrying one of these are contenders
	// blocker returns the index in sorted of the node that contender i
	// must wait for, or -1 if it holds the lock.
	blocker func(sorted []seqNode, i int) int
}

// exclusive: the first contender holds the lock; each other waits for the
// one just before it (no herd effect).
func exclusive(_ []seqNode, i int) int { return i - 1 }

var mutexKind = lockKind{name: mutexMarker, markers: mutexMarkers, blocker: exclusive}

var errWouldBlock = errors.New("recipe: would block")

// acquire creates a sequential-ephemeral node for kind under dir and waits
// until kind says it holds the lock. With try it does not wait: it removes
// its node and returns errWouldBlock. It returns the node's path.
func acquire(ctx context.Context, c *zk.Conn, dir string, kind lockKind, o options, try bool) (string, error) {
	node, err := createProtected(ctx, c, dir, kind.name, o.data, o.acl, zk.ModeEphemeralSequential, o.parentMode)
	if err != nil {
		return "", err
	}
	name := base(node)
	for {
		var children []string
		err := retry(ctx, func() error {
			var err error
			children, err = c.Children(ctx, dir)
			return err
		})
		if errors.Is(err, zk.ErrNoNode) {
			err = ErrNodeGone
		}
		if err != nil {
			return "", fail(ctx, c, node, err)
		}
		sorted := sortSequential(children, kind.markers...)
		i := indexOf(sorted, name)
		if i < 0 {
			return "", ErrNodeGone
		}
		b := kind.blocker(sorted, i)
		if b < 0 {
			return node, nil
		}
		if try {
			return "", fail(ctx, c, node, errWouldBlock)
		}
		// Wait for the blocker only: a data watch, set only if it still
		// exists, as Curator does (an exists watch on a node that is
		// already gone would stay registered for nothing).
		_, _, ch, err := c.GetW(ctx, join(dir, sorted[b].name))
		switch {
		case errors.Is(err, zk.ErrNoNode):
			continue
		case isConnLoss(err):
			if err := sleep(ctx, minRetryPause); err != nil {
				return "", fail(ctx, c, node, err)
			}
			continue
		case err != nil:
			return "", fail(ctx, c, node, err)
		}
		select {
		case ev := <-ch:
			if ev.Type == zk.EventNotWatching {
				return "", fail(ctx, c, node, ev.Err)
			}
		case <-ctx.Done():
			return "", fail(ctx, c, node, ctx.Err())
		}
	}
}

// fail deletes node (best effort) and returns err.
func fail(ctx context.Context, c *zk.Conn, node string, err error) error {
	if !isDead(err) {
		cleanupNode(ctx, c, node)
	}
	return err
}

// Mutex is a distributed, fair, exclusive lock: Curator's InterProcessMutex
// (without its per-thread reentrancy) in Curator's layout.
//
// Each contender creates a sequential-ephemeral node
// <path>/_c_<uuid>-lock-<seq>; the lowest sequence number holds the lock
// and every other contender watches only the node just before its own, so
// a release wakes one waiter (no herd effect), in arrival order. The path
// and its missing ancestors are created as container nodes, which the
// server removes once they are empty.
//
// Interoperability: a Curator InterProcessMutex on the same path is an
// ordinary contender. So is a kazoo Lock (<hex>__lock__<seq>), which a
// Mutex recognises; kazoo in turn sees Mutex nodes only when told to, with
// Lock(client, path, extra_lock_patterns=["-lock-"]) (kazoo 2.7.1+); a
// plain kazoo Lock ignores them and takes the lock regardless. A kazoo Lock
// also caches that the lock's path exists, and fails once the server has
// reaped the emptied container node a Mutex creates, like Curator, for a
// missing path: give the Mutexes WithPersistentParents (or create the path
// beforehand) when kazoo shares the lock. Curator does not order kazoo's
// nodes correctly, so Curator and kazoo should not share a lock path, with
// or without a Mutex.
//
// A Mutex is one contender: Lock waits until the holder (in this process
// too) calls Unlock, like sync.Mutex. Make one Mutex per Conn and path and
// share it between goroutines, or one per goroutine.
type Mutex struct {
	c    *zk.Conn
	path string
	o    options
	sem  chan struct{} // held by the local owner, from Lock to Unlock

	mu    sync.Mutex
	node  string
	guard *guard
}

// NewMutex returns a Mutex on path (the lock's node, whose children are the
// contenders). Options: WithACL, WithData (the lock node's data, which
// Curator shows as the participant and kazoo as the contender's
// identifier), WithPersistentParents.
func NewMutex(c *zk.Conn, path string, opts ...Option) *Mutex {
	return &Mutex{c: c, path: path, o: buildOptions(opts), sem: make(chan struct{}, 1)}
}

// Lock acquires the lock, waiting until it is free or ctx ends. If it
// returns an error it does not hold the lock and has removed its node.
func (m *Mutex) Lock(ctx context.Context) error {
	_, err := m.lock(ctx, false)
	return err
}

// TryLock acquires the lock if no other contender is ahead, without
// waiting. It reports whether it got it.
func (m *Mutex) TryLock(ctx context.Context) (bool, error) {
	return m.lock(ctx, true)
}

func (m *Mutex) lock(ctx context.Context, try bool) (bool, error) {
	if try {
		select {
		case m.sem <- struct{}{}:
		default:
			return false, nil // held in this process
		}
	} else {
		select {
		case m.sem <- struct{}{}:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	node, err := acquire(ctx, m.c, m.path, mutexKind, m.o, try)
	if err == nil {
		var g *guard
		if g, err = newGuard(ctx, m.c, node); err != nil {
			fail(ctx, m.c, node, err)
		} else {
			m.mu.Lock()
			m.node, m.guard = node, g
			m.mu.Unlock()
			return true, nil
		}
	}
	<-m.sem
	if errors.Is(err, errWouldBlock) {
		return false, nil
	}
	return false, err
}

// Unlock releases the lock by deleting its node. It returns ErrNotHeld if
// the Mutex is not locked. If the node cannot be deleted (ctx ended while
// the server was unreachable) the Mutex stays locked and Unlock may be
// called again; the node goes anyway when the session ends.
func (m *Mutex) Unlock(ctx context.Context) error {
	m.mu.Lock()
	node, g := m.node, m.guard
	m.mu.Unlock()
	if node == "" {
		return ErrNotHeld
	}
	g.close()
	if err := deleteNode(ctx, m.c, node); err != nil && !isDead(err) {
		return err
	}
	m.mu.Lock()
	m.node, m.guard = "", nil
	m.mu.Unlock()
	<-m.sem
	return nil
}

// Lost returns a channel that is closed when the holder can no longer be
// sure it holds the lock: its node was deleted, the session ended, or the
// connection to the ensemble was lost. After a disconnect the session (and
// the lock) survive if the client reconnects within the session timeout,
// but another contender takes the lock as soon as the server expires the
// session, and a partitioned client learns of the expiry only when it
// reconnects; the connection is deemed lost after two thirds of the session
// timeout without a word from the server, before the server can expire the
// session, so a holder that stops working on Lost never overlaps with the
// next one. Stop, Unlock, and Lock again to go on.
//
// If the Mutex is not locked, Lost returns a closed channel.
func (m *Mutex) Lost() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.guard == nil {
		return closedChan
	}
	return m.guard.lost
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Node returns the path of the lock node while the Mutex is locked, else "".
func (m *Mutex) Node() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.node
}

// Participants returns the contenders' node names, the holder first, then
// the waiters in the order they will get the lock.
func (m *Mutex) Participants(ctx context.Context) ([]string, error) {
	return participants(ctx, m.c, m.path, mutexMarkers...)
}

func participants(ctx context.Context, c *zk.Conn, dir string, markers ...string) ([]string, error) {
	var children []string
	err := retry(ctx, func() error {
		var err error
		children, err = c.Children(ctx, dir)
		return err
	})
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sorted := sortSequential(children, markers...)
	out := make([]string, len(sorted))
	for i, n := range sorted {
		out[i] = n.name
	}
	return out, nil
}

// RWMutex is a distributed read/write lock in the layout of Curator's
// InterProcessReadWriteLock: readers create <path>/_c_<uuid>-__READ__<seq>
// and writers <path>/_c_<uuid>-__WRIT__<seq>, sequential-ephemeral. A
// writer holds the lock when its node is first; it waits for the node just
// before it. A reader holds the lock when no writer's node comes before
// its own; it waits for the last such writer. Requests are served in
// arrival order, so a waiting writer keeps later readers out (no writer
// starvation).
//
// Unlike sync.RWMutex, every RLock creates its own node, so readers in this
// process also exclude writers in this process through ZooKeeper. Lock is
// exclusive within the process too.
type RWMutex struct {
	c    *zk.Conn
	path string
	o    options
	wsem chan struct{}

	mu     sync.Mutex
	wnode  string
	rnodes []string
}

var (
	rwMarkers = []string{readMarker, writeMarker}
	writeKind = lockKind{name: writeMarker, markers: rwMarkers, blocker: exclusive}
	readKind  = lockKind{name: readMarker, markers: rwMarkers, blocker: func(sorted []seqNode, i int) int {
		for j := i - 1; j >= 0; j-- {
			if _, w := sequenceOf(sorted[j].name, writeMarker); w {
				return j
			}
		}
		return -1
	}}
)

// NewRWMutex returns a read/write lock on path. Options: WithACL, WithData,
// WithPersistentParents.
func NewRWMutex(c *zk.Conn, path string, opts ...Option) *RWMutex {
	return &RWMutex{c: c, path: path, o: buildOptions(opts), wsem: make(chan struct{}, 1)}
}

// Lock acquires the write lock, waiting until no reader or other writer
// holds the lock, or ctx ends.
func (rw *RWMutex) Lock(ctx context.Context) error {
	select {
	case rw.wsem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	node, err := acquire(ctx, rw.c, rw.path, writeKind, rw.o, false)
	if err != nil {
		<-rw.wsem
		return err
	}
	rw.mu.Lock()
	rw.wnode = node
	rw.mu.Unlock()
	return nil
}

// Unlock releases the write lock.
func (rw *RWMutex) Unlock(ctx context.Context) error {
	rw.mu.Lock()
	node := rw.wnode
	rw.mu.Unlock()
	if node == "" {
		return ErrNotHeld
	}
	if err := deleteNode(ctx, rw.c, node); err != nil && !isDead(err) {
		return err
	}
	rw.mu.Lock()
	rw.wnode = ""
	rw.mu.Unlock()
	<-rw.wsem
	return nil
}

// RLock acquires a read lock, waiting until no writer that asked before
// holds or waits for the lock, or ctx ends. Each RLock must be matched by
// an RUnlock.
func (rw *RWMutex) RLock(ctx context.Context) error {
	node, err := acquire(ctx, rw.c, rw.path, readKind, rw.o, false)
	if err != nil {
		return err
	}
	rw.mu.Lock()
	rw.rnodes = append(rw.rnodes, node)
	rw.mu.Unlock()
	return nil
}

// RUnlock releases one read lock taken with RLock.
func (rw *RWMutex) RUnlock(ctx context.Context) error {
	rw.mu.Lock()
	if len(rw.rnodes) == 0 {
		rw.mu.Unlock()
		return ErrNotHeld
	}
	node := rw.rnodes[len(rw.rnodes)-1]
	rw.rnodes = rw.rnodes[:len(rw.rnodes)-1]
	rw.mu.Unlock()
	if err := deleteNode(ctx, rw.c, node); err != nil && !isDead(err) {
		rw.mu.Lock()
		rw.rnodes = append(rw.rnodes, node)
		rw.mu.Unlock()
		return err
	}
	return nil
}

// Participants returns the node names of the readers and writers that hold
// or wait for the lock, in order.
func (rw *RWMutex) Participants(ctx context.Context) ([]string, error) {
	return participants(ctx, rw.c, rw.path, rwMarkers...)
}
