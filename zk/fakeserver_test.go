package zk_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/zk"
)

// fakeServer speaks just enough of the protocol to drive the client into
// states a real server reaches only with effort: read-only sessions and
// credentials refused on a reconnect.
type fakeServer struct {
	ln       net.Listener
	readOnly bool
	// refuseAuth reports whether the n-th connection (from 0) refuses auth.
	refuseAuth func(n int) bool

	mu    sync.Mutex
	n     int
	conns []net.Conn
	wg    sync.WaitGroup
}

func startFake(t *testing.T, f *fakeServer) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.ln = ln
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			n := f.n
			f.n++
			f.conns = append(f.conns, c)
			f.mu.Unlock()
			f.wg.Add(1)
			go func() { defer f.wg.Done(); defer c.Close(); f.serve(c, n) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.dropAll()
		f.wg.Wait()
	})
	return f
}

func (f *fakeServer) dropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

func readFrame(r io.Reader) ([]byte, error) {
	var lenb [4]byte
	if _, err := io.ReadFull(r, lenb[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(lenb[:])
	if n > 1<<20 {
		return nil, errors.New("frame too long")
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}

func writeFrame(w io.Writer, recs ...proto.Record) error {
	e := jute.NewEncoder(make([]byte, 4, 64))
	for _, r := range recs {
		r.Encode(e)
	}
	b := e.Bytes()
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	_, err := w.Write(b)
	return err
}

func (f *fakeServer) serve(c net.Conn, n int) {
	b, err := readFrame(c)
	if err != nil {
		return
	}
	var req proto.ConnectRequest
	req.Decode(jute.NewDecoder(b))
	resp := proto.ConnectResponse{TimeOut: req.TimeOut, SessionID: 0x42, Passwd: make([]byte, 16),
		ReadOnly: f.readOnly, HasReadOnly: req.HasReadOnly}
	if writeFrame(c, &resp) != nil {
		return
	}
	for {
		b, err := readFrame(c)
		if err != nil {
			return
		}
		d := jute.NewDecoder(b)
		var h proto.RequestHeader
		h.Decode(d)
		reply := proto.ReplyHeader{Xid: h.Xid, Zxid: 1}
		switch proto.OpCode(h.Type) {
		case proto.OpAuth:
			reply.Zxid = 0
			if f.refuseAuth != nil && f.refuseAuth(n) {
				reply.Err = int32(proto.ErrAuthFailed)
				writeFrame(c, &reply)
				return
			}
			writeFrame(c, &reply)
		case proto.OpExists:
			writeFrame(c, &reply, &proto.ExistsResponse{})
		case proto.OpCloseSession:
			writeFrame(c, &reply)
			return
		default: // ping and everything else: an empty success
			writeFrame(c, &reply)
		}
	}
}

func TestReadOnlyServer(t *testing.T) {
	f := startFake(t, &fakeServer{readOnly: true})
	c := connect(t, f.ln.Addr().String(), zk.WithReadOnly(true))
	if c.State() != zk.StateConnectedReadOnly {
		t.Fatalf("state %v, want ConnectedReadOnly", c.State())
	}
	_, _, err := c.Exists(ctxT(t, 5*time.Second), "/")
	ok(t, err)
}

// TestAuthRefusedOnReconnect: credentials accepted on the first connection
// and refused after a reconnect end the Conn in StateAuthFailed.
func TestAuthRefusedOnReconnect(t *testing.T) {
	f := startFake(t, &fakeServer{refuseAuth: func(n int) bool { return n > 0 }})
	c := connect(t, f.ln.Addr().String(), zk.WithAuth("digest", []byte("a:b")))
	states := c.StateEvents()
	waitState(t, states, time.Second, zk.StateConnected)
	f.dropAll()
	waitState(t, states, 5*time.Second, zk.StateAuthFailed)
	_, _, err := c.Exists(ctxT(t, 5*time.Second), "/")
	wantErr(t, "exists after auth failure", err, zk.ErrAuthFailed)
	ok(t, c.Close())
	if c.State() != zk.StateClosed {
		t.Fatalf("state after Close %v", c.State())
	}
}
