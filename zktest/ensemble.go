package zktest

import (
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
)

// Ensemble is an ensemble of Warren servers running in this process, each
// a voting member of one raft group, on free ports of 127.0.0.1.
type Ensemble struct {
	t testing.TB
	e *warrentest.Ensemble
}

// StartEnsemble starts an ensemble of n servers (n ≥ 1; 3 or 5 are the
// usual sizes) with their data in temporary directories, waits until it has
// a leader and every member serves clients, and registers its shutdown with
// t.Cleanup. It fails the test if the ensemble does not come up within 30s.
// Call it, and Stop and Start, from the test's goroutine.
func StartEnsemble(t testing.TB, n int, opts ...Option) *Ensemble {
	t.Helper()
	if n < 1 {
		t.Fatalf("zktest: an ensemble needs at least one server, not %d", n)
	}
	o := buildOptions(opts)
	e := warrentest.StartEnsemble(t, n, 0, &warrentest.Options{
		Config:                 func(c *config.Config) { o.apply(c) },
		ContainerCheckInterval: o.reaper,
		Log:                    o.logs,
	})
	return &Ensemble{t: t, e: e}
}

// Len returns the number of servers.
func (e *Ensemble) Len() int { return len(e.e.Members) }

// Addrs returns the client address ("127.0.0.1:port") of every server, in
// order; server i has id i+1.
func (e *Ensemble) Addrs() []string { return e.e.Addrs() }

// ConnectString returns a ZooKeeper connect string naming every server
// ("127.0.0.1:p1,127.0.0.1:p2,…"), to which a chroot may be appended.
func (e *Ensemble) ConnectString() string { return strings.Join(e.Addrs(), ",") }

// Stop stops server i (0-based), keeping its data; its clients move to the
// other servers. Stopping a stopped server does nothing.
func (e *Ensemble) Stop(i int) {
	e.t.Helper()
	e.e.Stop(i)
}

// Start starts server i again after Stop, on the same ports and data, and
// waits (up to 30s) until the ensemble has a leader and every running server
// serves clients again.
func (e *Ensemble) Start(i int) {
	e.t.Helper()
	e.e.Start(i)
	e.e.WaitServing(30 * time.Second)
}

// Leader returns the index of the server that currently leads the ensemble,
// or -1 if none does.
func (e *Ensemble) Leader() int { return e.e.Leader() }
