package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/server"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
)

func TestEnsembleReplicatesAndFailsOver(t *testing.T) {
	e := warrentest.StartEnsemble(t, 3, 1, nil)
	leader := e.Leader()
	modes := map[string]int{}
	for _, m := range e.Members {
		modes[m.Server.Mode()]++
	}
	if modes[server.ModeLeader] != 1 || modes[server.ModeFollower] != 2 || modes[server.ModeObserver] != 1 {
		t.Fatalf("modes = %v", modes)
	}
	// Write through a follower and the observer; read everywhere after sync.
	var clients []*raw
	for _, m := range e.Members {
		r := dial(t, m.Addr)
		r.connect(30000, 0, nil, true)
		clients = append(clients, r)
	}
	for i, r := range clients {
		if code := r.call(proto.OpCreate, &proto.CreateRequest{Path: fmt.Sprintf("/m%d", i), Data: []byte{byte(i)}, Acl: open}, nil); code != 0 {
			t.Fatalf("create through member %d: %v", i+1, code)
		}
	}
	for i, r := range clients {
		r.call(proto.OpSync, &proto.SyncRequest{Path: "/"}, nil)
		var ch proto.GetChildrenResponse
		r.call(proto.OpGetChildren, &proto.GetChildrenRequest{Path: "/"}, &ch)
		if len(ch.Children) != 5 { // zookeeper + m0..m3
			t.Fatalf("member %d sees %v", i+1, ch.Children)
		}
	}
	// An ephemeral created through a follower is replicated with its owner.
	f := (leader + 1) % 3
	clients[f].call(proto.OpCreate, &proto.CreateRequest{Path: "/eph", Acl: open, Flags: proto.ModeEphemeral}, nil)

	// Kill the leader: a new one is elected and writes go on.
	e.Stop(leader)
	deadline := time.Now().Add(20 * time.Second)
	for e.Leader() < 0 || e.Leader() == leader {
		if time.Now().After(deadline) {
			t.Fatal("no new leader after the old one stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.WaitServing(20 * time.Second)
	survivor := (leader + 2) % 3
	r := dial(t, e.Members[survivor].Addr)
	r.connect(30000, 0, nil, true)
	if code := r.call(proto.OpCreate, &proto.CreateRequest{Path: "/after", Acl: open}, nil); code != 0 {
		t.Fatalf("create after failover: %v", code)
	}
	// The old leader comes back as a follower and catches up.
	e.Start(leader)
	e.WaitServing(20 * time.Second)
	if mode := e.Members[leader].Server.Mode(); mode != server.ModeFollower {
		t.Fatalf("restarted leader is %s", mode)
	}
	q := dial(t, e.Members[leader].Addr)
	q.connect(30000, 0, nil, true)
	q.call(proto.OpSync, &proto.SyncRequest{Path: "/"}, nil)
	if code := q.call(proto.OpExists, &proto.ExistsRequest{Path: "/after"}, &proto.ExistsResponse{}); code != 0 {
		t.Fatalf("restarted member lacks /after: %v", code)
	}
	if code := q.call(proto.OpExists, &proto.ExistsRequest{Path: "/eph"}, &proto.ExistsResponse{}); code != 0 {
		t.Fatalf("ephemeral of a live session lost in failover: %v", code)
	}
}

func TestSessionMovesBetweenMembers(t *testing.T) {
	e := warrentest.StartEnsemble(t, 3, 0, nil)
	leader := e.Leader()
	a, b := e.Members[(leader+1)%3], e.Members[(leader+2)%3]
	r := dial(t, a.Addr)
	r.connect(30000, 0, nil, true)
	if code := r.call(proto.OpCreate, &proto.CreateRequest{Path: "/owned", Acl: open, Flags: proto.ModeEphemeral}, nil); code != 0 {
		t.Fatalf("create: %v", code)
	}
	// The client reconnects through another member: the session moves.
	q := dial(t, b.Addr)
	if resp := q.connect(30000, r.sid, r.pw, true); resp.SessionID != r.sid {
		t.Fatalf("reattach through another member: %+v", resp)
	}
	if code := q.call(proto.OpSetData, &proto.SetDataRequest{Path: "/owned", Data: []byte("x"), Version: -1}, &proto.SetDataResponse{}); code != 0 {
		t.Fatalf("write through the new owner: %v", code)
	}
	// A write still sent through the old member fails SessionMoved, which
	// closes that connection instead of answering.
	r.send(proto.OpSetData, &proto.SetDataRequest{Path: "/owned", Data: []byte("stale"), Version: -1})
	r.expectClosed()
	var g proto.GetDataResponse
	q.call(proto.OpGetData, &proto.GetDataRequest{Path: "/owned"}, &g)
	if string(g.Data) != "x" {
		t.Fatalf("the stale write through the old owner was applied: %q", g.Data)
	}
	// The ephemeral belongs to the session wherever it lives.
	if g.Stat.EphemeralOwner != r.sid {
		t.Fatalf("ephemeral owner %x, want %x", g.Stat.EphemeralOwner, r.sid)
	}
}

func TestLaggingFollowerCatchesUpFromSnapshot(t *testing.T) {
	e := warrentest.StartEnsemble(t, 3, 0, &warrentest.Options{
		SnapshotCatchUp: 10,
		Config:          func(c *config.Config) { c.SnapCount = 40 },
	})
	leader := e.Leader()
	lag := (leader + 1) % 3
	e.Stop(lag)
	r := dial(t, e.Members[leader].Addr)
	r.connect(30000, 0, nil, true)
	for i := 0; i < 300; i++ {
		if code := r.call(proto.OpCreate, &proto.CreateRequest{Path: fmt.Sprintf("/n%03d", i), Data: []byte(fmt.Sprint(i)), Acl: open}, nil); code != 0 {
			t.Fatalf("create %d: %v", i, code)
		}
	}
	r.call(proto.OpSetData, &proto.SetDataRequest{Path: "/n007", Data: []byte("changed"), Version: -1}, nil)
	want := dumpTree(t, r)
	// The stopped follower's log ends far before the leader's compacted
	// log starts: it can only catch up from a snapshot.
	e.Start(lag)
	e.WaitServing(30 * time.Second)
	q := dial(t, e.Members[lag].Addr)
	q.connect(30000, 0, nil, true)
	q.call(proto.OpSync, &proto.SyncRequest{Path: "/"}, nil)
	got := dumpTree(t, q)
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("follower differs after catching up (-leader +follower):\n%s", d)
	}
	// And it keeps replicating afterwards.
	r.call(proto.OpCreate, &proto.CreateRequest{Path: "/after", Acl: open}, nil)
	q.call(proto.OpSync, &proto.SyncRequest{Path: "/"}, nil)
	if code := q.call(proto.OpExists, &proto.ExistsRequest{Path: "/after"}, &proto.ExistsResponse{}); code != 0 {
		t.Fatalf("no replication after the snapshot: %v", code)
	}
	// Its log now starts after a snapshot that lies past its old end: it
	// must still restart from its own data directory.
	want = dumpTree(t, r)
	e.Stop(lag)
	e.Start(lag)
	e.WaitServing(30 * time.Second)
	q = dial(t, e.Members[lag].Addr)
	q.connect(30000, 0, nil, true)
	q.call(proto.OpSync, &proto.SyncRequest{Path: "/"}, nil)
	if d := cmp.Diff(want, dumpTree(t, q)); d != "" {
		t.Fatalf("follower differs after restarting (-leader +follower):\n%s", d)
	}
}

// TestLeaderChangeKeepsReadersConnected: a member that hears from a leader
// within syncLimit keeps serving through an election, so a leadership
// change does not drop its idle clients (writes in flight at the change
// would fail; none are here).
func TestLeaderChangeKeepsReadersConnected(t *testing.T) {
	e := warrentest.StartEnsemble(t, 3, 0, nil)
	old := e.Leader()
	f := (old + 1) % 3
	r := dial(t, e.Members[f].Addr)
	r.connect(30000, 0, nil, true)
	r.call(proto.OpCreate, &proto.CreateRequest{Path: "/k", Data: []byte("v"), Acl: open}, nil)
	e.Members[old].Server.TransferLeadership(uint64(e.Members[(old+2)%3].ID))
	deadline := time.Now().Add(20 * time.Second)
	for e.Leader() == old || e.Leader() < 0 {
		if time.Now().After(deadline) {
			t.Fatal("leadership did not move")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Same connection, still answered.
	var g proto.GetDataResponse
	if code := r.call(proto.OpGetData, &proto.GetDataRequest{Path: "/k"}, &g); code != 0 || string(g.Data) != "v" {
		t.Fatalf("read on the same connection after the leader changed: %v %q", code, g.Data)
	}
	if code := r.call(proto.OpSetData, &proto.SetDataRequest{Path: "/k", Data: []byte("w"), Version: -1}, &proto.SetDataResponse{}); code != 0 {
		t.Fatalf("write through the follower to the new leader: %v", code)
	}
}
