package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

// watchRoundTimeout bounds the wait for one round's notifications.
const watchRoundTimeout = 10 * time.Second

func (r *runner) onWatchEvent(ev *proto.WatcherEvent) {
	if ev.Type != proto.EventNodeDataChanged || ev.Path != r.watchTarget {
		return
	}
	if r.watchLeft.Add(-1) == 0 {
		select {
		case r.watchAll <- nanotime():
		default:
		}
	}
}

// runWatch repeats rounds: every watching session sets a watch on the target
// (even sessions with getData, odd ones with exists), then the control
// session sets the target's data; the round's latency is the time from
// queueing that setData to the arrival of the last of the notifications. One
// round is one operation. Results are recorded in session 0.
func (r *runner) runWatch(ctx context.Context) error {
	k := len(r.sess)
	rec := r.sess[0]
	armCh := make(chan Completion, k)
	setCh := make(chan Completion, 1)
	setReq := proto.SetDataRequest{Path: r.watchTarget, Data: r.value, Version: -1}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	wait := func(ch <-chan Completion) (Completion, error) {
		timer.Reset(watchRoundTimeout)
		select {
		case c := <-ch:
			return c, nil
		case <-timer.C:
			return Completion{}, errors.New("timed out")
		case <-ctx.Done():
			return Completion{}, ctx.Err()
		}
	}
	for !r.stop.Load() {
		sent := 0
		for i, s := range r.sess {
			var err error
			if i%2 == 0 {
				s.get = proto.GetDataRequest{Path: r.watchTarget, Watch: true}
				err = s.conn.Go(proto.OpGetData, &s.get, nil, 0, armCh)
			} else {
				s.exists = proto.ExistsRequest{Path: r.watchTarget, Watch: true}
				err = s.conn.Go(proto.OpExists, &s.exists, nil, 0, armCh)
			}
			if err != nil {
				rec.fail(proto.ErrConnectionLoss)
				break
			}
			sent++
		}
		failed := sent < k
		for range sent {
			c, err := wait(armCh)
			if err != nil {
				rec.fail(proto.ErrOperationTimeout)
				return fmt.Errorf("bench: watch: setting the watches: %w", err)
			}
			if c.Err != 0 {
				rec.fail(c.Err)
				failed = true
			}
		}
		if failed {
			return nil
		}
		measured := r.measuring.Load()
		if measured && !r.ticket() {
			return nil
		}
		r.watchLeft.Store(int64(k))
		select {
		case <-r.watchAll:
		default:
		}
		if err := r.ctrl.Go(proto.OpSetData, &setReq, nil, 0, setCh); err != nil {
			rec.fail(proto.ErrConnectionLoss)
			return nil
		}
		timer.Reset(watchRoundTimeout)
		var allAt int64
		select {
		case allAt = <-r.watchAll:
		case <-timer.C:
			rec.fail(proto.ErrOperationTimeout)
			r.setNote(fmt.Sprintf("only %d of %d watchers were notified within %v", int64(k)-r.watchLeft.Load(), k, watchRoundTimeout))
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
		c, err := wait(setCh)
		if err != nil {
			rec.fail(proto.ErrOperationTimeout)
			return fmt.Errorf("bench: watch: setData: %w", err)
		}
		if c.Err != 0 {
			rec.fail(c.Err)
			return nil
		}
		if measured {
			rec.hist.Record(time.Duration(allAt - c.Start))
			rec.ops.Add(1)
		}
	}
	return nil
}

// runChurn runs Sessions loops of: connect a new session, create an
// ephemeral znode, close the session. One loop is one operation.
func (r *runner) runChurn(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, s := range r.sess {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.churn(ctx, s)
		}()
	}
	wg.Wait()
	return nil
}

func (r *runner) churn(ctx context.Context, s *session) {
	addr := r.cfg.Servers[s.idx%len(r.cfg.Servers)]
	opts := DialOptions{SessionTimeout: r.cfg.SessionTimeout}
	for i := int64(0); !r.stop.Load(); i++ {
		measured := r.measuring.Load()
		if measured && !r.ticket() {
			return
		}
		start := nanotime()
		c, err := Dial(ctx, addr, opts)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if measured {
				s.fail(proto.ErrConnectionLoss)
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.create = proto.CreateRequest{
			Path: s.childPath(r.dir, "e"+itoa(int64(s.idx))+"-", i), Data: r.value,
			Acl: proto.OpenACLUnsafe, Flags: proto.ModeEphemeral,
		}
		err = c.Call(ctx, proto.OpCreate, &s.create, nil)
		if cerr := c.Close(); err == nil {
			err = cerr
		}
		end := nanotime()
		if !measured {
			continue
		}
		if err != nil {
			s.fail(codeOf(err))
			continue
		}
		s.hist.Record(time.Duration(end - start))
		s.ops.Add(1)
	}
}

// codeOf maps an error to a ZooKeeper code: the server's own code, or
// ConnectionLoss for a transport failure.
func codeOf(err error) proto.Err {
	var code proto.Err
	if errors.As(err, &code) && !errors.Is(err, context.Canceled) {
		return code
	}
	return proto.ErrConnectionLoss
}
