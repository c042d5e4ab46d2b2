package robustness

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
)

// rawConn is a minimal ZooKeeper protocol client: one connection, one session, frames
// written and read explicitly, so the suite sees every reply header's zxid (the zk package
// does not expose the zxid of watch notifications).
type rawConn struct {
	nc      net.Conn
	br      *bufio.Reader
	sid     int64
	timeout time.Duration
}

// rawDial opens a session on addr; lastZxid is the highest zxid the client has seen (the
// server refuses the connection if it is behind it).
func rawDial(addr string, timeoutMs int32, lastZxid int64) (*rawConn, error) {
	nc, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	c := &rawConn{nc: nc, br: bufio.NewReader(nc)}
	req := &proto.ConnectRequest{LastZxidSeen: lastZxid, TimeOut: timeoutMs, Passwd: make([]byte, 16)}
	if err := c.writeFrame(func(e *jute.Encoder) { req.Encode(e) }); err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, err := c.readFrame()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	var resp proto.ConnectResponse
	d := jute.NewDecoder(b)
	resp.Decode(d)
	if d.Err() != nil || resp.SessionID == 0 || resp.TimeOut <= 0 {
		nc.Close()
		return nil, fmt.Errorf("connect to %s: refused (session 0x%x, timeout %d)", addr, resp.SessionID, resp.TimeOut)
	}
	c.sid = resp.SessionID
	c.timeout = time.Duration(resp.TimeOut) * time.Millisecond
	return c, nil
}

func (c *rawConn) writeFrame(body func(e *jute.Encoder)) error {
	e := jute.NewEncoder(make([]byte, 4, 128))
	body(e)
	b := e.Bytes()
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	c.nc.SetWriteDeadline(time.Now().Add(3 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

func (c *rawConn) readFrame() ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(c.br, lb[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	if n > 1<<20 {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.br, b); err != nil {
		return nil, err
	}
	return b, nil
}

// send writes a request.
func (c *rawConn) send(xid int32, op proto.OpCode, body proto.Record) error {
	return c.writeFrame(func(e *jute.Encoder) {
		h := proto.RequestHeader{Xid: xid, Type: int32(op)}
		h.Encode(e)
		if body != nil {
			body.Encode(e)
		}
	})
}

// rawFrame is one decoded server frame: a reply header and, for notifications, the event.
type rawFrame struct {
	hdr proto.ReplyHeader
	ev  proto.WatcherEvent // when hdr.Xid == XidNotification
}

func (c *rawConn) read(deadline time.Time) (rawFrame, error) {
	c.nc.SetReadDeadline(deadline)
	b, err := c.readFrame()
	if err != nil {
		return rawFrame{}, err
	}
	var f rawFrame
	d := jute.NewDecoder(b)
	f.hdr.Decode(d)
	if f.hdr.Xid == proto.XidNotification {
		f.ev.Decode(d)
	}
	if d.Err() != nil {
		return rawFrame{}, fmt.Errorf("undecodable frame: %w", d.Err())
	}
	return f, nil
}

func (c *rawConn) close() { c.nc.Close() }

// closeSession asks the server to end the session, waits briefly for the answer and closes.
func (c *rawConn) closeSession() {
	if c.send(1<<30, proto.OpCloseSession, nil) == nil {
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			f, err := c.read(deadline)
			if err != nil || f.hdr.Xid == 1<<30 {
				break
			}
		}
	}
	c.close()
}
