package robustness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/zk"
)

// Paths of the workload.
const (
	rootPath     = "/rb"
	regDir       = "/rb/r" // register keys, a few per generation
	seqDir       = "/rb/s" // persistent sequential creates
	seqPrefix    = "/rb/s/q-"
	ephDir       = "/rb/e" // ephemerals (and ephemeral sequentials)
	watchDir     = "/rb/w" // the watched subtree: creates and one setData per node, never deletes
	watchSeqPref = "/rb/w/q-"
	markerPath   = "/rb/w/zz-final"
)

// workloadOptions size a workload.
type workloadOptions struct {
	regWorkers, seqWorkers, ephWorkers, ephKeepers, watchWriters int
	zkWatchers, rawWatchers                                      int
	keysPerGen                                                   int
	genPeriod                                                    time.Duration
	maxOps                                                       int64
	maxDuration                                                  time.Duration
	sessionTimeout, keeperTimeout, ephTimeout                    time.Duration
	opTimeout                                                    time.Duration
}

// workload runs concurrent client sessions against a cluster and records what they were told.
// Every loop stops by itself: when stop is called, when maxOps operations were issued, or when
// maxDuration has passed.
type workload struct {
	o        workloadOptions
	addrs    []string
	h        *history
	start    time.Time
	deadline time.Time
	seed     int64
	logf     func(format string, args ...any)

	opsLeft  atomic.Int64
	stopCh   chan struct{}
	stopOnce sync.Once
	workers  sync.WaitGroup
	watchers sync.WaitGroup
	finishCh chan struct{} // closed when the watchers should wind down (after the marker)
	marker   atomic.Int64  // zxid of the final marker, once created

	keys atomic.Pointer[[]string]

	mu        sync.Mutex
	alive     []*zk.Conn // ephemeral sessions kept alive to the end
	abandoned []*zk.Conn // sessions whose dialer was cut (closed at the end)
}

func newWorkload(addrs []string, o workloadOptions, seed int64, logf func(string, ...any)) *workload {
	w := &workload{o: o, addrs: addrs, h: newHistory(), start: time.Now(), seed: seed, logf: logf,
		stopCh: make(chan struct{}), finishCh: make(chan struct{})}
	w.deadline = w.start.Add(o.maxDuration)
	w.opsLeft.Store(o.maxOps)
	return w
}

func (w *workload) now() int64 { return time.Since(w.start).Nanoseconds() }

func (w *workload) stopped() bool {
	select {
	case <-w.stopCh:
		return true
	default:
		return time.Now().After(w.deadline)
	}
}

// take reserves one operation of the budget; false when the workload must stop.
func (w *workload) take() bool {
	if w.stopped() || w.opsLeft.Add(-1) < 0 {
		return false
	}
	w.h.countOp()
	return true
}

// sleep waits d or until the workload stops; false if it stopped.
func (w *workload) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.stopCh:
		return false
	case <-t.C:
		return !time.Now().After(w.deadline)
	}
}

func (w *workload) connectString() string { return strings.Join(w.addrs, ",") }

// connect opens a session on the ensemble, retrying until it works or the workload stops.
func (w *workload) connect(timeout time.Duration, opts ...zk.Option) *zk.Conn {
	for !w.stopped() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := zk.Connect(ctx, w.connectString(), append([]zk.Option{zk.WithSessionTimeout(timeout),
			zk.WithMaxBackoff(300 * time.Millisecond), zk.WithWatcherBuffer(1 << 16)}, opts...)...)
		cancel()
		if err == nil {
			return c
		}
		w.sleep(100 * time.Millisecond)
	}
	return nil
}

func zkErrIs(err error, code zk.Code) bool { return errors.Is(err, code) }

// keeper holds a worker's session (timeout sessionTimeout, long enough to survive every
// nemesis while the client keeps reconnecting). When it finds the session expired it records
// that (the expiry checker reports it) and opens a new one.
type keeper struct {
	w     *workload
	kind  string
	id    int
	inc   int
	c     *zk.Conn
	name  string
	since int64
}

func (k *keeper) conn() *zk.Conn {
	if k.c != nil && k.c.State() != zk.StateExpired {
		return k.c
	}
	k.noteExpiry()
	if k.c != nil {
		k.c.Close()
	}
	if k.c = k.w.connect(k.w.o.sessionTimeout); k.c == nil {
		return nil
	}
	k.inc++
	k.name = fmt.Sprintf("%s%d.%d(0x%x)", k.kind, k.id, k.inc, k.c.SessionID())
	k.since = k.w.now()
	return k.c
}

func (k *keeper) noteExpiry() {
	if k.c != nil && k.c.State() == zk.StateExpired {
		k.w.h.addExpiry(sessionExpiry{name: k.name, sid: k.c.SessionID(), timeout: k.c.SessionTimeout().Milliseconds(),
			opened: k.since, noticed: k.w.now()})
	}
}

func (k *keeper) close() {
	k.noteExpiry()
	if k.c != nil {
		k.c.Close()
		k.c = nil
	}
}

// classify turns an error into what the client knows about the operation's effect.
func classify(err error) outcome {
	switch {
	case err == nil:
		return outOK
	case zkErrIs(err, zk.ErrBadVersion), zkErrIs(err, zk.ErrNoNode), zkErrIs(err, zk.ErrNodeExists):
		return outFail
	}
	return outUnknown
}

// mustCreate creates path (persistent) with data, retrying unknown outcomes; NodeExists is
// success (an earlier attempt landed).
func (w *workload) mustCreate(c *zk.Conn, path, data string, deadline time.Time) error {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), w.o.opTimeout)
		_, err := c.Create(ctx, path, []byte(data), zk.WorldACL(zk.PermAll), zk.ModePersistent)
		cancel()
		if err == nil || zkErrIs(err, zk.ErrNodeExists) {
			return nil
		}
		if time.Now().After(deadline) || zkErrIs(err, zk.ErrSessionExpired) || errors.Is(err, zk.ErrClosed) {
			return fmt.Errorf("create %s: %w", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func genKeys(gen, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s/g%04d-k%d", regDir, gen, i)
	}
	return out
}

// setup creates the workload's directories and the first register keys.
func (w *workload) setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	c, err := zk.Connect(ctx, w.connectString(), zk.WithSessionTimeout(w.o.sessionTimeout))
	cancel()
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	keys := genKeys(0, w.o.keysPerGen)
	for _, p := range append([]string{rootPath, regDir, seqDir, ephDir, watchDir}, keys...) {
		if err := w.mustCreate(c, p, "init", deadline); err != nil {
			return err
		}
	}
	for _, k := range keys {
		w.h.attempt(k, "init")
	}
	w.keys.Store(&keys)
	return nil
}

// run starts every worker and watcher.
func (w *workload) run() {
	w.workers.Add(1)
	go w.keyKeeper(newRand(w.seed, 1000))
	for i := 0; i < w.o.regWorkers; i++ {
		w.workers.Add(1)
		go w.regWorker(i, newRand(w.seed, uint64(2000+i)))
	}
	for i := 0; i < w.o.seqWorkers; i++ {
		w.workers.Add(1)
		go w.seqWorker(i, newRand(w.seed, uint64(3000+i)))
	}
	for i := 0; i < w.o.ephKeepers; i++ {
		w.workers.Add(1)
		go w.ephKeeper(i, newRand(w.seed, uint64(4500+i)))
	}
	for i := 0; i < w.o.ephWorkers; i++ {
		w.workers.Add(1)
		go w.ephWorker(i, newRand(w.seed, uint64(4000+i)))
	}
	for i := 0; i < w.o.watchWriters; i++ {
		w.workers.Add(1)
		go w.watchWriter(i, newRand(w.seed, uint64(5000+i)))
	}
	for i := 0; i < w.o.zkWatchers; i++ {
		w.watchers.Add(1)
		go w.zkWatcher(i)
	}
	for i := 0; i < w.o.rawWatchers; i++ {
		w.watchers.Add(1)
		go w.rawWatcher(i, newRand(w.seed, uint64(6000+i)))
	}
}

// keyKeeper rotates the register keys: every genPeriod it creates the next generation's keys
// and switches the workers to them, so each key's history stays short.
func (w *workload) keyKeeper(rng *rand.Rand) {
	defer w.workers.Done()
	var c *zk.Conn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for gen := 1; w.sleep(w.o.genPeriod + time.Duration(rng.IntN(200))*time.Millisecond); gen++ {
		if c == nil || c.State() == zk.StateExpired {
			if c != nil {
				c.Close()
			}
			if c = w.connect(w.o.sessionTimeout); c == nil {
				return
			}
		}
		keys := genKeys(gen, w.o.keysPerGen)
		ok := true
		for _, k := range keys {
			if w.stopped() || w.mustCreate(c, k, "init", time.Now().Add(10*time.Second)) != nil {
				ok = false
				break
			}
			w.h.attempt(k, "init")
		}
		if ok {
			w.keys.Store(&keys)
		}
	}
}

// regWorker does versioned setData (CAS), blind setData, quorum reads, plain reads and
// sync+reads on the current register keys, in one session at a time.
func (w *workload) regWorker(id int, rng *rand.Rand) {
	defer w.workers.Done()
	k := &keeper{w: w, kind: "reg", id: id}
	defer k.close()
	var lastVer map[string]int32
	for n := 0; w.take(); n++ {
		prev := k.c
		c := k.conn()
		if c == nil {
			return
		}
		if c != prev {
			lastVer = map[string]int32{}
		}
		sess := k.name
		keys := *w.keys.Load()
		key := keys[rng.IntN(len(keys))]
		ctx, cancel := context.WithTimeout(context.Background(), w.o.opTimeout)
		read := func() (string, zk.Stat, bool) {
			call := w.now()
			data, st, err := c.Get(ctx, key)
			if err != nil {
				return "", st, false
			}
			w.h.addObs(readObs{session: sess, key: key, version: st.Version, value: string(data), mzxid: st.Mzxid, at: call})
			lastVer[key] = st.Version
			return string(data), st, true
		}
		switch p := rng.IntN(100); {
		case p < 50: // setData: blind or versioned
			kind, expect := regWrite, int32(-1)
			if p >= 20 {
				kind = regCAS
				v, ok := lastVer[key]
				if !ok || rng.IntN(4) == 0 {
					if _, st, ok := read(); ok {
						v = st.Version
					}
				}
				expect = v
			}
			val := fmt.Sprintf("c%d-%d", id, n)
			w.h.attempt(key, val)
			call := w.now()
			st, err := c.Set(ctx, key, []byte(val), expect)
			ret := w.now()
			o := regOp{client: id, session: sess, key: key, kind: kind, value: val, expect: expect, out: classify(err), call: call, ret: ret}
			if kind == regWrite && o.out == outFail {
				o.out = outUnknown // a blind write cannot fail with these codes; be conservative
			}
			if err == nil {
				o.version = st.Version
				lastVer[key] = st.Version
				w.h.addObs(readObs{session: sess, key: key, version: st.Version, value: val, mzxid: st.Mzxid, write: true, at: ret})
			}
			w.h.addReg(o)
		case p < 65: // plain read
			read()
		case p < 80: // sync + read
			if _, err := c.Sync(ctx, key); err == nil {
				read()
			}
		default: // quorum read: getData, then a multi that checks the version read
			call := w.now()
			if data, st, ok := read(); ok {
				_, err := c.Multi(ctx, zk.CheckOp{Path: key, Version: st.Version})
				if err == nil {
					w.h.addReg(regOp{client: id, session: sess, key: key, kind: regRead, value: data, version: st.Version,
						out: outOK, call: call, ret: w.now()})
				}
			}
		}
		cancel()
		if rng.IntN(4) == 0 {
			w.sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
		}
		w.waitConnected(c)
	}
}

// waitConnected waits (up to opTimeout, or until the workload stops) until c is connected, so
// that a worker does not pile up requests that fail with ConnectionLoss while its session
// looks for a server: each one is an operation of unknown outcome.
func (w *workload) waitConnected(c *zk.Conn) {
	deadline := time.Now().Add(w.o.opTimeout)
	for time.Now().Before(deadline) && !w.stopped() {
		switch c.State() {
		case zk.StateConnected, zk.StateExpired, zk.StateClosed, zk.StateAuthFailed:
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seqWorker creates persistent sequential nodes.
func (w *workload) seqWorker(id int, rng *rand.Rand) {
	defer w.workers.Done()
	k := &keeper{w: w, kind: "seq", id: id}
	defer k.close()
	for n := 0; w.take(); n++ {
		c := k.conn()
		if c == nil {
			return
		}
		sess := k.name
		ctx, cancel := context.WithTimeout(context.Background(), w.o.opTimeout)
		call := w.now()
		name, err := c.Create(ctx, seqPrefix, []byte(fmt.Sprintf("s%d-%d", id, n)), zk.WorldACL(zk.PermAll), zk.ModePersistentSequential)
		ret := w.now()
		cancel()
		w.h.addCreate(createOp{session: sess, path: seqPrefix, name: name, seq: true, out: classify(err), call: call, ret: ret})
		w.sleep(time.Duration(1+rng.IntN(4)) * time.Millisecond)
		w.waitConnected(c)
	}
}

// watchWriter changes the watched subtree: creates unique nodes (plain and sequential) and
// sets each of its own nodes at most once, with version 0, so every change is a distinct
// (event type, path) whose zxid the final tree tells.
func (w *workload) watchWriter(id int, rng *rand.Rand) {
	defer w.workers.Done()
	k := &keeper{w: w, kind: "wwriter", id: id}
	defer k.close()
	var unset []string
	for n := 0; w.take(); n++ {
		c := k.conn()
		if c == nil {
			return
		}
		sess := k.name
		ctx, cancel := context.WithTimeout(context.Background(), w.o.opTimeout)
		switch p := rng.IntN(100); {
		case p < 35 && len(unset) > 0:
			i := rng.IntN(len(unset))
			path := unset[i]
			unset = append(unset[:i], unset[i+1:]...)
			_, err := c.Set(ctx, path, []byte("set"), 0)
			w.h.addSet(setOp{path: path, out: classify(err)})
		case p < 45:
			call := w.now()
			name, err := c.Create(ctx, watchSeqPref, []byte("q"), zk.WorldACL(zk.PermAll), zk.ModePersistentSequential)
			w.h.addCreate(createOp{session: sess, path: watchSeqPref, name: name, seq: true, out: classify(err), call: call, ret: w.now()})
		default:
			path := fmt.Sprintf("%s/n%d-%d", watchDir, id, n)
			call := w.now()
			_, err := c.Create(ctx, path, []byte("c"), zk.WorldACL(zk.PermAll), zk.ModePersistent)
			out := classify(err)
			w.h.addCreate(createOp{session: sess, path: path, name: path, out: out, call: call, ret: w.now()})
			if out == outOK {
				unset = append(unset, path)
			}
		}
		cancel()
		w.sleep(time.Duration(2+rng.IntN(6)) * time.Millisecond)
		w.waitConnected(c)
	}
}

// cutDialer lets a test abandon a session: after cut, the current connection is closed and
// every new dial fails, so the server hears nothing more and must expire the session.
type cutDialer struct {
	mu   sync.Mutex
	cur  net.Conn
	dead bool
}

func (d *cutDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dead {
		return nil, errors.New("abandoned session")
	}
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err == nil {
		d.cur = c
	}
	return c, err
}

func (d *cutDialer) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dead = true
	if d.cur != nil {
		d.cur.Close()
	}
}

// ephKeeper opens one long-timeout session that creates a few ephemerals (plain and
// sequential) and keeps them to the end: they must exist on every replica then, and the
// session must never expire. Many keepers (they cost a ping every third of their timeout)
// make it likely that some session's deadline falls just after a leader change, where a new
// leader must extend it rather than expire it.
func (w *workload) ephKeeper(id int, rng *rand.Rand) {
	defer w.workers.Done()
	// Staggered starts spread the keepers' deadlines over a whole timeout.
	if !w.sleep(w.o.keeperTimeout * time.Duration(id) / time.Duration(max(1, w.o.ephKeepers))) {
		return
	}
	c := w.connect(w.o.keeperTimeout)
	if c == nil {
		return
	}
	s := &ephSession{name: fmt.Sprintf("ephkeeper%d(0x%x)", id, c.SessionID()), sid: c.SessionID(),
		timeout: c.SessionTimeout().Milliseconds(), fate: fateAlive, keeper: true, opened: w.now()}
	w.h.addEph(s)
	w.keep(c, false)
	for j, n := 0, 1+rng.IntN(3); j < n && w.take(); j++ {
		w.createEphemeral(c, s, j, j == 2)
		w.sleep(time.Duration(rng.IntN(500)) * time.Millisecond)
	}
}

// createEphemeral creates the j-th ephemeral of session s and records it.
func (w *workload) createEphemeral(c *zk.Conn, s *ephSession, j int, seq bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.o.opTimeout)
	defer cancel()
	op := createOp{session: s.name, sid: s.sid, eph: true, seq: seq}
	mode := zk.ModeEphemeral
	op.path = fmt.Sprintf("%s/%s-%d", ephDir, s.name, j)
	if seq {
		mode = zk.ModeEphemeralSequential
		op.path = fmt.Sprintf("%s/%s-q-", ephDir, s.name)
	}
	op.call = w.now()
	name, err := c.Create(ctx, op.path, []byte(s.name), zk.WorldACL(zk.PermAll), mode)
	op.ret = w.now()
	op.name, op.out = name, classify(err)
	if !seq {
		op.name = op.path
	}
	w.h.mu.Lock()
	s.creates = append(s.creates, op)
	w.h.mu.Unlock()
	return err
}

// ephWorker opens short-timeout sessions that create ephemeral nodes, hold them a while, and
// then close the session or abandon it (the server must expire it). Such a session may also
// expire while in use (its timeout is short): its ephemerals must then be gone too.
func (w *workload) ephWorker(id int, rng *rand.Rand) {
	defer w.workers.Done()
	for inc := 1; !w.stopped(); inc++ {
		d := &cutDialer{}
		c := w.connect(w.o.ephTimeout, zk.WithDialer(d.dial))
		if c == nil {
			return
		}
		s := &ephSession{name: fmt.Sprintf("eph%d.%d(0x%x)", id, inc, c.SessionID()), sid: c.SessionID(),
			timeout: c.SessionTimeout().Milliseconds(), fate: fateAlive, opened: w.now()}
		w.h.addEph(s)
		expired := false
		for j, k := 0, 1+rng.IntN(3); j < k && w.take(); j++ {
			if err := w.createEphemeral(c, s, j, rng.IntN(3) == 0); zkErrIs(err, zk.ErrSessionExpired) {
				expired = true
				break
			}
		}
		if !expired {
			w.sleep(time.Duration(100+rng.IntN(1500)) * time.Millisecond)
		}
		w.h.mu.Lock()
		switch {
		case expired || c.State() == zk.StateExpired:
			s.fate, s.endedAt = fateExpired, w.now()
			c.Close()
		case rng.IntN(2) == 0:
			w.h.mu.Unlock()
			c.Close()
			w.h.mu.Lock()
			s.fate, s.endedAt = fateClosed, w.now()
		default:
			d.cut()
			s.fate, s.endedAt = fateAbandoned, w.now()
			w.keep(c, true)
		}
		w.h.mu.Unlock()
	}
}

func (w *workload) keep(c *zk.Conn, abandoned bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if abandoned {
		w.abandoned = append(w.abandoned, c)
	} else {
		w.alive = append(w.alive, c)
	}
}

// finishing reports whether the watchers should wind down.
func (w *workload) finishing() bool {
	select {
	case <-w.finishCh:
		return true
	default:
		return false
	}
}

// zkWatcher keeps a persistent recursive watch on the watched subtree through the zk package
// (which re-arms it with setWatches on every reconnect) and records its events, a new segment
// at every connection change.
func (w *workload) zkWatcher(id int) {
	defer w.watchers.Done()
	var finishDeadline time.Time
	for inc := 1; ; inc++ {
		if w.finishing() && time.Now().After(finishDeadline) && !finishDeadline.IsZero() {
			return
		}
		c := w.connectWatcher()
		if c == nil {
			return
		}
		st := &watchStream{name: fmt.Sprintf("zkwatch%d.%d(0x%x)", id, inc, c.SessionID())}
		ctx, cancel := context.WithTimeout(context.Background(), w.o.opTimeout)
		server := c.Server()
		wt, err := c.AddWatch(ctx, watchDir, true)
		cancel()
		if err != nil {
			c.Close()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		w.h.addWatch(st)
		seg := &watchSegment{server: server, regZxid: -1, from: time.Now()}
		done := false
		tick := time.NewTicker(50 * time.Millisecond)
	loop:
		for {
			select {
			case ev, ok := <-wt.Events():
				if !ok {
					seg.end = fmt.Sprintf("watch ended: %v", wt.Err())
					break loop
				}
				switch ev.Type {
				case zk.EventSession:
					seg.end = "connection state " + ev.State.String()
					seg.to = time.Now()
					st.segments = append(st.segments, seg)
					seg = &watchSegment{server: c.Server(), regZxid: -1, from: time.Now()}
					continue
				case zk.EventNodeCreated, zk.EventNodeDeleted, zk.EventNodeDataChanged, zk.EventNodeChildrenChanged:
				default: // EventNotWatching (the session ended) and the like: not a change
					continue
				}
				seg.events = append(seg.events, watchEvent{typ: ev.Type, path: ev.Path})
				if ev.Path == markerPath {
					done = true
					seg.end = "saw the final marker"
					break loop
				}
			case <-tick.C:
				if w.finishing() {
					if finishDeadline.IsZero() {
						finishDeadline = time.Now().Add(15 * time.Second)
					}
					if time.Now().After(finishDeadline) {
						seg.end = "gave up waiting for the final marker"
						done = true
						break loop
					}
				}
			}
		}
		tick.Stop()
		seg.to = time.Now()
		st.segments = append(st.segments, seg)
		c.Close()
		if done {
			return
		}
	}
}

// connectWatcher opens a session for a watcher; it keeps trying while the workload runs and
// until the watchers are told to finish.
func (w *workload) connectWatcher() *zk.Conn {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := zk.Connect(ctx, w.connectString(), zk.WithSessionTimeout(w.o.sessionTimeout),
			zk.WithMaxBackoff(300*time.Millisecond), zk.WithWatcherBuffer(1<<16))
		cancel()
		if err == nil {
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// rawWatcher keeps a persistent recursive watch through raw connections (one session per
// connection, never reattached), pings every 200ms, and records every notification with its
// header zxid and every ping reply's zxid.
func (w *workload) rawWatcher(id int, rng *rand.Rand) {
	defer w.watchers.Done()
	st := &watchStream{name: fmt.Sprintf("raw%d", id), raw: true}
	w.h.addWatch(st)
	var last int64
	var finishDeadline time.Time
	for conn := 1; ; conn++ {
		if w.finishing() {
			if finishDeadline.IsZero() {
				finishDeadline = time.Now().Add(15 * time.Second)
			}
			if time.Now().After(finishDeadline) {
				return
			}
		}
		addr := w.addrs[rng.IntN(len(w.addrs))]
		c, err := rawDial(addr, int32(w.o.sessionTimeout.Milliseconds()), last)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		seg, done := w.rawSegment(c, addr, &last, finishDeadline)
		if seg != nil {
			st.segments = append(st.segments, seg)
		}
		if done {
			c.closeSession()
			return
		}
		c.close()
		time.Sleep(50 * time.Millisecond)
	}
}

// rawSegment registers the watch on c and records one segment, until the connection breaks,
// the server stops answering pings, or (when finishing) a ping reply shows the final marker.
func (w *workload) rawSegment(c *rawConn, addr string, last *int64, finishDeadline time.Time) (*watchSegment, bool) {
	frames := make(chan rawFrame, 1024)
	errc := make(chan error, 1)
	go func() {
		for {
			f, err := c.read(time.Time{})
			if err != nil {
				errc <- err
				close(frames)
				return
			}
			frames <- f
		}
	}()
	defer func() {
		c.close()
		for range frames {
		}
	}()
	if err := c.send(1, proto.OpAddWatch, &proto.AddWatchRequest{Path: watchDir, Mode: proto.AddWatchPersistentRecursive}); err != nil {
		return nil, false
	}
	var reg rawFrame
	select {
	case f, ok := <-frames:
		if !ok || f.hdr.Xid != 1 || f.hdr.Err != 0 {
			return nil, false
		}
		reg = f
	case <-time.After(3 * time.Second):
		return nil, false
	}
	seg := &watchSegment{server: addr, regZxid: reg.hdr.Zxid, from: time.Now()}
	defer func() { seg.to = time.Now() }()
	*last = max(*last, reg.hdr.Zxid)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var pingSent time.Time
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				seg.end = fmt.Sprintf("connection ended: %v", <-errc)
				return seg, false
			}
			switch f.hdr.Xid {
			case proto.XidNotification:
				seg.events = append(seg.events, watchEvent{typ: zk.EventType(f.ev.Type), path: f.ev.Path, zxid: f.hdr.Zxid})
				if f.hdr.Zxid > 0 {
					*last = max(*last, f.hdr.Zxid)
				}
			case proto.XidPing:
				pingSent = time.Time{}
				seg.pings = append(seg.pings, pingMark{zxid: f.hdr.Zxid, n: len(seg.events)})
				*last = max(*last, f.hdr.Zxid)
				if m := w.marker.Load(); m > 0 && f.hdr.Zxid >= m && w.finishing() {
					seg.end = "a ping reply showed the final marker"
					return seg, true
				}
			}
		case <-tick.C:
			if w.finishing() {
				if finishDeadline.IsZero() {
					finishDeadline = time.Now().Add(15 * time.Second)
				}
				if time.Now().After(finishDeadline) {
					seg.end = "gave up waiting for the final marker"
					return seg, true
				}
			}
			if !pingSent.IsZero() {
				if time.Since(pingSent) > 2*time.Second {
					seg.end = "no ping reply for 2s"
					return seg, false
				}
				continue
			}
			if err := c.send(proto.XidPing, proto.OpPing, nil); err != nil {
				seg.end = fmt.Sprintf("ping: %v", err)
				return seg, false
			}
			pingSent = time.Now()
		}
	}
}

// stop ends the workers (they finish their current operation), then creates the final
// marker in the watched subtree and lets the watchers wind down once they have seen it.
func (w *workload) stop() {
	w.stopOnce.Do(func() { close(w.stopCh) })
	w.workers.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := zk.Connect(ctx, w.connectString(), zk.WithSessionTimeout(w.o.sessionTimeout))
	if err == nil {
		for ctx.Err() == nil {
			octx, ocancel := context.WithTimeout(ctx, w.o.opTimeout)
			_, st, err := c.Create2(octx, markerPath, []byte("end"), zk.WorldACL(zk.PermAll), zk.ModePersistent)
			ocancel()
			if err == nil {
				w.marker.Store(st.Czxid)
				break
			}
			if zkErrIs(err, zk.ErrNodeExists) {
				if _, st, err := c.Exists(ctx, markerPath); err == nil {
					w.marker.Store(st.Czxid)
					break
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		c.Close()
	}
	if w.marker.Load() == 0 {
		w.logf("could not create the final marker: %v", err)
	}
	close(w.finishCh)
	w.watchers.Wait()
}

// noteKeeperExpiries records every ephemeral keeper whose session the server expired (its
// fate becomes expired).
func (w *workload) noteKeeperExpiries() {
	w.mu.Lock()
	alive := append([]*zk.Conn(nil), w.alive...)
	w.mu.Unlock()
	w.h.mu.Lock()
	bySID := map[int64]*ephSession{}
	for _, s := range w.h.ephs {
		bySID[s.sid] = s
	}
	w.h.mu.Unlock()
	for _, c := range alive {
		if s := bySID[c.SessionID()]; s != nil && s.fate == fateAlive && c.State() == zk.StateExpired {
			now := w.now()
			w.h.addExpiry(sessionExpiry{name: s.name, sid: s.sid, timeout: s.timeout, opened: s.opened, noticed: now})
			w.h.mu.Lock()
			s.fate, s.endedAt = fateExpired, now
			w.h.mu.Unlock()
		}
	}
}

// closeAll ends every session still open: the ephemeral keepers (closed) and the abandoned
// ones (their Conns; the server has expired or will expire them).
func (w *workload) closeAll() {
	w.noteKeeperExpiries()
	w.mu.Lock()
	conns := append(w.alive, w.abandoned...)
	w.alive, w.abandoned = nil, nil
	w.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() { defer wg.Done(); c.Close() }()
	}
	wg.Wait()
	end := w.now()
	w.h.mu.Lock()
	for _, s := range w.h.ephs {
		if s.fate == fateAlive {
			s.fate, s.endedAt = fateClosed, end
		}
	}
	w.h.mu.Unlock()
}
