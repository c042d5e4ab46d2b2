package server_test

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/server"
	"github.com/warren-zk/warren/internal/testutil/faultproxy"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
	"github.com/warren-zk/warren/internal/transport"
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

// TestOneWayPartitionedMemberStopsServing is bug R6: a member whose outgoing
// peer connections are silenced still hears the leader, but nothing it sends
// (session touches, forwarded writes) reaches it, so the leader would expire
// the sessions of the clients it keeps serving. It must stop serving within
// syncLimit x tickTime, as a ZooKeeper follower whose (two-way) link to the
// leader failed does, so that its clients move to a member that reaches the
// leader; the members whose links work both ways keep serving throughout.
// The follower is silenced first, then the observer.
func TestOneWayPartitionedMemberStopsServing(t *testing.T) {
	const tickTime, syncLimit = 400, 5
	limit := time.Duration(tickTime*syncLimit) * time.Millisecond
	var (
		mu    sync.Mutex
		links = map[[2]int64]*faultproxy.Proxy{} // {from, to} -> the proxy from dials to reach to
	)
	e := warrentest.StartEnsemble(t, 3, 1, &warrentest.Options{Config: func(c *config.Config) {
		c.TickTime, c.SyncLimit = tickTime, syncLimit
		// Every member reaches every other through a proxy of its own:
		// its server.N lines for the others name the proxies.
		servers := append([]config.Server(nil), c.Servers...)
		for i := range servers {
			if servers[i].ID == c.MyID {
				continue
			}
			p, err := faultproxy.New(fmt.Sprintf("%d->%d", c.MyID, servers[i].ID),
				net.JoinHostPort(servers[i].Host, strconv.Itoa(servers[i].PeerPort)), uint64(c.MyID))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			mu.Lock()
			links[[2]int64{c.MyID, servers[i].ID}] = p
			mu.Unlock()
			servers[i].Host, servers[i].PeerPort = "127.0.0.1", p.Port()
		}
		c.Servers = servers
	}})
	silence := func(m *warrentest.Member, drop bool) {
		mu.Lock()
		defer mu.Unlock()
		for k, p := range links {
			if k[0] == m.ID {
				if drop {
					p.SetMode(faultproxy.Drop)
				} else {
					p.SetMode(faultproxy.Pass)
				}
			}
		}
	}
	leader := e.Leader()
	follower := (leader + 1) % 3
	for _, cut := range []int{follower, 3} {
		c := e.Members[cut]
		var rest []*warrentest.Member
		for i, m := range e.Members {
			if i != cut {
				rest = append(rest, m)
			}
		}
		victim := dial(t, c.Addr)
		victim.connect(30000, 0, nil, true)
		var others []*raw
		for _, m := range rest {
			r := dial(t, m.Addr)
			r.connect(30000, 0, nil, true)
			others = append(others, r)
		}
		allServe := func() {
			t.Helper()
			for _, m := range rest {
				if !m.Server.Serving() {
					t.Fatalf("member %d (%s), whose links work both ways, stopped serving while member %d's outgoing links were silenced",
						m.ID, m.Server.Mode(), c.ID)
				}
			}
		}

		silence(c, true)
		start := time.Now()
		// Its last acknowledged touch was sent before the silence began, so
		// it stops within the limit (plus a touch interval and the time the
		// test takes to look); the deadline leaves room for a slow machine.
		for c.Server.Serving() {
			if time.Since(start) > 3*limit {
				t.Fatalf("member %d (%s) still serves %v after its outgoing peer connections were silenced (limit %v)",
					c.ID, c.Server.Mode(), time.Since(start).Round(time.Millisecond), limit)
			}
			allServe()
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("member %d (%s) stopped serving %v after its outgoing peer connections were silenced (limit %v)",
			c.ID, c.Server.Mode(), time.Since(start).Round(time.Millisecond), limit)
		victim.expectClosed()
		// It stays out while the fault lasts (it still hears the leader);
		// the others keep serving and answering their clients.
		for until := time.Now().Add(limit); time.Now().Before(until); {
			if c.Server.Serving() {
				t.Fatalf("member %d serves again although it still cannot reach the leader", c.ID)
			}
			allServe()
			for _, r := range others {
				r.ping()
			}
			time.Sleep(50 * time.Millisecond)
		}
		if code := others[0].call(proto.OpCreate, &proto.CreateRequest{Path: fmt.Sprintf("/during-%d", c.ID), Acl: open}, nil); code != 0 {
			t.Fatalf("write through member %d during the fault: %v", rest[0].ID, code)
		}

		silence(c, false)
		e.WaitServing(30 * time.Second)
		r := dial(t, c.Addr)
		r.connect(30000, 0, nil, true)
		if code := r.call(proto.OpCreate, &proto.CreateRequest{Path: fmt.Sprintf("/after-%d", c.ID), Acl: open}, nil); code != 0 {
			t.Fatalf("write through member %d after the fault healed: %v", c.ID, code)
		}
	}
}

// TestUnknownPeerMessagesAreIgnored: a frame of a kind a member does not
// know, or a touch or acknowledgement that is malformed, is dropped; the
// member goes on as before.
func TestUnknownPeerMessagesAreIgnored(t *testing.T) {
	e := warrentest.StartEnsemble(t, 3, 0, &warrentest.Options{Config: func(c *config.Config) { c.TickTime = 400 }})
	for _, m := range e.Members {
		from := uint64(m.ID%3 + 1)
		for _, f := range []struct {
			kind    byte
			payload []byte
		}{
			{0, nil}, {200, []byte("future")}, {255, make([]byte, 3)},
			{transport.KindTouch, nil}, {transport.KindTouch, []byte{1, 2, 3}},
			{transport.KindTouchAck, nil}, {transport.KindTouchAck, []byte{1}},
			{transport.KindTouchAck, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
			{transport.KindTouchAck, make([]byte, 17)},
			{transport.KindForwardReject, []byte{9}}, {transport.KindReadIndexReq, []byte{1}},
		} {
			m.Server.Receive(from, f.kind, f.payload)
		}
	}
	e.WaitServing(10 * time.Second)
	r := dial(t, e.Members[(e.Leader()+1)%3].Addr)
	r.connect(30000, 0, nil, true)
	if code := r.call(proto.OpCreate, &proto.CreateRequest{Path: "/still", Acl: open}, nil); code != 0 {
		t.Fatalf("create after odd peer frames: %v", code)
	}
}

// A whole ensemble that starts elects its first leader as soon as a quorum
// of members is up, not after raft's randomized election timeout (5 s and
// more with tickTime=2000 and syncLimit=5); a member restarting into a
// running ensemble does not disturb its leader (its pre-vote is refused).
func TestStartupElection(t *testing.T) {
	start := time.Now()
	e := warrentest.StartEnsemble(t, 3, 0, nil)
	minTimeout := 5 * time.Second // syncLimit x tickTime / 2: raft's election timeout here
	if took := time.Since(start); took >= minTimeout {
		t.Fatalf("the ensemble took %v to elect a leader and serve; raft's own timer would take at least %v", took, minTimeout)
	}
	leader := e.Leader()
	r := dial(t, e.Members[leader].Addr)
	r.connect(30000, 0, nil, true)
	epoch := func(path string) int64 {
		var cr proto.Create2Response
		if code := r.call(proto.OpCreate2, &proto.CreateRequest{Path: path, Acl: open}, &cr); code != 0 {
			t.Fatalf("create %s: %v", path, code)
		}
		return cr.Stat.Czxid >> 32
	}
	before := epoch("/before")
	f := (leader + 1) % 3
	e.Stop(f)
	e.Start(f)
	e.WaitServing(20 * time.Second)
	// Give a disruptive campaign (were there one) time to happen.
	time.Sleep(time.Second)
	if e.Leader() != leader {
		t.Fatalf("leader changed from member %d to %d when member %d restarted", leader+1, e.Leader()+1, f+1)
	}
	if after := epoch("/after"); after != before {
		t.Fatalf("epoch went from %d to %d when member %d restarted: an election took place", before, after, f+1)
	}
}

// A new leader gives every session one full timeout before expiring it, not
// two: an abandoned session's ephemerals go about a timeout after the
// election (with two extensions they stayed twice as long after every
// leader change, and a run of leader changes kept them for many timeouts).
func TestNewLeaderExpiresAfterOneTimeout(t *testing.T) {
	e := warrentest.StartEnsemble(t, 3, 0, &warrentest.Options{Config: func(c *config.Config) { c.TickTime = 400 }})
	leader := e.Leader()
	f := (leader + 1) % 3
	const timeout = 4000 // ms; tickTime 400 allows 800..8000
	r := dial(t, e.Members[f].Addr)
	if resp := r.connect(timeout, 0, nil, true); resp.TimeOut != timeout {
		t.Fatalf("negotiated timeout %d, want %d", resp.TimeOut, timeout)
	}
	if code := r.call(proto.OpCreate, &proto.CreateRequest{Path: "/gone", Acl: open, Flags: proto.ModeEphemeral}, nil); code != 0 {
		t.Fatalf("create ephemeral: %v", code)
	}
	r.c.Close() // abandoned: no closeSession
	e.Stop(leader)
	deadline := time.Now().Add(30 * time.Second)
	for e.Leader() < 0 {
		if time.Now().After(deadline) {
			t.Fatal("no new leader")
		}
		time.Sleep(10 * time.Millisecond)
	}
	elected := time.Now()
	q := dial(t, e.Members[f].Addr)
	q.connect(30000, 0, nil, true)
	for {
		q.call(proto.OpSync, &proto.SyncRequest{Path: "/"}, nil)
		if code := q.call(proto.OpExists, &proto.ExistsRequest{Path: "/gone"}, &proto.ExistsResponse{}); code == proto.ErrNoNode {
			break
		}
		if time.Since(elected) > 30*time.Second {
			t.Fatal("the abandoned session's ephemeral never went")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// One timeout (4 s) plus a tick and the commit; two timeouts would be 8 s.
	if took := time.Since(elected); took > 6*time.Second {
		t.Fatalf("the ephemeral went %v after the new leader was elected; one session timeout is %v", took.Round(time.Millisecond), timeout*time.Millisecond)
	}
}
