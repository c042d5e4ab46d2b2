package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warren-zk/warren/internal/acl"
	"github.com/warren-zk/warren/internal/fsm"
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/session"
	"github.com/warren-zk/warren/internal/txn"
	"github.com/warren-zk/warren/internal/watch"
)

// item is one request in a connection's FIFO queue.
type item struct {
	xid   int32
	op    proto.OpCode
	write bool // completes asynchronously (write or sync)
	done  bool
	res   fsm.Result
	path  string // sync: the path to echo
	err   proto.Err
	req   proto.Record
	auth  []proto.Id
	recv  time.Time
	// closeAfter closes the connection once this item's reply is sent.
	closeAfter bool
}

type conn struct {
	s  *Server
	nc net.Conn
	br *bufio.Reader
	// The reader goroutine's frame buffer and decoder, reused for every
	// request frame of up to smallFrame bytes. Nothing decoded from a
	// frame aliases it (the decoders copy), and a write's body is encoded
	// into its log entry before dispatch returns. (Here, apart from the
	// fields other goroutines write.)
	frameBuf []byte
	dec      jute.Decoder
	ip       string
	id       uint64

	sessionID      atomic.Int64
	timeout        atomic.Int32
	sess           *session.Entry
	closingSession atomic.Bool
	readOnlyForm   bool
	fourLW         bool

	// auth is replaced (never mutated) by the reader goroutine; read under mu.
	auth []proto.Id

	mu    sync.Mutex
	queue []*item
	lim   connLimits // outstanding requests (limits.go), guarded by mu

	hsDeadline time.Time // TLS connections: when the handshake must be done (tls.go)
	sasl       saslState // the SASL exchange (sasl.go), reader goroutine only

	wdeadline time.Time // the writer goroutine's current write deadline

	outMu      sync.Mutex
	out        []byte
	spare      []byte
	closeAfter bool
	closed     bool
	wake       chan struct{}

	closeOnce sync.Once
	done      chan struct{}

	stats connStats
}

// smallFrame bounds the request frames read into the connection's reused
// frame buffer; larger ones get their own.
const smallFrame = 4 << 10

// connReadBuffer is each connection's read buffer: requests are small, and
// a larger frame is read past it (readN) rather than through it. Session
// churn allocates one per connection, and a thousand idle sessions hold a
// thousand.
const connReadBuffer = 8 << 10

func newConn(s *Server, nc net.Conn, ip string) *conn {
	c := &conn{
		s: s, nc: nc, ip: ip, id: s.connSeq.Add(1),
		br:   bufio.NewReaderSize(nc, connReadBuffer),
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
		lim:  newConnLimits(),
		auth: []proto.Id{{Scheme: "ip", Id: ip}},
	}
	c.stats.established = time.Now()
	return c
}

// errClose ends a connection after a log line. With drain set, replies
// already queued (up to the one that asked for the close) are sent first.
type errClose struct {
	msg   string
	drain bool
}

func (e errClose) Error() string { return e.msg }

// errClientClosed ends the connection of a session the client closed.
var errClientClosed = errClose{"client closed its session", true}

func (c *conn) serve() {
	go c.writeLoop()
	err := c.run()
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		var ec errClose
		if errors.As(err, &ec) && c.fourLW {
			c.s.log.Debug("four-letter word answered", "remote", c.nc.RemoteAddr().String())
		} else if errors.As(err, &ec) {
			// A client's own closeSession is routine (ZooKeeper 3.8 logs
			// closing its socket at DEBUG too): at thousands of sessions a
			// second the line took about 9% of the server's CPU.
			lvl := slog.LevelInfo
			if ec == errClientClosed {
				lvl = slog.LevelDebug
			}
			if c.s.log.Enabled(c.s.ctx, lvl) {
				c.s.log.Log(c.s.ctx, lvl, "closing connection", "remote", c.nc.RemoteAddr().String(), "reason", ec.msg,
					"session", fmt.Sprintf("0x%x", c.sessionID.Load()))
			}
		} else {
			c.s.log.Debug("connection ended", "remote", c.nc.RemoteAddr().String(), "err", err)
		}
	}
	var ec errClose
	if errors.As(err, &ec) && ec.drain {
		select {
		case <-c.done:
		case <-time.After(30 * time.Second):
		}
	}
	c.close()
}

func (c *conn) run() error {
	// Handshake deadline: a connection that never says anything is closed.
	if err := c.startTLS(); err != nil {
		return err
	}
	c.nc.SetReadDeadline(c.handshakeDeadline())
	var lenb [4]byte
	if _, err := io.ReadFull(c.br, lenb[:]); err != nil {
		return err
	}
	if word, ok := fourLetterWord(lenb); ok {
		return c.fourLetter(word)
	}
	frame, err := c.readBody(int32(binary.BigEndian.Uint32(lenb[:])))
	if err != nil {
		return err
	}
	if err := c.handshake(frame); err != nil {
		return err
	}
	for {
		if err := c.throttle(); err != nil {
			return err
		}
		c.nc.SetReadDeadline(time.Now().Add(time.Duration(c.timeout.Load()) * time.Millisecond))
		frame, err := c.readFrame()
		if err != nil {
			return err
		}
		if err := c.dispatch(frame); err != nil {
			return err
		}
	}
}

func (c *conn) readFrame() ([]byte, error) {
	var lenb [4]byte
	if _, err := io.ReadFull(c.br, lenb[:]); err != nil {
		return nil, err
	}
	return c.readBody(int32(binary.BigEndian.Uint32(lenb[:])))
}

func (c *conn) readBody(n int32) ([]byte, error) {
	if n < 0 || int(n) > c.s.opts.MaxBuffer {
		return nil, errClose{fmt.Sprintf("frame length %d out of range", n), false}
	}
	var buf []byte
	if n <= smallFrame {
		if c.frameBuf == nil {
			c.frameBuf = make([]byte, smallFrame)
		}
		buf = c.frameBuf[:n]
		if _, err := io.ReadFull(c.br, buf); err != nil {
			return nil, err
		}
	} else {
		var err error
		if buf, err = readN(c.br, int(n)); err != nil {
			return nil, err
		}
	}
	c.s.stats.packetsReceived.Add(1)
	c.stats.received.Add(1)
	return buf, nil
}

func (c *conn) handshake(frame []byte) error {
	d := jute.NewDecoder(frame)
	var req proto.ConnectRequest
	req.Decode(d)
	if d.Err() != nil {
		return errClose{"malformed connect request: " + d.Err().Error(), false}
	}
	c.readOnlyForm = req.HasReadOnly
	if err := c.connAllowed(req.SessionID); err != nil {
		return err
	}
	if !c.s.Serving() {
		return errClose{"not serving clients: no leader, or still catching up", false}
	}
	if last := c.s.fsm.LastZxid(); req.LastZxidSeen > last {
		return errClose{fmt.Sprintf("client has seen zxid 0x%x, our last zxid is 0x%x; client must try another server", req.LastZxidSeen, last), false}
	}
	timeout := c.s.negotiateTimeout(req.TimeOut)
	resp := proto.ConnectResponse{HasReadOnly: req.HasReadOnly}
	if req.SessionID == 0 {
		sid := c.s.newSessionID()
		if err := c.createSession(sid, timeout); err != nil {
			return err
		}
		resp.TimeOut, resp.SessionID, resp.Passwd = timeout, sid, sessionPassword(sid)
	} else {
		// ZooKeeper closes the session's current connection before it
		// checks the password, so even a refused reattach disconnects it.
		c.s.mu.Lock()
		old := c.s.bySession[req.SessionID]
		c.s.mu.Unlock()
		if old != nil && old != c {
			old.close()
		}
		c.s.fsm.RLock()
		ok := c.s.fsm.Session(req.SessionID) != nil
		c.s.fsm.RUnlock()
		if ok {
			if t := c.s.sessions.Get(req.SessionID); t != nil && t.Closing() {
				ok = false
			}
		}
		if ok && !bytes.Equal(req.Passwd, sessionPassword(req.SessionID)) {
			ok = false
		}
		if !ok {
			resp.Passwd = make([]byte, 16)
			c.sendConnect(&resp)
			c.markCloseAfterFlush()
			return errClose{fmt.Sprintf("session 0x%x expired or bad password", req.SessionID), true}
		}
		if err := c.takeOwnership(req.SessionID); err != nil {
			return err
		}
		resp.TimeOut, resp.SessionID, resp.Passwd = timeout, req.SessionID, sessionPassword(req.SessionID)
	}
	c.sessionID.Store(resp.SessionID)
	c.timeout.Store(resp.TimeOut)
	c.sess = c.s.sessions.Add(resp.SessionID, time.Duration(timeout)*time.Millisecond, time.Now())
	c.s.attach(resp.SessionID, c)
	c.sendConnect(&resp)
	return nil
}

func (c *conn) createSession(sid int64, timeout int32) error {
	start := time.Now()
	done := make(chan fsm.Result, 1)
	failed := make(chan error, 1)
	e := &txn.Entry{Op: proto.OpCreateSession, Session: sid, Timeout: timeout}
	if err := c.s.propose(e, func(r fsm.Result) { done <- r }, func(err error) { failed <- err }); err != nil {
		return fmt.Errorf("propose createSession: %w", err)
	}
	ctx, cancel := context.WithTimeout(c.s.ctx, 30*time.Second)
	defer cancel()
	select {
	case r := <-done:
		if r.Err != proto.ErrOK {
			return errClose{fmt.Sprintf("createSession failed: %v", r.Err), false}
		}
		c.sessionCreated(r.Zxid, start)
		return nil
	case err := <-failed:
		return fmt.Errorf("createSession: %w", err)
	case <-ctx.Done():
		return fmt.Errorf("createSession: %w", ctx.Err())
	}
}

func isWrite(op proto.OpCode) bool {
	switch op {
	case proto.OpCreate, proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL,
		proto.OpDelete, proto.OpSetData, proto.OpSetACL, proto.OpMulti, proto.OpReconfig,
		proto.OpCloseSession:
		return true
	}
	return false
}

// dispatch handles one request frame.
func (c *conn) dispatch(frame []byte) error {
	d := &c.dec
	d.Reset(frame)
	var h proto.RequestHeader
	h.Decode(d)
	if d.Err() != nil {
		return errClose{"malformed request header", false}
	}
	if c.sess != nil {
		c.sess.Touch(time.Now())
	}
	op := proto.OpCode(h.Type)
	if err := c.enforceAuth(op, h.Xid); err != nil {
		return err
	}
	body := d.Rest()
	it := &item{xid: h.Xid, op: op, recv: time.Now()}
	if isWrite(op) {
		if op == proto.OpCloseSession {
			c.closingSession.Store(true)
			it.closeAfter = true
			if err := c.proposeWrite(it, body); err != nil {
				return err
			}
			return errClientClosed
		}
		return c.proposeWrite(it, body)
	}
	switch op {
	case proto.OpDeleteContainer:
		// ZooKeeper accepts deleteContainer from clients but takes the
		// path from the whole request buffer, header included, so the
		// path always holds NUL bytes: BadArguments, as a failed write.
		return c.proposeWrite(it, frame)
	case proto.OpCreateSession:
		// A client-sent createSession is a failed write in ZooKeeper
		// (MarshallingError); the FSM refuses one for an existing session.
		return c.proposeWrite(it, body)
	case proto.OpSASL:
		// Without SASL configured ZooKeeper answers {xid, 0, 0} with a null
		// token and keeps the connection; a bad packet closes it unanswered.
		var r proto.GetSASLRequest
		r.Decode(d)
		if d.Err() != nil || r.Token == nil {
			// (A null token fails ZooKeeper's processSasl with a
			// NullPointerException, which closes the connection too.)
			return errClose{"undecodable sasl packet", false}
		}
		return c.handleSASL(it, r.Token)
	case proto.OpSync:
		var r proto.SyncRequest
		r.Decode(d)
		if d.Err() != nil {
			// ZooKeeper answers MarshallingError and keeps the connection.
			it.err = proto.ErrMarshallingError
			c.enqueueRead(it)
			return nil
		}
		it.path = r.Path
		it.write = true
		c.enqueue(it)
		go c.sync(it)
		return nil
	case proto.OpAuth:
		var r proto.AuthPacket
		r.Decode(d)
		if d.Err() != nil {
			// ZooKeeper decodes auth packets on the I/O path: a bad one
			// closes the connection without an answer.
			return errClose{"undecodable auth packet", false}
		}
		id, ok := c.authenticate(r.Scheme, r.Auth)
		if !ok {
			it.err = proto.ErrAuthFailed
			it.closeAfter = true
			c.s.log.Warn("authentication failed", "scheme", r.Scheme, "remote", c.nc.RemoteAddr().String())
		} else {
			c.addAuth(id...)
		}
		c.enqueueRead(it)
		if !ok {
			return errClose{"auth failed", true}
		}
		return nil
	case proto.OpPing, proto.OpWhoAmI:
	case proto.OpExists, proto.OpGetData, proto.OpGetChildren, proto.OpGetChildren2,
		proto.OpGetACL, proto.OpGetAllChildrenNumber, proto.OpGetEphemerals,
		proto.OpSetWatches, proto.OpSetWatches2, proto.OpAddWatch,
		proto.OpCheckWatches, proto.OpRemoveWatches, proto.OpMultiRead:
		it.req = newReadRequest(op)
		it.req.Decode(d)
		if d.Err() != nil {
			// An undecodable read is answered MarshallingError; the
			// connection stays open (ZooKeeper's FinalRequestProcessor).
			it.req = nil
			it.err = proto.ErrMarshallingError
			c.enqueueRead(it)
			return nil
		}
	default:
		// Unknown opcode, notification (0), top-level check:
		// Unimplemented, then close (ZooKeeper 3.9).
		it.err = proto.ErrUnimplemented
		it.closeAfter = true
		c.enqueueRead(it)
		return errClose{fmt.Sprintf("unimplemented opcode %d", h.Type), true}
	}
	c.enqueueRead(it)
	return nil
}

func newReadRequest(op proto.OpCode) proto.Record {
	switch op {
	case proto.OpExists:
		return &proto.ExistsRequest{}
	case proto.OpGetData:
		return &proto.GetDataRequest{}
	case proto.OpGetChildren:
		return &proto.GetChildrenRequest{}
	case proto.OpGetChildren2:
		return &proto.GetChildren2Request{}
	case proto.OpGetACL:
		return &proto.GetACLRequest{}
	case proto.OpGetAllChildrenNumber:
		return &proto.GetAllChildrenNumberRequest{}
	case proto.OpGetEphemerals:
		return &proto.GetEphemeralsRequest{}
	case proto.OpSetWatches:
		return &proto.SetWatches{}
	case proto.OpSetWatches2:
		return &proto.SetWatches2{}
	case proto.OpAddWatch:
		return &proto.AddWatchRequest{}
	case proto.OpCheckWatches:
		return &proto.CheckWatchesRequest{}
	case proto.OpRemoveWatches:
		return &proto.RemoveWatchesRequest{}
	case proto.OpMultiRead:
		return &proto.MultiRequest{}
	}
	return nil
}

func (c *conn) addAuth(ids ...proto.Id) {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := append([]proto.Id(nil), c.auth...)
	for _, id := range ids {
		dup := false
		for _, a := range next {
			if a == id {
				dup = true
			}
		}
		if !dup {
			next = append(next, id)
		}
	}
	// ZooKeeper iterates a connection's ids in its hash set's order
	// (whoAmI, the "auth" ACL scheme); keep them in that order.
	c.auth = acl.JavaSetOrder(next)
}

func (c *conn) authIDs() []proto.Id {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.auth
}

func (c *conn) proposeWrite(it *item, body []byte) error {
	it.write = true
	c.enqueue(it)
	// body aliases the frame: propose encodes the entry before it returns.
	e := &txn.Entry{
		Op: it.op, Session: c.sessionID.Load(), Cxid: it.xid,
		Auth: c.authIDs(), Body: body,
	}
	err := c.s.propose(e, func(r fsm.Result) { c.complete(it, r) }, func(err error) {
		c.s.log.Warn("write dropped; closing connection", "err", err)
		c.close()
	})
	if err != nil {
		return errClose{"cannot propose: " + err.Error(), false}
	}
	return nil
}

func (c *conn) enqueue(it *item) {
	c.mu.Lock()
	c.trackIn()
	c.queue = append(c.queue, it)
	c.mu.Unlock()
}

// enqueueRead runs a read-like request now if nothing is ahead of it, or
// queues it behind the outstanding requests.
func (c *conn) enqueueRead(it *item) {
	it.auth = c.authIDs()
	c.s.fsm.RLock()
	c.mu.Lock()
	c.trackIn()
	if len(c.queue) == 0 {
		c.execute(it)
	} else {
		c.queue = append(c.queue, it)
	}
	c.mu.Unlock()
	c.s.fsm.RUnlock()
}

// complete finishes an asynchronous item. The caller holds the tree lock.
func (c *conn) complete(it *item, r fsm.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it.done = true
	it.res = r
	for len(c.queue) > 0 {
		h := c.queue[0]
		if h.write && !h.done {
			break
		}
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.execute(h)
	}
	if len(c.queue) == 0 {
		c.queue = nil
	}
}

func (c *conn) sync(it *item) {
	ctx, cancel := context.WithTimeout(c.s.ctx, 30*time.Second)
	defer cancel()
	idx, err := c.s.node.ReadIndex(ctx)
	if err == nil {
		err = c.s.waitApplied(ctx, idx)
	}
	if err != nil {
		c.s.log.Warn("sync failed; closing connection", "err", err)
		c.close()
		return
	}
	c.s.fsm.RLock()
	c.complete(it, fsm.Result{Zxid: c.s.fsm.LastZxid(), Body: &proto.SyncResponse{Path: it.path}})
	c.s.fsm.RUnlock()
}

// Notify implements watch.Watcher.
func (c *conn) Notify(ev watch.Event) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.closed {
		return
	}
	e := jute.NewEncoder(c.out)
	start := e.Len()
	e.Int(0)
	h := proto.ReplyHeader{Xid: proto.XidNotification, Zxid: ev.Zxid}
	h.Encode(e)
	w := proto.WatcherEvent{Type: ev.Type, State: proto.StateSyncConnected, Path: ev.Path}
	w.Encode(e)
	c.out = e.Bytes()
	binary.BigEndian.PutUint32(c.out[start:], uint32(len(c.out)-start-4))
	c.signal()
	c.stats.sent.Add(1)
	c.s.stats.packetsSent.Add(1)
	c.s.stats.recordResponse(len(c.out) - start - 4)
}

// CanRead implements watch.Watcher.
func (c *conn) CanRead(acl []proto.ACL) bool {
	return c.s.canRead(acl, c.authIDs())
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// bodyWithError is a reply body sent even though the reply carries an error
// (ZooKeeper sends whatever response it had built before the failure).
type bodyWithError struct{ proto.Record }

// sendReply queues a reply frame.
func (c *conn) sendReply(xid int32, zxid int64, code proto.Err, body proto.Record) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.closed {
		return
	}
	e := jute.NewEncoder(c.out)
	start := e.Len()
	e.Int(0)
	h := proto.ReplyHeader{Xid: xid, Zxid: zxid, Err: int32(code)}
	h.Encode(e)
	if b, ok := body.(bodyWithError); ok {
		b.Record.Encode(e)
	} else if code == proto.ErrOK && body != nil {
		body.Encode(e)
	}
	c.out = e.Bytes()
	binary.BigEndian.PutUint32(c.out[start:], uint32(len(c.out)-start-4))
	c.signal()
	c.stats.sent.Add(1)
	c.s.stats.packetsSent.Add(1)
	c.s.stats.recordResponse(len(c.out) - start - 4)
}

func (c *conn) sendConnect(r *proto.ConnectResponse) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	e := jute.NewEncoder(c.out)
	start := e.Len()
	e.Int(0)
	r.Encode(e)
	c.out = e.Bytes()
	binary.BigEndian.PutUint32(c.out[start:], uint32(len(c.out)-start-4))
	c.signal()
	c.stats.sent.Add(1)
	c.s.stats.packetsSent.Add(1)
}

// sendRaw queues raw bytes (four-letter word answers).
func (c *conn) sendRaw(b []byte) {
	c.outMu.Lock()
	c.out = append(c.out, b...)
	c.outMu.Unlock()
	c.signal()
}

func (c *conn) markCloseAfterFlush() {
	c.outMu.Lock()
	c.closeAfter = true
	c.outMu.Unlock()
	c.signal()
}

func (c *conn) writeLoop() {
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		c.outMu.Lock()
		buf := c.out
		c.out = c.spare[:0]
		closeAfter := c.closeAfter
		c.outMu.Unlock()
		if len(buf) > 0 {
			// A write may block for 20 to 30 s: moving the deadline on
			// every write cost a timer update each time.
			if now := time.Now(); c.wdeadline.Sub(now) < 20*time.Second {
				c.wdeadline = now.Add(30 * time.Second)
				c.nc.SetWriteDeadline(c.wdeadline)
			}
			if _, err := c.nc.Write(buf); err != nil {
				c.close()
				return
			}
		}
		c.outMu.Lock()
		// buf becomes the spare, unless it is too large to keep; then the
		// old spare must go too, since c.out is now that very buffer.
		c.spare = nil
		if cap(buf) <= 1<<20 {
			c.spare = buf[:0]
		}
		pending := len(c.out) > 0
		c.outMu.Unlock()
		if closeAfter && !pending {
			c.close()
			return
		}
		if pending {
			c.signal()
		}
	}
}

func (c *conn) close() {
	c.closeOnce.Do(func() {
		c.outMu.Lock()
		c.closed = true
		c.outMu.Unlock()
		// Leave the server's tables before the socket closes, as ZooKeeper
		// does: a client that saw the close never finds it in stat/mntr.
		c.s.watches.RemoveWatcher(c)
		c.s.removeConn(c)
		c.releaseOutstanding()
		c.nc.Close()
		close(c.done)
	})
}
