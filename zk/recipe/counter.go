package recipe

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/warren-zk/warren/zk"
)

// Counter is a shared 64-bit counter kept in one node's data as decimal
// text ("42"), the layout of kazoo's Counter (an empty or missing node
// reads as 0). Every change is a compare-and-set on the node's version, so
// concurrent updates are never lost: Add re-reads and tries again when
// another client got there first.
//
// A change that fails with ErrConnectionLoss may or may not have been
// applied; Counter does not retry it (a blind retry could apply it twice).
type Counter struct {
	c    *zk.Conn
	path string
	o    options
}

// NewCounter returns a counter on path. Options: WithACL.
func NewCounter(c *zk.Conn, path string, opts ...Option) *Counter {
	return &Counter{c: c, path: path, o: buildOptions(opts)}
}

// Get returns the counter's value.
func (k *Counter) Get(ctx context.Context) (int64, error) {
	v, _, err := k.read(ctx)
	return v, err
}

// read returns the value and the node's version (-1: no node).
func (k *Counter) read(ctx context.Context) (int64, int32, error) {
	var (
		data []byte
		st   zk.Stat
	)
	err := retry(ctx, func() error {
		var err error
		data, st, err = k.c.Get(ctx, k.path)
		return err
	})
	if errors.Is(err, zk.ErrNoNode) {
		return 0, -1, nil
	}
	if err != nil {
		return 0, 0, err
	}
	v, err := parseCounter(data)
	return v, st.Version, err
}

var errCounterData = errors.New("recipe: counter data is not a decimal integer")

func parseCounter(data []byte) (int64, error) {
	s := strings.TrimSpace(string(data))
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", errCounterData, data)
	}
	return v, nil
}

// write sets the value if the node is still at version (-1: does not
// exist yet). It reports false if another client changed it first.
func (k *Counter) write(ctx context.Context, v int64, version int32) (bool, error) {
	data := []byte(strconv.FormatInt(v, 10))
	var err error
	if version < 0 {
		_, err = k.c.Create(ctx, k.path, data, k.o.acl, zk.ModePersistent)
		if errors.Is(err, zk.ErrNoNode) {
			if err = ensurePath(ctx, k.c, parentOf(k.path), k.o.acl, zk.ModePersistent); err == nil {
				_, err = k.c.Create(ctx, k.path, data, k.o.acl, zk.ModePersistent)
			}
		}
		if errors.Is(err, zk.ErrNodeExists) {
			return false, nil
		}
	} else {
		_, err = k.c.Set(ctx, k.path, data, version)
		if errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNoNode) {
			return false, nil
		}
	}
	return err == nil, err
}

// Add adds delta to the counter and returns the new value.
func (k *Counter) Add(ctx context.Context, delta int64) (int64, error) {
	for conflicts := 0; ; conflicts++ {
		if err := backoff(ctx, conflicts); err != nil {
			return 0, err
		}
		v, version, err := k.read(ctx)
		if err != nil {
			return 0, err
		}
		ok, err := k.write(ctx, v+delta, version)
		if err != nil {
			return 0, err
		}
		if ok {
			return v + delta, nil
		}
	}
}

// backoff pauses after the n-th conflict with another writer, for a random
// time that grows with n, so that contending writers spread out instead of
// failing each other in lockstep.
func backoff(ctx context.Context, n int) error {
	if n == 0 {
		return nil
	}
	limit := min(time.Millisecond<<min(n, 5), 20*time.Millisecond)
	return sleep(ctx, rand.N(limit))
}

// CompareAndSet sets the counter to new if it is old, and reports whether
// it did.
func (k *Counter) CompareAndSet(ctx context.Context, old, new int64) (bool, error) {
	for conflicts := 0; ; conflicts++ {
		if err := backoff(ctx, conflicts); err != nil {
			return false, err
		}
		v, version, err := k.read(ctx)
		if err != nil || v != old {
			return false, err
		}
		ok, err := k.write(ctx, new, version)
		if err != nil || ok {
			return ok, err
		}
		// Changed meanwhile: if back to old, try again.
	}
}

// Set sets the counter to v, whatever it was.
func (k *Counter) Set(ctx context.Context, v int64) error {
	for conflicts := 0; ; conflicts++ {
		if err := backoff(ctx, conflicts); err != nil {
			return err
		}
		_, version, err := k.read(ctx)
		if err != nil && !errors.Is(err, errCounterData) { // unreadable data is overwritten
			return err
		}
		ok, err := k.write(ctx, v, version)
		if err != nil || ok {
			return err
		}
	}
}
