package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
)

// epoch anchors nanotime; time.Since uses the monotonic clock.
var epoch = time.Now()

// nanotime is a monotonic clock in nanoseconds.
func nanotime() int64 { return int64(time.Since(epoch)) }

// maxFrame bounds the frames the client accepts (ZooKeeper's servers send at
// most about jute.maxbuffer, 1 MiB, by default).
const maxFrame = 16 << 20

// readBuffer is each connection's read buffer; a larger reply is read past
// it into a buffer of its own. (With 64 KiB, the churn workload, which dials
// thousands of connections a second, cost the load generator 139-143 µs of
// CPU per loop; with 8 KiB 106-118 µs.)
const readBuffer = 8 << 10

// ErrClosed reports a request on a connection that was closed by Close.
var ErrClosed = errors.New("bench: connection closed")

// Completion reports the outcome of one request. Err is the reply's error
// code; for a multi it is the first failing sub-operation's code; transport
// failures are reported as proto.ErrConnectionLoss.
type Completion struct {
	Op    proto.OpCode
	Xid   int32
	Err   proto.Err
	Zxid  int64
	Start int64 // nanotime when the request was queued
	End   int64 // nanotime when the reply was read
	Tag   uint64
}

// Latency is the time from queueing the request to reading its reply.
func (c Completion) Latency() time.Duration { return time.Duration(c.End - c.Start) }

// DialOptions configure a session.
type DialOptions struct {
	// SessionTimeout requested in the ConnectRequest; 0 means 30s.
	SessionTimeout time.Duration
	// ReadOnly is the value of the ConnectRequest's readOnly byte (which is
	// always sent, as the Java and C clients do).
	ReadOnly bool
	// OnEvent, if set, is called on the reader goroutine for every watch
	// notification. It must not block.
	OnEvent func(ev *proto.WatcherEvent)
}

type pending struct {
	xid   int32
	op    proto.OpCode
	start int64
	tag   uint64
	resp  proto.Record
	ch    chan<- Completion
}

// ring is a FIFO of pending requests.
type ring struct {
	buf        []pending
	head, size int
}

func (r *ring) push(p pending) {
	if r.size == len(r.buf) {
		nb := make([]pending, max(16, 2*len(r.buf)))
		for i := 0; i < r.size; i++ {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.size)%len(r.buf)] = p
	r.size++
}

func (r *ring) pop() pending {
	p := r.buf[r.head]
	r.buf[r.head] = pending{}
	r.head = (r.head + 1) % len(r.buf)
	r.size--
	return p
}

// Conn is one ZooKeeper session on one TCP connection. Its methods are safe
// for concurrent use.
type Conn struct {
	nc        net.Conn
	addr      string
	sessionID int64
	timeout   time.Duration
	readOnly  bool
	onEvent   func(ev *proto.WatcherEvent)

	mu      sync.Mutex
	out     []byte // frames not yet handed to the writer
	enc     jute.Encoder
	pend    ring
	xid     int32
	closed  bool  // no new requests
	err     error // why closed
	closing bool  // closeSession sent: EOF after its reply is normal

	wake     chan struct{}
	stop     chan struct{} // closed by shutdown
	stopOnce sync.Once
	rdone    chan struct{} // reader exited
	wdone    chan struct{} // writer exited

	lastSend atomic.Int64
	lastRecv atomic.Int64

	multi proto.MultiResponse // reader-owned scratch
}

// Dial connects to addr and establishes a new session.
func Dial(ctx context.Context, addr string, opts DialOptions) (*Conn, error) {
	to := opts.SessionTimeout
	if to <= 0 {
		to = 30 * time.Second
	}
	var d net.Dialer
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	nc, err := d.DialContext(hctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := hctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	stopWatch := context.AfterFunc(hctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	resp, err := handshake(nc, to, opts.ReadOnly)
	if !stopWatch() || err != nil {
		nc.Close()
		if err == nil {
			err = hctx.Err()
		}
		return nil, fmt.Errorf("bench: session handshake with %s: %w", addr, err)
	}
	nc.SetDeadline(time.Time{})
	c := &Conn{
		nc:        nc,
		addr:      addr,
		sessionID: resp.SessionID,
		timeout:   time.Duration(resp.TimeOut) * time.Millisecond,
		readOnly:  resp.ReadOnly,
		onEvent:   opts.OnEvent,
		wake:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		rdone:     make(chan struct{}),
		wdone:     make(chan struct{}),
	}
	now := nanotime()
	c.lastSend.Store(now)
	c.lastRecv.Store(now)
	go c.readLoop(bufio.NewReaderSize(nc, readBuffer))
	go c.writeLoop()
	return c, nil
}

func handshake(nc net.Conn, timeout time.Duration, readOnly bool) (*proto.ConnectResponse, error) {
	e := jute.NewEncoder(make([]byte, 4, 64))
	req := proto.ConnectRequest{
		TimeOut:     int32(timeout / time.Millisecond),
		Passwd:      make([]byte, 16),
		ReadOnly:    readOnly,
		HasReadOnly: true,
	}
	req.Encode(e)
	b := e.Bytes()
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	if _, err := nc.Write(b); err != nil {
		return nil, err
	}
	var lb [4]byte
	if _, err := io.ReadFull(nc, lb[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("server closed the connection (too many connections from this address? see maxClientCnxns)")
		}
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(lb[:]))
	if n < 20 || n > 4096 {
		return nil, fmt.Errorf("bad ConnectResponse length %d", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(nc, body); err != nil {
		return nil, err
	}
	var resp proto.ConnectResponse
	d := jute.NewDecoder(body)
	resp.Decode(d)
	if d.Err() != nil {
		return nil, fmt.Errorf("bad ConnectResponse: %w", d.Err())
	}
	if resp.TimeOut <= 0 || resp.SessionID == 0 {
		return nil, errors.New("server refused the session")
	}
	return &resp, nil
}

// SessionID is the id the server assigned.
func (c *Conn) SessionID() int64 { return c.sessionID }

// Timeout is the negotiated session timeout.
func (c *Conn) Timeout() time.Duration { return c.timeout }

// Addr is the server address.
func (c *Conn) Addr() string { return c.addr }

// Err returns why the connection is closed, or nil while it is usable.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Go queues a request (req may be nil for a bodiless request) and returns
// without waiting. req is encoded before Go returns, so the caller may reuse
// it. The Completion is sent on ch, which must have room for it: the reader
// goroutine never waits, so size ch for every request outstanding on it. If
// resp is non-nil, a successful reply's body is decoded into it (on the
// reader goroutine, before the Completion is sent). Go fails only if the
// connection is closed; then nothing is sent on ch.
func (c *Conn) Go(op proto.OpCode, req, resp proto.Record, tag uint64, ch chan<- Completion) error {
	c.mu.Lock()
	if c.closed {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.xid++
	if c.xid <= 0 {
		c.xid = 1
	}
	xid := c.xid
	c.appendFrame(xid, op, req)
	if op == proto.OpCloseSession {
		c.closed, c.closing, c.err = true, true, ErrClosed
	}
	c.pend.push(pending{xid: xid, op: op, start: nanotime(), tag: tag, resp: resp, ch: ch})
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// appendFrame encodes one request frame into c.out; c.mu held.
func (c *Conn) appendFrame(xid int32, op proto.OpCode, req proto.Record) {
	off := len(c.out)
	c.enc.SetBytes(append(c.out, 0, 0, 0, 0))
	c.enc.Int(xid)
	c.enc.Int(int32(op))
	if req != nil {
		req.Encode(&c.enc)
	}
	c.out = c.enc.Bytes()
	c.enc.SetBytes(nil)
	binary.BigEndian.PutUint32(c.out[off:], uint32(len(c.out)-off-4))
}

// Call sends a request and waits for its reply. It returns nil, the server's
// error code (a proto.Err), or a transport error.
func (c *Conn) Call(ctx context.Context, op proto.OpCode, req, resp proto.Record) error {
	ch := make(chan Completion, 1)
	if err := c.Go(op, req, resp, 0, ch); err != nil {
		return err
	}
	select {
	case comp := <-ch:
		if comp.Err == proto.ErrConnectionLoss {
			if err := c.Err(); err != nil && !errors.Is(err, ErrClosed) {
				return fmt.Errorf("%w: %v", proto.ErrConnectionLoss, err)
			}
		}
		if comp.Err != 0 {
			return comp.Err
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close ends the session (closeSession, waiting up to the session timeout for
// the reply) and closes the connection. It returns nil if the server
// acknowledged the close.
func (c *Conn) Close() error {
	ch := make(chan Completion, 1)
	err := c.Go(proto.OpCloseSession, nil, nil, 0, ch)
	if err == nil {
		t := time.NewTimer(c.timeout)
		select {
		case comp := <-ch:
			if comp.Err != 0 {
				err = comp.Err
			}
		case <-t.C:
			err = fmt.Errorf("bench: no reply to closeSession from %s", c.addr)
		}
		t.Stop()
	} else if errors.Is(err, ErrClosed) {
		err = nil
	}
	c.shutdown(ErrClosed)
	<-c.rdone
	<-c.wdone
	return err
}

// Abort closes the connection without ending the session.
func (c *Conn) Abort() {
	c.shutdown(ErrClosed)
	<-c.rdone
	<-c.wdone
}

// shutdown marks the connection closed, closes the socket and fails every
// outstanding request with ConnectionLoss.
func (c *Conn) shutdown(why error) {
	c.mu.Lock()
	if c.err == nil { // the first reason wins: after Close it stays ErrClosed
		c.err = why
	}
	c.closed = true
	var failed []pending
	for c.pend.size > 0 {
		failed = append(failed, c.pend.pop())
	}
	c.mu.Unlock()
	c.stopOnce.Do(func() {
		close(c.stop)
		c.nc.Close()
	})
	now := nanotime()
	for _, p := range failed {
		p.ch <- Completion{Op: p.op, Xid: p.xid, Err: proto.ErrConnectionLoss, Start: p.start, End: now, Tag: p.tag}
	}
}

func (c *Conn) writeLoop() {
	defer close(c.wdone)
	pingEvery := c.timeout / 3
	tick := time.NewTicker(max(pingEvery/2, 10*time.Millisecond))
	defer tick.Stop()
	var buf []byte
	for {
		select {
		case <-c.wake:
		case <-tick.C:
			now := nanotime()
			if time.Duration(now-c.lastRecv.Load()) > c.timeout {
				c.shutdown(fmt.Errorf("bench: %s: nothing received for %v", c.addr, c.timeout))
				return
			}
			if time.Duration(now-c.lastSend.Load()) >= pingEvery {
				c.mu.Lock()
				if !c.closed {
					c.appendFrame(proto.XidPing, proto.OpPing, nil)
				}
				c.mu.Unlock()
			}
		case <-c.stop:
			return
		}
		c.mu.Lock()
		buf, c.out = c.out, buf[:0]
		c.mu.Unlock()
		if len(buf) == 0 {
			continue
		}
		if _, err := c.nc.Write(buf); err != nil {
			c.shutdown(fmt.Errorf("bench: write to %s: %w", c.addr, err))
			return
		}
		c.lastSend.Store(nanotime())
		if cap(buf) > 1<<20 {
			buf = nil // do not keep a huge buffer after a burst
		}
	}
}

func (c *Conn) readLoop(br *bufio.Reader) {
	defer close(c.rdone)
	dec := jute.NewDecoder(nil)
	dec.MaxBuffer = maxFrame
	var lb [4]byte
	var big []byte
	for {
		if _, err := io.ReadFull(br, lb[:]); err != nil {
			c.readFailed(err)
			return
		}
		n := int(int32(binary.BigEndian.Uint32(lb[:])))
		if n < 16 || n > maxFrame {
			c.shutdown(fmt.Errorf("bench: %s sent a frame of length %d", c.addr, n))
			return
		}
		var frame []byte
		peeked := n <= br.Size()
		if peeked {
			var err error
			if frame, err = br.Peek(n); err != nil {
				c.readFailed(err)
				return
			}
		} else {
			if cap(big) < n {
				big = make([]byte, n)
			}
			frame = big[:n]
			if _, err := io.ReadFull(br, frame); err != nil {
				c.readFailed(err)
				return
			}
		}
		if err := c.handle(frame, dec); err != nil {
			c.shutdown(err)
			return
		}
		if peeked {
			br.Discard(n)
		}
	}
}

func (c *Conn) readFailed(err error) {
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing && (errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)) {
		c.shutdown(ErrClosed)
		return
	}
	c.shutdown(fmt.Errorf("bench: read from %s: %w", c.addr, err))
}

func (c *Conn) handle(frame []byte, dec *jute.Decoder) error {
	dec.Reset(frame)
	var h proto.ReplyHeader
	h.Decode(dec)
	now := nanotime()
	c.lastRecv.Store(now)
	switch h.Xid {
	case proto.XidNotification:
		if c.onEvent != nil {
			var ev proto.WatcherEvent
			ev.Decode(dec)
			if dec.Err() == nil {
				c.onEvent(&ev)
			}
		}
		return nil
	case proto.XidPing:
		return nil
	}
	c.mu.Lock()
	if c.pend.size == 0 {
		c.mu.Unlock()
		return fmt.Errorf("bench: %s: reply with xid %d but no request outstanding", c.addr, h.Xid)
	}
	p := c.pend.pop()
	c.mu.Unlock()
	comp := Completion{Op: p.op, Xid: p.xid, Err: proto.Err(h.Err), Zxid: h.Zxid, Start: p.start, End: now, Tag: p.tag}
	if p.xid != h.Xid {
		comp.Err = proto.ErrConnectionLoss
		p.ch <- comp
		return fmt.Errorf("bench: %s: reply xid %d, expected %d", c.addr, h.Xid, p.xid)
	}
	if comp.Err == 0 {
		switch {
		case p.resp != nil:
			p.resp.Decode(dec)
			if dec.Err() != nil {
				comp.Err = proto.ErrMarshallingError
			}
		case p.op == proto.OpMulti:
			comp.Err = c.multiErr(dec)
		}
	}
	p.ch <- comp
	return nil
}

// multiErr returns the first non-zero sub-result code of a multi reply.
func (c *Conn) multiErr(dec *jute.Decoder) proto.Err {
	c.multi.Decode(dec)
	if dec.Err() != nil {
		return proto.ErrMarshallingError
	}
	for i := range c.multi.Results {
		if r := &c.multi.Results[i]; r.Type == proto.OpError && r.Err != 0 {
			return r.Err
		}
	}
	return 0
}
