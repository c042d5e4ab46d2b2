package zk

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
)

// Conn is a ZooKeeper session, attached to one server of the ensemble at a
// time. It is safe for concurrent use. Create one with Connect; end it with
// Close.
type Conn struct {
	cfg     config
	log     *slog.Logger
	servers []string // host:port, in the order they are tried
	chroot  string   // "" or "/a/b"

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc

	// Session, written by the manager goroutine.
	sessionID     atomic.Int64
	timeoutMS     atomic.Int64 // negotiated
	lastZxid      atomic.Int64 // highest zxid seen in a reply
	server        atomic.Pointer[string]
	passwd        []byte      // manager only
	xid           int32       // writer only (one writer at a time)
	noTypedRemove atomic.Bool // server refused WatcherPersistent* in removeWatches (3.8)
	lastErr       atomic.Pointer[error]

	mu          sync.Mutex // guards the fields below
	state       State
	stateCh     chan State
	stateClosed bool
	auth        []authInfo // credentials to send on every connection
	watches     watchTable
	ended       error // set when the watches were ended (the Conn is dead)

	qmu      sync.Mutex // guards the request queue
	queue    []*request
	qerr     error // non-nil: the Conn is dead; requests fail with it
	qclosing bool  // Close was called
	qwake    chan struct{}

	closeOnce   sync.Once
	done        chan struct{} // closed when the manager goroutine has exited
	established chan struct{} // closed when a session is first established
}

// request is one client request, from the caller's queue through the writer
// to the reader (or to whoever fails it).
type request struct {
	op   proto.OpCode
	xid  int32
	body proto.Record // nil for a body-less request
	resp proto.Record // decoded on success; nil if the reply has no body
	// onReply runs on the read loop as soon as the reply has been decoded,
	// before the next frame is read: it registers watches atomically with
	// the reply. It is skipped if the caller gave up first, except for auth
	// (an accepted credential must be sent again on reconnect).
	onReply func(err error)

	phase atomic.Int32 // reqWaiting → reqAbandoned (caller gave up) or reqReplied
	done  chan struct{}
	err   error // valid after done is closed
}

const (
	reqWaiting int32 = iota
	reqAbandoned
	reqReplied
)

func newRequest(op proto.OpCode, body, resp proto.Record) *request {
	return &request{op: op, body: body, resp: resp, done: make(chan struct{})}
}

func (r *request) finish(err error) {
	r.err = err
	close(r.done)
}

// link is one TCP connection of the session, with its reader and writer.
type link struct {
	nc          net.Conn
	addr        string
	timeout     time.Duration // negotiated session timeout
	readTimeout time.Duration // silence after which the connection is dead
	readOnly    bool

	mu      sync.Mutex
	pending []*request // sent, awaiting their replies, in order
	auths   []*request // auth packets awaiting their (xid -4) replies

	dead     chan struct{}
	err      error // why the link failed; valid after dead is closed
	failOnce sync.Once
	wg       sync.WaitGroup
}

func (l *link) fail(err error) {
	l.failOnce.Do(func() {
		if err == nil {
			err = errors.New("closed")
		}
		l.err = err
		close(l.dead)
		l.nc.Close()
	})
}

// Connect starts a session with the ensemble in servers, a ZooKeeper connect
// string: comma-separated host:port pairs (port 2181 if omitted), optionally
// followed by a chroot path that every path of this Conn is relative to
// ("h1:2181,h2:2181/app"). It returns once the session is established (and
// the credentials of WithAuth accepted), or with an error when ctx ends
// first. The Conn then reconnects on its own until Close; ctx does not
// bound its life.
func Connect(ctx context.Context, servers string, opts ...Option) (*Conn, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	list, chroot, err := parseConnectString(servers)
	if err != nil {
		return nil, err
	}
	if !cfg.noShuffle {
		rand.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	}
	c := &Conn{
		cfg: cfg, log: cfg.logger.With("component", "zk"), servers: list, chroot: chroot,
		passwd:      make([]byte, 16),
		stateCh:     make(chan State, 32),
		auth:        cfg.auth,
		watches:     newWatchTable(),
		qwake:       make(chan struct{}, 1),
		done:        make(chan struct{}),
		established: make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.run()
	select {
	case <-c.established:
		return c, nil
	case <-c.done:
		c.qmu.Lock()
		err := c.qerr
		c.qmu.Unlock()
		c.Close()
		return nil, opError("connect", "", err)
	case <-ctx.Done():
		last := c.lastErr.Load()
		c.Close()
		err := ctx.Err()
		if last != nil {
			err = fmt.Errorf("%w (last error: %v)", err, *last)
		}
		return nil, opError("connect", "", err)
	}
}

// SessionID returns the session's id (0 before the first connect).
func (c *Conn) SessionID() int64 { return c.sessionID.Load() }

// SessionTimeout returns the session timeout the server granted.
func (c *Conn) SessionTimeout() time.Duration {
	return time.Duration(c.timeoutMS.Load()) * time.Millisecond
}

// Server returns the address of the server the session is attached to, or
// "" while disconnected.
func (c *Conn) Server() string {
	if s := c.server.Load(); s != nil {
		return *s
	}
	return ""
}

// State returns the current state.
func (c *Conn) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// StateEvents returns the channel on which every state change is sent, in
// order. It is buffered (32); if the reader falls behind, the oldest
// undelivered states are dropped, never the newest. It is closed after
// StateClosed.
func (c *Conn) StateEvents() <-chan State { return c.stateCh }

func (c *Conn) setState(s State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setStateLocked(s)
}

func (c *Conn) setStateLocked(s State) {
	if c.state == s || c.stateClosed {
		return
	}
	switch c.state {
	case StateExpired, StateAuthFailed, StateClosed:
		if s != StateClosed {
			return
		}
	}
	c.state = s
	c.log.Debug("state", "state", s.String())
	for {
		select {
		case c.stateCh <- s:
			if s == StateClosed {
				close(c.stateCh)
				c.stateClosed = true
			}
			return
		default:
			select { // full: drop the oldest
			case <-c.stateCh:
			default:
			}
		}
	}
}

// Close ends the session: it asks the server to close it (so ephemeral
// nodes go at once) when connected, then stops every goroutine of the Conn.
// Requests still queued fail with ErrClosed; watches end with an
// EventNotWatching event carrying ErrClosed. Close is idempotent and always
// returns nil.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		r := newRequest(proto.OpCloseSession, nil, nil)
		c.qmu.Lock()
		queued := c.qerr == nil
		c.qclosing = true
		if queued {
			c.queue = append(c.queue, r)
		}
		c.qmu.Unlock()
		c.wake()
		if st := c.State(); queued && (st == StateConnected || st == StateConnectedReadOnly) {
			t := time.NewTimer(c.SessionTimeout())
			select {
			case <-r.done:
			case <-t.C:
			case <-c.done:
			}
			t.Stop()
		}
		c.cancel()
		<-c.done
		c.qmu.Lock()
		c.qerr = ErrClosed
		c.qmu.Unlock()
		c.endWatches(ErrClosed)
		c.setState(StateClosed)
	})
	return nil
}

func (c *Conn) closeRequested() bool {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.qclosing
}

func (c *Conn) wake() {
	select {
	case c.qwake <- struct{}{}:
	default:
	}
}

// enqueue hands r to the writer, or fails at once if the Conn is dead.
func (c *Conn) enqueue(r *request) error {
	c.qmu.Lock()
	if c.qerr != nil || c.qclosing {
		err := c.qerr
		if err == nil {
			err = ErrClosed
		}
		c.qmu.Unlock()
		return err
	}
	c.queue = append(c.queue, r)
	c.qmu.Unlock()
	c.wake()
	return nil
}

func (c *Conn) takeQueue() []*request {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	q := c.queue
	c.queue = nil
	return q
}

func (c *Conn) failQueue(err error) {
	for _, r := range c.takeQueue() {
		r.finish(err)
	}
}

// do sends r and waits for its reply or for ctx. If ctx ends first the
// request is abandoned (not sent if it has not been yet; its reply ignored
// if it has) and ctx's error returned; once its reply is being processed
// the caller gets the real result.
func (c *Conn) do(ctx context.Context, r *request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.enqueue(r); err != nil {
		return err
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		if r.phase.CompareAndSwap(reqWaiting, reqAbandoned) {
			return ctx.Err()
		}
		<-r.done
		return r.err
	}
}

// run is the manager goroutine: it connects, serves a connection until it
// breaks, and reconnects, until Close or a terminal state.
func (c *Conn) run() {
	defer close(c.done)
	backoff := minBackoff
	failures := 0
	for i := 0; ; i++ {
		if c.closeRequested() {
			// The link is gone with the closeSession still queued: it cannot
			// be sent now, so fail it and let Close finish at once instead
			// of waiting out the session timeout.
			c.failQueue(ErrConnectionLoss)
			<-c.ctx.Done()
			c.shutdown(ErrClosed, StateClosed)
			return
		}
		if failures > 0 && failures%len(c.servers) == 0 {
			// A whole pass over the servers failed: pause.
			d := backoff/2 + rand.N(backoff/2+1)
			backoff = min(2*backoff, c.cfg.maxBackoff)
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-c.ctx.Done():
				t.Stop()
				continue
			}
		}
		addr := c.servers[i%len(c.servers)]
		c.setState(StateConnecting)
		l, err := c.dial(addr)
		if errors.Is(err, ErrSessionExpired) {
			c.log.Warn("session expired", "server", addr, "session", fmt.Sprintf("0x%x", c.sessionID.Load()))
			c.shutdown(ErrSessionExpired, StateExpired)
			return
		}
		if err != nil {
			c.log.Info("cannot connect", "server", addr, "err", err)
			c.lastErr.Store(&err)
			failures++
			c.failQueue(ErrConnectionLoss)
			continue
		}
		start := time.Now()
		if terminal := c.serve(l); terminal != nil {
			c.log.Warn("credentials refused; giving up", "server", addr, "err", terminal)
			c.shutdown(terminal, StateAuthFailed)
			return
		}
		// A connection that broke at once counts as a failed attempt, so
		// that a server that accepts and drops us is not hammered.
		if time.Since(start) < time.Second {
			failures++
		} else {
			failures, backoff = 0, minBackoff
		}
	}
}

// dial opens a connection to addr and attaches the session to it.
func (c *Conn) dial(addr string) (*link, error) {
	timeout := c.cfg.sessionTimeout / time.Duration(len(c.servers))
	timeout = max(timeout, min(time.Second, c.cfg.sessionTimeout))
	ctx, cancel := context.WithTimeout(c.ctx, timeout)
	defer cancel()
	nc, err := c.cfg.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	dl, _ := ctx.Deadline()
	nc.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })
	resp, err := c.handshake(nc)
	if !stop() && err == nil {
		err = ctx.Err() // the deadline fired; the connection is not usable
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	if resp.TimeOut <= 0 || resp.SessionID == 0 {
		nc.Close()
		if c.sessionID.Load() != 0 {
			return nil, ErrSessionExpired
		}
		return nil, errors.New("zk: server refused to create a session")
	}
	if old := c.sessionID.Load(); old != resp.SessionID {
		c.sessionID.Store(resp.SessionID)
		c.log.Info("session established", "server", addr, "session", fmt.Sprintf("0x%x", resp.SessionID),
			"timeout", resp.TimeOut)
	} else {
		c.log.Info("session reattached", "server", addr, "session", fmt.Sprintf("0x%x", resp.SessionID))
	}
	c.passwd = resp.Passwd
	c.timeoutMS.Store(int64(resp.TimeOut))
	to := time.Duration(resp.TimeOut) * time.Millisecond
	return &link{
		nc: nc, addr: addr, timeout: to, readTimeout: to * 2 / 3, readOnly: resp.ReadOnly,
		dead: make(chan struct{}),
	}, nil
}

func (c *Conn) handshake(nc net.Conn) (*proto.ConnectResponse, error) {
	req := proto.ConnectRequest{
		LastZxidSeen: c.lastZxid.Load(),
		TimeOut:      int32(c.cfg.sessionTimeout.Milliseconds()),
		SessionID:    c.sessionID.Load(),
		Passwd:       c.passwd,
		ReadOnly:     c.cfg.readOnly,
		HasReadOnly:  true,
	}
	e := jute.NewEncoder(make([]byte, 4, 64))
	req.Encode(e)
	b := e.Bytes()
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	if _, err := nc.Write(b); err != nil {
		return nil, err
	}
	var lenb [4]byte
	if _, err := io.ReadFull(nc, lenb[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(lenb[:]))
	if n < 20 || n > 1024 {
		return nil, fmt.Errorf("zk: connect response length %d out of range", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(nc, buf); err != nil {
		return nil, err
	}
	var resp proto.ConnectResponse
	d := jute.NewDecoder(buf)
	resp.Decode(d)
	if d.Err() != nil {
		return nil, fmt.Errorf("zk: bad connect response: %w", d.Err())
	}
	return &resp, nil
}

// serve runs the reader and writer of l until the connection breaks or the
// Conn is closed. It returns a non-nil error only when the session must end
// (the server refused the session's credentials).
func (c *Conn) serve(l *link) error {
	prime, auths := c.primeRequests()
	l.wg.Add(2)
	go c.readLoop(l)
	go c.writeLoop(l, prime)

	var authErr error
	up := true
wait:
	for _, r := range auths {
		select {
		case <-r.done:
			if r.err != nil {
				authErr = r.err
				break wait
			}
		case <-l.dead:
			up = false
			break wait
		case <-c.ctx.Done():
			up = false
			break wait
		}
	}
	connected := false
	if up && authErr == nil {
		c.server.Store(&l.addr)
		st := StateConnected
		if l.readOnly {
			st = StateConnectedReadOnly
		}
		c.mu.Lock()
		c.setStateLocked(st)
		c.notifyPersistentLocked(st)
		c.mu.Unlock()
		connected = true
		select {
		case <-c.established:
		default:
			close(c.established)
		}
		select {
		case <-l.dead:
		case <-c.ctx.Done():
		}
	}
	l.fail(nil)
	l.wg.Wait()
	c.server.Store(nil)
	l.mu.Lock()
	pending, pauths := l.pending, l.auths
	l.pending, l.auths = nil, nil
	l.mu.Unlock()
	for _, r := range pending {
		r.finish(ErrConnectionLoss)
	}
	for _, r := range pauths {
		r.finish(ErrConnectionLoss)
	}
	if errors.Is(authErr, ErrAuthFailed) {
		return ErrAuthFailed
	}
	if c.closeRequested() {
		return nil
	}
	c.failQueue(ErrConnectionLoss)
	if connected {
		c.log.Info("disconnected", "server", l.addr, "session", fmt.Sprintf("0x%x", c.sessionID.Load()), "err", l.err)
		c.mu.Lock()
		c.setStateLocked(StateDisconnected)
		c.notifyPersistentLocked(StateDisconnected)
		c.mu.Unlock()
	}
	return nil
}

// shutdown makes the Conn dead: queued requests and every watch end with err.
func (c *Conn) shutdown(err error, st State) {
	c.qmu.Lock()
	if c.qerr == nil {
		c.qerr = err
	}
	q := c.queue
	c.queue = nil
	c.qmu.Unlock()
	for _, r := range q {
		r.finish(err)
	}
	c.endWatches(err)
	c.setState(st)
}

// writeLoop sends the prime requests, then queued requests as they come,
// and a ping whenever nothing was sent for a third of the session timeout.
func (c *Conn) writeLoop(l *link, prime []*request) {
	defer l.wg.Done()
	enc := jute.NewEncoder(make([]byte, 0, 4096))
	idle := l.timeout / 3
	ping := time.NewTimer(idle)
	defer ping.Stop()
	batch := prime
	for {
		if len(batch) == 0 {
			batch = c.takeQueue()
		}
		if len(batch) > 0 {
			enc.Reset()
			l.mu.Lock()
			for _, r := range batch {
				if r.phase.Load() == reqAbandoned {
					continue // the caller is gone and nothing was sent: drop it
				}
				if r.op == proto.OpAuth {
					r.xid = proto.XidAuth
					l.auths = append(l.auths, r)
				} else {
					c.xid++
					if c.xid <= 0 {
						c.xid = 1
					}
					r.xid = c.xid
					l.pending = append(l.pending, r)
				}
				appendFrame(enc, r.xid, r.op, r.body)
			}
			l.mu.Unlock()
			batch = nil
			if enc.Len() == 0 {
				continue
			}
			l.nc.SetWriteDeadline(time.Now().Add(l.readTimeout))
			if _, err := l.nc.Write(enc.Bytes()); err != nil {
				l.fail(err)
				return
			}
			ping.Reset(idle)
			continue
		}
		select {
		case <-c.qwake:
		case <-ping.C:
			enc.Reset()
			appendFrame(enc, proto.XidPing, proto.OpPing, nil)
			l.nc.SetWriteDeadline(time.Now().Add(l.readTimeout))
			if _, err := l.nc.Write(enc.Bytes()); err != nil {
				l.fail(err)
				return
			}
			ping.Reset(idle)
		case <-l.dead:
			return
		}
	}
}

func appendFrame(e *jute.Encoder, xid int32, op proto.OpCode, body proto.Record) {
	start := e.Len()
	e.Int(0)
	h := proto.RequestHeader{Xid: xid, Type: int32(op)}
	h.Encode(e)
	if body != nil {
		body.Encode(e)
	}
	b := e.Bytes()
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
}

// readLoop reads replies and notifications until the connection breaks or
// stays silent for two thirds of the session timeout.
func (c *Conn) readLoop(l *link) {
	defer l.wg.Done()
	br := bufio.NewReaderSize(l.nc, 32<<10)
	d := jute.NewDecoder(nil)
	d.MaxBuffer = c.cfg.maxBuffer
	var buf []byte
	var lenb [4]byte
	for {
		l.nc.SetReadDeadline(time.Now().Add(l.readTimeout))
		if _, err := io.ReadFull(br, lenb[:]); err != nil {
			l.fail(err)
			return
		}
		n := int(int32(binary.BigEndian.Uint32(lenb[:])))
		if n < 16 || n > c.cfg.maxBuffer+1024 {
			l.fail(fmt.Errorf("zk: reply length %d out of range", n))
			return
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			l.fail(err)
			return
		}
		d.Reset(buf)
		var h proto.ReplyHeader
		h.Decode(d)
		switch h.Xid {
		case proto.XidNotification:
			var ev proto.WatcherEvent
			ev.Decode(d)
			if d.Err() != nil {
				l.fail(fmt.Errorf("zk: undecodable notification: %w", d.Err()))
				return
			}
			c.dispatch(ev)
		case proto.XidPing:
		case proto.XidAuth:
			l.mu.Lock()
			var r *request
			if len(l.auths) > 0 {
				r = l.auths[0]
				l.auths = l.auths[1:]
			}
			l.mu.Unlock()
			if r == nil {
				l.fail(errors.New("zk: unexpected auth reply"))
				return
			}
			r.phase.CompareAndSwap(reqWaiting, reqReplied)
			if r.onReply != nil {
				r.onReply(codeErr(h.Err))
			}
			r.finish(codeErr(h.Err))
		default:
			l.mu.Lock()
			var r *request
			if len(l.pending) > 0 && l.pending[0].xid == h.Xid {
				r = l.pending[0]
				l.pending[0] = nil
				l.pending = l.pending[1:]
			}
			l.mu.Unlock()
			if r == nil {
				l.fail(fmt.Errorf("zk: reply xid %d out of order", h.Xid))
				return
			}
			if h.Zxid > 0 {
				c.lastZxid.Store(h.Zxid)
			}
			err := codeErr(h.Err)
			if err == nil && r.resp != nil {
				r.resp.Decode(d)
				if d.Err() != nil {
					r.finish(ErrMarshallingError)
					l.fail(fmt.Errorf("zk: undecodable %v reply: %w", r.op, d.Err()))
					return
				}
			}
			if r.phase.CompareAndSwap(reqWaiting, reqReplied) && r.onReply != nil {
				r.onReply(err)
			}
			r.finish(err)
		}
	}
}
