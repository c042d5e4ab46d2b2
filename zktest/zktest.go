// Package zktest starts in-process Warren servers for Go tests, so that code
// that uses ZooKeeper (through package zk, or any other ZooKeeper client) can
// be tested without a JVM.
//
// Start starts a standalone server on a free 127.0.0.1 port, with its data
// in a temporary directory, and stops it when the test ends:
//
//	func TestMyService(t *testing.T) {
//		srv := zktest.Start(t)
//		conn, err := zk.Connect(ctx, srv.Addr())
//		…
//	}
//
// StartEnsemble does the same for an ensemble of n servers (a replicated
// raft group, as in production); ConnectString lists them all.
//
// Servers run with a short tickTime (WithTickTime, default 100ms) so that
// session expiry is quick to provoke, and a wide range of session timeouts
// (WithSessionTimeouts, default 2 ticks to 60s) so that clients get the
// timeout they ask for. Empty containers and expired TTL nodes are reaped
// every 100ms (WithReaperInterval); TTL nodes need WithExtendedTypes. Every
// four-letter word is enabled. The server's log is discarded unless
// WithLogs is given or the environment has WARREN_TEST_LOG set.
//
// New starts a server without a testing.TB, for TestMain (one server shared
// by a package's tests) and for examples; Close stops it and removes its
// data.
package zktest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/server"
)

// Option configures a test server or ensemble.
type Option func(*options)

type options struct {
	tickTime   time.Duration
	minSession time.Duration
	maxSession time.Duration
	extended   bool
	reaper     time.Duration
	logs       bool
}

func buildOptions(opts []Option) options {
	o := options{tickTime: 100 * time.Millisecond, maxSession: 60 * time.Second, reaper: 100 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithTickTime sets the server's tickTime (default 100ms; ZooKeeper's
// default is 3s). Sessions expire on tick boundaries, and the default
// minimum session timeout is two ticks.
func WithTickTime(d time.Duration) Option {
	return func(o *options) {
		if d >= time.Millisecond {
			o.tickTime = d
		}
	}
}

// WithSessionTimeouts sets the range the server clamps the session timeouts
// that clients ask for into (minSessionTimeout, maxSessionTimeout). Zero
// keeps a bound's default: two ticks for min, 60s for max.
func WithSessionTimeouts(min, max time.Duration) Option {
	return func(o *options) {
		if min > 0 {
			o.minSession = min
		}
		if max > 0 {
			o.maxSession = max
		}
	}
}

// WithExtendedTypes enables ZooKeeper's extended types
// (extendedTypesEnabled=true): TTL nodes (zk.Conn.CreateTTL).
func WithExtendedTypes() Option {
	return func(o *options) { o.extended = true }
}

// WithReaperInterval sets how often the server deletes empty container nodes
// and expired TTL nodes (default 100ms; ZooKeeper's
// znode.container.checkIntervalMs defaults to a minute).
func WithReaperInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.reaper = d
		}
	}
}

// WithLogs sends the server's log (debug level) to the test log.
func WithLogs() Option {
	return func(o *options) { o.logs = true }
}

// apply writes the options into a server configuration.
func (o *options) apply(c *config.Config) {
	tick := int(o.tickTime / time.Millisecond)
	c.TickTime = tick
	c.Props["tickTime"] = strconv.Itoa(tick)
	c.MinSessionTimeout = 2 * tick
	if o.minSession > 0 {
		c.MinSessionTimeout = int(o.minSession / time.Millisecond)
	}
	c.MaxSessionTimeout = int(o.maxSession / time.Millisecond)
	if c.MaxSessionTimeout < c.MinSessionTimeout {
		c.MaxSessionTimeout = c.MinSessionTimeout
	}
	c.ExtendedTypesEnabled = o.extended
	c.MaxClientCnxns = 0 // tests open many sessions from 127.0.0.1
	// Small WAL segments: quicker to preallocate and to scan on restart,
	// and lighter on the test's temporary directory.
	c.PreAllocSizeKB = 4096
	c.FourLetterWords = map[string]bool{}
	for _, w := range []string{"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro",
		"mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs"} {
		c.FourLetterWords[w] = true
	}
}

func (o *options) logWriter(t testing.TB) io.Writer {
	if t != nil && (o.logs || os.Getenv("WARREN_TEST_LOG") != "") {
		return &testWriter{t: t}
	}
	if t == nil && o.logs {
		return os.Stderr
	}
	return io.Discard
}

// Server is a standalone Warren server running in this process.
type Server struct {
	opts    options
	cfg     *config.Config
	addr    string
	log     *slog.Logger
	tempDir bool // the data directory is ours to remove

	mu     sync.Mutex
	srv    *server.Server // nil while stopped
	closed bool
}

// Start starts a standalone server on a free port of 127.0.0.1 with its
// data in a temporary directory, and registers its Close with t.Cleanup. It
// fails the test (t.Fatal) if the server cannot start. Call it from the
// test's goroutine.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	o := buildOptions(opts)
	s, err := newServer(o, t.TempDir(), o.logWriter(t))
	if err != nil {
		t.Fatalf("zktest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// New starts a standalone server like Start, for code that has no
// testing.TB (TestMain, examples). The caller must Close it.
func New(opts ...Option) (*Server, error) {
	o := buildOptions(opts)
	dir, err := os.MkdirTemp("", "zktest-")
	if err != nil {
		return nil, fmt.Errorf("zktest: %w", err)
	}
	s, err := newServer(o, dir, o.logWriter(nil))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("zktest: %w", err)
	}
	s.tempDir = true
	return s, nil
}

func newServer(o options, dir string, w io.Writer) (*Server, error) {
	cfg := config.Default()
	cfg.DataDir, cfg.DataLogDir = dir, dir
	cfg.Props["dataDir"] = dir
	cfg.ClientPortAddress = "127.0.0.1"
	o.apply(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cfg.ClientPort = ln.Addr().(*net.TCPAddr).Port
	cfg.Props["clientPort"] = strconv.Itoa(cfg.ClientPort)
	s := &Server{
		opts: o, cfg: cfg, addr: ln.Addr().String(),
		log: slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if err := s.start(ln); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ln net.Listener) error {
	srv := server.New(s.cfg, server.Options{Logger: s.log, Listener: ln, ContainerCheckInterval: s.opts.reaper})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		srv.Stop()
		ln.Close()
		return fmt.Errorf("starting the server: %w", err)
	}
	s.srv = srv
	return nil
}

// Addr returns the server's client address, "127.0.0.1:port". It stays the
// same across Stop and Restart.
func (s *Server) Addr() string { return s.addr }

// ConnectString returns a ZooKeeper connect string for the server (its
// address), to which a chroot may be appended.
func (s *Server) ConnectString() string { return s.addr }

// Stop stops the server, as a crash would look to clients: every connection
// is closed and the port refuses connections. The data is kept, and sessions
// resume if the server is restarted (Restart) before they time out. Stop on
// a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	if s.srv != nil {
		s.srv.Stop()
		s.srv = nil
	}
}

// Restart stops the server if it is running and starts it again on the same
// port with the same data: clients reconnect by themselves, and their
// sessions survive if they had not timed out. It returns an error if the
// server cannot start again (the port was taken meanwhile, say) or was
// closed.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("zktest: Restart after Close")
	}
	s.stopLocked()
	var (
		ln  net.Listener
		err error
	)
	// The port is free once the old listener is closed, but give the
	// kernel a moment if it disagrees.
	for try := 0; try < 100; try++ {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("zktest: restart: %w", err)
	}
	if err := s.start(ln); err != nil {
		return fmt.Errorf("zktest: restart: %w", err)
	}
	return nil
}

// Running reports whether the server is running (between Start or Restart
// and Stop).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv != nil
}

// Close stops the server for good and, for a server from New, removes its
// data directory (Start's directory belongs to the test and goes with it).
// Close is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.stopLocked()
	if s.tempDir {
		return os.RemoveAll(s.cfg.DataDir)
	}
	return nil
}

// testWriter sends log lines to the test log (the server is stopped before
// the test ends).
type testWriter struct{ t testing.TB }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
