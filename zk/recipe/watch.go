package recipe

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"github.com/warren-zk/warren/zk"
)

// Watch keeps a view of ZooKeeper state fresh: a node's value
// (WatchConfig), a group's members (Group.Watch), a service's instances
// (Discovery.Watch). It reads the state, sets a watch, and reads again
// whenever the watch fires, in a goroutine that runs until Close or the end
// of the session.
//
// Watches survive reconnects (the client re-arms them, and a change made
// while it was disconnected fires on reconnect), so the view catches up by
// itself after a connection loss.
type Watch[T any] struct {
	mu      sync.Mutex
	val     T
	err     error
	updates chan T
	cancel  context.CancelFunc
	done    chan struct{}
}

// fetchFunc reads the current state and sets a one-shot watch on it.
type fetchFunc[T any] func(ctx context.Context) (T, <-chan zk.Event, error)

func startWatch[T any](ctx context.Context, fetch fetchFunc[T], equal func(a, b T) bool) (*Watch[T], error) {
	var (
		v  T
		ch <-chan zk.Event
	)
	err := retry(ctx, func() error {
		var err error
		v, ch, err = fetch(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	w := &Watch[T]{val: v, updates: make(chan T, 1), cancel: cancel, done: make(chan struct{})}
	go w.run(rctx, fetch, equal, ch)
	return w, nil
}

func (w *Watch[T]) run(ctx context.Context, fetch fetchFunc[T], equal func(a, b T) bool, ch <-chan zk.Event) {
	defer close(w.done)
	defer close(w.updates)
	for {
		select {
		case ev := <-ch:
			if ev.Type == zk.EventNotWatching {
				w.end(ev.Err)
				return
			}
		case <-ctx.Done():
			return
		}
		pause := minRetryPause
		for {
			v, next, err := fetch(ctx)
			if err == nil {
				ch = next
				w.publish(v, equal)
				break
			}
			if ctx.Err() != nil {
				return
			}
			if !isConnLoss(err) { // session ended, or no access: give up
				w.end(err)
				return
			}
			if sleep(ctx, pause) != nil {
				return
			}
			pause = min(2*pause, maxRetryPause)
		}
	}
}

func (w *Watch[T]) publish(v T, equal func(a, b T) bool) {
	w.mu.Lock()
	same := equal(w.val, v)
	w.val = v
	w.mu.Unlock()
	if same {
		return
	}
	for {
		select {
		case w.updates <- v:
			return
		default:
			select { // full: replace the stale value
			case <-w.updates:
			default:
			}
		}
	}
}

func (w *Watch[T]) end(err error) {
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
}

// Value returns the latest state read.
func (w *Watch[T]) Value() T {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.val
}

// Updates returns a channel that receives the state after each change. It
// holds only the latest state: a slow reader skips intermediate ones. It is
// closed when the watch ends (Close, or the session ended: see Err).
func (w *Watch[T]) Updates() <-chan T { return w.updates }

// Done returns a channel that is closed when the watch has ended.
func (w *Watch[T]) Done() <-chan struct{} { return w.done }

// Err returns why the watch ended by itself (zk.ErrSessionExpired,
// zk.ErrClosed, zk.ErrNoAuth…), or nil while it runs and after Close.
func (w *Watch[T]) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close stops the watch and waits for its goroutine to end. It is
// idempotent.
func (w *Watch[T]) Close() error {
	w.cancel()
	<-w.done
	return nil
}

// ConfigValue is the state of a configuration node.
type ConfigValue struct {
	Exists bool    // whether the node exists; if not, Data is nil
	Data   []byte  // the node's data
	Stat   zk.Stat // the node's Stat
}

// WatchConfig keeps the value of the node at path fresh, the classic
// configuration-management use of ZooKeeper: Value always has the data as
// of the last notification, and Updates delivers every new version (or the
// node's deletion, and its creation again). It returns once the first value
// has been read (a missing node is a value: Exists false).
func WatchConfig(ctx context.Context, c *zk.Conn, path string) (*Watch[ConfigValue], error) {
	fetch := func(ctx context.Context) (ConfigValue, <-chan zk.Event, error) {
		for {
			data, st, ch, err := c.GetW(ctx, path)
			if err == nil {
				return ConfigValue{Exists: true, Data: data, Stat: st}, ch, nil
			}
			if !errors.Is(err, zk.ErrNoNode) {
				return ConfigValue{}, nil, err
			}
			ok, _, ch, err := c.ExistsW(ctx, path)
			if err != nil {
				return ConfigValue{}, nil, err
			}
			if !ok {
				return ConfigValue{}, ch, nil
			}
			// Created in between: read it (the exists watch fires on its
			// next change, and costs a harmless extra read).
		}
	}
	equal := func(a, b ConfigValue) bool {
		return a.Exists == b.Exists && a.Stat.Czxid == b.Stat.Czxid && a.Stat.Mzxid == b.Stat.Mzxid &&
			bytes.Equal(a.Data, b.Data)
	}
	return startWatch(ctx, fetch, equal)
}
