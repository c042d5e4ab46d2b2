package zk_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/warren-zk/warren/zk"
)

func testChroot(t *testing.T, e *env) {
	c0 := connect(t, e.addr)
	ctx := ctxT(t, 15*time.Second)
	r := root(t, c0)
	c := connect(t, e.addr+r)

	if p := of(c.Create(ctx, "/a", []byte("x"), open, zk.ModePersistent)).must(t); p != "/a" {
		t.Fatalf("Create in chroot = %q", p)
	}
	if d := of(get(c0, ctx, r+"/a")).must(t); string(d) != "x" {
		t.Fatalf("node outside the chroot has %q", d)
	}
	if ch := of(c.Children(ctx, "/")).must(t); !slices.Equal(ch, []string{"a"}) {
		t.Fatalf("Children(/) in chroot = %v", ch)
	}
	seq := of(c.Create(ctx, "/a/s-", nil, open, zk.ModeEphemeralSequential)).must(t)
	if len(seq) != len("/a/s-0000000000") || seq[:5] != "/a/s-" {
		t.Fatalf("sequential path in chroot = %q", seq)
	}
	p, _, err := c.Create2(ctx, "/b", nil, open, zk.ModeEphemeral)
	if err != nil || p != "/b" {
		t.Fatalf("Create2 in chroot = %q, %v", p, err)
	}
	if eph := sorted(of(c.GetEphemerals(ctx, "/")).must(t)); !slices.Equal(eph, []string{seq, "/b"}) {
		t.Fatalf("GetEphemerals in chroot = %v", eph)
	}
	if s := of(c.Sync(ctx, "/a")).must(t); s != "/a" {
		t.Fatalf("Sync in chroot = %q", s)
	}
	res, err := c.Multi(ctx, zk.CreateOp{Path: "/m", ACL: open}, zk.CreateOp{Path: "/m/s-", ACL: open, Mode: zk.ModePersistentSequential})
	ok(t, err)
	if res[0].Path != "/m" || res[1].Path[:5] != "/m/s-" {
		t.Fatalf("Multi in chroot = %+v", res)
	}

	// Watch events come back relative to the chroot.
	_, _, ch, err := c.GetW(ctx, "/a")
	ok(t, err)
	w, err := c.AddWatch(ctx, "/", true)
	ok(t, err)
	ok(t, err2(c0.Set(ctx, r+"/a", []byte("y"), -1)))
	wantEvent(t, ch, zk.EventNodeDataChanged, "/a")
	wantEvent(t, w.Events(), zk.EventNodeDataChanged, "/a")
	ok(t, err2(c0.Create(ctx, r+"/a/deep", nil, open, zk.ModePersistent)))
	wantEvent(t, w.Events(), zk.EventNodeCreated, "/a/deep")
	ok(t, w.Close())

	// The chroot node itself is "/".
	_, st, err := c.Get(ctx, "/")
	ok(t, err)
	_, st0, _ := c0.Get(ctx, r)
	if st != st0 {
		t.Fatalf("stat of / in chroot %+v, of %s %+v", st, r, st0)
	}
	// A chroot that does not exist yet: operations fail with NoNode.
	c2 := connect(t, e.addr+r+"/nonexistent")
	_, err = c2.Create(ctx, "/x", nil, open, zk.ModePersistent)
	wantErr(t, "create under missing chroot", err, zk.ErrNoNode)
}

func testAuth(t *testing.T, e *env) {
	c := connect(t, e.addr)
	ctx := ctxT(t, 20*time.Second)
	r := root(t, c)
	ok(t, c.AddAuth(ctx, "digest", []byte("bob:secret")))
	who := of(c.WhoAmI(ctx)).must(t)
	if !slices.Contains(who, zk.ClientInfo{AuthScheme: "digest", User: "bob"}) {
		t.Fatalf("WhoAmI after addauth = %v", who)
	}
	// "auth" ACLs become the digest identity.
	ok(t, err2(c.Create(ctx, r+"/bob", []byte("b"), zk.AuthACL(zk.PermAll), zk.ModePersistent)))
	acl, _, err := c.GetACL(ctx, r+"/bob")
	ok(t, err)
	if !slices.Equal(acl, zk.DigestACL(zk.PermAll, "bob", "secret")) {
		t.Fatalf("ACL = %v", acl)
	}

	anon := connect(t, e.addr)
	_, _, err = anon.Get(ctx, r+"/bob")
	wantErr(t, "get without auth", err, zk.ErrNoAuth)
	_, err = anon.Set(ctx, r+"/bob", nil, -1)
	wantErr(t, "set without auth", err, zk.ErrNoAuth)
	_, err = anon.Create(ctx, r+"/bob/c", nil, open, zk.ModePersistent)
	wantErr(t, "create child without auth", err, zk.ErrNoAuth)

	// Credentials given to Connect are sent before anything else.
	withAuth := connect(t, e.addr, zk.WithAuth("digest", []byte("bob:secret")))
	if d := of(get(withAuth, ctx, r+"/bob")).must(t); string(d) != "b" {
		t.Fatalf("data %q", d)
	}
	wrong := connect(t, e.addr, zk.WithAuth("digest", []byte("bob:wrong")))
	_, _, err = wrong.Get(ctx, r+"/bob")
	wantErr(t, "get with the wrong password", err, zk.ErrNoAuth)

	// An unknown scheme is refused and the server drops the connection; the
	// Conn reconnects without the refused credentials.
	states := anon.StateEvents()
	wantErr(t, "addauth unknown scheme", anon.AddAuth(ctx, "nosuch", []byte("x")), zk.ErrAuthFailed)
	waitState(t, states, 5*time.Second, zk.StateDisconnected)
	waitState(t, states, 5*time.Second, zk.StateConnected)
	_, _, err = anon.Exists(ctx, r)
	ok(t, err)

	// Refused credentials on Connect: Connect fails.
	_, err = zk.Connect(ctx, e.addr, zk.WithAuth("nosuch", []byte("x")), zk.WithLogger(testLogger(t)))
	wantErr(t, "connect with refused auth", err, zk.ErrAuthFailed)
}

func testClose(t *testing.T, e *env) {
	ctx := ctxT(t, 15*time.Second)
	other := connect(t, e.addr)
	r := root(t, other)
	c, err := zk.Connect(ctx, e.addr, zk.WithLogger(testLogger(t)), zk.WithSessionTimeout(defaultTimeout))
	ok(t, err)
	states := c.StateEvents()
	ok(t, err2(c.Create(ctx, r+"/eph", nil, open, zk.ModeEphemeral)))
	_, _, ch, err := c.GetW(ctx, r)
	ok(t, err)
	w, err := c.AddWatch(ctx, r, true)
	ok(t, err)

	ok(t, c.Close())
	ok(t, c.Close()) // idempotent
	if c.State() != zk.StateClosed {
		t.Fatalf("state after Close = %v", c.State())
	}
	// closeSession went through: the ephemeral node is gone at once.
	if exists, _, _ := other.Exists(ctx, r+"/eph"); exists {
		t.Fatal("ephemeral node survived Close")
	}
	_, _, err = c.Get(ctx, r)
	if !errors.Is(err, zk.ErrClosed) {
		t.Fatalf("Get after Close = %v, want ErrClosed", err)
	}
	ev := recv(t, ch)
	if ev.Type != zk.EventNotWatching || !errors.Is(ev.Err, zk.ErrClosed) {
		t.Fatalf("one-shot watch got %+v at Close", ev)
	}
	wantClosed(t, ch)
	for range w.Events() {
	}
	if !errors.Is(w.Err(), zk.ErrClosed) {
		t.Fatalf("watcher Err after Close = %v", w.Err())
	}
	var last zk.State
	for s := range states { // closed after StateClosed
		last = s
	}
	if last != zk.StateClosed {
		t.Fatalf("last state %v", last)
	}
}

// testReconnect kills the TCP connection while a request is in flight and
// makes changes while the client is away: the request fails with
// ConnectionLoss, the session survives, one-shot watches are re-armed with
// SetWatches and catch up on what happened, and persistent watches are
// re-armed too.
func testReconnect(t *testing.T, e *env) {
	ctx := ctxT(t, 20*time.Second)
	other := connect(t, e.addr)
	r := root(t, other)
	px := newProxy(t, e.addr)
	c := connect(t, px.Addr())
	states := c.StateEvents()
	waitState(t, states, time.Second, zk.StateConnected)
	sid := c.SessionID()

	ok(t, err2(c.Create(ctx, r+"/eph", nil, open, zk.ModeEphemeral)))
	ok(t, c.AddAuth(ctx, "digest", []byte("carol:pw")))
	ok(t, err2(c.Create(ctx, r+"/carol", []byte("c"), zk.AuthACL(zk.PermAll), zk.ModePersistent)))
	ok(t, err2(c.Create(ctx, r+"/d", []byte("0"), open, zk.ModePersistent)))
	ok(t, err2(c.Create(ctx, r+"/z", nil, open, zk.ModePersistent)))
	_, _, dataW, err := c.GetW(ctx, r+"/d")
	ok(t, err)
	_, _, existW, err := c.ExistsW(ctx, r+"/y")
	ok(t, err)
	_, _, childW, err := c.ChildrenW(ctx, r+"/z")
	ok(t, err)
	_, _, quietW, err := c.GetW(ctx, r+"/z") // nothing happens to it
	ok(t, err)
	ok(t, err2(c.Create(ctx, r+"/gone", nil, open, zk.ModePersistent)))
	_, _, goneData, err := c.GetW(ctx, r+"/gone")
	ok(t, err)
	_, _, goneChild, err := c.ChildrenW(ctx, r+"/gone")
	ok(t, err)
	rec, err := c.AddWatch(ctx, r+"/rec", true)
	ok(t, err)

	// A request goes into the black hole; then the connection is cut.
	px.SetMode(blackhole)
	inflight := make(chan error, 1)
	go func() {
		_, _, err := c.Get(ctx, r+"/d")
		inflight <- err
	}()
	time.Sleep(100 * time.Millisecond)
	px.SetMode(refuse)
	px.Cut()
	select {
	case err := <-inflight:
		wantErr(t, "in-flight get", err, zk.ErrConnectionLoss)
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight request not failed after the connection was cut")
	}
	waitState(t, states, 5*time.Second, zk.StateDisconnected)
	if ev := recv(t, rec.Events()); ev.Type != zk.EventSession || ev.State != zk.StateDisconnected {
		t.Fatalf("recursive watcher got %+v, want a Disconnected session event", ev)
	}

	// Changes while the client is away.
	ok(t, err2(other.Set(ctx, r+"/d", []byte("1"), -1)))
	ok(t, err2(other.Create(ctx, r+"/y", nil, open, zk.ModePersistent)))
	ok(t, err2(other.Create(ctx, r+"/z/child", nil, open, zk.ModePersistent)))
	ok(t, other.Delete(ctx, r+"/gone", -1))

	px.SetMode(forward)
	waitState(t, states, 10*time.Second, zk.StateConnected)
	if c.SessionID() != sid {
		t.Fatalf("session 0x%x after reconnect, want 0x%x", c.SessionID(), sid)
	}
	wantEvent(t, dataW, zk.EventNodeDataChanged, r+"/d")
	wantEvent(t, existW, zk.EventNodeCreated, r+"/y")
	wantEvent(t, childW, zk.EventNodeChildrenChanged, r+"/z")
	wantEvent(t, goneData, zk.EventNodeDeleted, r+"/gone")
	wantEvent(t, goneChild, zk.EventNodeDeleted, r+"/gone")
	if ev := recv(t, rec.Events()); ev.Type != zk.EventSession || ev.State != zk.StateConnected {
		t.Fatalf("recursive watcher got %+v, want a Connected session event", ev)
	}
	// The session and its ephemeral node survived.
	if exists, _, err := other.Exists(ctx, r+"/eph"); !exists || err != nil {
		t.Fatalf("ephemeral node after reconnect: %v, %v", exists, err)
	}
	// Re-armed watches still fire.
	ok(t, err2(other.Set(ctx, r+"/z", []byte("q"), -1)))
	wantEvent(t, quietW, zk.EventNodeDataChanged, r+"/z")
	ok(t, err2(other.Create(ctx, r+"/rec", nil, open, zk.ModePersistent)))
	wantEvent(t, rec.Events(), zk.EventNodeCreated, r+"/rec")
	_, _, err = c.Get(ctx, r+"/d")
	ok(t, err)
	// The credentials were sent again on the new connection.
	if d, err := get(c, ctx, r+"/carol"); err != nil || string(d) != "c" {
		t.Fatalf("ACL-protected node after reconnect: %q, %v", d, err)
	}
}

// testExpiry black-holes the connection until the server expires the
// session: the client then sees StateExpired, ErrSessionExpired and the end
// of its watches.
func testExpiry(t *testing.T, e *env) {
	ctx := ctxT(t, 20*time.Second)
	other := connect(t, e.addr)
	r := root(t, other)
	px := newProxy(t, e.addr)
	c := connect(t, px.Addr(), zk.WithSessionTimeout(time.Second))
	if c.SessionTimeout() != time.Second {
		t.Fatalf("negotiated timeout %v", c.SessionTimeout())
	}
	states := c.StateEvents()
	ok(t, err2(c.Create(ctx, r+"/eph", nil, open, zk.ModeEphemeral)))
	_, _, ch, err := c.GetW(ctx, r)
	ok(t, err)
	w, err := c.AddWatch(ctx, r, false)
	ok(t, err)

	px.SetMode(blackhole)
	waitState(t, states, 5*time.Second, zk.StateDisconnected)
	// Wait for the server to expire the session (its ephemeral node goes).
	for {
		exists, _, err := other.Exists(ctx, r+"/eph")
		ok(t, err)
		if !exists {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	px.SetMode(forward)
	waitState(t, states, 10*time.Second, zk.StateExpired)
	if c.State() != zk.StateExpired {
		t.Fatalf("state %v", c.State())
	}
	_, _, err = c.Get(ctx, r)
	wantErr(t, "get after expiry", err, zk.ErrSessionExpired)
	ev := recv(t, ch)
	if ev.Type != zk.EventNotWatching || !errors.Is(ev.Err, zk.ErrSessionExpired) {
		t.Fatalf("one-shot watch got %+v at expiry", ev)
	}
	for range w.Events() {
	}
	if !errors.Is(w.Err(), zk.ErrSessionExpired) {
		t.Fatalf("watcher Err after expiry = %v", w.Err())
	}
	ok(t, c.Close())
	_, _, err = c.Get(ctx, r)
	if !errors.Is(err, zk.ErrClosed) {
		t.Fatalf("Get after Close = %v", err)
	}
}

// testPings keeps an idle session of 1.6s alive for 3s: the client pings.
func testPings(t *testing.T, e *env) {
	c := connect(t, e.addr, zk.WithSessionTimeout(1600*time.Millisecond))
	states := c.StateEvents()
	sid := c.SessionID()
	time.Sleep(3 * time.Second)
	for {
		select {
		case s := <-states:
			if s != zk.StateConnecting && s != zk.StateConnected {
				t.Fatalf("state %v while idle", s)
			}
			continue
		default:
		}
		break
	}
	_, _, err := c.Exists(ctxT(t, 5*time.Second), "/")
	ok(t, err)
	if c.SessionID() != sid || c.State() != zk.StateConnected {
		t.Fatalf("session 0x%x state %v", c.SessionID(), c.State())
	}
}

func testContextCancel(t *testing.T, e *env) {
	px := newProxy(t, e.addr)
	c := connect(t, px.Addr(), zk.WithSessionTimeout(time.Second))
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := c.Get(canceled, "/")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with a canceled context = %v", err)
	}
	px.SetMode(blackhole)
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, err = c.Get(short, "/")
	var ze *zk.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ze) || ze.Op != "getData" {
		t.Fatalf("Get past its deadline = %#v", err)
	}
	states := c.StateEvents()
	px.SetMode(forward) // closes the black-holed connection
	// The Conn finds its way back by itself.
	waitState(t, states, 5*time.Second, zk.StateDisconnected)
	waitState(t, states, 5*time.Second, zk.StateConnected)
	_, _, err = c.Exists(ctxT(t, 10*time.Second), "/")
	ok(t, err)
}

// testCloseWhileLinkDies: the server drops the connection (here after
// refusing an auth scheme) just as Close queues its closeSession; Close
// must return at once, not after the session timeout (the request can
// never be sent on that link).
func testCloseWhileLinkDies(t *testing.T, e *env) {
	for i := 0; i < 5; i++ {
		c := connect(t, e.addr, zk.WithSessionTimeout(10*time.Second))
		if err := c.AddAuth(ctxT(t, 5*time.Second), "no-such-scheme", []byte("x")); !errors.Is(err, zk.ErrAuthFailed) {
			t.Fatalf("AddAuth with an unknown scheme: %v", err)
		}
		start := time.Now()
		c.Close()
		if el := time.Since(start); el > 3*time.Second {
			t.Fatalf("round %d: Close took %v after the server dropped the link (session timeout 10s)", i, el)
		}
	}
}
