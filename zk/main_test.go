package zk_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/server"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
	"github.com/warren-zk/warren/internal/testutil/zkoracle"
	"github.com/warren-zk/warren/zk"
)

// exampleAddr is the address of the in-process Warren server the examples
// talk to; TestMain starts it.
var exampleAddr string

func TestMain(m *testing.M) {
	stop, err := startExampleServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the example server:", err)
		os.Exit(2)
	}
	code := m.Run()
	stop()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// startExampleServer starts a standalone Warren server on loopback for the
// examples (which have no *testing.T to give warrentest).
func startExampleServer() (func(), error) {
	dir, err := os.MkdirTemp("", "zk-example-")
	if err != nil {
		return nil, err
	}
	cfg := config.Default()
	cfg.DataDir, cfg.DataLogDir, cfg.ClientPortAddress = dir, dir, "127.0.0.1"
	cfg.AdminEnableServer = false // parallel test binaries would fight over port 8080
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cfg.ClientPort = ln.Addr().(*net.TCPAddr).Port
	srv := server.New(cfg, server.Options{Logger: slog.New(slog.DiscardHandler), Listener: ln})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	exampleAddr = ln.Addr().String()
	return func() { srv.Stop(); os.RemoveAll(dir) }, nil
}

// Both servers run with tickTime 200ms so that sessions can be short (0.4s
// to 4s), an unlimited number of connections per client address and TTL
// nodes enabled.
const (
	tickTime       = 200
	defaultTimeout = 4 * time.Second // the longest session the servers grant
)

// env is one server the behaviour tests run against.
type env struct {
	name string // "warren" or "zookeeper"
	addr string
}

// zk38 reports whether the server is the Apache ZooKeeper 3.8.0 oracle,
// where the documented 3.8-vs-3.9 differences show.
func (e *env) zk38() bool { return e.name == "zookeeper" }

func startWarren(t *testing.T) *env {
	s := warrentest.Start(t, &warrentest.Options{Config: func(c *config.Config) {
		c.TickTime = tickTime
		c.MinSessionTimeout, c.MaxSessionTimeout = 2*tickTime, 20*tickTime
		c.MaxClientCnxns = 0
		c.ExtendedTypesEnabled = true
	}})
	return &env{name: "warren", addr: s.Addr}
}

func startZooKeeper(t *testing.T) *env {
	s := zkoracle.Start(t, &zkoracle.Options{
		TickTime:    tickTime,
		ExtraConfig: map[string]string{"maxClientCnxns": "0"},
		JVMProps:    map[string]string{"zookeeper.extendedTypesEnabled": "true"},
	})
	return &env{name: "zookeeper", addr: s.Addr}
}

// behaviour is a check that must hold against both servers.
type behaviour struct {
	name string
	fn   func(t *testing.T, e *env)
}

func behaviours() []behaviour {
	return []behaviour{
		{"Create", testCreate},
		{"CloseWhileLinkDies", testCloseWhileLinkDies},
		{"DeleteExistsGetSet", testDeleteExistsGetSet},
		{"Children", testChildren},
		{"ACL", testACL},
		{"Misc", testMisc},
		{"Multi", testMulti},
		{"MultiBadMode", testMultiBadMode},
		{"MultiRead", testMultiRead},
		{"OneShotWatches", testOneShotWatches},
		{"PersistentWatch", testPersistentWatch},
		{"RecursiveWatch", testRecursiveWatch},
		{"WatcherOverflow", testWatcherOverflow},
		{"RemoveCheckWatches", testRemoveCheckWatches},
		{"Chroot", testChroot},
		{"Auth", testAuth},
		{"Close", testClose},
		{"Reconnect", testReconnect},
		{"Expiry", testExpiry},
		{"Pings", testPings},
		{"ContextCancel", testContextCancel},
		{"ManyWatchesReconnect", testManyWatchesReconnect},
		{"Concurrent", testConcurrent},
	}
}

// TestServers runs every behaviour against an in-process Warren and against
// Apache ZooKeeper 3.8 (skipped, or failed with CI=true, if it is not
// installed).
func TestServers(t *testing.T) {
	for _, s := range []struct {
		name  string
		start func(*testing.T) *env
	}{{"warren", startWarren}, {"zookeeper", startZooKeeper}} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			e := s.start(t)
			for _, b := range behaviours() {
				t.Run(b.name, func(t *testing.T) {
					t.Parallel()
					b.fn(t, e)
				})
			}
		})
	}
}

// testLogger writes the client's log to the test's output (shown on failure
// or with -v).
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// ctxT returns a context that ends with the test or after d.
func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// connect opens a Conn to addr that the test closes at its end.
func connect(t *testing.T, addr string, opts ...zk.Option) *zk.Conn {
	t.Helper()
	opts = append([]zk.Option{zk.WithSessionTimeout(defaultTimeout), zk.WithLogger(testLogger(t)),
		zk.WithMaxBackoff(100 * time.Millisecond)}, opts...)
	c, err := zk.Connect(ctxT(t, 10*time.Second), addr, opts...)
	if err != nil {
		t.Fatalf("Connect(%s): %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// root creates a fresh persistent node for one test and returns its path.
func root(t *testing.T, c *zk.Conn) string {
	t.Helper()
	p := "/" + strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	if _, err := c.Create(ctxT(t, 5*time.Second), p, nil, zk.WorldACL(zk.PermAll), zk.ModePersistent); err != nil {
		t.Fatalf("create %s: %v", p, err)
	}
	return p
}

// result holds a (value, error) pair: of(f()).must(t) fails the test on error.
type result[T any] struct {
	v   T
	err error
}

func of[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr checks that err is an *zk.Error with code want.
func wantErr(t *testing.T, what string, err error, want zk.Code) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
	var ze *zk.Error
	if !errors.As(err, &ze) || ze.Code != want {
		t.Fatalf("%s: err = %#v, want a *zk.Error with code %v", what, err, want)
	}
}

// recv waits for one event on ch.
func recv(t *testing.T, ch <-chan zk.Event) zk.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed, want an event")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return zk.Event{}
}

// wantEvent waits for one event and checks its type and path.
func wantEvent(t *testing.T, ch <-chan zk.Event, typ zk.EventType, path string) {
	t.Helper()
	ev := recv(t, ch)
	if ev.Type != typ || ev.Path != path {
		t.Fatalf("event = %v %q, want %v %q", ev.Type, ev.Path, typ, path)
	}
}

// wantClosed checks that a one-shot channel is closed (its event consumed).
func wantClosed(t *testing.T, ch <-chan zk.Event) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("got a second event %+v on a one-shot watch", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("one-shot watch channel not closed")
	}
}

// wantNoEvent checks that nothing arrives on ch for a short while.
func wantNoEvent(t *testing.T, ch <-chan zk.Event, d time.Duration) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(d):
	}
}

// waitState waits until a state in want arrives on the Conn's StateEvents.
func waitState(t *testing.T, ch <-chan zk.State, d time.Duration, want zk.State) {
	t.Helper()
	timer := time.After(d)
	var seen []string
	for {
		select {
		case s, ok := <-ch:
			if !ok {
				t.Fatalf("state channel closed waiting for %v (saw %v)", want, seen)
			}
			seen = append(seen, s.String())
			if s == want {
				return
			}
		case <-timer:
			t.Fatalf("no state %v within %v (saw %v)", want, d, seen)
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func itoa(i int) string { return strconv.Itoa(i) }
