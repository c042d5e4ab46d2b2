package recipe

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/warren-zk/warren/zk"
)

// Queue is a distributed FIFO queue in the layout of kazoo's Queue, and
// works with it: each item is a persistent sequential node
// <path>/entry-100-<seq> holding the item; Take removes the item with the
// lowest sequence number. Items survive their producer's session.
//
// Delivery is at most once: an item goes to the one consumer whose delete
// of its node succeeds. If the connection breaks while a Take deletes an
// item, Take returns ErrConnectionLoss and the item may have been taken
// (then it is lost); likewise a Put that fails with ErrConnectionLoss may
// have queued its item.
type Queue struct{ q queue }

// PriorityQueue is a distributed priority queue in the layout of kazoo's
// Queue: an item of priority p (0 to 999, lower first) is a persistent
// sequential node <path>/entry-<ppp>-<seq>; Take removes the item with the
// lowest priority number, and among those the oldest. Delivery is as for
// Queue.
type PriorityQueue struct{ q queue }

const (
	queuePrefix     = "entry-"
	defaultPriority = 100 // kazoo's
)

// NewQueue returns a FIFO queue on path. Options: WithACL.
func NewQueue(c *zk.Conn, path string, opts ...Option) *Queue {
	return &Queue{queue{c: c, path: path, o: buildOptions(opts)}}
}

// NewPriorityQueue returns a priority queue on path. Options: WithACL.
func NewPriorityQueue(c *zk.Conn, path string, opts ...Option) *PriorityQueue {
	return &PriorityQueue{queue{c: c, path: path, o: buildOptions(opts)}}
}

// Put appends an item and returns its node's path.
func (q *Queue) Put(ctx context.Context, data []byte) (string, error) {
	return q.q.put(ctx, data, defaultPriority)
}

// Take removes and returns the oldest item, waiting for one if the queue
// is empty, until ctx ends.
func (q *Queue) Take(ctx context.Context) ([]byte, error) { return q.q.take(ctx, true) }

// Poll removes and returns the oldest item, or ok false if the queue is
// empty.
func (q *Queue) Poll(ctx context.Context) (data []byte, ok bool, err error) {
	data, err = q.q.take(ctx, false)
	if errors.Is(err, errEmpty) {
		return nil, false, nil
	}
	return data, err == nil, err
}

// Len returns the number of items in the queue.
func (q *Queue) Len(ctx context.Context) (int, error) { return q.q.len(ctx) }

// Put adds an item with priority (0 to 999; lower is taken first) and
// returns its node's path.
func (q *PriorityQueue) Put(ctx context.Context, data []byte, priority int) (string, error) {
	if priority < 0 || priority > 999 {
		return "", fmt.Errorf("recipe: priority %d out of range 0-999", priority)
	}
	return q.q.put(ctx, data, priority)
}

// Take removes and returns the item first in line (lowest priority number,
// then oldest), waiting for one if the queue is empty, until ctx ends.
func (q *PriorityQueue) Take(ctx context.Context) ([]byte, error) { return q.q.take(ctx, true) }

// Poll removes and returns the item first in line, or ok false if the
// queue is empty.
func (q *PriorityQueue) Poll(ctx context.Context) (data []byte, ok bool, err error) {
	data, err = q.q.take(ctx, false)
	if errors.Is(err, errEmpty) {
		return nil, false, nil
	}
	return data, err == nil, err
}

// Len returns the number of items in the queue.
func (q *PriorityQueue) Len(ctx context.Context) (int, error) { return q.q.len(ctx) }

type queue struct {
	c    *zk.Conn
	path string
	o    options
}

var errEmpty = errors.New("recipe: queue empty")

func (q *queue) put(ctx context.Context, data []byte, priority int) (string, error) {
	name := fmt.Sprintf("%s%03d-", queuePrefix, priority)
	for {
		// Not retried on connection loss: the item may have been queued.
		p, err := q.c.Create(ctx, join(q.path, name), data, q.o.acl, zk.ModePersistentSequential)
		if errors.Is(err, zk.ErrNoNode) {
			if err = ensurePath(ctx, q.c, q.path, q.o.acl, zk.ModePersistent); err == nil {
				continue
			}
		}
		return p, err
	}
}

// items returns the queue's item names in the order they are taken.
func items(children []string) []string {
	out := children[:0]
	for _, ch := range children {
		if strings.HasPrefix(ch, queuePrefix) {
			out = append(out, ch)
		}
	}
	sort.Strings(out) // entry-<ppp>-<seq>: by priority, then by age
	return out
}

func (q *queue) take(ctx context.Context, block bool) ([]byte, error) {
	watch := false
	for {
		var (
			children []string
			ch       <-chan zk.Event
		)
		err := retry(ctx, func() error {
			var err error
			if watch {
				children, _, ch, err = q.c.ChildrenW(ctx, q.path)
			} else {
				children, err = q.c.Children(ctx, q.path)
			}
			return err
		})
		if errors.Is(err, zk.ErrNoNode) {
			// No queue yet: create it, so there is something to watch.
			if err = ensurePath(ctx, q.c, q.path, q.o.acl, zk.ModePersistent); err == nil {
				continue
			}
		}
		if err != nil {
			return nil, err
		}
		for _, name := range items(children) {
			p := join(q.path, name)
			var data []byte
			err := retry(ctx, func() error {
				var err error
				data, _, err = q.c.Get(ctx, p)
				return err
			})
			if errors.Is(err, zk.ErrNoNode) {
				continue // taken by another consumer
			}
			if err != nil {
				return nil, err
			}
			err = q.c.Delete(ctx, p, -1)
			if errors.Is(err, zk.ErrNoNode) {
				continue // taken by another consumer
			}
			if err != nil {
				return nil, err
			}
			return data, nil
		}
		if !block {
			return nil, errEmpty
		}
		if !watch {
			watch = true // look again, this time with a watch
			continue
		}
		select {
		case ev := <-ch:
			if ev.Type == zk.EventNotWatching {
				return nil, ev.Err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (q *queue) len(ctx context.Context) (int, error) {
	var children []string
	err := retry(ctx, func() error {
		var err error
		children, err = q.c.Children(ctx, q.path)
		return err
	})
	if errors.Is(err, zk.ErrNoNode) {
		return 0, nil
	}
	return len(items(children)), err
}
