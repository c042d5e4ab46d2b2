package raftnode

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/warren-zk/warren/internal/testutil/syncbuf"
)

// memLog is a Storage that keeps what it is given.
type memLog struct {
	mu    sync.Mutex
	hs    *raftpb.HardState
	ents  []*raftpb.Entry
	syncs int
	// batches is every Save, in order (for replaying a log that lost its
	// last batches).
	batches []batch
	// gate, while set, holds every Save until it is closed (a stalled
	// disk).
	gate chan struct{}
}

// stall makes Saves wait until the returned function is called.
func (m *memLog) stall() (release func()) {
	g := make(chan struct{})
	m.mu.Lock()
	m.gate = g
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		m.gate = nil
		m.mu.Unlock()
		close(g)
	}
}

type batch struct {
	hs   *raftpb.HardState
	ents []*raftpb.Entry
}

func (m *memLog) Save(hs *raftpb.HardState, ents []*raftpb.Entry, mustSync bool) error {
	m.mu.Lock()
	g := m.gate
	m.mu.Unlock()
	if g != nil {
		<-g
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b := batch{ents: ents}
	if hs != nil {
		b.hs = proto.Clone(hs).(*raftpb.HardState)
	}
	m.batches = append(m.batches, b)
	if hs != nil {
		m.hs = hs
	}
	for _, e := range ents {
		for len(m.ents) > 0 && m.ents[len(m.ents)-1].GetIndex() >= e.GetIndex() {
			m.ents = m.ents[:len(m.ents)-1]
		}
		m.ents = append(m.ents, e)
	}
	if mustSync {
		m.syncs++
	}
	return nil
}

// lostTail returns the log as it was before its last n batches that hold
// entries (and the batches after them) were written: a disk that lost
// writes it had acknowledged as durable.
func (m *memLog) lostTail(n int) *memLog {
	m.mu.Lock()
	defer m.mu.Unlock()
	keep := len(m.batches)
	for ; keep > 0 && n > 0; keep-- {
		if len(m.batches[keep-1].ents) > 0 {
			n--
		}
	}
	out := &memLog{}
	for _, b := range m.batches[:keep] {
		out.Save(b.hs, b.ents, false)
	}
	return out
}

func (m *memLog) restart() *Restart {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &Restart{HardState: m.hs, Entries: append([]*raftpb.Entry(nil), m.ents...)}
}

func (m *memLog) lastIndex() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.ents) == 0 {
		return 0
	}
	return m.ents[len(m.ents)-1].GetIndex()
}

type applied struct {
	mu   sync.Mutex
	data []string
	idx  uint64
}

func (a *applied) apply(ents []*raftpb.Entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range ents {
		if e.GetIndex() != a.idx+1 && a.idx != 0 {
			panic(fmt.Sprintf("applied %d after %d", e.GetIndex(), a.idx))
		}
		a.idx = e.GetIndex()
		if e.GetType() == raftpb.EntryNormal && len(e.GetData()) > 0 {
			a.data = append(a.data, string(e.GetData()))
		}
	}
}

// has reports whether an entry holding d was applied (the newest first).
func (a *applied) has(d string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.data) - 1; i >= 0; i-- {
		if a.data[i] == d {
			return true
		}
	}
	return false
}

func (a *applied) snapshot() ([]string, uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.data...), a.idx
}

func start(t *testing.T, log *memLog, r *Restart, a *applied) *Node {
	t.Helper()
	n, err := New(Config{ID: 1, Peers: []uint64{1}, Storage: log, Restart: r, Apply: a.apply, Tick: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestProposeApplyReadIndexRestart(t *testing.T) {
	log, a := &memLog{}, &applied{}
	n := start(t, log, nil, a)
	if !n.IsLeader() {
		t.Fatal("a one-member group is not led by its member")
	}
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		if err := n.Propose(ctx, []byte(fmt.Sprint(i)), func(err error) { t.Errorf("dropped: %v", err) }); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := n.ReadIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, at := a.snapshot()
		if at >= idx && len(data) == 100 {
			for i, d := range data {
				if d != fmt.Sprint(i) {
					t.Fatalf("entry %d applied as %q: order broken", i, d)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("applied %d entries up to %d, read index %d", len(data), at, idx)
		}
		time.Sleep(5 * time.Millisecond)
	}
	n.Stop()
	if log.syncs == 0 || log.syncs > 100 {
		t.Fatalf("%d synced batches for 100 proposals", log.syncs)
	}

	// Restart from what the log kept: everything is applied again, in order.
	a2 := &applied{}
	n2 := start(t, log, &Restart{HardState: log.hs, Entries: log.ents}, a2)
	defer n2.Stop()
	idx2, err := n2.ReadIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		data, at := a2.snapshot()
		if at >= idx2 {
			if len(data) != 100 {
				t.Fatalf("replayed %d entries, want 100", len(data))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("replay did not reach the read index")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ReportUnreachable never blocks, even while the loop is not draining its
// request queue: Config.Send runs on the loop and may call it for every
// message it failed to send (a stopped peer with a full queue).
func TestReportUnreachableNeverBlocks(t *testing.T) {
	n, err := New(Config{ID: 1, Peers: []uint64{1, 2}, Apply: func([]*raftpb.Entry) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	done := make(chan struct{})
	go func() {
		for range 1000 { // far more than the loop's queue holds
			n.ReportUnreachable(2)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ReportUnreachable blocked with the loop not running")
	}
}

func TestStopBeforeRun(t *testing.T) {
	n, err := New(Config{ID: 1, Peers: []uint64{1}, Apply: func([]*raftpb.Entry) {}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { n.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop blocked on a node that never ran")
	}
}

// waitCount waits until a has applied n data entries and returns its
// applied index then.
func waitCount(t *testing.T, a *applied, n int) uint64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, at := a.snapshot()
		if len(data) >= n {
			return at
		}
		if time.Now().After(deadline) {
			t.Fatalf("applied %d entries, want %d", len(data), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A one-member group drops its applied in-memory log (CompactLog); a
// snapshot's compaction at an index already dropped must neither fail nor
// panic, and proposing, applying and ReadIndex go on.
func TestCompactLogThenSnapshotCompaction(t *testing.T) {
	log, a := &memLog{}, &applied{}
	n := start(t, log, nil, a)
	defer n.Stop()
	ctx := context.Background()
	propose := func(from, to int) uint64 {
		for i := from; i < to; i++ {
			if err := n.Propose(ctx, []byte(fmt.Sprint(i)), func(err error) { t.Errorf("dropped: %v", err) }); err != nil {
				t.Fatal(err)
			}
		}
		// (ReadIndex may answer before the proposals commit: wait for
		// them to be applied instead.)
		return waitCount(t, a, to)
	}
	idx := propose(0, 50)
	if idx < 50 {
		t.Fatalf("50 entries applied up to index %d", idx)
	}
	if err := n.CompactLog(idx); err != nil {
		t.Fatal(err)
	}
	if err := n.CompactLog(idx - 5); err != nil { // already dropped: not an error
		t.Fatal(err)
	}
	if err := n.Compact(idx-10, 5, n.ConfState()); err != nil {
		t.Fatalf("snapshot compaction below the dropped log: %v", err)
	}
	if first, _ := n.storage.FirstIndex(); first != idx+1 {
		t.Fatalf("first index %d after CompactLog(%d)", first, idx)
	}
	idx2 := propose(50, 100)
	if _, err := n.ReadIndex(ctx); err != nil {
		t.Fatalf("ReadIndex after compaction: %v", err)
	}
	data, _ := a.snapshot()
	for i, d := range data {
		if d != fmt.Sprint(i) {
			t.Fatalf("entry %d applied as %q", i, d)
		}
	}
	if err := n.Compact(idx2, 5, n.ConfState()); err != nil {
		t.Fatalf("snapshot compaction above the dropped log: %v", err)
	}
}

// A log that lost entries it had made durable can end before the commit
// index its newest surviving HardState recorded, if that was written apart
// from the entries; raft panics on such a state ("state.commit N is out of
// range"). The node starts at the log's end instead.
func TestRestartCommitPastTheLog(t *testing.T) {
	log, a := &memLog{}, &applied{}
	n := start(t, log, nil, a)
	for i := 0; i < 20; i++ {
		if err := n.Propose(context.Background(), []byte(fmt.Sprint(i)), func(err error) { t.Errorf("dropped: %v", err) }); err != nil {
			t.Fatal(err)
		}
	}
	waitCount(t, a, 20)
	n.Stop()
	r := log.restart()
	r.HardState = proto.Clone(r.HardState).(*raftpb.HardState)
	r.HardState.Commit = proto.Uint64(log.lastIndex() + 3)
	out, a2 := &logBuffer{}, &applied{}
	n2, err := New(Config{ID: 1, Peers: []uint64{1}, Storage: log, Restart: r, Apply: a2.apply, Tick: 10 * time.Millisecond, Logger: out.logger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n2.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer n2.Stop()
	waitCount(t, a2, 20)
	if out.count("the log ends before its recorded commit index") != 1 {
		t.Error("no warning about the commit index past the log")
	}
	if err := n2.Propose(context.Background(), []byte("20"), nil); err != nil {
		t.Fatal(err)
	}
	waitCount(t, a2, 21)
}

// A slow applier is logged, and so is the raft loop waiting for it (it
// sends no heartbeats meanwhile): the lead to follow when members stop
// hearing a leader that is alive.
func TestStallWarnings(t *testing.T) {
	log, out, a := &memLog{}, &logBuffer{}, &applied{}
	var stall sync.Once
	stalling := make(chan struct{})
	apply := func(ents []*raftpb.Entry) {
		for _, e := range ents {
			if string(e.GetData()) == "stall" {
				stall.Do(func() {
					close(stalling)
					time.Sleep(600 * time.Millisecond)
				})
			}
		}
		a.apply(ents)
	}
	n, err := New(Config{ID: 1, Peers: []uint64{1}, Storage: log, Apply: apply, Tick: 10 * time.Millisecond, Logger: out.logger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Propose(ctx, []byte("stall"), nil); err != nil {
		t.Fatal(err)
	}
	<-stalling
	// One batch per proposal while the applier sleeps: its queue fills.
	for i := 0; i < 20; i++ {
		if err := n.Propose(ctx, []byte(fmt.Sprint(i)), nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitCount(t, a, 21)
	if out.count("applying a batch took long") == 0 {
		t.Errorf("no warning about the slow batch:\n%s", out.String())
	}
	if out.count("the raft loop waited for the applier") == 0 {
		t.Errorf("no warning about the raft loop waiting:\n%s", out.String())
	}
}

// A leader catching up a follower that is far behind sends it at most
// maxInflightBytes of appends (plus one message) at a time, so that one Ready
// cannot keep the raft loop encoding for seconds (robustness U1): raft's
// inflight limit in the replicate state, capAppends in the probe state.
func TestCatchUpBoundedPerReady(t *testing.T) {
	g := newGroup(t, 3, false)
	lead := g.leader()
	var follower uint64
	for _, id := range g.ids {
		if id != lead.cfg.ID {
			follower = id
			break
		}
	}
	log, _, _ := g.member(follower)
	g.stop(follower)
	value := strings.Repeat("x", 256<<10)
	for i := 0; i < 64; i++ { // 16 MiB the follower misses
		g.propose(fmt.Sprintf("%d-%s", i, value))
	}
	var mu sync.Mutex
	most := 0
	g.mu.Lock()
	g.sent = func(from uint64, msgs []*raftpb.Message) {
		n := 0
		for _, m := range msgs {
			if m.GetTo() == follower {
				for _, e := range m.GetEntries() {
					n += len(e.GetData())
				}
			}
		}
		mu.Lock()
		most = max(most, n)
		mu.Unlock()
	}
	g.mu.Unlock()
	g.start(follower, log, log.restart())
	g.propose("after")
	mu.Lock()
	defer mu.Unlock()
	if most > maxInflightBytes+(1<<20) {
		t.Errorf("one Send carried %d bytes of entries to the lagging follower; want at most %d", most, maxInflightBytes+(1<<20))
	}
	if most == 0 {
		t.Error("the lagging follower was sent no entries")
	}
}

// Proposals that queue up while the leader's loop is busy are proposed
// together: each follower gets them in one append (and acknowledges it
// once), not one append per entry. Each is still its own entry, in order.
func TestProposalsQueuedTogetherGoInOneAppend(t *testing.T) {
	g := newGroup(t, 3, false)
	lead := g.leader()
	g.propose("warm-up")
	const k = 100
	var mu sync.Mutex
	appends := map[uint64]int{} // follower -> appends carrying batch entries
	g.mu.Lock()
	g.sent = func(from uint64, msgs []*raftpb.Message) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			if m.GetType() != raftpb.MessageType_MsgApp {
				continue
			}
			for _, e := range m.GetEntries() {
				if strings.HasPrefix(string(e.GetData()), "batch-") {
					appends[m.GetTo()]++
					break
				}
			}
		}
	}
	g.mu.Unlock()
	// Hold the leader's loop while the proposals queue up.
	release := make(chan struct{})
	held := make(chan struct{})
	go lead.do(func(*raft.RawNode) { close(held); <-release })
	<-held
	for i := 0; i < k; i++ {
		if err := lead.Propose(context.Background(), []byte(fmt.Sprintf("batch-%03d", i)), func(err error) {
			t.Errorf("proposal %d dropped: %v", i, err)
		}); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	g.propose("after")
	mu.Lock()
	defer mu.Unlock()
	for _, id := range g.ids {
		if id == lead.cfg.ID {
			continue
		}
		if appends[id] == 0 || appends[id] > 2 {
			t.Errorf("follower %d got the %d queued proposals in %d appends; want 1 (2 if a message size limit split them)", id, k, appends[id])
		}
	}
	for _, id := range g.ids {
		_, a, _ := g.member(id)
		data, _ := a.snapshot()
		var got []string
		for _, d := range data {
			if strings.HasPrefix(d, "batch-") {
				got = append(got, d)
			}
		}
		if len(got) != k {
			t.Fatalf("member %d applied %d of the %d proposals", id, len(got), k)
		}
		for i, d := range got {
			if want := fmt.Sprintf("batch-%03d", i); d != want {
				t.Fatalf("member %d applied %q at position %d, want %q", id, d, i, want)
			}
		}
	}
}

// A leader whose disk stalls goes on leading and committing: its loop does
// not wait for its own writes (raft's asynchronous storage writes), so it
// keeps sending heartbeats and steps the followers' acknowledgements, and
// two followers that hold an entry durably are a quorum without it. It
// applies the entry itself only once its own write is done.
func TestLeaderDiskStallDoesNotStopCommits(t *testing.T) {
	g := newGroup(t, 3, false)
	lead := g.leader()
	g.propose("warm-up")
	term := lead.Term()
	log, leadApplied, _ := g.member(lead.cfg.ID)
	release := log.stall()
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	if err := lead.Propose(context.Background(), []byte("during-stall"), func(err error) {
		t.Errorf("proposal dropped: %v", err)
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range g.ids {
		if id == lead.cfg.ID {
			continue
		}
		_, a, _ := g.member(id)
		for !a.has("during-stall") {
			if time.Now().After(deadline) {
				t.Fatalf("follower %d never applied the entry while the leader's disk stalled", id)
			}
			time.Sleep(time.Millisecond)
		}
	}
	// (The stalled leader's own view could be stale; the followers' is
	// not.)
	for _, id := range g.ids {
		if f := g.node(id); id != lead.cfg.ID && (f.Term() != term || f.Leader() != lead.cfg.ID) {
			t.Fatalf("follower %d is in term %d with leader %d, was %d with %d: the stalled leader lost its leadership, and a new leader committed the entry",
				id, f.Term(), f.Leader(), term, lead.cfg.ID)
		}
	}
	if leadApplied.has("during-stall") {
		t.Error("the leader applied an entry its own log does not hold yet")
	}
	release()
	released = true
	for !leadApplied.has("during-stall") {
		if time.Now().After(deadline) {
			t.Fatal("the leader never applied the entry after its disk came back")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCapAppends(t *testing.T) {
	app := func(to uint64, sizes ...int) *raftpb.Message {
		m := &raftpb.Message{Type: raftpb.MessageType_MsgApp.Enum(), To: proto.Uint64(to)}
		for _, n := range sizes {
			m.Entries = append(m.Entries, &raftpb.Entry{Data: make([]byte, n)})
		}
		return m
	}
	heartbeat := func(to uint64) *raftpb.Message {
		return &raftpb.Message{Type: raftpb.MessageType_MsgHeartbeat.Enum(), To: proto.Uint64(to)}
	}
	const mib = 1 << 20
	tests := []struct {
		name    string
		msgs    []*raftpb.Message
		keep    []int // indexes of the messages kept
		dropped []uint64
	}{
		{"small appends all pass", []*raftpb.Message{app(2, 100), app(2, 100), app(3, 100)}, []int{0, 1, 2}, nil},
		{"a probe storm to one peer is cut at the budget",
			[]*raftpb.Message{app(2, mib), app(2, mib), heartbeat(3), app(2, mib), app(2, mib), app(2, mib), app(2, mib)},
			[]int{0, 1, 2, 3, 4}, []uint64{2}},
		{"each peer has its own budget",
			[]*raftpb.Message{app(2, 3*mib), app(3, 3*mib), app(2, 2*mib), app(3, mib)},
			[]int{0, 1, 3}, []uint64{2}},
		{"one message over the budget alone still goes", []*raftpb.Message{app(2, 5*mib)}, []int{0}, nil},
		{"heartbeats and empty appends are never cut",
			[]*raftpb.Message{app(2, 5*mib), heartbeat(2), app(2), app(2, 10)},
			[]int{0, 1, 2}, []uint64{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ph readyPhases
			kept, dropped := capAppends(tc.msgs, &ph)
			var want []*raftpb.Message
			for _, i := range tc.keep {
				want = append(want, tc.msgs[i])
			}
			if len(kept) != len(want) {
				t.Fatalf("kept %d messages, want %d", len(kept), len(want))
			}
			for i := range want {
				if kept[i] != want[i] {
					t.Errorf("kept[%d] is not message %d", i, tc.keep[i])
				}
			}
			if fmt.Sprint(dropped) != fmt.Sprint(tc.dropped) {
				t.Errorf("dropped for %v, want %v", dropped, tc.dropped)
			}
			if len(tc.dropped) == 0 && len(kept) > 0 && &kept[0] != &tc.msgs[0] {
				t.Error("nothing dropped, but the messages were copied")
			}
		})
	}
}

// logBuffer collects a node's log lines (every level) for a test to check.
type logBuffer struct{ syncbuf.Buffer }

func (l *logBuffer) count(s string) int { return strings.Count(l.String(), s) }

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// group is an in-process raft group: each member's messages reach the
// others' Step as copies, as if decoded from the wire. A stopped member's
// messages are lost, and the sender is told it is unreachable when
// unreachable is set (as a full peer queue tells it in the server).
type group struct {
	t           *testing.T
	ids         []uint64
	unreachable bool
	// sent, if set, sees every Send call's messages (from member from).
	sent  func(from uint64, msgs []*raftpb.Message)
	mu    sync.Mutex
	nodes map[uint64]*Node
	logs  map[uint64]*memLog
	apps  map[uint64]*applied
	out   map[uint64]*logBuffer
}

func newGroup(t *testing.T, n int, unreachable bool) *group {
	g := &group{t: t, unreachable: unreachable,
		nodes: map[uint64]*Node{}, logs: map[uint64]*memLog{}, apps: map[uint64]*applied{}, out: map[uint64]*logBuffer{}}
	for i := 1; i <= n; i++ {
		g.ids = append(g.ids, uint64(i))
	}
	for _, id := range g.ids {
		g.start(id, &memLog{}, nil)
	}
	t.Cleanup(func() {
		for _, id := range g.ids {
			if n := g.node(id); n != nil {
				n.Stop()
			}
		}
	})
	return g
}

func (g *group) node(id uint64) *Node {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.nodes[id]
}

// member returns what member id last ran with.
func (g *group) member(id uint64) (*memLog, *applied, *logBuffer) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.logs[id], g.apps[id], g.out[id]
}

// start runs member id on log, restarted from r (nil: a new member).
func (g *group) start(id uint64, log *memLog, r *Restart) {
	g.t.Helper()
	a, out := &applied{}, &logBuffer{}
	n, err := New(Config{
		ID: id, Peers: g.ids, Storage: log, Restart: r, Apply: a.apply,
		Tick: 10 * time.Millisecond, Logger: out.logger(),
		Send: func(msgs []*raftpb.Message) {
			g.mu.Lock()
			sent := g.sent
			g.mu.Unlock()
			if sent != nil {
				sent(id, msgs)
			}
			for _, m := range msgs {
				if to := g.node(m.GetTo()); to != nil {
					to.Step(proto.Clone(m).(*raftpb.Message))
				} else if from := g.node(id); from != nil && g.unreachable {
					from.ReportUnreachable(m.GetTo()) // on the loop, as the server does
				}
			}
		},
	})
	if err != nil {
		g.t.Fatal(err)
	}
	g.mu.Lock()
	g.nodes[id], g.logs[id], g.apps[id], g.out[id] = n, log, a, out
	g.mu.Unlock()
	if err := n.Run(context.Background()); err != nil {
		g.t.Fatal(err)
	}
}

// stop stops member id; its messages are lost until it starts again.
func (g *group) stop(id uint64) {
	n := g.node(id)
	g.mu.Lock()
	delete(g.nodes, id)
	g.mu.Unlock()
	n.Stop()
}

// leader waits for a leader and returns it.
func (g *group) leader() *Node {
	g.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if n := g.currentLeader(); n != nil {
			return n
		}
		time.Sleep(5 * time.Millisecond)
	}
	g.t.Fatal("no leader")
	return nil
}

// currentLeader returns a running member that believes it leads, or nil.
func (g *group) currentLeader() *Node {
	for _, id := range g.ids {
		if n := g.node(id); n != nil && n.IsLeader() {
			return n
		}
	}
	return nil
}

// propose writes d through the leader (again if raft drops it, as it does
// while leadership moves) and waits until every running member has applied
// it.
func (g *group) propose(d string) {
	g.t.Helper()
	dropped := make(chan error, 1)
	propose := func() {
		if err := g.leader().Propose(context.Background(), []byte(d), func(err error) { dropped <- err }); err != nil {
			g.t.Fatal(err)
		}
	}
	propose()
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range g.ids {
		if g.node(id) == nil {
			continue
		}
		_, a, _ := g.member(id)
		for !a.has(d) {
			select {
			case <-dropped:
				propose()
			default:
			}
			if time.Now().After(deadline) {
				data, at := a.snapshot()
				g.t.Fatalf("member %d applied %d entries up to index %d, never %q", id, len(data), at, d)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// A follower whose disk lost the last batches it had acknowledged (fsynced,
// then gone) restarts while the leader still counts on them: the leader's
// heartbeats carry a commit index past the end of its log, which raft
// panics on ("tocommit(N) is out of range [lastIndex(M)]"), and the leader
// never sends it anything below the match index it recorded. The member
// must come back, take the lost entries from the others and apply what
// they committed, whether the leader is idle, was told the member was
// unreachable (it probes it), or keeps appending.
func TestFollowerLostAcknowledgedEntries(t *testing.T) {
	for _, tc := range []struct {
		name        string
		lost        int  // batches holding entries lost at the end of the log
		unreachable bool // the leader is told the stopped member is unreachable
		writes      bool // writes go on while the member restarts
	}{
		{name: "last batch, leader idle", lost: 1},
		{name: "three batches, leader probing", lost: 3, unreachable: true},
		{name: "two batches, writes go on", lost: 2, unreachable: true, writes: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGroup(t, 3, tc.unreachable)
			for i := 0; i < 20; i++ {
				g.propose(fmt.Sprint(i)) // one batch each
			}
			f := g.ids[g.leader().cfg.ID%3] // a follower
			log, _, _ := g.member(f)
			g.stop(f)
			time.Sleep(50 * time.Millisecond) // some messages to it are lost
			damaged := log.lostTail(tc.lost)
			if damaged.lastIndex() >= log.lastIndex() {
				t.Fatalf("the damaged log ends at %d, the whole one at %d", damaged.lastIndex(), log.lastIndex())
			}
			stop, done := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; tc.writes; i++ {
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond):
					}
					if l := g.currentLeader(); l != nil {
						l.Propose(context.Background(), []byte(fmt.Sprint("w", i)), nil)
					}
				}
			}()
			g.start(f, damaged, damaged.restart())
			g.propose("end") // every member applied it, the restarted one too
			close(stop)
			<-done
			g.propose("end2") // after the last write
			l := g.leader().cfg.ID
			want, wantApplied, _ := g.member(l)
			_, a, out := g.member(f)
			got, _ := a.snapshot()
			if all, _ := wantApplied.snapshot(); fmt.Sprint(got) != fmt.Sprint(all) {
				t.Errorf("member %d applied %v after restarting, the leader %v", f, got, all)
			}
			ge, we := damaged.restart().Entries, want.restart().Entries
			if len(ge) != len(we) {
				t.Fatalf("member %d's log has %d entries, the leader's (%d) %d", f, len(ge), l, len(we))
			}
			for i := range ge {
				if !proto.Equal(ge[i], we[i]) {
					t.Fatalf("member %d's log differs from the leader's (%d) at index %d", f, l, ge[i].GetIndex())
				}
			}
			if c := out.count("lost log entries it had acknowledged"); c != 1 {
				t.Errorf("member %d logged the loss %d times, want once", f, c)
			}
		})
	}
}
