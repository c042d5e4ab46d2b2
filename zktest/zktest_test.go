package zktest_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/warren-zk/warren/zk"
	"github.com/warren-zk/warren/zktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func connect(t *testing.T, servers string, opts ...zk.Option) *zk.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := zk.Connect(ctx, servers, opts...)
	if err != nil {
		t.Fatalf("connect %s: %v", servers, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fourLetter sends a four-letter word and returns the reply.
func fourLetter(t *testing.T, addr, word string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	nc.Write([]byte(word))
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := nc.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// TestStart: a server on 127.0.0.1 serves a client, with the default
// options (tickTime 100ms, sessions up to 60s, TTL nodes off).
func TestStart(t *testing.T) {
	srv := zktest.Start(t)
	if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") || srv.ConnectString() != srv.Addr() {
		t.Fatalf("Addr %q ConnectString %q", srv.Addr(), srv.ConnectString())
	}
	c := connect(t, srv.Addr(), zk.WithSessionTimeout(30*time.Second))
	ctx := ctxT(t)
	if _, err := c.Create(ctx, "/a", []byte("x"), zk.WorldACL(zk.PermAll), zk.ModePersistent); err != nil {
		t.Fatal(err)
	}
	if got := c.SessionTimeout(); got != 30*time.Second {
		t.Errorf("granted session timeout %v, want the 30s asked for", got)
	}
	if conf := fourLetter(t, srv.Addr(), "conf"); !strings.Contains(conf, "tickTime=100\n") {
		t.Errorf("conf lacks tickTime=100:\n%s", conf)
	}
	_, err := c.CreateTTL(ctx, "/ttl", nil, zk.WorldACL(zk.PermAll), zk.ModePersistentWithTTL, time.Second)
	if !errors.Is(err, zk.ErrUnimplemented) {
		t.Errorf("CreateTTL without WithExtendedTypes: %v, want ErrUnimplemented", err)
	}
}

// TestOptions: tick time, session timeout bounds and TTL nodes (which the
// reaper removes quickly).
func TestOptions(t *testing.T) {
	srv := zktest.Start(t, zktest.WithTickTime(50*time.Millisecond),
		zktest.WithSessionTimeouts(300*time.Millisecond, 2*time.Second),
		zktest.WithExtendedTypes(), zktest.WithReaperInterval(50*time.Millisecond))
	if conf := fourLetter(t, srv.Addr(), "conf"); !strings.Contains(conf, "tickTime=50\n") ||
		!strings.Contains(conf, "minSessionTimeout=300\n") || !strings.Contains(conf, "maxSessionTimeout=2000\n") {
		t.Errorf("conf:\n%s", conf)
	}
	long := connect(t, srv.Addr(), zk.WithSessionTimeout(30*time.Second))
	short := connect(t, srv.Addr(), zk.WithSessionTimeout(10*time.Millisecond))
	if long.SessionTimeout() != 2*time.Second || short.SessionTimeout() != 300*time.Millisecond {
		t.Errorf("granted %v and %v, want 2s and 300ms", long.SessionTimeout(), short.SessionTimeout())
	}
	ctx := ctxT(t)
	if _, err := long.CreateTTL(ctx, "/ttl", nil, zk.WorldACL(zk.PermAll), zk.ModePersistentWithTTL, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, _, err := long.Exists(ctx, "/ttl")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("TTL node not reaped within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStopRestart: Stop breaks the connection, Restart brings the server
// back on the same port with its data, and the session survives.
func TestStopRestart(t *testing.T) {
	srv := zktest.Start(t)
	c := connect(t, srv.Addr(), zk.WithSessionTimeout(10*time.Second), zk.WithMaxBackoff(100*time.Millisecond))
	ctx := ctxT(t)
	if _, err := c.Create(ctx, "/eph", nil, zk.WorldACL(zk.PermAll), zk.ModeEphemeral); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, "/keep", []byte("v"), zk.WorldACL(zk.PermAll), zk.ModePersistent); err != nil {
		t.Fatal(err)
	}
	sid := c.SessionID()
	srv.Stop()
	if srv.Running() {
		t.Fatal("Running after Stop")
	}
	if nc, err := net.DialTimeout("tcp", srv.Addr(), time.Second); err == nil {
		nc.Close()
		t.Fatal("the port still accepts connections after Stop")
	}
	srv.Stop() // idempotent
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	data, _, err := c.Get(ctx, "/keep")
	if err != nil || string(data) != "v" {
		t.Fatalf("after restart: %q, %v", data, err)
	}
	if ok, _, err := c.Exists(ctx, "/eph"); err != nil || !ok {
		t.Fatalf("ephemeral after restart: %v, %v", ok, err)
	}
	if c.SessionID() != sid {
		t.Fatalf("session changed: %x → %x", sid, c.SessionID())
	}
	// Restart of a running server works too.
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Get(ctx, "/keep"); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if err := srv.Restart(); err == nil {
		t.Fatal("Restart after Close succeeded")
	}
}

// TestNew: a server without a testing.TB; Close removes its data.
func TestNew(t *testing.T) {
	srv, err := zktest.New(zktest.WithTickTime(200 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := connect(t, srv.Addr())
	if _, err := c.Create(ctxT(t), "/x", nil, zk.WorldACL(zk.PermAll), zk.ModePersistent); err != nil {
		t.Fatal(err)
	}
	c.Close()
	dirs := fourLetter(t, srv.Addr(), "conf")
	var dataDir string
	for _, l := range strings.Split(dirs, "\n") {
		if v, ok := strings.CutPrefix(l, "dataDir="); ok {
			dataDir = v
		}
	}
	if dataDir == "" {
		t.Fatalf("no dataDir in conf:\n%s", dirs)
	}
	if _, err := os.Stat(dataDir); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatalf("data directory %s still there after Close: %v", dataDir, err)
	}
}

// TestEnsemble: three servers; a write through one is read through every
// other; a client keeps its session when its server stops.
func TestEnsemble(t *testing.T) {
	e := zktest.StartEnsemble(t, 3)
	if e.Len() != 3 || len(e.Addrs()) != 3 || e.ConnectString() != strings.Join(e.Addrs(), ",") {
		t.Fatalf("Addrs %v ConnectString %q", e.Addrs(), e.ConnectString())
	}
	ctx := ctxT(t)
	w := connect(t, e.Addrs()[0])
	if _, err := w.Create(ctx, "/e", []byte("1"), zk.WorldACL(zk.PermAll), zk.ModePersistent); err != nil {
		t.Fatal(err)
	}
	for _, a := range e.Addrs() {
		r := connect(t, a)
		if _, err := r.Sync(ctx, "/e"); err != nil {
			t.Fatal(err)
		}
		if data, _, err := r.Get(ctx, "/e"); err != nil || string(data) != "1" {
			t.Fatalf("read through %s: %q %v", a, data, err)
		}
	}
	// A client of the whole ensemble survives the loss of its server.
	c := connect(t, e.ConnectString(), zk.WithSessionTimeout(10*time.Second), zk.WithMaxBackoff(100*time.Millisecond))
	if _, err := c.Create(ctx, "/eph", nil, zk.WorldACL(zk.PermAll), zk.ModeEphemeral); err != nil {
		t.Fatal(err)
	}
	sid := c.SessionID()
	var i int
	for i = range e.Addrs() {
		if e.Addrs()[i] == c.Server() {
			break
		}
	}
	e.Stop(i)
	if _, err := c.Set(ctx, "/e", []byte("2"), -1); err != nil && !errors.Is(err, zk.ErrConnectionLoss) {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Set(ctx, "/e", []byte("3"), -1)
		if err == nil {
			break
		}
		if !errors.Is(err, zk.ErrConnectionLoss) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c.SessionID() != sid || c.Server() == e.Addrs()[i] {
		t.Fatalf("session %x → %x on %s", sid, c.SessionID(), c.Server())
	}
	e.Start(i)
	if e.Leader() < 0 {
		t.Fatal("no leader after Start")
	}
	r := connect(t, e.Addrs()[i])
	if _, err := r.Sync(ctx, "/e"); err != nil {
		t.Fatal(err)
	}
	if data, _, err := r.Get(ctx, "/e"); err != nil || string(data) != "3" {
		t.Fatalf("restarted member reads %q %v", data, err)
	}
}
