package server_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/testutil/syncbuf"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
)

// raw is a minimal protocol client for server tests.
type raw struct {
	t    *testing.T
	c    net.Conn
	sid  int64
	pw   []byte
	to   int32
	evs  []proto.WatcherEvent
	xid  int32
	zxid int64
}

func dial(t *testing.T, addr string) *raw {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &raw{t: t, c: c}
}

func (r *raw) writeFrame(b []byte) {
	r.t.Helper()
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(b)))
	r.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.c.Write(append(l[:], b...)); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

func (r *raw) readFrame() ([]byte, error) {
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var l [4]byte
	if _, err := io.ReadFull(r.c, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(l[:]))
	_, err := io.ReadFull(r.c, b)
	return b, err
}

func (r *raw) connect(timeout int32, sid int64, pw []byte, readOnlyByte bool) proto.ConnectResponse {
	r.t.Helper()
	if pw == nil {
		pw = make([]byte, 16)
	}
	req := proto.ConnectRequest{TimeOut: timeout, SessionID: sid, Passwd: pw, HasReadOnly: readOnlyByte}
	e := jute.NewEncoder(nil)
	req.Encode(e)
	r.writeFrame(e.Bytes())
	b, err := r.readFrame()
	if err != nil {
		r.t.Fatalf("connect: %v", err)
	}
	var resp proto.ConnectResponse
	d := jute.NewDecoder(b)
	resp.Decode(d)
	if d.Err() != nil {
		r.t.Fatalf("connect response: %v", d.Err())
	}
	if resp.HasReadOnly != readOnlyByte {
		r.t.Fatalf("response readOnly byte present=%v, request had it=%v", resp.HasReadOnly, readOnlyByte)
	}
	r.sid, r.pw, r.to = resp.SessionID, resp.Passwd, resp.TimeOut
	return resp
}

func (r *raw) send(op proto.OpCode, body proto.Record) int32 {
	r.xid++
	e := jute.NewEncoder(nil)
	h := proto.RequestHeader{Xid: r.xid, Type: int32(op)}
	h.Encode(e)
	if body != nil {
		body.Encode(e)
	}
	r.writeFrame(e.Bytes())
	return r.xid
}

// reply reads frames until a reply (not a notification) arrives.
func (r *raw) reply() (proto.ReplyHeader, *jute.Decoder) {
	r.t.Helper()
	for {
		b, err := r.readFrame()
		if err != nil {
			r.t.Fatalf("read reply: %v", err)
		}
		d := jute.NewDecoder(b)
		var h proto.ReplyHeader
		h.Decode(d)
		if h.Xid == proto.XidNotification {
			var ev proto.WatcherEvent
			ev.Decode(d)
			r.evs = append(r.evs, ev)
			continue
		}
		return h, d
	}
}

func (r *raw) call(op proto.OpCode, body proto.Record, resp proto.Record) proto.Err {
	r.t.Helper()
	xid := r.send(op, body)
	h, d := r.reply()
	if h.Xid != xid {
		r.t.Fatalf("reply xid %d, want %d", h.Xid, xid)
	}
	if h.Err == 0 && resp != nil {
		resp.Decode(d)
		if d.Err() != nil {
			r.t.Fatalf("decode %T: %v", resp, d.Err())
		}
	}
	return proto.Err(h.Err)
}

// ping sends a ping (xid -2, as clients do) and waits for its reply,
// collecting any events that arrive first.
func (r *raw) ping() {
	r.t.Helper()
	e := jute.NewEncoder(nil)
	h := proto.RequestHeader{Xid: proto.XidPing, Type: int32(proto.OpPing)}
	h.Encode(e)
	r.writeFrame(e.Bytes())
	if rh, _ := r.reply(); rh.Xid != proto.XidPing {
		r.t.Fatalf("ping reply xid %d", rh.Xid)
	}
}

// expectClosed checks the server closes the connection without more data.
func (r *raw) expectClosed() {
	r.t.Helper()
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	n, err := r.c.Read(b[:])
	if n != 0 || !(errors.Is(err, io.EOF) || isReset(err)) {
		r.t.Fatalf("connection not closed: n=%d err=%v", n, err)
	}
}

func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

var open = proto.OpenACLUnsafe

func TestHandshakeMirrorsReadOnlyByte(t *testing.T) {
	s := warrentest.Start(t, nil)
	for _, ro := range []bool{false, true} {
		r := dial(t, s.Addr)
		resp := r.connect(30000, 0, nil, ro)
		if resp.SessionID>>56 != 1 || len(resp.Passwd) != 16 || resp.TimeOut != 30000 {
			t.Fatalf("bad response %+v", resp)
		}
	}
}

func TestTimeoutNegotiation(t *testing.T) {
	s := warrentest.Start(t, nil) // tickTime 2000: min 4000, max 40000
	for _, tc := range []struct{ req, want int32 }{{1000, 4000}, {100000, 40000}, {10000, 10000}} {
		r := dial(t, s.Addr)
		if got := r.connect(tc.req, 0, nil, true).TimeOut; got != tc.want {
			t.Errorf("requested %d: got %d, want %d", tc.req, got, tc.want)
		}
	}
}

func TestReconnectWrongPasswordOrUnknownSession(t *testing.T) {
	s := warrentest.Start(t, nil)
	a := dial(t, s.Addr)
	a.connect(30000, 0, nil, true)
	for _, tc := range []struct {
		name string
		sid  int64
		pw   []byte
	}{
		{"wrong password", a.sid, bytes.Repeat([]byte{7}, 16)},
		{"unknown session", a.sid + 12345, a.pw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dial(t, s.Addr)
			r.t = t
			resp := r.connect(30000, tc.sid, tc.pw, true)
			if resp.TimeOut != 0 || resp.SessionID != 0 || !bytes.Equal(resp.Passwd, make([]byte, 16)) {
				t.Fatalf("want invalid-session response, got %+v", resp)
			}
			r.expectClosed()
		})
	}
	// The right password reattaches and closes the old connection.
	b := dial(t, s.Addr)
	if resp := b.connect(30000, a.sid, a.pw, true); resp.SessionID != a.sid {
		t.Fatalf("reattach failed: %+v", resp)
	}
	a.expectClosed()
}

func TestSessionExpiryDeletesEphemeralsAndFiresWatches(t *testing.T) {
	s := warrentest.Start(t, &warrentest.Options{Config: func(c *config.Config) {
		c.TickTime = 100
		c.MinSessionTimeout = 200
		c.MaxSessionTimeout = 2000
	}})
	owner := dial(t, s.Addr)
	owner.connect(200, 0, nil, true)
	if code := owner.call(proto.OpCreate, &proto.CreateRequest{Path: "/e", Acl: open, Flags: proto.ModeEphemeral}, nil); code != 0 {
		t.Fatalf("create: %v", code)
	}
	watcher := dial(t, s.Addr)
	watcher.connect(2000, 0, nil, true)
	if code := watcher.call(proto.OpExists, &proto.ExistsRequest{Path: "/e", Watch: true}, &proto.ExistsResponse{}); code != 0 {
		t.Fatalf("exists: %v", code)
	}
	// The owner goes silent; the server must expire it and close its socket.
	owner.expectClosed()
	deadline := time.Now().Add(5 * time.Second)
	for len(watcher.evs) == 0 && time.Now().Before(deadline) {
		watcher.ping()
		time.Sleep(50 * time.Millisecond)
	}
	if len(watcher.evs) != 1 || watcher.evs[0].Type != proto.EventNodeDeleted || watcher.evs[0].Path != "/e" {
		t.Fatalf("events = %+v, want one NodeDeleted /e", watcher.evs)
	}
	if code := watcher.call(proto.OpExists, &proto.ExistsRequest{Path: "/e"}, nil); code != proto.ErrNoNode {
		t.Fatalf("ephemeral still there: %v", code)
	}
	again := dial(t, s.Addr)
	if resp := again.connect(200, owner.sid, owner.pw, true); resp.TimeOut != 0 {
		t.Fatalf("expired session reattached: %+v", resp)
	}
}

func TestCloseSessionRepliesThenCloses(t *testing.T) {
	s := warrentest.Start(t, nil)
	r := dial(t, s.Addr)
	r.connect(30000, 0, nil, false)
	r.call(proto.OpCreate, &proto.CreateRequest{Path: "/x", Acl: open, Flags: proto.ModeEphemeral}, nil)
	if code := r.call(proto.OpCloseSession, nil, nil); code != 0 {
		t.Fatalf("closeSession: %v", code)
	}
	r.expectClosed()
	q := dial(t, s.Addr)
	q.connect(30000, 0, nil, false)
	if code := q.call(proto.OpExists, &proto.ExistsRequest{Path: "/x"}, nil); code != proto.ErrNoNode {
		t.Fatalf("ephemeral survived closeSession: %v", code)
	}
}

// A client's own closeSession is not logged at INFO (thousands a second
// under session churn); a connection closed for a problem is.
func TestConnectionCloseLogLevel(t *testing.T) {
	var buf syncbuf.Buffer
	s := warrentest.Start(t, &warrentest.Options{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	r := dial(t, s.Addr)
	r.connect(30000, 0, nil, false)
	if code := r.call(proto.OpCloseSession, nil, nil); code != 0 {
		t.Fatalf("closeSession: %v", code)
	}
	r.expectClosed()
	q := dial(t, s.Addr)
	q.connect(30000, 0, nil, false)
	q.writeFrame([]byte{0, 0}) // shorter than a request header
	q.expectClosed()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "malformed request header") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	log := buf.String()
	if !strings.Contains(log, "closing connection") || !strings.Contains(log, "malformed request header") {
		t.Errorf("the close for a malformed request was not logged at INFO:\n%s", log)
	}
	if strings.Contains(log, "client closed its session") {
		t.Errorf("a client's closeSession was logged at INFO:\n%s", log)
	}
}

func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	s := warrentest.Start(t, nil)
	r := dial(t, s.Addr)
	r.connect(30000, 0, nil, true)
	r.call(proto.OpCreate, &proto.CreateRequest{Path: "/p", Data: []byte("0"), Acl: open}, nil)
	const n = 300
	want := map[int32]string{}
	for i := 1; i <= n; i++ {
		v := fmt.Sprint(i)
		r.send(proto.OpSetData, &proto.SetDataRequest{Path: "/p", Data: []byte(v), Version: -1})
		xid := r.send(proto.OpGetData, &proto.GetDataRequest{Path: "/p"})
		want[xid] = v
	}
	last := int32(1) // the create above used xid 1
	for i := 0; i < 2*n; i++ {
		h, d := r.reply()
		if h.Xid != last+1 {
			t.Fatalf("reply xid %d after %d: out of order", h.Xid, last)
		}
		last = h.Xid
		if v, ok := want[h.Xid]; ok {
			var g proto.GetDataResponse
			g.Decode(d)
			if string(g.Data) != v {
				t.Fatalf("read xid %d saw %q, want its own preceding write %q", h.Xid, g.Data, v)
			}
		}
	}
}

func TestBadFramesCloseOnlyThatConnection(t *testing.T) {
	s := warrentest.Start(t, nil)
	good := dial(t, s.Addr)
	good.connect(30000, 0, nil, true)
	cases := []struct {
		name  string
		frame func(r *raw)
	}{
		{"garbage first frame", func(r *raw) { r.c.Write([]byte("abcdefgh")) }},
		{"oversized frame", func(r *raw) {
			r.connect(30000, 0, nil, true)
			var l [4]byte
			binary.BigEndian.PutUint32(l[:], 0xfffff+1)
			r.c.Write(l[:])
		}},
		{"negative length", func(r *raw) {
			r.connect(30000, 0, nil, true)
			r.c.Write([]byte{0xff, 0xff, 0xff, 0xf0})
		}},
		{"truncated header", func(r *raw) {
			r.connect(30000, 0, nil, true)
			r.writeFrame([]byte{0, 0, 0, 1})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dial(t, s.Addr)
			r.t = t
			tc.frame(r)
			r.expectClosed()
		})
	}
	if code := good.call(proto.OpExists, &proto.ExistsRequest{Path: "/"}, &proto.ExistsResponse{}); code != 0 {
		t.Fatalf("server stopped serving others: %v", code)
	}
}

func TestUnknownOpcodeUnimplementedThenClose(t *testing.T) {
	s := warrentest.Start(t, nil)
	// (A client deleteContainer is not here: ZooKeeper treats it as a write
	// whose path is the whole request buffer, so it fails BadArguments.)
	for _, op := range []proto.OpCode{99, proto.OpCheck} {
		r := dial(t, s.Addr)
		r.connect(30000, 0, nil, true)
		xid := r.send(op, &proto.CheckVersionRequest{Path: "/", Version: 0})
		h, _ := r.reply()
		if h.Xid != xid || h.Err != int32(proto.ErrUnimplemented) || h.Zxid != -1 {
			t.Fatalf("op %d: reply %+v, want {xid, -1, -6}", op, h)
		}
		r.expectClosed()
	}
}

func TestMaxClientCnxnsPerIP(t *testing.T) {
	s := warrentest.Start(t, &warrentest.Options{Config: func(c *config.Config) { c.MaxClientCnxns = 3 }})
	var keep []*raw
	for i := 0; i < 3; i++ {
		r := dial(t, s.Addr)
		r.connect(30000, 0, nil, true)
		keep = append(keep, r)
	}
	extra := dial(t, s.Addr)
	extra.expectClosed()
	keep[0].c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := dial(t, s.Addr)
		r.c.SetReadDeadline(time.Now().Add(time.Second))
		ok := func() (ok bool) {
			defer func() {
				if recover() != nil {
					ok = false
				}
			}()
			e := jute.NewEncoder(nil)
			(&proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)}).Encode(e)
			r.writeFrame(e.Bytes())
			_, err := r.readFrame()
			return err == nil
		}()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a slot freed by a closed connection was never reusable")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestFourLetterWhitelist(t *testing.T) {
	s := warrentest.Start(t, &warrentest.Options{Config: func(c *config.Config) {
		c.FourLetterWords = map[string]bool{"srvr": true}
	}})
	ask := func(w string) string {
		r := dial(t, s.Addr)
		r.c.Write([]byte(w))
		r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(r.c)
		return string(b)
	}
	if got := ask("ruok"); got != "ruok is not executed because it is not in the whitelist.\n" {
		t.Fatalf("ruok: %q", got)
	}
	if got := ask("srvr"); !bytes.Contains([]byte(got), []byte("Mode: standalone\n")) {
		t.Fatalf("srvr: %q", got)
	}
}
