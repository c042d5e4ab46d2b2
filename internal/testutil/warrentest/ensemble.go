package warrentest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/server"
)

// Member is one server of a test ensemble.
type Member struct {
	ID     int64
	Addr   string // client address
	Dir    string
	Server *server.Server // nil while stopped
	cfg    *config.Config
	peer   string
	// ln and pl are the client and peer listeners reserved when the
	// ensemble was laid out, used by the first Start (a port closed and
	// listened on again can be taken in between by another test's
	// outgoing connection).
	ln, pl net.Listener
}

// Ensemble is an in-process ensemble on loopback ports.
type Ensemble struct {
	t       testing.TB
	Members []*Member
	opts    *Options
}

// StartEnsemble starts voters participants and observers observers (ids
// 1..n) on 127.0.0.1 and waits until every member serves clients.
func StartEnsemble(t testing.TB, voters, observers int, opts *Options) *Ensemble {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	e := &Ensemble{t: t, opts: opts}
	var servers []config.Server
	n := voters + observers
	for i := 1; i <= n; i++ {
		pl := listenFree(t)
		cl := listenFree(t)
		pp := pl.Addr().(*net.TCPAddr).Port
		cp := cl.Addr().(*net.TCPAddr).Port
		role := config.Participant
		if i > voters {
			role = config.Observer
		}
		servers = append(servers, config.Server{ID: int64(i), Host: "127.0.0.1", PeerPort: pp, ElectionPort: pp + 1, Role: role})
		e.Members = append(e.Members, &Member{ID: int64(i), Addr: "127.0.0.1:" + strconv.Itoa(cp), Dir: t.TempDir(),
			peer: "127.0.0.1:" + strconv.Itoa(pp), ln: cl, pl: pl})
	}
	for i, m := range e.Members {
		cfg := config.Default()
		cfg.DataDir, cfg.DataLogDir = m.Dir, m.Dir
		cfg.ClientPortAddress = "127.0.0.1"
		// The AdminServer on a loopback port picked at run time (Server.AdminAddr).
		cfg.AdminServerAddress, cfg.AdminServerPort = "127.0.0.1", 0
		_, port, _ := net.SplitHostPort(m.Addr)
		cfg.ClientPort, _ = strconv.Atoi(port)
		cfg.MyID = m.ID
		cfg.Servers = servers
		cfg.InitLimit, cfg.SyncLimit = 10, 5
		cfg.FourLetterWords = map[string]bool{"srvr": true, "stat": true, "mntr": true, "ruok": true, "cons": true, "conf": true}
		if servers[i].Role == config.Observer {
			cfg.PeerType = config.Observer
		}
		if opts.Config != nil {
			opts.Config(cfg)
		}
		m.cfg = cfg
	}
	for i := range e.Members {
		e.Start(i)
	}
	e.WaitServing(30 * time.Second)
	t.Cleanup(func() {
		for i := range e.Members {
			e.Stop(i)
		}
	})
	return e
}

// listenFree listens on a loopback port picked by the kernel.
func listenFree(t testing.TB) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("warrentest: %v", err)
	}
	t.Cleanup(func() { ln.Close() }) // (once a server owns it, closing again is harmless)
	return ln
}

// Start starts member i (again).
func (e *Ensemble) Start(i int) {
	e.t.Helper()
	m := e.Members[i]
	if m.Server != nil {
		return
	}
	var w io.Writer = io.Discard
	if e.opts.Log || os.Getenv("WARREN_TEST_LOG") != "" {
		w = testWriter{e.t}
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})).With("server", m.ID)
	ln, pl := m.ln, m.pl
	m.ln, m.pl = nil, nil
	var err error
	// A restart listens on the same ports again: the old listeners were
	// closed with the server, but another test's connection may hold the
	// port for a while.
	for try := 0; ln == nil && try < 250; try++ {
		if ln, err = net.Listen("tcp", m.Addr); err != nil {
			ln = nil
			time.Sleep(20 * time.Millisecond)
		}
	}
	if ln == nil {
		e.t.Fatalf("warrentest: listen %s: %v", m.Addr, err)
	}
	for try := 0; pl == nil && try < 250; try++ {
		if pl, err = net.Listen("tcp", m.peer); err != nil {
			pl = nil
			time.Sleep(20 * time.Millisecond)
		}
	}
	if pl == nil {
		ln.Close()
		e.t.Fatalf("warrentest: listen %s: %v", m.peer, err)
	}
	srv := server.New(m.cfg, server.Options{Logger: log, Listener: ln, PeerListener: pl,
		ContainerCheckInterval: e.opts.ContainerCheckInterval, SnapshotCatchUp: e.opts.SnapshotCatchUp})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		e.t.Fatalf("warrentest: start member %d: %v", m.ID, err)
	}
	m.Server = srv
}

// Stop stops member i (a clean stop; the data directory is kept).
func (e *Ensemble) Stop(i int) {
	if m := e.Members[i]; m.Server != nil {
		m.Server.Stop()
		m.Server = nil
	}
}

// Leader returns the index of the member that is leader, or -1.
func (e *Ensemble) Leader() int {
	for i, m := range e.Members {
		if m.Server != nil && m.Server.Mode() == server.ModeLeader {
			return i
		}
	}
	return -1
}

// WaitServing waits until one member leads and every running member serves.
func (e *Ensemble) WaitServing(timeout time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ok := e.Leader() >= 0
		for _, m := range e.Members {
			if m.Server != nil && !m.Server.Serving() {
				ok = false
			}
		}
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	var st []string
	for _, m := range e.Members {
		if m.Server != nil {
			st = append(st, fmt.Sprintf("%d:%s/serving=%v", m.ID, m.Server.Mode(), m.Server.Serving()))
		}
	}
	e.t.Fatalf("warrentest: ensemble not serving after %v: %v", timeout, st)
}

// Addrs returns the client addresses of all members.
func (e *Ensemble) Addrs() []string {
	out := make([]string, len(e.Members))
	for i, m := range e.Members {
		out[i] = m.Addr
	}
	return out
}
