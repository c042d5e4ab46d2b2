package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
)

// startWarren starts an in-process Warren with no per-address connection
// limit (the tests open more than ZooKeeper's default 60 sessions at once).
func startWarren(t *testing.T) *warrentest.Server {
	t.Helper()
	return warrentest.Start(t, &warrentest.Options{Config: func(c *config.Config) { c.MaxClientCnxns = 0 }})
}

func dial(t *testing.T, addr string, opts DialOptions) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConnBasicOps(t *testing.T) {
	t.Parallel()
	srv := startWarren(t)
	c := dial(t, srv.Addr, DialOptions{})
	if c.SessionID() == 0 || c.Timeout() <= 0 {
		t.Fatalf("session %x timeout %v", c.SessionID(), c.Timeout())
	}
	ctx := context.Background()
	var cr proto.CreateResponse
	if err := c.Call(ctx, proto.OpCreate, &proto.CreateRequest{Path: "/conn", Data: []byte("v1"), Acl: proto.OpenACLUnsafe}, &cr); err != nil {
		t.Fatal(err)
	}
	if cr.Path != "/conn" {
		t.Fatalf("created %q", cr.Path)
	}
	err := c.Call(ctx, proto.OpCreate, &proto.CreateRequest{Path: "/conn", Acl: proto.OpenACLUnsafe}, nil)
	if !errors.Is(err, proto.ErrNodeExists) {
		t.Fatalf("second create: %v, want NodeExists", err)
	}
	if err := c.Call(ctx, proto.OpSetData, &proto.SetDataRequest{Path: "/conn", Data: []byte("v2"), Version: -1}, nil); err != nil {
		t.Fatal(err)
	}
	var gr proto.GetDataResponse
	if err := c.Call(ctx, proto.OpGetData, &proto.GetDataRequest{Path: "/conn"}, &gr); err != nil {
		t.Fatal(err)
	}
	if string(gr.Data) != "v2" || gr.Stat.Version != 1 {
		t.Fatalf("getData: %q version %d", gr.Data, gr.Stat.Version)
	}
	// A multi whose second op fails reports that op's code.
	m := &proto.MultiRequest{Ops: []proto.MultiOp{
		{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: "/conn/a", Acl: proto.OpenACLUnsafe}},
		{Type: proto.OpCreate, Body: &proto.CreateRequest{Path: "/conn/a", Acl: proto.OpenACLUnsafe}},
	}}
	if err := c.Call(ctx, proto.OpMulti, m, nil); !errors.Is(err, proto.ErrNodeExists) {
		t.Fatalf("failing multi: %v, want NodeExists", err)
	}
	if err := c.Call(ctx, proto.OpDelete, &proto.DeleteRequest{Path: "/conn", Version: -1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(ctx, proto.OpExists, &proto.ExistsRequest{Path: "/conn"}, nil); !errors.Is(err, proto.ErrNoNode) {
		t.Fatalf("exists after delete: %v", err)
	}
}

func TestConnPipelining(t *testing.T) {
	t.Parallel()
	srv := startWarren(t)
	c := dial(t, srv.Addr, DialOptions{})
	ctx := context.Background()
	if err := c.Call(ctx, proto.OpCreate, &proto.CreateRequest{Path: "/pipe", Acl: proto.OpenACLUnsafe}, nil); err != nil {
		t.Fatal(err)
	}
	// 500 writes and reads in flight at once, answered in order with their
	// own xids; the sequential creates prove the server saw them in order.
	const n = 500
	ch := make(chan Completion, n)
	resps := make([]proto.CreateResponse, n)
	for i := range n {
		op, req, resp := proto.OpCreate, proto.Record(&proto.CreateRequest{Path: "/pipe/s-", Acl: proto.OpenACLUnsafe, Flags: proto.ModePersistentSequential}), proto.Record(&resps[i])
		if i%2 == 1 {
			op, req, resp = proto.OpExists, &proto.ExistsRequest{Path: "/pipe"}, nil
		}
		if err := c.Go(op, req, resp, uint64(i), ch); err != nil {
			t.Fatal(err)
		}
	}
	var lastXid int32
	for i := range n {
		comp := <-ch
		if comp.Err != 0 || comp.Tag != uint64(i) || comp.Xid <= lastXid || comp.End < comp.Start {
			t.Fatalf("completion %d: %+v (previous xid %d)", i, comp, lastXid)
		}
		lastXid = comp.Xid
	}
	for i := 0; i < n; i += 2 {
		if want := fmt.Sprintf("/pipe/s-%010d", i/2); resps[i].Path != want {
			t.Fatalf("create %d made %q, want %q", i, resps[i].Path, want)
		}
	}
	if err := RemoveTree(ctx, []*Conn{c}, "/pipe"); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(ctx, proto.OpExists, &proto.ExistsRequest{Path: "/pipe"}, nil); !errors.Is(err, proto.ErrNoNode) {
		t.Fatalf("RemoveTree left /pipe: %v", err)
	}
}

func TestConnWatchAndClose(t *testing.T) {
	t.Parallel()
	srv := startWarren(t)
	events := make(chan proto.WatcherEvent, 10)
	w := dial(t, srv.Addr, DialOptions{OnEvent: func(ev *proto.WatcherEvent) { events <- *ev }})
	c := dial(t, srv.Addr, DialOptions{})
	ctx := context.Background()
	if err := c.Call(ctx, proto.OpCreate, &proto.CreateRequest{Path: "/eph", Acl: proto.OpenACLUnsafe, Flags: proto.ModeEphemeral}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Call(ctx, proto.OpExists, &proto.ExistsRequest{Path: "/eph", Watch: true}, nil); err != nil {
		t.Fatal(err)
	}
	// Closing the session (closeSession, acknowledged) deletes its ephemeral.
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case ev := <-events:
		if ev.Type != proto.EventNodeDeleted || ev.Path != "/eph" || ev.State != proto.StateSyncConnected {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification after the ephemeral owner closed its session")
	}
	if err := c.Call(ctx, proto.OpExists, &proto.ExistsRequest{Path: "/"}, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("request on a closed Conn: %v", err)
	}
}

func TestConnPingsKeepIdleSessionAlive(t *testing.T) {
	t.Parallel()
	srv := startWarren(t)
	// The server negotiates the minimum, 2×tickTime = 4s; without pings it
	// would expire the session during the sleep.
	c := dial(t, srv.Addr, DialOptions{SessionTimeout: time.Second})
	if c.Timeout() != 4*time.Second {
		t.Fatalf("negotiated %v", c.Timeout())
	}
	sent := c.lastSend.Load()
	time.Sleep(c.Timeout() + time.Second)
	if c.lastSend.Load() == sent {
		t.Fatal("no ping sent on an idle connection")
	}
	if err := c.Call(context.Background(), proto.OpExists, &proto.ExistsRequest{Path: "/"}, nil); err != nil {
		t.Fatalf("session did not survive idling: %v", err)
	}
}

// fakeServer accepts one connection, checks the ConnectRequest with check,
// answers it and then runs serve.
func fakeServer(t *testing.T, check func(req []byte), serve func(nc net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		req, err := readFrame(nc)
		if err != nil {
			return
		}
		check(req)
		e := jute.NewEncoder(make([]byte, 4))
		(&proto.ConnectResponse{TimeOut: 10000, SessionID: 42, Passwd: make([]byte, 16), HasReadOnly: len(req) == 45}).Encode(e)
		writeFrame(nc, e.Bytes())
		serve(nc)
	}()
	return ln.Addr().String()
}

func readFrame(r io.Reader) ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(lb[:]))
	_, err := io.ReadFull(r, b)
	return b, err
}

// writeFrame writes b, whose first 4 bytes are reserved for the length.
func writeFrame(w io.Writer, b []byte) {
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	w.Write(b)
}

func TestConnectRequestCarriesReadOnlyByte(t *testing.T) {
	t.Parallel()
	for _, ro := range []bool{false, true} {
		got := make(chan []byte, 1)
		addr := fakeServer(t, func(req []byte) { got <- req }, func(nc net.Conn) { io.Copy(io.Discard, nc) })
		c := dial(t, addr, DialOptions{ReadOnly: ro, SessionTimeout: 12 * time.Second})
		req := <-got
		// protocolVersion 0, lastZxidSeen 0, timeOut, sessionId 0, 16-byte
		// password, readOnly: the 45-byte body the Java and C clients send.
		want := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2e, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16}
		want = append(want, make([]byte, 16)...)
		if ro {
			want = append(want, 1)
		} else {
			want = append(want, 0)
		}
		if !bytes.Equal(req, want) {
			t.Fatalf("readOnly=%v: ConnectRequest\n%x, want\n%x", ro, req, want)
		}
		if c.SessionID() != 42 || c.Timeout() != 10*time.Second {
			t.Fatalf("session %d timeout %v", c.SessionID(), c.Timeout())
		}
		c.Abort()
	}
}

func TestConnRejectsOutOfOrderReply(t *testing.T) {
	t.Parallel()
	addr := fakeServer(t, func([]byte) {}, func(nc net.Conn) {
		var xids []int32
		for len(xids) < 2 {
			b, err := readFrame(nc)
			if err != nil {
				return
			}
			xids = append(xids, int32(binary.BigEndian.Uint32(b)))
		}
		for _, x := range []int32{xids[1], xids[0]} {
			e := jute.NewEncoder(make([]byte, 4))
			(&proto.ReplyHeader{Xid: x, Zxid: 1}).Encode(e)
			writeFrame(nc, e.Bytes())
		}
		io.Copy(io.Discard, nc)
	})
	c := dial(t, addr, DialOptions{})
	ch := make(chan Completion, 2)
	for range 2 {
		if err := c.Go(proto.OpExists, &proto.ExistsRequest{Path: "/"}, nil, 0, ch); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if comp := <-ch; comp.Err != proto.ErrConnectionLoss {
			t.Fatalf("completion %+v, want ConnectionLoss", comp)
		}
	}
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "xid") {
		t.Fatalf("Err() = %v", err)
	}
}

func TestConnNotifiesConnectionLoss(t *testing.T) {
	t.Parallel()
	var served atomic.Bool
	addr := fakeServer(t, func([]byte) {}, func(nc net.Conn) {
		readFrame(nc)
		served.Store(true)
		// close without answering
	})
	c := dial(t, addr, DialOptions{})
	done := make(chan Completion, 1)
	if err := c.Go(proto.OpGetData, &proto.GetDataRequest{Path: "/x"}, nil, 7, done); err != nil {
		t.Fatal(err)
	}
	comp := <-done
	if comp.Err != proto.ErrConnectionLoss || comp.Tag != 7 || !served.Load() {
		t.Fatalf("completion %+v", comp)
	}
	if err := c.Go(proto.OpGetData, &proto.GetDataRequest{Path: "/x"}, nil, 0, done); err == nil {
		t.Fatal("Go on a dead connection succeeded")
	}
}
