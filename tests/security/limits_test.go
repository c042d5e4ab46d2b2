package security

import (
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/proto"
)

// TestS19ConnectionLimits: with maxClientCnxns=5 the sixth connection from 127.0.0.1 is
// closed at once and the five others keep working; maxCnxns bounds all connections.
func TestS19ConnectionLimits(t *testing.T) {
	s := start(t, options{edit: func(c *config.Config) { c.MaxClientCnxns = 5 }})
	var conns []*rawConn
	for i := 0; i < 5; i++ {
		c := raw(t, s.Addr)
		c.connect(t)
		conns = append(conns, c)
	}
	extra := raw(t, s.Addr)
	if _, err := extra.tryConnect(proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)}); err == nil {
		t.Error("the sixth connection was served")
	}
	for i, c := range conns {
		if r, err := c.tryCall(proto.OpExists, &proto.ExistsRequest{Path: "/"}); err != nil || r.err != proto.ErrOK {
			t.Errorf("connection %d after the refusal: %v %v", i, r.err, err)
		}
	}
	conns[0].Close()
	// A slot frees when a connection closes.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := raw(t, s.Addr)
		if _, err := c.tryConnect(proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no slot after a connection closed")
		}
		time.Sleep(50 * time.Millisecond)
	}

	m := start(t, options{props: map[string]string{"maxCnxns": "3"}})
	for i := 0; i < 3; i++ {
		raw(t, m.Addr).connect(t)
	}
	if _, err := raw(t, m.Addr).tryConnect(proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)}); err == nil {
		t.Error("maxCnxns=3: the fourth connection was served")
	}
}

// TestS20Slowloris: a connection must finish its ConnectRequest within
// nio.sessionlessCnxnTimeout however it dribbles bytes (nothing at all, one byte at a time,
// a header without a body); after the handshake a frame must arrive whole within the session
// timeout. Goroutines come back to where they were.
func TestS20Slowloris(t *testing.T) {
	s := start(t, options{props: map[string]string{"nio.sessionlessCnxnTimeout": "1000", "tickTime": "500"}})
	base := runtime.NumGoroutine()
	start := time.Now()
	silent := raw(t, s.Addr)
	header := raw(t, s.Addr)
	header.Write(binary.BigEndian.AppendUint32(nil, 44))
	drip := raw(t, s.Addr)
	req := append(binary.BigEndian.AppendUint32(nil, 44), encode(&proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)})...)
	dripDone := make(chan error, 1)
	go func() {
		for _, b := range req {
			if _, err := drip.Write([]byte{b}); err != nil {
				dripDone <- err
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		dripDone <- nil
	}()
	for name, c := range map[string]*rawConn{"silent": silent, "header only": header} {
		if !c.closedByServer(5 * time.Second) {
			t.Errorf("%s: connection left open", name)
		}
	}
	if !drip.closedByServer(5 * time.Second) {
		t.Error("one byte every 100 ms: connection left open")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("slow connections closed after %v, want about 1 s", d)
	}
	// After the handshake: a header without its body is cut off at the session timeout
	// (minSessionTimeout = 2 ticks = 1 s here).
	c := raw(t, s.Addr)
	resp, err := c.tryConnect(proto.ConnectRequest{TimeOut: 1000, Passwd: make([]byte, 16)})
	if err != nil {
		t.Fatal(err)
	}
	c.Write(binary.BigEndian.AppendUint32(nil, 100))
	t0 := time.Now()
	if !c.closedByServer(5 * time.Second) {
		t.Error("partial frame after the handshake: connection left open")
	}
	if d := time.Since(t0); d > time.Duration(resp.TimeOut)*time.Millisecond+time.Second {
		t.Errorf("partial frame cut off after %v with session timeout %d ms", d, resp.TimeOut)
	}
	<-dripDone
	for i := 0; ; i++ {
		if n := runtime.NumGoroutine(); n <= base+2 {
			break
		} else if i > 100 {
			t.Errorf("goroutines: %d, were %d before the slow connections", n, base)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stillServes(t)
}

// TestS21Flood: with globalOutstandingLimit=10, a session pipelining thousands of writes
// never has more than the limit (plus the one in hand) outstanding: the server stops reading
// it instead of queueing. A session pipelining reads without reading the replies is not read
// from once its unsent replies pass a bound, so its writes block. Another client is served
// throughout, and the flooding session gets every reply, in order.
func TestS21Flood(t *testing.T) {
	s := start(t, options{props: map[string]string{"globalOutstandingLimit": "10"}})
	c := raw(t, s.Addr)
	c.connect(t)
	mustCreate(t, c, "/flood", "", world(proto.PermAll))
	const n = 3000
	maxSeen := int64(0)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if o := s.Outstanding(); o > maxSeen {
				maxSeen = o
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	go func() {
		for i := 0; i < n; i++ {
			if _, err := c.send(proto.OpSetData, &proto.SetDataRequest{Path: "/flood", Data: []byte("x"), Version: -1}); err != nil {
				return
			}
		}
	}()
	other := raw(t, s.Addr)
	other.connect(t)
	if r := other.call(t, proto.OpGetData, &proto.GetDataRequest{Path: "/flood"}); r.err != proto.ErrOK {
		t.Errorf("other client during the flood: %v", r.err)
	}
	for i := 1; i <= n; i++ {
		r, _, err := c.readReply()
		if err != nil || r.err != proto.ErrOK || r.xid != int32(i+1) {
			t.Fatalf("reply %d: xid %d %v %v", i, r.xid, r.err, err)
		}
	}
	close(stop)
	<-stopped
	if maxSeen > 11 {
		t.Errorf("%d requests outstanding, want at most globalOutstandingLimit+1 = 11", maxSeen)
	}
	if o := s.Outstanding(); o != 0 {
		t.Errorf("%d requests outstanding after all replies", o)
	}

	// Reads whose replies are never read: the server stops reading, so the writer blocks.
	big := make([]byte, 500_000)
	if r := c.call(t, proto.OpSetData, &proto.SetDataRequest{Path: "/flood", Data: big, Version: -1}); r.err != proto.ErrOK {
		t.Fatal(r.err)
	}
	req := encode(&proto.GetDataRequest{Path: "/flood"})
	frame := binary.BigEndian.AppendUint32(nil, uint32(8+len(req)))
	frame = append(frame, 0, 0, 0, 1, 0, 0, 0, 4)
	frame = append(frame, req...)
	var batch []byte
	for i := 0; i < 1000; i++ {
		batch = append(batch, frame...)
	}
	c.SetWriteDeadline(time.Now().Add(3 * time.Second))
	sent := 0
	var werr error
	for sent < 2_000_000 { // 2M getData requests would be 1 TB of replies
		var k int
		k, werr = c.Write(batch)
		sent += k / len(frame)
		if werr != nil {
			break
		}
	}
	var ne net.Error
	if !errors.As(werr, &ne) || !ne.Timeout() {
		t.Errorf("pipelined %d reads without reading replies; the server kept reading (%v)", sent, werr)
	}
	other2 := raw(t, s.Addr)
	other2.connect(t)
	if r := other2.call(t, proto.OpExists, &proto.ExistsRequest{Path: "/flood"}); r.err != proto.ErrOK {
		t.Errorf("other client while a session is stalled: %v", r.err)
	}
	c.Close()
	s.stillServes(t)
}

// TestConnectionThrottle: connection_throttle_tokens=3 with a slow refill lets three
// connections in and closes the fourth before it gets a session (BlueThrottle); the default
// is off.
func TestConnectionThrottle(t *testing.T) {
	s := start(t, options{props: map[string]string{"connection_throttle_tokens": "3",
		"connection_throttle_fill_time": "60000", "connection_throttle_fill_count": "1"}})
	for i := 0; i < 3; i++ {
		raw(t, s.Addr).connect(t)
	}
	if _, err := raw(t, s.Addr).tryConnect(proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)}); err == nil {
		t.Error("the fourth connection got a session")
	}
	d := start(t, options{})
	for i := 0; i < 20; i++ {
		raw(t, d.Addr).connect(t)
	}
}
