package main

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/bench"
	"github.com/warren-zk/warren/internal/proto"
)

// serveFloor serves clients with lg as the log (nil: none) on a fresh
// loopback port until the test ends, and returns the address.
func serveFloor(t *testing.T, lg logger) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- acceptLoop(ln, lg) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Errorf("accept loop: %v", err)
		}
	})
	return ln.Addr().String()
}

// openTestLog opens a floor log in a fresh directory.
func openTestLog(t *testing.T) *logFile {
	t.Helper()
	lf, err := openLog(filepath.Join(t.TempDir(), "floor.log"))
	if err != nil {
		t.Fatal(err)
	}
	return lf
}

// runWorkloads runs each workload for a count of operations (not a time:
// this disk's fdatasync stalls now and then) with sessions spread over
// addrs; every one must complete them all without errors.
func runWorkloads(t *testing.T, addrs []string, sessions int, workloads ...string) {
	t.Helper()
	const ops = 60
	for _, w := range workloads {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := bench.Run(ctx, bench.Config{
			Servers: addrs, Workload: w, Sessions: sessions, Keys: 50,
			Ops: ops, Duration: 0, ValueSize: 10, Root: "/floor",
		})
		cancel()
		if err != nil || res.Ops != ops || res.ErrorCount() != 0 {
			t.Errorf("%s: %d ops, errors %s: %v", w, res.Ops, res.ErrorsString(), err)
		}
	}
}

// committedIndex returns the leader's commit index.
func (l *leader) committedIndex() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.committed
}

// TestBenchWorkloads runs internal/bench's timed workloads against the
// standalone floor, with and without its log.
func TestBenchWorkloads(t *testing.T) {
	workloads := []string{"create", "set", "get", "mixed", "churn", "watch"}
	t.Run("no log", func(t *testing.T) {
		runWorkloads(t, []string{serveFloor(t, nil)}, 4, workloads...)
	})
	t.Run("log", func(t *testing.T) {
		l := newLeader(openTestLog(t), nil)
		runWorkloads(t, []string{serveFloor(t, l)}, 4, workloads...)
		if l.committedIndex() == 0 {
			t.Error("nothing was committed")
		}
	})
}

// TestEnsemble runs the workloads an ensemble floor takes against a leader
// and two followers in this process, sessions spread over all three: every
// write of a follower's client goes through the leader and back.
func TestEnsemble(t *testing.T) {
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The peer connections stay up until the process exits: a member
	// whose peer goes away exits.
	l := newLeader(openTestLog(t), pl)
	addrs := []string{serveFloor(t, l)}
	for range 2 {
		f, err := dialLeader(openTestLog(t), pl.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, serveFloor(t, f))
	}
	runWorkloads(t, addrs, 6, "create", "set", "get", "mixed", "churn")
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.followers) != 2 || l.committed == 0 || l.followers[0].ack == 0 || l.followers[1].ack == 0 {
		t.Errorf("followers %d, committed %d", len(l.followers), l.committed)
	}
}

// TestReplies decodes the reply to each request the floor answers with
// its ZooKeeper record: the bench ignores most reply bodies, clients do not.
func TestReplies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := bench.Dial(ctx, serveFloor(t, nil), bench.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var create proto.CreateResponse
	var create2 proto.Create2Response
	var sync proto.SyncResponse
	for _, tc := range []struct {
		op        proto.OpCode
		req, resp proto.Record
	}{
		{proto.OpCreate, &proto.CreateRequest{Path: "/a/b", Acl: proto.OpenACLUnsafe}, &create},
		{proto.OpCreate2, &proto.CreateRequest{Path: "/c", Acl: proto.OpenACLUnsafe}, &create2},
		{proto.OpSync, &proto.SyncRequest{Path: "/s"}, &sync},
		{proto.OpExists, &proto.ExistsRequest{Path: "/a"}, &proto.ExistsResponse{}},
		{proto.OpGetData, &proto.GetDataRequest{Path: "/a"}, &proto.GetDataResponse{}},
		{proto.OpSetData, &proto.SetDataRequest{Path: "/a", Version: -1}, &proto.SetDataResponse{}},
		{proto.OpGetChildren, &proto.GetChildrenRequest{Path: "/a"}, &proto.GetChildrenResponse{}},
		{proto.OpGetChildren2, &proto.GetChildren2Request{Path: "/a"}, &proto.GetChildren2Response{}},
		{proto.OpDelete, &proto.DeleteRequest{Path: "/a", Version: -1}, nil},
	} {
		if err := c.Call(ctx, tc.op, tc.req, tc.resp); err != nil {
			t.Errorf("op %d: %v", tc.op, err)
		}
	}
	if create.Path != "/a/b" || create2.Path != "/c" || sync.Path != "/s" {
		t.Errorf("paths not echoed: %q %q %q", create.Path, create2.Path, sync.Path)
	}
}

// TestSrvr: readiness probes get a Mode line.
func TestSrvr(t *testing.T) {
	c, err := net.Dial("tcp", serveFloor(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("srvr")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 200)
	n, _ := c.Read(b)
	if !strings.Contains(string(b[:n]), "Mode: standalone") {
		t.Errorf("srvr: %q", b[:n])
	}
}
