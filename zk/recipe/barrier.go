package recipe

import (
	"context"
	"errors"
	"sort"

	"github.com/warren-zk/warren/zk"
)

// Barrier holds waiters back until it is removed: Curator's
// DistributedBarrier. The barrier is up while its node exists.
type Barrier struct {
	c    *zk.Conn
	path string
	o    options
}

// NewBarrier returns a barrier on path. Options: WithACL.
func NewBarrier(c *zk.Conn, path string, opts ...Option) *Barrier {
	return &Barrier{c: c, path: path, o: buildOptions(opts)}
}

// Set raises the barrier (creates its node, and missing ancestors). Setting
// a barrier that is up is not an error.
func (b *Barrier) Set(ctx context.Context) error {
	err := retry(ctx, func() error {
		_, err := b.c.Create(ctx, b.path, nil, b.o.acl, zk.ModePersistent)
		return err
	})
	if errors.Is(err, zk.ErrNoNode) {
		if err = ensurePath(ctx, b.c, parentOf(b.path), b.o.acl, zk.ModePersistent); err == nil {
			return b.Set(ctx)
		}
	}
	if errors.Is(err, zk.ErrNodeExists) {
		return nil
	}
	return err
}

// Remove lowers the barrier, releasing every waiter. Removing a barrier
// that is down is not an error.
func (b *Barrier) Remove(ctx context.Context) error {
	return deleteNode(ctx, b.c, b.path)
}

// Wait blocks until the barrier is down (returning at once if it is), or
// ctx ends.
func (b *Barrier) Wait(ctx context.Context) error {
	for {
		var (
			up bool
			ch <-chan zk.Event
		)
		err := retry(ctx, func() error {
			var err error
			up, _, ch, err = b.c.ExistsW(ctx, b.path)
			return err
		})
		if err != nil {
			return err
		}
		if !up {
			return nil
		}
		select {
		case ev := <-ch:
			if ev.Type == zk.EventNotWatching {
				return ev.Err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// DoubleBarrier lets a group of processes start and finish a computation
// together: Enter returns once the expected number of members have entered,
// and Leave once every member that entered has left. It is Curator's
// DistributedDoubleBarrier, in its layout: each member is an ephemeral node
// <path>/<uuid>, and the last member to enter creates <path>/ready.
//
// The number of members is a threshold, not a limit: more may enter. A
// DoubleBarrier is one member, for one round (Enter, then Leave); use a new
// one (or the same one after Leave) for the next round.
type DoubleBarrier struct {
	c       *zk.Conn
	path    string
	members int
	o       options
	name    string // our node's name while entered
}

const readyNode = "ready"

// NewDoubleBarrier returns a member of the double barrier on path that
// opens when members have entered. Options: WithACL, WithData (the member
// node's data), WithPersistentParents.
func NewDoubleBarrier(c *zk.Conn, path string, members int, opts ...Option) *DoubleBarrier {
	return &DoubleBarrier{c: c, path: path, members: max(members, 1), o: buildOptions(opts)}
}

// Enter joins the barrier and waits until enough members have joined, or
// ctx ends (then it leaves again).
func (b *DoubleBarrier) Enter(ctx context.Context) error {
	if b.name != "" {
		return errors.New("recipe: DoubleBarrier entered twice")
	}
	name := newUUID()
	ours := join(b.path, name)
	for {
		err := retry(ctx, func() error {
			_, err := b.c.Create(ctx, ours, b.o.data, b.o.acl, zk.ModeEphemeral)
			return err
		})
		if errors.Is(err, zk.ErrNoNode) {
			if err = ensurePath(ctx, b.c, b.path, b.o.acl, b.o.parentMode); err == nil {
				continue
			}
		}
		if err != nil && !errors.Is(err, zk.ErrNodeExists) { // exists: a retry after a lost reply
			if ctx.Err() != nil {
				cleanupNode(ctx, b.c, ours)
			}
			return err
		}
		break
	}
	b.name = name
	ready := join(b.path, readyNode)
	for {
		var (
			ok bool
			ch <-chan zk.Event
		)
		err := retry(ctx, func() error {
			var err error
			ok, _, ch, err = b.c.ExistsW(ctx, ready)
			return err
		})
		if err != nil {
			return b.abandon(ctx, err)
		}
		if ok {
			return nil
		}
		var children []string
		err = retry(ctx, func() error {
			var err error
			children, err = b.c.Children(ctx, b.path)
			return err
		})
		if err != nil {
			return b.abandon(ctx, err)
		}
		if len(children) >= b.members {
			err := retry(ctx, func() error {
				_, err := b.c.Create(ctx, ready, nil, b.o.acl, zk.ModePersistent)
				return err
			})
			if err != nil && !errors.Is(err, zk.ErrNodeExists) {
				return b.abandon(ctx, err)
			}
			return nil
		}
		select {
		case ev := <-ch:
			if ev.Type == zk.EventNotWatching {
				return b.abandon(ctx, ev.Err)
			}
		case <-ctx.Done():
			return b.abandon(ctx, ctx.Err())
		}
	}
}

func (b *DoubleBarrier) abandon(ctx context.Context, err error) error {
	if !isDead(err) {
		cleanupNode(ctx, b.c, join(b.path, b.name))
	}
	b.name = ""
	return err
}

// Leave leaves the barrier and waits until every member has left, or ctx
// ends. The last one out removes the ready node, so the path can serve the
// next round.
func (b *DoubleBarrier) Leave(ctx context.Context) error {
	if b.name == "" {
		return ErrNotHeld
	}
	if err := deleteNode(ctx, b.c, join(b.path, b.name)); err != nil {
		return err
	}
	b.name = ""
	for {
		var children []string
		err := retry(ctx, func() error {
			var err error
			children, err = b.c.Children(ctx, b.path)
			return err
		})
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			return err
		}
		members := children[:0]
		for _, ch := range children {
			if ch != readyNode {
				members = append(members, ch)
			}
		}
		if len(members) == 0 {
			break
		}
		// Wait for the highest, then look again (Curator's way: each
		// remaining member wakes one waiter at most per departure).
		sort.Strings(members)
		var ch <-chan zk.Event
		err = retry(ctx, func() error {
			var err error
			_, _, ch, err = b.c.GetW(ctx, join(b.path, members[len(members)-1]))
			return err
		})
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		select {
		case ev := <-ch:
			if ev.Type == zk.EventNotWatching {
				return ev.Err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := deleteNode(ctx, b.c, join(b.path, readyNode)); err != nil {
		return err
	}
	return nil
}
