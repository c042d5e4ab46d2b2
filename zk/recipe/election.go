package recipe

import (
	"context"
	"errors"
	"sync"

	"github.com/warren-zk/warren/zk"
)

// Candidate is one candidate of a leader election.
type Candidate struct {
	ID     string // the candidate's id (its node's data)
	Node   string // its node's name
	Leader bool   // whether it is first in line, and so the leader
}

// readCandidates lists the sequential children of dir carrying one of
// markers, in order, with their data as ID.
func readCandidates(ctx context.Context, c *zk.Conn, dir string, markers ...string) ([]Candidate, error) {
	names, err := participants(ctx, c, dir, markers...)
	if err != nil {
		return nil, err
	}
	out := make([]Candidate, 0, len(names))
	for _, n := range names {
		var data []byte
		err := retry(ctx, func() error {
			var err error
			data, _, err = c.Get(ctx, join(dir, n))
			return err
		})
		if errors.Is(err, zk.ErrNoNode) {
			continue // left meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Candidate{ID: string(data), Node: n, Leader: len(out) == 0})
	}
	return out, nil
}

const latchMarker = "latch-"

// LeaderLatch is a leader election in the layout of Curator's LeaderLatch,
// and works with it: each candidate creates a sequential-ephemeral node
// <path>/_c_<uuid>-latch-<seq> holding its id; the lowest sequence number
// is the leader, and every other candidate watches only the node just
// before its own. When the leader leaves (Close, or its session ends) the
// next candidate takes over.
//
// A leader steps down (IsLeader turns false and the context from Await is
// canceled) as soon as it cannot be sure it still leads: when its
// connection to the ensemble is lost, which the client notices before the
// server can expire the session, so two leaders never overlap. If the
// client reconnects in time and its node is still first, it leads again
// (with a new context from Await). If the session expires the latch ends:
// Err reports it, and a new Conn needs a new LeaderLatch.
type LeaderLatch struct {
	c    *zk.Conn
	path string
	id   string
	o    options

	mu      sync.Mutex
	state   int // latchNew, latchStarted, latchClosed
	node    string
	term    context.Context // non-nil while leading
	endTerm context.CancelFunc
	changed chan struct{} // closed (and replaced) on every change
	err     error         // why the latch ended
	cancel  context.CancelFunc
	done    chan struct{}
}

const (
	latchNew = iota
	latchStarted
	latchClosed
)

// NewLeaderLatch returns a latch for candidate id on path. Options: WithACL,
// WithPersistentParents.
func NewLeaderLatch(c *zk.Conn, path, id string, opts ...Option) *LeaderLatch {
	return &LeaderLatch{c: c, path: path, id: id, o: buildOptions(opts), changed: make(chan struct{})}
}

// Start enters the election: it creates the candidate's node (ctx bounds
// that) and then follows the election in a goroutine until Close.
func (l *LeaderLatch) Start(ctx context.Context) error {
	l.mu.Lock()
	if l.state != latchNew {
		l.mu.Unlock()
		return errors.New("recipe: LeaderLatch already started")
	}
	l.state = latchStarted
	l.mu.Unlock()
	node, err := createProtected(ctx, l.c, l.path, latchMarker, []byte(l.id), l.o.acl, zk.ModeEphemeralSequential, l.o.parentMode)
	if err != nil {
		l.mu.Lock()
		l.state = latchClosed
		l.err = err
		l.notifyLocked()
		l.mu.Unlock()
		return err
	}
	rctx, cancel := context.WithCancel(context.Background())
	l.mu.Lock()
	l.node, l.cancel, l.done = node, cancel, make(chan struct{})
	l.mu.Unlock()
	go l.run(rctx, node)
	return nil
}

func (l *LeaderLatch) notifyLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *LeaderLatch) setLeader(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if on == (l.term != nil) {
		return
	}
	if on {
		l.term, l.endTerm = context.WithCancel(context.Background())
	} else {
		l.endTerm()
		l.term, l.endTerm = nil, nil
	}
	l.notifyLocked()
}

func (l *LeaderLatch) run(ctx context.Context, node string) {
	defer close(l.done)
	pause := minRetryPause
	for ctx.Err() == nil {
		var err error
		node, err = l.step(ctx, node)
		if err == nil {
			pause = minRetryPause
			continue
		}
		l.setLeader(false)
		if isDead(err) {
			l.mu.Lock()
			l.err = err
			l.notifyLocked()
			l.mu.Unlock()
			return
		}
		if sleep(ctx, pause) != nil {
			break
		}
		pause = min(2*pause, maxRetryPause)
	}
	l.setLeader(false)
}

// step looks at the election once and waits for the next thing that can
// change its outcome. It returns the candidate's node, which it recreates
// if it was deleted.
func (l *LeaderLatch) step(ctx context.Context, node string) (string, error) {
	if node == "" {
		n, err := createProtected(ctx, l.c, l.path, latchMarker, []byte(l.id), l.o.acl, zk.ModeEphemeralSequential, l.o.parentMode)
		if err != nil {
			return "", err
		}
		node = n
		l.mu.Lock()
		l.node = node
		l.mu.Unlock()
	}
	var children []string
	err := retry(ctx, func() error {
		var err error
		children, err = l.c.Children(ctx, l.path)
		return err
	})
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return node, err
	}
	sorted := sortSequential(children, latchMarker)
	i := indexOf(sorted, base(node))
	if i < 0 {
		// Deleted by someone (the session is alive, or Children would have
		// failed): stand again, at the back of the line.
		l.setLeader(false)
		return "", nil
	}
	if i > 0 {
		l.setLeader(false)
		_, _, ch, err := l.c.GetW(ctx, join(l.path, sorted[i-1].name))
		if errors.Is(err, zk.ErrNoNode) {
			return node, nil
		}
		if err != nil {
			return node, err
		}
		select {
		case ev := <-ch:
			if ev.Type == zk.EventNotWatching {
				return node, ev.Err
			}
			return node, nil
		case <-ctx.Done():
			return node, nil
		}
	}
	// First in line: lead until the guard says otherwise.
	g, err := newGuard(ctx, l.c, node)
	if err != nil {
		return node, err
	}
	defer g.close()
	select {
	case <-g.lost:
		// Deleted, disconnected or expired: step down, then look again
		// (which waits for the connection to come back).
		l.setLeader(false)
		return node, nil
	default:
	}
	l.setLeader(true)
	select {
	case <-g.lost:
	case <-ctx.Done():
	}
	l.setLeader(false)
	return node, nil
}

// IsLeader reports whether this candidate leads now.
func (l *LeaderLatch) IsLeader() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.term != nil
}

// Await waits until this candidate leads, or ctx ends, or the latch ends
// (Close: ErrClosed; session expired: ErrSessionExpired). It returns a
// context that is canceled when the leadership ends.
func (l *LeaderLatch) Await(ctx context.Context) (context.Context, error) {
	for {
		l.mu.Lock()
		term, ch, err, st := l.term, l.changed, l.err, l.state
		l.mu.Unlock()
		switch {
		case term != nil:
			return term, nil
		case err != nil:
			return nil, err
		case st == latchClosed:
			return nil, ErrClosed
		case st == latchNew:
			return nil, errors.New("recipe: LeaderLatch not started")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Err returns why the latch ended by itself (the session expired, or the
// Conn was closed), or nil.
func (l *LeaderLatch) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Candidates returns the candidates in line order, the leader first.
func (l *LeaderLatch) Candidates(ctx context.Context) ([]Candidate, error) {
	return readCandidates(ctx, l.c, l.path, latchMarker)
}

// Leader returns the current leader, or ok false if there is no candidate.
func (l *LeaderLatch) Leader(ctx context.Context) (p Candidate, ok bool, err error) {
	ps, err := l.Candidates(ctx)
	if err != nil || len(ps) == 0 {
		return Candidate{}, false, err
	}
	return ps[0], true, nil
}

// Close leaves the election: it stops following it, ends the leadership if
// held, and deletes the candidate's node (waiting at most the session
// timeout for the server). Close is idempotent.
func (l *LeaderLatch) Close() error {
	l.mu.Lock()
	if l.state == latchClosed {
		l.mu.Unlock()
		return nil
	}
	st := l.state
	l.state = latchClosed
	cancel, done := l.cancel, l.done
	l.mu.Unlock()
	if st == latchStarted && cancel != nil {
		cancel()
		<-done
	}
	l.setLeader(false)
	l.mu.Lock()
	node := l.node
	l.node = ""
	l.notifyLocked()
	l.mu.Unlock()
	if node == "" {
		return nil
	}
	ctx, cancelDel := cleanupContext(context.Background(), l.c)
	defer cancelDel()
	if err := deleteNode(ctx, l.c, node); err != nil && !isDead(err) {
		return err
	}
	return nil
}

// LeaderSelector runs a function while its candidate leads: Curator's
// LeaderSelector, in its layout (a Mutex on the path whose lock nodes hold
// the candidates' ids), so Curator LeaderSelectors on the same path take
// part in the same election. (kazoo's Election is a kazoo Lock that cannot
// be given extra_lock_patterns, so it does not see the other candidates;
// see Mutex.) Leadership is relinquished when the function returns; Run
// then queues again for the next turn.
type LeaderSelector struct {
	c    *zk.Conn
	path string
	id   string
	o    options
}

// NewLeaderSelector returns a selector for candidate id on path. Options:
// WithACL, WithPersistentParents.
func NewLeaderSelector(c *zk.Conn, path, id string, opts ...Option) *LeaderSelector {
	return &LeaderSelector{c: c, path: path, id: id, o: buildOptions(opts)}
}

// Lead waits for this candidate's turn (or for ctx to end), then calls lead
// with a context that is canceled when the leadership may be lost
// (connection lost, session ended, node deleted; see Mutex.Lost) or ctx
// ends, and relinquishes the leadership when lead returns. lead must
// return promptly once its context is done: until then the next leader may
// overlap with it.
func (s *LeaderSelector) Lead(ctx context.Context, lead func(ctx context.Context)) error {
	m := NewMutex(s.c, s.path, WithACL(s.o.acl), WithData([]byte(s.id)))
	m.o.parentMode = s.o.parentMode
	if err := m.Lock(ctx); err != nil {
		return err
	}
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-m.Lost():
			cancel()
		case <-lctx.Done():
		}
	}()
	lead(lctx)
	cancel()
	<-done
	uctx, ucancel := cleanupContext(ctx, s.c)
	defer ucancel()
	return m.Unlock(uctx)
}

// Run calls Lead over and over, taking a new turn in line after each
// leadership, until ctx ends (it returns ctx's error) or the session does
// (ErrSessionExpired, ErrClosed).
func (s *LeaderSelector) Run(ctx context.Context, lead func(ctx context.Context)) error {
	pause := minRetryPause
	for {
		err := s.Lead(ctx, lead)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case isDead(err):
			return err
		case err != nil:
			if sleep(ctx, pause) != nil {
				return ctx.Err()
			}
			pause = min(2*pause, maxRetryPause)
		default:
			pause = minRetryPause
		}
	}
}

// Candidates returns the candidates in line order, the current leader
// first.
func (s *LeaderSelector) Candidates(ctx context.Context) ([]Candidate, error) {
	return readCandidates(ctx, s.c, s.path, mutexMarkers...)
}
