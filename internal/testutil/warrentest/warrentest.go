// Package warrentest starts an in-process Warren server for a Go test, on a
// loopback port picked at runtime, and stops it when the test ends.
package warrentest

import (
	"context"
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

// Options tweak the server's configuration.
type Options struct {
	// Config edits the default configuration before the server starts.
	Config func(c *config.Config)
	// ContainerCheckInterval overrides the container/TTL reaper period.
	ContainerCheckInterval time.Duration
	// Log, if true, sends the server's log to the test log.
	Log bool
	// Logger, if set, is the server's logger (Log is then ignored).
	Logger *slog.Logger
	// DataDir, if set, is used instead of a fresh temporary directory (to
	// restart a server on the same data).
	DataDir string
	// SnapshotCatchUp overrides server.Options.SnapshotCatchUp.
	SnapshotCatchUp uint64
}

// Server is a running test server.
type Server struct {
	*server.Server
	Addr string
	Port int
	Cfg  *config.Config
}

// Start starts a standalone server on 127.0.0.1 with a temporary data
// directory, tickTime 2000 and every four-letter word enabled.
func Start(t testing.TB, opts *Options) *Server {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	cfg := config.Default()
	cfg.DataDir = opts.DataDir
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.DataLogDir = cfg.DataDir
	cfg.ClientPortAddress = "127.0.0.1"
	// The AdminServer on a loopback port picked at run time (Server.AdminAddr).
	cfg.AdminServerAddress, cfg.AdminServerPort = "127.0.0.1", 0
	cfg.FourLetterWords = map[string]bool{}
	for _, w := range []string{"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro",
		"mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs"} {
		cfg.FourLetterWords[w] = true
	}
	if opts.Config != nil {
		opts.Config(cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("warrentest: listen: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	cfg.ClientPort = port
	var w io.Writer = io.Discard
	if opts.Log || os.Getenv("WARREN_TEST_LOG") != "" {
		w = testWriter{t}
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.Logger != nil {
		log = opts.Logger
	}
	srv := server.New(cfg, server.Options{Logger: log, Listener: ln, ContainerCheckInterval: opts.ContainerCheckInterval})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("warrentest: start: %v", err)
	}
	t.Cleanup(srv.Stop)
	t.Cleanup(func() {
		select {
		case err := <-srv.Fatal():
			t.Errorf("warrentest: server reported a fatal error: %v", err)
		default:
		}
	})
	return &Server{Server: srv, Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port, Cfg: cfg}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
