package crash

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
)

// The client below is deliberately small: one TCP connection is one session, requests carry
// explicit increasing xids, replies must come back in the order the requests were sent (the
// ZooKeeper FIFO guarantee; anything else is reported as a protocol violation), and a request
// counts as acknowledged only if its reply arrived with err 0. It never reconnects on its own:
// after the connection breaks every outstanding call fails with the transport error.

// ioTimeout bounds a reply to an outstanding request and every socket write.
const ioTimeout = 10 * time.Second

var errExpired = errors.New("session expired (the server answered the reattach with timeout 0)")

// reply is the outcome of one call.
type reply struct {
	hdr  proto.ReplyHeader
	body []byte
	err  error // transport error: no reply arrived (not acknowledged)
}

// ok reports an acknowledged request: a reply arrived with err 0.
func (r reply) ok() bool { return r.err == nil && r.hdr.Err == int32(proto.ErrOK) }

// code is the reply's error code (meaningless if r.err != nil).
func (r reply) code() proto.Err { return proto.Err(r.hdr.Err) }

func (r reply) String() string {
	if r.err != nil {
		return "no reply: " + r.err.Error()
	}
	return fmt.Sprintf("err %d (%v), zxid 0x%x", r.hdr.Err, proto.Err(r.hdr.Err), r.hdr.Zxid)
}

type call struct {
	xid  int32
	op   proto.OpCode
	done chan struct{}
	r    reply
}

func (c *call) wait() reply { <-c.done; return c.r }

// client is one session on one connection.
type client struct {
	name    string
	nc      net.Conn
	sid     int64
	passwd  []byte
	timeout time.Duration // negotiated

	lastZxid atomic.Int64
	lastSend atomic.Int64 // unix nanos

	wmu     sync.Mutex // held while a request is queued and written: queue order = wire order
	mu      sync.Mutex
	pending []*call
	xid     int32
	dead    error
	// violation is set when the server broke the protocol (out-of-order reply).
	violation error

	closed chan struct{}
	wg     sync.WaitGroup
}

// dial opens a session (sid 0) or reattaches to one (sid, passwd, lastZxid as the client last
// saw them).
func dial(name, addr string, timeoutMs int32, sid int64, passwd []byte, lastZxid int64) (*client, error) {
	nc, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	if passwd == nil {
		passwd = make([]byte, 16)
	}
	req := proto.ConnectRequest{LastZxidSeen: lastZxid, TimeOut: timeoutMs, SessionID: sid, Passwd: passwd}
	e := jute.NewEncoder(nil)
	req.Encode(e)
	nc.SetDeadline(time.Now().Add(ioTimeout))
	if err := writeFrame(nc, e.Bytes()); err != nil {
		nc.Close()
		return nil, fmt.Errorf("send ConnectRequest: %w", err)
	}
	b, err := readFrame(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("read ConnectResponse: %w", err)
	}
	nc.SetDeadline(time.Time{})
	var resp proto.ConnectResponse
	d := jute.NewDecoder(b)
	resp.Decode(d)
	if d.Err() != nil {
		nc.Close()
		return nil, fmt.Errorf("bad ConnectResponse %x: %v", b, d.Err())
	}
	if resp.TimeOut <= 0 || resp.SessionID == 0 {
		nc.Close()
		return nil, errExpired
	}
	if sid != 0 && resp.SessionID != sid {
		nc.Close()
		return nil, fmt.Errorf("reattach to session 0x%x answered with session 0x%x", sid, resp.SessionID)
	}
	c := &client{
		name: name, nc: nc, sid: resp.SessionID, passwd: resp.Passwd,
		timeout: time.Duration(resp.TimeOut) * time.Millisecond, closed: make(chan struct{}),
	}
	c.lastZxid.Store(lastZxid)
	c.lastSend.Store(time.Now().UnixNano())
	c.wg.Add(2)
	go c.readLoop()
	go c.pingLoop()
	return c, nil
}

func writeFrame(w io.Writer, payload []byte) error {
	b := make([]byte, 4, 4+len(payload))
	binary.BigEndian.PutUint32(b, uint32(len(payload)))
	_, err := w.Write(append(b, payload...))
	return err
}

func readFrame(r io.Reader) ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(lb[:]))
	if n < 0 || n > 8<<20 {
		return nil, fmt.Errorf("frame length %d out of range", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// send queues one request and returns at once; wait on the call for its reply.
func (c *client) send(op proto.OpCode, body proto.Record) *call {
	e := jute.NewEncoder(nil)
	cl := &call{op: op, done: make(chan struct{})}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	if c.dead != nil {
		cl.r.err = c.dead
		c.mu.Unlock()
		close(cl.done)
		return cl
	}
	if op == proto.OpPing {
		cl.xid = proto.XidPing
	} else {
		c.xid++
		cl.xid = c.xid
	}
	c.pending = append(c.pending, cl)
	c.mu.Unlock()
	h := proto.RequestHeader{Xid: cl.xid, Type: int32(op)}
	h.Encode(e)
	if body != nil {
		body.Encode(e)
	}
	c.nc.SetWriteDeadline(time.Now().Add(ioTimeout))
	if err := writeFrame(c.nc, e.Bytes()); err != nil {
		c.fail(fmt.Errorf("write: %w", err))
	}
	c.lastSend.Store(time.Now().UnixNano())
	return cl
}

// do sends a request and waits for its reply.
func (c *client) do(op proto.OpCode, body proto.Record) reply { return c.send(op, body).wait() }

func (c *client) readLoop() {
	defer c.wg.Done()
	for {
		c.nc.SetReadDeadline(time.Now().Add(ioTimeout))
		b, err := readFrame(c.nc)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.mu.Lock()
				idle := len(c.pending) == 0 && c.dead == nil
				c.mu.Unlock()
				if idle {
					continue
				}
				err = fmt.Errorf("no reply within %v: %w", ioTimeout, err)
			}
			c.fail(err)
			return
		}
		var h proto.ReplyHeader
		d := jute.NewDecoder(b)
		h.Decode(d)
		if d.Err() != nil {
			c.fail(fmt.Errorf("short reply frame %x", b))
			return
		}
		if h.Xid == proto.XidNotification {
			continue
		}
		c.mu.Lock()
		if len(c.pending) == 0 || c.pending[0].xid != h.Xid {
			want := "nothing"
			if len(c.pending) > 0 {
				want = fmt.Sprintf("xid %d (%v)", c.pending[0].xid, c.pending[0].op)
			}
			c.violation = fmt.Errorf("session 0x%x: reply with xid %d arrived while waiting for %s: FIFO order broken", c.sid, h.Xid, want)
			c.mu.Unlock()
			c.fail(c.violation)
			return
		}
		cl := c.pending[0]
		c.pending[0] = nil
		c.pending = c.pending[1:]
		c.mu.Unlock()
		if h.Zxid > 0 {
			for {
				old := c.lastZxid.Load()
				if h.Zxid <= old || c.lastZxid.CompareAndSwap(old, h.Zxid) {
					break
				}
			}
		}
		cl.r = reply{hdr: h, body: d.Rest()}
		close(cl.done)
	}
}

// pingLoop keeps an idle session alive.
func (c *client) pingLoop() {
	defer c.wg.Done()
	every := c.timeout / 3
	t := time.NewTicker(every / 2)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-t.C:
			if time.Since(time.Unix(0, c.lastSend.Load())) >= every {
				c.send(proto.OpPing, nil)
			}
		}
	}
}

// fail breaks the connection: every outstanding call fails with err.
func (c *client) fail(err error) {
	c.mu.Lock()
	if c.dead != nil {
		c.mu.Unlock()
		return
	}
	c.dead = err
	p := c.pending
	c.pending = nil
	close(c.closed)
	c.mu.Unlock()
	c.nc.Close()
	for _, cl := range p {
		cl.r.err = err
		close(cl.done)
	}
}

// err returns why the connection broke (nil while it works).
func (c *client) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dead
}

// protocolViolation returns a broken-FIFO error, if one was seen.
func (c *client) protocolViolation() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.violation
}

// drop closes the connection without closing the session.
func (c *client) drop() {
	c.fail(errors.New("closed by the test"))
	c.wg.Wait()
}

// closeSession ends the session and then the connection.
func (c *client) closeSession() {
	c.send(proto.OpCloseSession, nil).wait()
	c.drop()
}

// --- typed helpers ---

func (c *client) create(path string, data []byte, flags int32) (*call, *proto.CreateRequest) {
	req := &proto.CreateRequest{Path: path, Data: data, Acl: proto.OpenACLUnsafe, Flags: flags}
	return c.send(proto.OpCreate2, req), req
}

func decodeCreate2(r reply) (proto.Create2Response, error) {
	var resp proto.Create2Response
	return resp, decode(r.body, &resp)
}

func (c *client) getData(path string) *call {
	return c.send(proto.OpGetData, &proto.GetDataRequest{Path: path})
}

func decodeGetData(r reply) (proto.GetDataResponse, error) {
	var resp proto.GetDataResponse
	return resp, decode(r.body, &resp)
}

func (c *client) children(path string) ([]string, error) {
	r := c.do(proto.OpGetChildren, &proto.GetChildrenRequest{Path: path})
	if !r.ok() {
		return nil, fmt.Errorf("getChildren %s: %v", path, r)
	}
	var resp proto.GetChildrenResponse
	if err := decode(r.body, &resp); err != nil {
		return nil, err
	}
	return resp.Children, nil
}

func decode(body []byte, r proto.Record) error {
	d := jute.NewDecoder(body)
	r.Decode(d)
	if d.Err() != nil {
		return d.Err()
	}
	if d.Remaining() != 0 {
		return fmt.Errorf("%d trailing bytes after %T", d.Remaining(), r)
	}
	return nil
}

// seqSuffix parses the 10-digit counter ZooKeeper appends to a sequential node's name.
func seqSuffix(path string) (int64, bool) {
	if len(path) < 10 {
		return 0, false
	}
	s := path[len(path)-10:]
	if strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// ruok asks the four-letter word and reports whether the answer was imok.
func ruok(addr string, timeout time.Duration) bool {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return false
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(timeout))
	if _, err := nc.Write([]byte("ruok")); err != nil {
		return false
	}
	b, _ := io.ReadAll(nc)
	return string(b) == "imok"
}
