package recipe

import (
	"context"
	"errors"
	"sync"

	"github.com/warren-zk/warren/zk"
)

// guard watches a node this participant owns (a lock node, a latch node)
// and closes lost as soon as the participant can no longer be sure it owns
// it: the node was deleted, the connection to the ensemble was lost (the
// session may expire before it is re-established, and another participant
// then takes over), or the session ended. It uses a persistent watch on the
// node (ZooKeeper 3.6+), whose stream also carries the connection's state
// changes; against an older server it falls back to a one-shot watch, which
// sees deletion and the end of the session but not disconnects.
type guard struct {
	w      *zk.Watcher // nil with the one-shot fallback
	lost   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	closer sync.Once
}

func newGuard(ctx context.Context, c *zk.Conn, path string) (*guard, error) {
	g := &guard{lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	var w *zk.Watcher
	err := retry(ctx, func() error {
		var err error
		w, err = c.AddWatch(ctx, path, false)
		return err
	})
	switch {
	case err == nil:
		g.w = w
		go g.runPersistent()
	case errors.Is(err, zk.ErrUnimplemented), errors.Is(err, zk.ErrMarshallingError):
		var ok bool
		var ch <-chan zk.Event
		err = retry(ctx, func() error {
			var err error
			ok, _, ch, err = c.ExistsW(ctx, path)
			return err
		})
		if err != nil {
			return nil, err
		}
		if !ok {
			g.markLost()
		}
		go g.runOneShot(ch)
		return g, nil
	default:
		return nil, err
	}
	// The node may have gone, or the connection dropped, before the watch
	// was in place.
	if st := c.State(); st != zk.StateConnected && st != zk.StateConnectedReadOnly {
		g.markLost()
	}
	ok, _, err := c.Exists(ctx, path)
	if err == nil && !ok || isConnLoss(err) || isDead(err) {
		g.markLost()
	}
	return g, nil
}

func (g *guard) markLost() { g.once.Do(func() { close(g.lost) }) }

func (g *guard) runPersistent() {
	defer close(g.done)
	for ev := range g.w.Events() {
		switch ev.Type {
		case zk.EventNodeDeleted, zk.EventNotWatching:
			g.markLost()
		case zk.EventSession:
			if ev.State != zk.StateConnected && ev.State != zk.StateConnectedReadOnly {
				g.markLost()
			}
		}
	}
	// The stream ended: Close (then nobody is listening any more) or an
	// overflow, which cannot happen with a consumer this quick, but if it
	// did the node would no longer be watched.
	select {
	case <-g.stop:
	default:
		g.markLost()
	}
}

func (g *guard) runOneShot(ch <-chan zk.Event) {
	defer close(g.done)
	select {
	case ev := <-ch:
		if ev.Type == zk.EventNodeDeleted || ev.Type == zk.EventNotWatching {
			g.markLost()
		}
	case <-g.stop:
	}
}

// close stops watching and waits for the goroutine to end.
func (g *guard) close() {
	g.closer.Do(func() {
		close(g.stop)
		if g.w != nil {
			g.w.Close()
		}
		<-g.done
	})
}
