// Package rawzk is a minimal raw-socket ZooKeeper protocol client for tests. It sends exactly
// the frames it is told to (explicit xids, opcodes and body records), hands back the raw reply
// frames, separates watch notifications (xid -1) from replies, and bounds every socket
// operation by a deadline, so a test talking to a misbehaving server fails instead of hanging.
//
// It interprets nothing beyond the frame layer and the reply header: callers decode bodies
// themselves, which is what a differential test wants.
package rawzk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
)

// DefaultTimeout bounds each socket operation when Conn.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// MaxFrame is the largest frame the client accepts from a server (jute.maxbuffer + slack).
const MaxFrame = 4 << 20

// ErrClosed reports that the server closed the connection (EOF or reset).
var ErrClosed = errors.New("rawzk: connection closed by the server")

// ErrTimeout reports that the server did not answer within the deadline.
var ErrTimeout = errors.New("rawzk: timed out")

// Conn is one TCP connection to a server.
type Conn struct {
	nc net.Conn
	// Timeout bounds every read and write; zero means DefaultTimeout.
	Timeout time.Duration
	closed  bool
}

// Dial connects to addr within timeout.
func Dial(addr string, timeout time.Duration) (*Conn, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	return &Conn{nc: nc, Timeout: timeout}, nil
}

func (c *Conn) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

// Close closes the socket (without a closeSession).
func (c *Conn) Close() error {
	c.closed = true
	return c.nc.Close()
}

// Closed reports whether the client closed the socket or saw the server close it.
func (c *Conn) Closed() bool { return c.closed }

// LocalAddr returns the client side address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

func (c *Conn) classify(err error) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w: %v", ErrTimeout, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		c.closed = true
		return fmt.Errorf("%w: %v", ErrClosed, err)
	}
	return err
}

// WriteRaw writes bytes as they are (no length prefix).
func (c *Conn) WriteRaw(b []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(c.timeout()))
	_, err := c.nc.Write(b)
	return c.classify(err)
}

// WriteFrame writes a length-prefixed frame.
func (c *Conn) WriteFrame(payload []byte) error {
	b := make([]byte, 4, 4+len(payload))
	binary.BigEndian.PutUint32(b, uint32(len(payload)))
	return c.WriteRaw(append(b, payload...))
}

// ReadFrame reads one length-prefixed frame and returns its payload.
func (c *Conn) ReadFrame() ([]byte, error) {
	return c.readFrame(time.Now().Add(c.timeout()))
}

func (c *Conn) readFrame(deadline time.Time) ([]byte, error) {
	c.nc.SetReadDeadline(deadline)
	var lb [4]byte
	if _, err := io.ReadFull(c.nc, lb[:]); err != nil {
		return nil, c.classify(err)
	}
	n := int32(binary.BigEndian.Uint32(lb[:]))
	if n < 0 || n > MaxFrame {
		return nil, fmt.Errorf("rawzk: frame length %d out of range", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.nc, b); err != nil {
		return nil, c.classify(err)
	}
	return b, nil
}

// ReadAll reads until the server closes the connection or the deadline passes and returns what
// arrived (for four-letter words and "is anything sent before the close?" checks).
func (c *Conn) ReadAll() ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(c.timeout()))
	b, err := io.ReadAll(c.nc)
	if err == nil {
		c.closed = true
		return b, nil
	}
	return b, c.classify(err)
}

// ConnectOptions describe a ConnectRequest.
type ConnectOptions struct {
	ProtocolVersion int32
	LastZxidSeen    int64
	TimeoutMs       int32
	SessionID       int64
	// Passwd is sent as is; nil means 16 zero bytes (a new session).
	Passwd []byte
	// ReadOnlyByte adds the optional trailing readOnly byte (45-byte form).
	ReadOnlyByte bool
	ReadOnly     bool
}

// ConnectRequestBytes encodes the ConnectRequest payload (without the length prefix).
func ConnectRequestBytes(o ConnectOptions) []byte {
	pw := o.Passwd
	if pw == nil {
		pw = make([]byte, 16)
	}
	r := proto.ConnectRequest{
		ProtocolVersion: o.ProtocolVersion, LastZxidSeen: o.LastZxidSeen, TimeOut: o.TimeoutMs,
		SessionID: o.SessionID, Passwd: pw, ReadOnly: o.ReadOnly, HasReadOnly: o.ReadOnlyByte,
	}
	e := jute.NewEncoder(nil)
	r.Encode(e)
	return e.Bytes()
}

// Connect sends a ConnectRequest and reads the ConnectResponse frame. It returns the raw
// payload too (its length tells whether the readOnly byte was sent).
func (c *Conn) Connect(o ConnectOptions) (*proto.ConnectResponse, []byte, error) {
	if err := c.WriteFrame(ConnectRequestBytes(o)); err != nil {
		return nil, nil, err
	}
	raw, err := c.ReadFrame()
	if err != nil {
		return nil, nil, err
	}
	var resp proto.ConnectResponse
	d := jute.NewDecoder(raw)
	resp.Decode(d)
	if d.Err() != nil {
		return nil, raw, fmt.Errorf("rawzk: bad ConnectResponse %x: %v", raw, d.Err())
	}
	return &resp, raw, nil
}

// RequestBytes encodes RequestHeader{xid, op} followed by body (nil for none).
func RequestBytes(xid int32, op proto.OpCode, body proto.Record) []byte {
	e := jute.NewEncoder(nil)
	h := proto.RequestHeader{Xid: xid, Type: int32(op)}
	h.Encode(e)
	if body != nil {
		body.Encode(e)
	}
	return e.Bytes()
}

// Send writes one request frame.
func (c *Conn) Send(xid int32, op proto.OpCode, body proto.Record) error {
	return c.WriteFrame(RequestBytes(xid, op, body))
}

// Frame is one server frame after the handshake.
type Frame struct {
	Header proto.ReplyHeader
	Body   []byte // the bytes after the 16-byte header
}

// ParseFrame splits a frame payload into the header and the body.
func ParseFrame(b []byte) (Frame, error) {
	var f Frame
	d := jute.NewDecoder(b)
	f.Header.Decode(d)
	if d.Err() != nil {
		return f, fmt.Errorf("rawzk: short reply frame %x", b)
	}
	f.Body = d.Rest()
	return f, nil
}

// Event decodes a notification frame's body.
func (f Frame) Event() (proto.WatcherEvent, error) {
	var ev proto.WatcherEvent
	d := jute.NewDecoder(f.Body)
	ev.Decode(d)
	if d.Err() != nil {
		return ev, d.Err()
	}
	if d.Remaining() != 0 {
		return ev, fmt.Errorf("rawzk: %d trailing bytes after WatcherEvent", d.Remaining())
	}
	return ev, nil
}

// ReadReply reads frames until a non-notification frame arrives and returns it together with
// the notifications that came before it. The whole read is bounded by one timeout.
func (c *Conn) ReadReply() (reply Frame, events []Frame, err error) {
	deadline := time.Now().Add(c.timeout())
	for {
		b, err := c.readFrame(deadline)
		if err != nil {
			return Frame{}, events, err
		}
		f, err := ParseFrame(b)
		if err != nil {
			return Frame{}, events, err
		}
		if f.Header.Xid == proto.XidNotification {
			events = append(events, f)
			continue
		}
		return f, events, nil
	}
}

// Call sends a request and reads its reply (plus the notifications before it).
func (c *Conn) Call(xid int32, op proto.OpCode, body proto.Record) (Frame, []Frame, error) {
	if err := c.Send(xid, op, body); err != nil {
		return Frame{}, nil, err
	}
	return c.ReadReply()
}

// Ping sends a ping (xid -2, opcode 11) and returns its reply and the notifications that
// arrived before it.
func (c *Conn) Ping() (Frame, []Frame, error) {
	return c.Call(proto.XidPing, proto.OpPing, nil)
}

// Decode decodes body into r and fails on leftover bytes.
func Decode(body []byte, r proto.Record) error {
	d := jute.NewDecoder(body)
	r.Decode(d)
	if d.Err() != nil {
		return d.Err()
	}
	if d.Remaining() != 0 {
		return fmt.Errorf("rawzk: %d trailing bytes after %T", d.Remaining(), r)
	}
	return nil
}

// RawBody is a request body sent verbatim (for malformed or hand-built records).
type RawBody []byte

// Encode appends the bytes.
func (b RawBody) Encode(e *jute.Encoder) { e.Raw(b) }

// Decode is not supported; RawBody is for sending only.
func (b RawBody) Decode(d *jute.Decoder) { d.Fail(errors.New("rawzk: RawBody cannot be decoded")) }
