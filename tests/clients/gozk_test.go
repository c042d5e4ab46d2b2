package clients

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
)

// zkLogger sends go-zookeeper's log to the test log until the test's cleanup starts (logging
// after a test has finished panics).
type zkLogger struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (l *zkLogger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Logf("go-zookeeper: "+format, args...)
	}
}

// zkClient is a go-zookeeper connection and every session event it reported.
type zkClient struct {
	*zk.Conn
	events chan zk.Event
}

// connectZK connects to addr and waits for a session. The connection is closed at cleanup.
func connectZK(t *testing.T, addr string, timeout time.Duration, opts ...func(*zk.Conn)) *zkClient {
	t.Helper()
	log := &zkLogger{t: t}
	events := make(chan zk.Event, 1000)
	all := []func(*zk.Conn){
		zk.WithLogger(log),
		zk.WithEventCallback(func(ev zk.Event) {
			if ev.Type == zk.EventSession {
				select {
				case events <- ev:
				default:
				}
			}
		}),
	}
	all = append(all, opts...)
	conn, _, err := zk.Connect([]string{addr}, timeout, func(c *zk.Conn) {
		for _, o := range all {
			o(c)
		}
	})
	if err != nil {
		t.Fatalf("zk.Connect(%s): %v", addr, err)
	}
	t.Cleanup(func() {
		conn.Close()
		log.mu.Lock()
		log.done = true
		log.mu.Unlock()
	})
	c := &zkClient{Conn: conn, events: events}
	c.waitState(t, zk.StateHasSession, 10*time.Second)
	return c
}

// waitState waits for a session event with the given state.
func (c *zkClient) waitState(t *testing.T, want zk.State, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	var seen []string
	for {
		select {
		case ev := <-c.events:
			seen = append(seen, ev.State.String())
			if ev.State == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %v session event within %v; saw %v", want, timeout, seen)
		}
	}
}

// wantEvent waits for one event on a watch channel and checks its type and path.
func wantEvent(t *testing.T, ch <-chan zk.Event, typ zk.EventType, path string) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatalf("watch channel closed without an event; want %v %s", typ, path)
		}
		if ev.Type != typ || ev.Path != path || ev.Err != nil {
			t.Fatalf("watch event = %v %q (err %v), want %v %q", ev.Type, ev.Path, ev.Err, typ, path)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no %v event for %s within 10s", typ, path)
	}
}

// wantEventNow checks that a watch channel already holds an event: ZooKeeper sends a watch
// notification before the reply of the write that triggered it, so when a client's own write
// returns, the event has been delivered.
func wantEventNow(t *testing.T, ch <-chan zk.Event, typ zk.EventType, path string) {
	t.Helper()
	select {
	case ev := <-ch:
		if ev.Type != typ || ev.Path != path {
			t.Fatalf("watch event = %v %q, want %v %q", ev.Type, ev.Path, typ, path)
		}
	default:
		t.Fatalf("the write returned before its %v event for %s was delivered", typ, path)
	}
}

// noEvent checks that nothing arrives on ch for a short while.
func noEvent(t *testing.T, ch <-chan zk.Event, what string) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("%s: unexpected event %v %q", what, ev.Type, ev.Path)
		}
	case <-time.After(150 * time.Millisecond):
	}
}

func must1[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func digestID(user, password string) string {
	h := sha1.Sum([]byte(user + ":" + password))
	return user + ":" + base64.StdEncoding.EncodeToString(h[:])
}

var openACL = zk.WorldACL(zk.PermAll)

// TestGoZookeeper runs every operation go-zookeeper offers against Warren.
func TestGoZookeeper(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	c := connectZK(t, srv.Addr, 10*time.Second)
	c2 := connectZK(t, srv.Addr, 10*time.Second)
	sid := c.SessionID()
	if sid == 0 || sid == c2.SessionID() {
		t.Fatalf("session ids %#x and %#x", sid, c2.SessionID())
	}
	if sid>>56 != 1 {
		t.Errorf("standalone session id %#x should carry server id 1 in its top byte", sid)
	}

	t.Run("CreateModes", func(t *testing.T) {
		if p := must1[string](t)(c.Create("/gz", []byte("root"), zk.FlagPersistent, openACL)); p != "/gz" {
			t.Fatalf("create /gz returned %q", p)
		}
		// Sequence numbers come from the parent's count of child creations.
		for i, tc := range []struct {
			path  string
			flags int32
			want  string
			owner int64
		}{
			{"/gz/p", zk.FlagPersistent, "/gz/p", 0},
			{"/gz/e", zk.FlagEphemeral, "/gz/e", sid},
			{"/gz/s-", zk.FlagSequence, "/gz/s-0000000002", 0},
			{"/gz/s-", zk.FlagSequence, "/gz/s-0000000003", 0},
			{"/gz/es-", zk.FlagEphemeralSequential, "/gz/es-0000000004", sid},
		} {
			p := must1[string](t)(c.Create(tc.path, []byte(fmt.Sprint(i)), tc.flags, openACL))
			if p != tc.want {
				t.Errorf("create %s flags %d = %q, want %q", tc.path, tc.flags, p, tc.want)
			}
			ok, st := must2[bool, *zk.Stat](t)(c2.Exists(p))
			if !ok || st.EphemeralOwner != tc.owner || st.DataLength != 1 || st.Version != 0 {
				t.Errorf("exists %s = %v %+v, want ephemeralOwner %#x", p, ok, st, tc.owner)
			}
		}
		// A container and TTL nodes; clients see ephemeralOwner 0 for both.
		if p := must1[string](t)(c.CreateContainer("/gz/cont", []byte("c"), zk.FlagContainer, openACL)); p != "/gz/cont" {
			t.Errorf("CreateContainer = %q", p)
		}
		if p := must1[string](t)(c.CreateTTL("/gz/ttl", []byte("t"), zk.FlagTTL, openACL, time.Hour)); p != "/gz/ttl" {
			t.Errorf("CreateTTL = %q", p)
		}
		if p := must1[string](t)(c.CreateTTL("/gz/ttls-", []byte("t"), zk.FlagPersistentSequentialWithTTL, openACL, time.Hour)); p != "/gz/ttls-0000000007" {
			t.Errorf("CreateTTL sequential = %q", p)
		}
		for _, p := range []string{"/gz/cont", "/gz/ttl", "/gz/ttls-0000000007"} {
			if ok, st := must2[bool, *zk.Stat](t)(c.Exists(p)); !ok || st.EphemeralOwner != 0 {
				t.Errorf("exists %s = %v, ephemeralOwner %#x", p, ok, st.EphemeralOwner)
			}
		}
		// TTL out of range.
		_, err := c.CreateTTL("/gz/ttl0", nil, zk.FlagTTL, openACL, 0)
		wantErr(t, "CreateTTL with ttl 0", err, zk.ErrBadArguments)

		// CreateProtectedEphemeralSequential: _c_<guid>-name<seq>, ephemeral.
		p := must1[string](t)(c.CreateProtectedEphemeralSequential("/gz/lock-", []byte("x"), openACL))
		if !regexp.MustCompile(`^/gz/_c_[0-9a-f]{32}-lock-0000000008$`).MatchString(p) {
			t.Errorf("CreateProtectedEphemeralSequential = %q", p)
		}
		if ok, st := must2[bool, *zk.Stat](t)(c2.Exists(p)); !ok || st.EphemeralOwner != sid {
			t.Errorf("protected node %s: exists %v owner %#x", p, ok, st.EphemeralOwner)
		}

		_, err = c.Create("/gz/p", nil, zk.FlagPersistent, openACL)
		wantErr(t, "duplicate create", err, zk.ErrNodeExists)
		_, err = c.Create("/gz/missing/x", nil, zk.FlagPersistent, openACL)
		wantErr(t, "create under a missing parent", err, zk.ErrNoNode)
		_, err = c.Create("/gz/e/child", nil, zk.FlagPersistent, openACL)
		wantErr(t, "create under an ephemeral", err, zk.ErrNoChildrenForEphemerals)
		_, err = c.Create("/gz/badacl", nil, zk.FlagPersistent, []zk.ACL{})
		wantErr(t, "create with an empty ACL", err, zk.ErrInvalidACL)
		_, err = c.Create("/gz/badacl", nil, zk.FlagPersistent, []zk.ACL{{Perms: zk.PermAll, Scheme: "world", ID: "someone"}})
		wantErr(t, "create with world:someone", err, zk.ErrInvalidACL)
		_, err = c.Create("/gz/badacl", nil, zk.FlagPersistent, zk.AuthACL(zk.PermAll))
		wantErr(t, "create with an auth ACL and no auth", err, zk.ErrInvalidACL)

		kids := must1[[]string](t)(childrenOf(c, "/gz"))
		want := []string{"cont", "e", "es-0000000004", "p", "s-0000000002", "s-0000000003", "ttl", "ttls-0000000007",
			strings.TrimPrefix(p, "/gz/")}
		slices.Sort(want)
		if !slices.Equal(kids, want) {
			t.Errorf("children of /gz = %v, want %v", kids, want)
		}
	})

	t.Run("GetSetExists", func(t *testing.T) {
		must1[string](t)(c.Create("/gz-data", []byte("v0"), zk.FlagPersistent, openACL))
		data, st := must2[[]byte, *zk.Stat](t)(c.Get("/gz-data"))
		if string(data) != "v0" || st.Version != 0 || st.DataLength != 2 || st.Czxid != st.Mzxid || st.Czxid == 0 {
			t.Fatalf("get = %q %+v", data, st)
		}
		created := st.Czxid
		st = must1[*zk.Stat](t)(c.Set("/gz-data", []byte("v1"), 0))
		if st.Version != 1 || st.Mzxid <= created || st.Czxid != created {
			t.Errorf("set with version 0 = %+v", st)
		}
		_, err := c.Set("/gz-data", []byte("stale"), 0)
		wantErr(t, "set with a stale version", err, zk.ErrBadVersion)
		if st = must1[*zk.Stat](t)(c.Set("/gz-data", nil, -1)); st.Version != 2 || st.DataLength != 0 {
			t.Errorf("set with version -1 = %+v", st)
		}
		_, err = c.Set("/gz-nope", nil, -1)
		wantErr(t, "set of a missing node", err, zk.ErrNoNode)
		data, st2 := must2[[]byte, *zk.Stat](t)(c2.Get("/gz-data"))
		if len(data) != 0 || *st2 != *st {
			t.Errorf("get from the other client = %q %+v, want the stat %+v", data, st2, st)
		}
		if ok, st3 := must2[bool, *zk.Stat](t)(c2.Exists("/gz-data")); !ok || *st3 != *st {
			t.Errorf("exists = %v %+v", ok, st3)
		}
		if ok, _ := must2[bool, *zk.Stat](t)(c2.Exists("/gz-nope")); ok {
			t.Errorf("exists of a missing node = true")
		}
		_, _, err = c.Get("/gz-nope")
		wantErr(t, "get of a missing node", err, zk.ErrNoNode)
		_, _, err = c.Children("/gz-nope")
		wantErr(t, "children of a missing node", err, zk.ErrNoNode)
		// Children's stat is the parent's (getChildren2).
		must1[string](t)(c.Create("/gz-data/a", nil, zk.FlagPersistent, openACL))
		must1[string](t)(c.Create("/gz-data/b", nil, zk.FlagPersistent, openACL))
		kids, st := must2[[]string, *zk.Stat](t)(c.Children("/gz-data"))
		if slices.Sort(kids); !slices.Equal(kids, []string{"a", "b"}) || st.NumChildren != 2 || st.Cversion != 2 {
			t.Errorf("children = %v %+v", kids, st)
		}
		if p := must1[string](t)(c.Sync("/gz-data")); p != "/gz-data" {
			t.Errorf("sync returned %q", p)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		must1[string](t)(c.Create("/gz-del", nil, zk.FlagPersistent, openACL))
		must1[string](t)(c.Create("/gz-del/x", nil, zk.FlagPersistent, openACL))
		st := must1[*zk.Stat](t)(c.Set("/gz-del/x", []byte("1"), -1))
		wantErr(t, "delete with a wrong version", c.Delete("/gz-del/x", 0), zk.ErrBadVersion)
		wantErr(t, "delete of a non-empty node", c.Delete("/gz-del", -1), zk.ErrNotEmpty)
		if err := c.Delete("/gz-del/x", st.Version); err != nil {
			t.Fatalf("delete with the right version: %v", err)
		}
		wantErr(t, "second delete", c.Delete("/gz-del/x", -1), zk.ErrNoNode)
		if err := c.Delete("/gz-del", -1); err != nil {
			t.Fatalf("delete with version -1: %v", err)
		}
		if ok, _ := must2[bool, *zk.Stat](t)(c2.Exists("/gz-del")); ok {
			t.Errorf("/gz-del still exists")
		}
	})

	t.Run("Watches", func(t *testing.T) {
		must1[string](t)(c.Create("/gz-w", []byte("0"), zk.FlagPersistent, openACL))

		// Data watch, triggered by another client.
		_, _, ch := must3[[]byte, *zk.Stat, <-chan zk.Event](t)(c.GetW("/gz-w"))
		must1[*zk.Stat](t)(c2.Set("/gz-w", []byte("1"), -1))
		wantEvent(t, ch, zk.EventNodeDataChanged, "/gz-w")
		if _, ok := <-ch; ok {
			t.Errorf("a standard watch fired twice")
		}

		// Triggered by the client itself: the event precedes the write's reply.
		_, _, ch = must3[[]byte, *zk.Stat, <-chan zk.Event](t)(c.GetW("/gz-w"))
		must1[*zk.Stat](t)(c.Set("/gz-w", []byte("2"), -1))
		wantEventNow(t, ch, zk.EventNodeDataChanged, "/gz-w")

		// Exists watch on a missing node fires on create.
		ok, _, ch := must3[bool, *zk.Stat, <-chan zk.Event](t)(c.ExistsW("/gz-w/new"))
		if ok {
			t.Fatalf("/gz-w/new exists")
		}
		_, _, cch := must3[[]string, *zk.Stat, <-chan zk.Event](t)(c.ChildrenW("/gz-w"))
		must1[string](t)(c2.Create("/gz-w/new", nil, zk.FlagPersistent, openACL))
		wantEvent(t, ch, zk.EventNodeCreated, "/gz-w/new")
		wantEvent(t, cch, zk.EventNodeChildrenChanged, "/gz-w")

		// Exists watch on a present node fires on data change.
		_, _, ch = must3[bool, *zk.Stat, <-chan zk.Event](t)(c.ExistsW("/gz-w/new"))
		must1[*zk.Stat](t)(c2.Set("/gz-w/new", []byte("x"), -1))
		wantEvent(t, ch, zk.EventNodeDataChanged, "/gz-w/new")

		// Delete: data, exists and child watches on the node, child watch on the parent.
		_, _, dch := must3[[]byte, *zk.Stat, <-chan zk.Event](t)(c.GetW("/gz-w/new"))
		_, _, ech := must3[bool, *zk.Stat, <-chan zk.Event](t)(c2.ExistsW("/gz-w/new"))
		_, _, kch := must3[[]string, *zk.Stat, <-chan zk.Event](t)(c.ChildrenW("/gz-w/new"))
		_, _, pch := must3[[]string, *zk.Stat, <-chan zk.Event](t)(c.ChildrenW("/gz-w"))
		if err := c2.Delete("/gz-w/new", -1); err != nil {
			t.Fatal(err)
		}
		wantEventNow(t, ech, zk.EventNodeDeleted, "/gz-w/new")
		wantEvent(t, dch, zk.EventNodeDeleted, "/gz-w/new")
		wantEvent(t, kch, zk.EventNodeDeleted, "/gz-w/new")
		wantEvent(t, pch, zk.EventNodeChildrenChanged, "/gz-w")

		// Failed reads set no watch (getData on a missing node); setACL triggers nothing.
		_, _, _, err := c.GetW("/gz-w/missing")
		wantErr(t, "GetW of a missing node", err, zk.ErrNoNode)
		_, _, ch = must3[[]byte, *zk.Stat, <-chan zk.Event](t)(c.GetW("/gz-w"))
		must1[*zk.Stat](t)(c2.SetACL("/gz-w", openACL, -1))
		noEvent(t, ch, "setACL")
		must1[string](t)(c2.Create("/gz-w/missing", nil, zk.FlagPersistent, openACL))
		must1[*zk.Stat](t)(c2.Set("/gz-w", []byte("3"), -1))
		wantEvent(t, ch, zk.EventNodeDataChanged, "/gz-w")
	})

	t.Run("ACL", func(t *testing.T) {
		must1[string](t)(c.Create("/gz-acl", []byte("a"), zk.FlagPersistent, openACL))
		acl, st := must2[[]zk.ACL, *zk.Stat](t)(c.GetACL("/gz-acl"))
		if !slices.Equal(acl, openACL) || st.Aversion != 0 {
			t.Fatalf("getACL = %v %+v", acl, st)
		}
		st = must1[*zk.Stat](t)(c.SetACL("/gz-acl", zk.WorldACL(zk.PermRead|zk.PermAdmin), 0))
		if st.Aversion != 1 {
			t.Errorf("setACL: aversion %d, want 1", st.Aversion)
		}
		_, err := c.SetACL("/gz-acl", openACL, 0)
		wantErr(t, "setACL with a stale aversion", err, zk.ErrBadVersion)
		_, err = c.SetACL("/gz-acl", []zk.ACL{}, -1)
		wantErr(t, "setACL with an empty ACL", err, zk.ErrInvalidACL)
		_, err = c.SetACL("/gz-acl-missing", openACL, -1)
		wantErr(t, "setACL of a missing node", err, zk.ErrNoNode)
		// READ|ADMIN: no write, no create, no delete of children.
		_, err = c2.Set("/gz-acl", []byte("b"), -1)
		wantErr(t, "set without WRITE", err, zk.ErrNoAuth)
		_, err = c2.Create("/gz-acl/child", nil, zk.FlagPersistent, openACL)
		wantErr(t, "create without CREATE", err, zk.ErrNoAuth)
		if data, _ := must2[[]byte, *zk.Stat](t)(c2.Get("/gz-acl")); string(data) != "a" {
			t.Errorf("get = %q", data)
		}
		must1[*zk.Stat](t)(c2.SetACL("/gz-acl", zk.WorldACL(zk.PermWrite), -1))
		_, _, err = c2.Get("/gz-acl")
		wantErr(t, "get without READ", err, zk.ErrNoAuth)
		_, err = c2.SetACL("/gz-acl", openACL, -1)
		wantErr(t, "setACL without ADMIN", err, zk.ErrNoAuth)
		must1[*zk.Stat](t)(c2.Set("/gz-acl", []byte("w"), -1))
	})

	t.Run("AuthDigest", func(t *testing.T) {
		alice := connectZK(t, srv.Addr, 10*time.Second)
		if err := alice.AddAuth("digest", []byte("alice:secret")); err != nil {
			t.Fatalf("AddAuth: %v", err)
		}
		aliceID := digestID("alice", "secret")
		must1[string](t)(alice.Create("/gz-auth", []byte("s"), zk.FlagPersistent, zk.DigestACL(zk.PermAll, "alice", "secret")))
		// An "auth" ACL becomes the caller's digest id.
		must1[string](t)(alice.Create("/gz-auth2", []byte("s2"), zk.FlagPersistent, zk.AuthACL(zk.PermAll)))
		for _, p := range []string{"/gz-auth", "/gz-auth2"} {
			acl, _ := must2[[]zk.ACL, *zk.Stat](t)(alice.GetACL(p))
			if want := []zk.ACL{{Perms: zk.PermAll, Scheme: "digest", ID: aliceID}}; !slices.Equal(acl, want) {
				t.Errorf("getACL %s = %v, want %v", p, acl, want)
			}
		}
		// Others are locked out, even with the wrong password.
		_, _, err := c2.Get("/gz-auth")
		wantErr(t, "get without auth", err, zk.ErrNoAuth)
		_, err = c2.Set("/gz-auth", nil, -1)
		wantErr(t, "set without auth", err, zk.ErrNoAuth)
		_, _, err = c2.GetACL("/gz-auth")
		wantErr(t, "getACL without READ or ADMIN", err, zk.ErrNoAuth)
		mallory := connectZK(t, srv.Addr, 10*time.Second)
		if err := mallory.AddAuth("digest", []byte("alice:wrong")); err != nil {
			t.Fatalf("AddAuth: %v", err)
		}
		_, _, err = mallory.Get("/gz-auth")
		wantErr(t, "get with the wrong password", err, zk.ErrNoAuth)
		// Same credentials on another connection.
		bob := connectZK(t, srv.Addr, 10*time.Second)
		if err := bob.AddAuth("digest", []byte("alice:secret")); err != nil {
			t.Fatalf("AddAuth: %v", err)
		}
		if data, _ := must2[[]byte, *zk.Stat](t)(bob.Get("/gz-auth2")); string(data) != "s2" {
			t.Errorf("get with the right credentials = %q", data)
		}
		must1[*zk.Stat](t)(bob.Set("/gz-auth", []byte("s3"), -1))
		// A reader without ADMIN sees digests redacted.
		must1[*zk.Stat](t)(alice.SetACL("/gz-auth", []zk.ACL{
			{Perms: zk.PermAll, Scheme: "digest", ID: aliceID},
			{Perms: zk.PermRead, Scheme: "world", ID: "anyone"},
		}, -1))
		acl, _ := must2[[]zk.ACL, *zk.Stat](t)(c2.GetACL("/gz-auth"))
		if want := []zk.ACL{{Perms: zk.PermAll, Scheme: "digest", ID: "alice:x"}, {Perms: zk.PermRead, Scheme: "world", ID: "anyone"}}; !slices.Equal(acl, want) {
			t.Errorf("getACL without ADMIN = %v, want %v", acl, want)
		}
		// Unknown auth scheme: AuthFailed, and the server closes the connection.
		eve := connectZK(t, srv.Addr, 10*time.Second)
		err = eve.AddAuth("nosuchscheme", []byte("x"))
		wantErr(t, "AddAuth with an unknown scheme", err, zk.ErrAuthFailed)
	})

	t.Run("Multi", func(t *testing.T) {
		must1[string](t)(c.Create("/gz-multi", []byte("0"), zk.FlagPersistent, openACL))
		res, err := c.Multi(
			&zk.CheckVersionRequest{Path: "/gz-multi", Version: 0},
			&zk.CreateRequest{Path: "/gz-multi/a", Data: []byte("a"), Acl: openACL},
			&zk.CreateRequest{Path: "/gz-multi/s-", Data: nil, Acl: openACL, Flags: zk.FlagSequence},
			&zk.SetDataRequest{Path: "/gz-multi", Data: []byte("1"), Version: 0},
			&zk.DeleteRequest{Path: "/gz-multi/a", Version: 0},
		)
		if err != nil {
			t.Fatalf("multi: %v (%+v)", err, res)
		}
		if len(res) != 5 || res[1].String != "/gz-multi/a" || res[2].String != "/gz-multi/s-0000000001" ||
			res[3].Stat == nil || res[3].Stat.Version != 1 {
			t.Fatalf("multi results = %+v", res)
		}
		for i, r := range res {
			if r.Error != nil {
				t.Errorf("result %d: %v", i, r.Error)
			}
		}
		// All ops of a multi share one zxid.
		_, st := must2[[]byte, *zk.Stat](t)(c.Get("/gz-multi"))
		_, st2 := must2[[]byte, *zk.Stat](t)(c.Get("/gz-multi/s-0000000001"))
		if st.Mzxid != st2.Czxid || st.Pzxid != st.Mzxid {
			t.Errorf("multi ops have different zxids: %+v / %+v", st, st2)
		}

		// A failing check rolls everything back.
		res, err = c.Multi(
			&zk.CreateRequest{Path: "/gz-multi/b", Acl: openACL},
			&zk.SetDataRequest{Path: "/gz-multi", Data: []byte("2"), Version: -1},
			&zk.CheckVersionRequest{Path: "/gz-multi", Version: 0},
			&zk.DeleteRequest{Path: "/gz-multi/s-0000000001", Version: -1},
		)
		wantErr(t, "multi with a failing check", err, zk.ErrBadVersion)
		if len(res) != 4 || res[0].Error != nil || res[1].Error != nil || !errors.Is(res[2].Error, zk.ErrBadVersion) ||
			res[3].Error == nil || !strings.Contains(res[3].Error.Error(), "-2") {
			t.Errorf("failed multi results = %+v (want ok, ok, BadVersion, RuntimeInconsistency)", res)
		}
		if ok, _ := must2[bool, *zk.Stat](t)(c.Exists("/gz-multi/b")); ok {
			t.Errorf("failed multi left /gz-multi/b")
		}
		data, st3 := must2[[]byte, *zk.Stat](t)(c.Get("/gz-multi"))
		if string(data) != "1" || *st3 != *st {
			t.Errorf("failed multi changed /gz-multi: %q %+v (was %+v)", data, st3, st)
		}
		if ok, _ := must2[bool, *zk.Stat](t)(c.Exists("/gz-multi/s-0000000001")); !ok {
			t.Errorf("failed multi deleted /gz-multi/s-0000000001")
		}
		res, err = c.Multi(&zk.CheckVersionRequest{Path: "/gz-multi/none", Version: -1})
		wantErr(t, "multi check of a missing node", err, zk.ErrNoNode)
		if len(res) != 1 {
			t.Errorf("results = %+v", res)
		}
	})

	t.Run("Reconfig", func(t *testing.T) {
		// Standalone with reconfigEnabled=false (the default): ReconfigDisabled.
		_, err := c.IncrementalReconfig([]string{"server.2=127.0.0.1:2888:3888;2181"}, nil, -1)
		wantErr(t, "IncrementalReconfig", err, zk.ErrReconfigDisabled)
		_, err = c.Reconfig([]string{"server.1=127.0.0.1:2888:3888;2181"}, -1)
		wantErr(t, "Reconfig", err, zk.ErrReconfigDisabled)
		// The connection survives.
		must1[string](t)(c.Sync("/"))
	})

	t.Run("Lock", func(t *testing.T) {
		l1 := zk.NewLock(c.Conn, "/gz-lock", openACL)
		l2 := zk.NewLock(c2.Conn, "/gz-lock", openACL)
		if err := l1.Lock(); err != nil {
			t.Fatalf("l1.Lock: %v", err)
		}
		got := make(chan error, 1)
		go func() { got <- l2.Lock() }()
		select {
		case err := <-got:
			t.Fatalf("l2 acquired the lock while l1 held it (err %v)", err)
		case <-time.After(300 * time.Millisecond):
		}
		if err := l1.Unlock(); err != nil {
			t.Fatalf("l1.Unlock: %v", err)
		}
		select {
		case err := <-got:
			if err != nil {
				t.Fatalf("l2.Lock: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("l2 did not get the lock after l1 released it")
		}
		if err := l2.Unlock(); err != nil {
			t.Fatalf("l2.Unlock: %v", err)
		}
		if kids := must1[[]string](t)(childrenOf(c, "/gz-lock")); len(kids) != 0 {
			t.Errorf("lock nodes left: %v", kids)
		}
	})

	t.Run("EphemeralsGoneAfterClose", func(t *testing.T) {
		tmp := connectZK(t, srv.Addr, 10*time.Second)
		must1[string](t)(tmp.Create("/gz-eph", nil, zk.FlagEphemeral, openACL))
		p := must1[string](t)(tmp.CreateProtectedEphemeralSequential("/gz-eph2-", nil, openACL))
		_, _, ch := must3[bool, *zk.Stat, <-chan zk.Event](t)(c.ExistsW("/gz-eph"))
		tmp.Close()
		wantEvent(t, ch, zk.EventNodeDeleted, "/gz-eph")
		for _, path := range []string{"/gz-eph", p} {
			if ok, _ := must2[bool, *zk.Stat](t)(c.Exists(path)); ok {
				t.Errorf("%s survived its session's close", path)
			}
		}
	})

	t.Run("FourLetterWords", func(t *testing.T) {
		if ok := zk.FLWRuok([]string{srv.Addr}, 5*time.Second); len(ok) != 1 || !ok[0] {
			t.Errorf("FLWRuok = %v", ok)
		}
		// FLWCons: every line with a session parses; the four-letter-word connection's own line
		// has no session and does not (as with ZooKeeper), so ok is false and only the parsed
		// clients count. FLWSrvr is not exercised: its regexp wants the pre-3.8 build date
		// format and fails against ZooKeeper 3.8 itself.
		cons, _ := zk.FLWCons([]string{srv.Addr}, 5*time.Second)
		if len(cons) != 1 {
			t.Fatalf("FLWCons = %v", cons)
		}
		var sids []int64
		for _, cl := range cons[0].Clients {
			sids = append(sids, cl.SessionID)
		}
		if !slices.Contains(sids, c.SessionID()) || !slices.Contains(sids, c2.SessionID()) {
			t.Errorf("FLWCons sessions %x lack %x and %x", sids, c.SessionID(), c2.SessionID())
		}
	})
}

// TestGoZookeeperTTLDisabled: without extendedTypesEnabled, createTTL is Unimplemented.
func TestGoZookeeperTTLDisabled(t *testing.T) {
	t.Parallel()
	srv := warrentest.Start(t, nil)
	c := connectZK(t, srv.Addr, 10*time.Second)
	_, err := c.CreateTTL("/ttl", nil, zk.FlagTTL, openACL, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "-6") {
		t.Fatalf("CreateTTL without extended types: %v, want Unimplemented (-6)", err)
	}
	must1[string](t)(c.Create("/after", nil, zk.FlagPersistent, openACL))
}

// TestGoZookeeperReaper: a container goes once its last child does; a TTL node goes once its TTL
// has passed without a change.
func TestGoZookeeperReaper(t *testing.T) {
	t.Parallel()
	srv := startServer(t, nil)
	c := connectZK(t, srv.Addr, 10*time.Second)

	must1[string](t)(c.CreateContainer("/cont", nil, zk.FlagContainer, openACL))
	must1[string](t)(c.CreateContainer("/cont-never-used", nil, zk.FlagContainer, openACL))
	must1[string](t)(c.Create("/cont/child", nil, zk.FlagPersistent, openACL))
	time.Sleep(5 * reaperInterval)
	for _, p := range []string{"/cont", "/cont-never-used"} {
		if ok, _ := must2[bool, *zk.Stat](t)(c.Exists(p)); !ok {
			t.Fatalf("%s reaped too early", p)
		}
	}
	_, _, ch := must3[bool, *zk.Stat, <-chan zk.Event](t)(c.ExistsW("/cont"))
	if err := c.Delete("/cont/child", -1); err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ch, zk.EventNodeDeleted, "/cont")
	if ok, _ := must2[bool, *zk.Stat](t)(c.Exists("/cont-never-used")); !ok {
		t.Errorf("a container that never had a child was reaped")
	}

	// TTL: 300ms. A child keeps it; setData restarts the clock.
	start := time.Now()
	must1[string](t)(c.CreateTTL("/ttl", []byte("t"), zk.FlagTTL, openACL, 300*time.Millisecond))
	must1[string](t)(c.CreateTTL("/ttl-parent", nil, zk.FlagTTL, openACL, 300*time.Millisecond))
	must1[string](t)(c.Create("/ttl-parent/child", nil, zk.FlagPersistent, openACL))
	_, _, ch = must3[bool, *zk.Stat, <-chan zk.Event](t)(c.ExistsW("/ttl"))
	wantEvent(t, ch, zk.EventNodeDeleted, "/ttl")
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("TTL node reaped after %v, before its TTL", d)
	}
	if ok, _ := must2[bool, *zk.Stat](t)(c.Exists("/ttl-parent")); !ok {
		t.Errorf("a TTL node with a child was reaped")
	}
	if err := c.Delete("/ttl-parent/child", -1); err != nil {
		t.Fatal(err)
	}
	if !eventually(10*time.Second, func() bool { ok, _, _ := c.Exists("/ttl-parent"); return !ok }) {
		t.Errorf("TTL node not reaped after its child went")
	}
}

// flakyDialer hands go-zookeeper its TCP connections and can cut them and refuse new ones for a
// while, as a network partition between the client and the server would.
type flakyDialer struct {
	mu    sync.Mutex
	until time.Time
	conns []net.Conn
}

func (d *flakyDialer) dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if time.Now().Before(d.until) {
		return nil, errors.New("test: partitioned from the server")
	}
	c, err := net.DialTimeout(network, addr, timeout)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

// partition closes every connection and refuses new ones for dur.
func (d *flakyDialer) partition(dur time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.until = time.Now().Add(dur)
	for _, c := range d.conns {
		c.Close()
	}
	d.conns = nil
}

// TestGoZookeeperSessions: a short partition keeps the session (its ephemerals stay, its watches
// are re-registered with SetWatches and catch up on what changed meanwhile); a partition longer
// than the session timeout expires it (ephemerals deleted, the client told "expired" when it
// comes back, after which go-zookeeper starts a new session).
func TestGoZookeeperSessions(t *testing.T) {
	t.Parallel()
	srv := startServer(t, func(c *config.Config) {
		c.TickTime = 100
		c.MinSessionTimeout = 200
		c.MaxSessionTimeout = 20000
	})
	observer := connectZK(t, srv.Addr, 10*time.Second)
	var d flakyDialer
	const timeout = 1500 * time.Millisecond
	c := connectZK(t, srv.Addr, timeout, zk.WithDialer(d.dial))
	sid := c.SessionID()
	must1[string](t)(c.Create("/sess", []byte("0"), zk.FlagPersistent, openACL))
	must1[string](t)(c.Create("/sess/eph", nil, zk.FlagEphemeral, openACL))

	// Short partition: reconnect to the same session.
	_, _, dataW := must3[[]byte, *zk.Stat, <-chan zk.Event](t)(c.GetW("/sess"))
	_, _, childW := must3[[]string, *zk.Stat, <-chan zk.Event](t)(c.ChildrenW("/sess"))
	_, _, existW := must3[bool, *zk.Stat, <-chan zk.Event](t)(c.ExistsW("/sess/later"))
	d.partition(300 * time.Millisecond)
	c.waitState(t, zk.StateDisconnected, 5*time.Second)
	must1[*zk.Stat](t)(observer.Set("/sess", []byte("1"), -1))
	must1[string](t)(observer.Create("/sess/later", nil, zk.FlagPersistent, openACL))
	c.waitState(t, zk.StateHasSession, 10*time.Second)
	if c.SessionID() != sid {
		t.Fatalf("session changed from %#x to %#x after a short partition", sid, c.SessionID())
	}
	wantEvent(t, dataW, zk.EventNodeDataChanged, "/sess")
	wantEvent(t, childW, zk.EventNodeChildrenChanged, "/sess")
	wantEvent(t, existW, zk.EventNodeCreated, "/sess/later")
	if ok, st := must2[bool, *zk.Stat](t)(observer.Exists("/sess/eph")); !ok || st.EphemeralOwner != sid {
		t.Fatalf("ephemeral lost over a short partition")
	}

	// Long partition: the server expires the session.
	_, _, gone := must3[bool, *zk.Stat, <-chan zk.Event](t)(observer.ExistsW("/sess/eph"))
	start := time.Now()
	d.partition(3 * timeout)
	c.waitState(t, zk.StateDisconnected, 5*time.Second)
	wantEvent(t, gone, zk.EventNodeDeleted, "/sess/eph")
	// go-zookeeper pings every third of the timeout, so the session was last touched at most
	// that long before the partition.
	if el := time.Since(start); el < timeout*2/3-50*time.Millisecond || el > timeout+2*time.Second {
		t.Errorf("session with a %v timeout expired %v after the client vanished", timeout, el)
	}
	c.waitState(t, zk.StateExpired, 15*time.Second)
	c.waitState(t, zk.StateHasSession, 15*time.Second)
	if c.SessionID() == sid || c.SessionID() == 0 {
		t.Fatalf("after expiry the client has session %#x (old %#x)", c.SessionID(), sid)
	}
	must1[string](t)(c.Create("/sess/eph", nil, zk.FlagEphemeral, openACL))
	if ok, st := must2[bool, *zk.Stat](t)(observer.Exists("/sess/eph")); !ok || st.EphemeralOwner != c.SessionID() {
		t.Fatalf("ephemeral of the new session: %v %+v", ok, st)
	}
}

func childrenOf(c *zkClient, path string) ([]string, error) {
	kids, _, err := c.Children(path)
	slices.Sort(kids)
	return kids, err
}

func must2[A, B any](t *testing.T) func(A, B, error) (A, B) {
	return func(a A, b B, err error) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return a, b
	}
}

func must3[A, B, C any](t *testing.T) func(A, B, C, error) (A, B, C) {
	return func(a A, b B, c C, err error) (A, B, C) {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return a, b, c
	}
}
