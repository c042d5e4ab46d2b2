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

// TestBenchWorkloads runs internal/bench's timed workloads against the
// floor server, with and without its log: every one must
// complete without errors, and the log must have been written.
func TestBenchWorkloads(t *testing.T) {
	for _, durable := range []bool{false, true} {
		var lg logger
		var c *committer
		dir := t.TempDir()
		if durable {
			var err error
			if c, err = newCommitter(filepath.Join(dir, "floor.log")); err != nil {
				t.Fatal(err)
			}
			go c.run()
			lg = c
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- acceptLoop(ln, lg) }()
		for _, w := range []string{"create", "set", "get", "mixed", "churn", "watch"} {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			res, err := bench.Run(ctx, bench.Config{
				Servers: []string{ln.Addr().String()}, Workload: w, Sessions: 4, Keys: 50,
				Ops: 50, Duration: 0, ValueSize: 10, Root: "/floor", // a count, not a time: this disk's fdatasync stalls now and then
			})
			cancel()
			if err != nil || res.Ops != 50 || res.ErrorCount() != 0 {
				t.Errorf("durable=%v %s: %d ops, errors %s: %v", durable, w, res.Ops, res.ErrorsString(), err)
			}
		}
		ln.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Errorf("accept loop: %v", err)
		}
		if durable {
			c.mu.Lock()
			off := c.log.off
			c.mu.Unlock()
			if off == 0 {
				t.Error("nothing was logged")
			}
		}
	}
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
	var addrs []string
	var members []logger
	for i := range 3 {
		lf, err := openLog(filepath.Join(t.TempDir(), "floor.log"))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			members = append(members, newLeader(lf, pl))
			continue
		}
		f, err := dialLeader(lf, pl.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, f)
	}
	for _, m := range members {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go acceptLoop(ln, m)
		addrs = append(addrs, ln.Addr().String())
	}
	for _, w := range []string{"create", "set", "get", "mixed", "churn"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := bench.Run(ctx, bench.Config{
			Servers: addrs, Workload: w, Sessions: 6, Keys: 50,
			Ops: 60, Duration: 0, ValueSize: 10, Root: "/floor",
		})
		cancel()
		if err != nil || res.Ops != 60 || res.ErrorCount() != 0 {
			t.Errorf("%s: %d ops, errors %s: %v", w, res.Ops, res.ErrorsString(), err)
		}
	}
	l := members[0].(*leader)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.followers) != 2 || l.committed == 0 || l.followers[0].ack == 0 || l.followers[1].ack == 0 {
		t.Errorf("followers %d, committed %d", len(l.followers), l.committed)
	}
}

// TestReplies decodes the reply to each request the floor answers with
// its ZooKeeper record: the bench ignores most reply bodies, clients do not.
func TestReplies(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go acceptLoop(ln, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := bench.Dial(ctx, ln.Addr().String(), bench.DialOptions{})
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go acceptLoop(ln, nil)
	c, err := net.Dial("tcp", ln.Addr().String())
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
