package server

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/fsm"
	"github.com/warren-zk/warren/internal/snap"
	"github.com/warren-zk/warren/internal/transport"
	"github.com/warren-zk/warren/internal/txn"
)

// Role names as srvr/stat/mntr print them.
const (
	ModeStandalone = "standalone"
	ModeLeader     = "leader"
	ModeFollower   = "follower"
	ModeObserver   = "observer"
)

// ensemble is the state a server keeps when it is one of several.
type ensemble struct {
	tr      *transport.TCP
	voters  []uint64
	learner bool

	mu      sync.Mutex
	forward map[uint64]forwarded // reqID -> where it went

	// Two-way contact with the leader (bug R6). Each direction of a peer
	// link is its own connection, so hearing the leader does not mean
	// that what this member sends reaches it. A member's session touches
	// carry a token, the time they were sent (nanoseconds since epoch, a
	// monotonic clock); the leader echoes it back (KindTouchAck). acked is
	// the newest echoed token from the member believed to lead, or -1;
	// while this member leads it is kept at the present, so a leader that
	// steps down serves through the election as a follower does.
	epoch time.Time
	acked atomic.Int64
}

// since returns t as a touch token: nanoseconds since e.epoch.
func (e *ensemble) since(t time.Time) int64 { return int64(t.Sub(e.epoch)) }

// noteAcked records that a round trip to the leader that started at token
// completed (only ever moves forward; a token from the future is bogus).
func (e *ensemble) noteAcked(token int64) {
	if token < 0 || token > e.since(time.Now()) {
		return
	}
	for {
		old := e.acked.Load()
		if token <= old || e.acked.CompareAndSwap(old, token) {
			return
		}
	}
}

// reachedLeader reports whether a round trip to the leader that started
// within limit completed.
func (e *ensemble) reachedLeader(limit time.Duration) bool {
	v := e.acked.Load()
	return v >= 0 && e.since(time.Now())-v <= int64(limit)
}

type forwarded struct {
	leader uint64
	gen    uint64
	fail   func(error)
}

// clusterID identifies the initial membership, so servers configured for
// different ensembles refuse to talk to each other. It covers the ids and
// roles only, not the addresses: members of one ensemble may name each other
// differently (0.0.0.0 or a hostname for their own line, NAT, proxies), as
// ZooKeeper allows.
func clusterID(servers []config.Server) uint64 {
	ss := append([]config.Server(nil), servers...)
	sort.Slice(ss, func(i, j int) bool { return ss[i].ID < ss[j].ID })
	h := fnv.New64a()
	for _, s := range ss {
		fmt.Fprintf(h, "%d|%s;", s.ID, s.Role)
	}
	return h.Sum64()
}

// initialConfState is the membership every server of a new ensemble starts
// with: participants vote, observers are raft learners.
func (s *Server) initialConfState() *raftpb.ConfState {
	cs := &raftpb.ConfState{}
	if !s.cfg.Distributed() {
		cs.Voters = []uint64{uint64(s.id)}
		return cs
	}
	for _, m := range s.cfg.Servers {
		if m.Role == config.Observer {
			cs.Learners = append(cs.Learners, uint64(m.ID))
		} else {
			cs.Voters = append(cs.Voters, uint64(m.ID))
		}
	}
	return cs
}

// writeInitialSnapshot creates the snapshot every member of a new group
// starts from: the initial tree at raft index 1, term 1, with the initial
// membership. Identical on every server, so their logs agree from index 2.
func (s *Server) writeInitialSnapshot() (snap.Meta, error) {
	f := s.newFSM()
	f.Lock()
	f.Apply(1, 1, nil)
	sn := f.Capture()
	f.Unlock()
	b, err := proto.Marshal(s.initialConfState())
	if err != nil {
		return snap.Meta{}, err
	}
	sn.Membership = b
	return snap.Save(SnapDir(s.cfg.DataDir), 1, 1, func(w io.Writer) error {
		_, err := sn.WriteTo(w)
		return err
	})
}

// startEnsemble creates the peer transport for a distributed config; it
// starts listening (and delivering to the raft node) in Start, once the
// node exists.
func (s *Server) startEnsemble() error {
	if !s.cfg.Distributed() {
		return nil
	}
	var me *config.Server
	peers := make([]transport.Peer, 0, len(s.cfg.Servers))
	e := &ensemble{forward: map[uint64]forwarded{}, epoch: time.Now()}
	e.acked.Store(-1)
	for i := range s.cfg.Servers {
		m := &s.cfg.Servers[i]
		addr := net.JoinHostPort(m.Host, strconv.Itoa(m.PeerPort))
		peers = append(peers, transport.Peer{ID: uint64(m.ID), Addr: addr})
		if m.ID == s.id {
			me = m
			e.learner = m.Role == config.Observer
		}
		if m.Role != config.Observer {
			e.voters = append(e.voters, uint64(m.ID))
		}
	}
	if me == nil {
		return fmt.Errorf("myid %d is not in the server list", s.id)
	}
	listen := net.JoinHostPort(me.Host, strconv.Itoa(me.PeerPort))
	e.tr = transport.NewTCP(transport.Options{
		ID: uint64(s.id), ClusterID: clusterID(s.cfg.Servers),
		Listen: listen, Listener: s.opts.PeerListener,
		Peers: peers, Handler: s, Logger: s.log,
		ServerTLS: s.sec.peerServerTLS, ClientTLS: s.sec.peerClientTLS,
		VerifyPeer: s.sec.verifyPeer,
	})
	s.ens = e
	return nil
}

// raftTick is the raft tick; the election timeout is a number of them.
const raftTick = 100 * time.Millisecond

// electionTicks scales raft's election timeout with the ensemble's own
// failure-detection setting: half of syncLimit x tickTime (ZooKeeper's
// follower timeout), at least 1 s and at most 10 s. A member stops serving
// only after the whole syncLimit x tickTime without a leader, so an
// election normally completes before clients are dropped.
func (s *Server) electionTicks() int {
	ms := max(s.cfg.SyncLimit, 2) * max(s.cfg.TickTime, 1) / 2
	return min(max(ms/int(raftTick/time.Millisecond), 10), 100)
}

// electionTimeout is raft's (minimum) election timeout.
func (s *Server) electionTimeout() time.Duration {
	return time.Duration(s.electionTicks()) * raftTick
}

// Mode returns the role srvr and mntr report.
func (s *Server) Mode() string {
	if s.ens == nil {
		return ModeStandalone
	}
	switch {
	case s.ens.learner:
		return ModeObserver
	case s.node != nil && s.node.IsLeader():
		return ModeLeader
	}
	return ModeFollower
}

// Serving reports whether the server may serve clients: standalone always;
// in an ensemble only while it knows a leader that it heard from within
// syncLimit ticks (ZooKeeper followers stop serving without a leader) and,
// unless it leads, that acknowledged a touch it sent within those ticks: a
// member that hears the leader but cannot reach it (a one-way partition)
// would keep clients whose touches and writes never arrive, and the leader
// would expire their sessions. ZooKeeper's peer links carry both
// directions, so there one direction failing breaks the link for both.
func (s *Server) Serving() bool {
	if !s.ready.Load() || s.failed.Load() {
		return false
	}
	if s.ens == nil {
		return true
	}
	if s.node == nil {
		return false
	}
	// Heard from a leader within syncLimit ticks: keep serving, even
	// through the short leaderless gap of an election (writes in flight
	// fail and close their connections; reads stay bounded by the limit).
	limit := s.syncLimit()
	last := s.node.LeaderContact()
	if last.IsZero() || time.Since(last) > limit {
		return false
	}
	return s.node.IsLeader() || s.ens.reachedLeader(limit)
}

// syncLimit is syncLimit x tickTime: how long a member serves without
// two-way contact with a leader.
func (s *Server) syncLimit() time.Duration {
	return time.Duration(max(s.cfg.SyncLimit, 2)*max(s.cfg.TickTime, 1)) * time.Millisecond
}

// startupElection shortens the first election after a start. raft waits a
// randomized election timeout (electionTicks to twice that, seconds with
// ZooKeeper's defaults) before a member without a leader campaigns; when a
// whole ensemble restarts, every member would wait that long. Instead, once
// this member's peer links reach a quorum of voters (those members are
// running), it campaigns if it still knows no leader, after a delay set by
// its rank among the voters (so that members do not split the vote by
// campaigning at once). The campaign starts with a pre-vote, which members
// that hear a leader reject, so a member restarting into a running
// ensemble does not disturb it. Members that miss this chance fall back to
// raft's timers.
func (s *Server) startupElection() {
	defer s.wg.Done()
	if s.ens.learner {
		return
	}
	rank := 0
	for _, v := range s.ens.voters {
		if v < uint64(s.id) {
			rank++
		}
	}
	quorum := len(s.ens.voters)/2 + 1
	deadline := time.Now().Add(s.electionTimeout())
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var reached time.Time
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			if s.node.Leader() != 0 || now.After(deadline) {
				return
			}
			if reached.IsZero() {
				up := 1
				for _, v := range s.ens.voters {
					if v != uint64(s.id) && s.ens.tr.Connected(v) {
						up++
					}
				}
				if up >= quorum {
					reached = now
				}
				continue
			}
			if now.Sub(reached) >= time.Duration(rank)*startupElectionStagger {
				s.node.CampaignIfLeaderless()
				return
			}
		}
	}
}

// startupElectionStagger separates the startup campaigns of voters by rank:
// long enough for a pre-vote, a vote and their fsyncs to complete.
const startupElectionStagger = 300 * time.Millisecond

// sendRaft is raftnode's Send callback (the raft loop and the storage
// goroutine, concurrently: it never blocks).
// A peer that could not be sent to is reported unreachable once per call.
func (s *Server) sendRaft(msgs []*raftpb.Message) {
	var unreachable []uint64
	for _, m := range msgs {
		if m.GetType() == raftpb.MessageType_MsgSnap {
			s.sendSnapshot(m)
			continue
		}
		b, err := proto.Marshal(m)
		if err != nil {
			s.log.Error("encode raft message", "err", err)
			continue
		}
		if err := s.ens.tr.Send(m.GetTo(), transport.KindRaft, b); err != nil && !slices.Contains(unreachable, m.GetTo()) {
			unreachable = append(unreachable, m.GetTo())
			s.node.ReportUnreachable(m.GetTo())
		}
	}
}

// sendSnapshot streams the snapshot file a MsgSnap refers to, in the background.
func (s *Server) sendSnapshot(m *raftpb.Message) {
	md := m.GetSnapshot().GetMetadata()
	path := filepath.Join(SnapDir(s.cfg.DataDir), snap.FileName(md.GetIndex(), md.GetTerm()))
	b, err := proto.Marshal(m)
	if err != nil {
		go s.node.ReportSnapshot(m.GetTo(), false)
		return
	}
	to := m.GetTo()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ok := false
		defer func() { s.node.ReportSnapshot(to, ok) }()
		f, err := os.Open(path)
		if err != nil {
			s.log.Warn("cannot send snapshot", "peer", to, "err", err)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Minute)
		defer cancel()
		start := time.Now()
		if err := s.ens.tr.SendSnapshot(ctx, to, b, f, st.Size()); err != nil {
			s.log.Warn("sending snapshot failed", "peer", to, "err", err)
			return
		}
		ok = true
		s.log.Info("snapshot sent", "peer", to, "index", md.GetIndex(), "bytes", st.Size(), "took", time.Since(start).Round(time.Millisecond))
	}()
}

// Receive implements transport.Handler.
func (s *Server) Receive(from uint64, kind byte, payload []byte) {
	switch kind {
	case transport.KindRaft:
		m := &raftpb.Message{}
		if err := proto.Unmarshal(payload, m); err != nil {
			s.log.Warn("undecodable raft message", "peer", from, "err", err)
			return
		}
		if s.node != nil {
			s.node.Step(m)
		}
	case transport.KindForward:
		s.handleForward(from, payload)
	case transport.KindForwardReject:
		if len(payload) == 8 {
			s.rejectForward(binary.BigEndian.Uint64(payload), fmt.Errorf("the leader could not propose it"))
		}
	case transport.KindTouch:
		if len(payload) < 8 {
			return
		}
		now := time.Now()
		for i := 8; i+8 <= len(payload); i += 8 {
			id := int64(binary.BigEndian.Uint64(payload[i:]))
			if e := s.sessions.Get(id); e != nil {
				e.Touch(now)
			}
		}
		// Only the leader's acknowledgement proves that the sender's
		// touches keep its sessions alive. Send never blocks.
		if s.node != nil && s.node.IsLeader() {
			s.ens.tr.Send(from, transport.KindTouchAck, payload[:8])
		}
	case transport.KindTouchAck:
		// From the member this one believes leads, or it proves nothing.
		if len(payload) == 8 && s.node != nil && from != 0 && from == s.node.Leader() {
			s.ens.noteAcked(int64(binary.BigEndian.Uint64(payload)))
		}
	default:
		// A kind this version does not know (a newer member's): ignored.
	}
}

// ReceiveSnapshot implements transport.Handler: store the file, then let
// raft see the message (it installs the snapshot through ApplySnapshot).
func (s *Server) ReceiveSnapshot(from uint64, msg []byte, body io.Reader, size int64) error {
	m := &raftpb.Message{}
	if err := proto.Unmarshal(msg, m); err != nil {
		return err
	}
	md := m.GetSnapshot().GetMetadata()
	dir := SnapDir(s.cfg.DataDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	final := filepath.Join(dir, snap.FileName(md.GetIndex(), md.GetTerm()))
	tmp := final + ".recv.tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, body, size); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	f.Close()
	// Check it whole before raft hears of it.
	if _, err := snap.Load(tmp, func(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	s.log.Info("snapshot received", "from", from, "index", md.GetIndex(), "bytes", size)
	s.node.Step(m)
	return nil
}

// installSnapshot is raftnode's ApplySnapshot callback (applier goroutine,
// after everything committed before the snapshot is applied).
func (s *Server) installSnapshot(rs *raftpb.Snapshot) error {
	md := rs.GetMetadata()
	path := filepath.Join(SnapDir(s.cfg.DataDir), snap.FileName(md.GetIndex(), md.GetTerm()))
	s.fsm.Lock()
	defer s.fsm.Unlock()
	var restoreErr error
	if _, err := snap.Load(path, func(r io.Reader) error {
		_, _, _, restoreErr = s.fsm.Restore(r)
		return restoreErr
	}); err != nil {
		return err
	}
	if err := s.wal.SaveSnapshot(md.GetIndex(), md.GetTerm()); err != nil {
		return err
	}
	s.lastSnapIndex = md.GetIndex()
	s.trackSessions(time.Now(), true)
	s.log.Info("installed snapshot from the leader", "index", md.GetIndex(), "zxid", fmt.Sprintf("0x%x", s.fsm.LastZxid()))
	// The snapshot skipped changes whose watch events were never fired here:
	// drop the clients (as ZooKeeper drops a learner's clients before it
	// resyncs), so they reconnect and re-arm their watches with setWatches,
	// whose catch-up events report what changed.
	go s.closeClients()
	return nil
}

// forwardWrite sends an encoded entry to the leader (follower/observer).
func (s *Server) forwardWrite(e *txn.Entry, fail func(error)) error {
	leader := s.node.Leader()
	if leader == 0 || leader == uint64(s.id) {
		return fmt.Errorf("no leader to forward to")
	}
	gen := s.ens.tr.Generation(leader)
	s.ens.mu.Lock()
	s.ens.forward[e.ReqID] = forwarded{leader: leader, gen: gen, fail: fail}
	s.ens.mu.Unlock()
	// Wait for room rather than fail: a congested link to the leader slows
	// this client down (its reader blocks here) instead of dropping it.
	ctx, cancel := context.WithTimeout(s.ctx, s.syncLimit())
	defer cancel()
	if err := s.ens.tr.SendWait(ctx, leader, transport.KindForward, e.Marshal()); err != nil {
		s.ens.mu.Lock()
		delete(s.ens.forward, e.ReqID)
		s.ens.mu.Unlock()
		return err
	}
	return nil
}

// handleForward proposes a write a follower forwarded (leader only).
func (s *Server) handleForward(from uint64, payload []byte) {
	e, err := txn.Unmarshal(payload)
	if err != nil {
		s.log.Warn("undecodable forwarded write", "peer", from, "err", err)
		return
	}
	reject := func(error) {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], e.ReqID)
		s.ens.tr.Send(from, transport.KindForwardReject, b[:])
	}
	if !s.node.IsLeader() {
		reject(nil)
		return
	}
	// The leader stamps the time; everything else comes from the follower.
	e.Time = time.Now().UnixMilli()
	if err := s.node.Propose(s.ctx, e.Marshal(), reject); err != nil {
		reject(err)
	}
}

// forwardDone forgets a forwarded write once it is applied here.
func (s *Server) forwardDone(reqID uint64) {
	if s.ens == nil {
		return
	}
	s.ens.mu.Lock()
	delete(s.ens.forward, reqID)
	s.ens.mu.Unlock()
}

func (s *Server) rejectForward(reqID uint64, err error) {
	s.ens.mu.Lock()
	f, ok := s.ens.forward[reqID]
	delete(s.ens.forward, reqID)
	s.ens.mu.Unlock()
	if ok {
		s.pendMu.Lock()
		delete(s.pending, reqID)
		s.pendMu.Unlock()
		f.fail(err)
	}
}

// ensembleLoop does the periodic work of a member: fail forwarded writes
// whose fate became unknown, send session touches to the leader (every
// tick/2, and at once to a new leader, even without sessions: their
// acknowledgements show that this member reaches the leader), stop serving
// clients without two-way contact with a leader, and extend every session
// when this server becomes the leader.
func (s *Server) ensembleLoop() {
	defer s.wg.Done()
	tick := time.Duration(max(s.cfg.TickTime, 1)) * time.Millisecond
	t := time.NewTicker(min(tick/2, 50*time.Millisecond))
	defer t.Stop()
	touchEvery := tick / 2
	lastTouch := time.Now()
	var touched uint64 // the leader the last touch went to
	wasLeader := false
	wasServing := false
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			leader := s.node.Leader()
			// Forwarded writes sent to a former leader, or on a link that
			// broke since, may or may not commit: their clients must see
			// ConnectionLoss (never a blind retry).
			var lost []forwarded
			s.ens.mu.Lock()
			for id, f := range s.ens.forward {
				if f.leader != leader || s.ens.tr.Generation(f.leader) != f.gen {
					lost = append(lost, f)
					delete(s.ens.forward, id)
				}
			}
			s.ens.mu.Unlock()
			for _, f := range lost {
				f.fail(fmt.Errorf("leader changed or link lost while a forwarded write was in flight"))
			}
			isLeader := s.node.IsLeader()
			if isLeader && !wasLeader {
				// A new leader gives every session a full timeout first.
				s.extendForTerm(s.node.Term())
				s.log.Info("became leader", "term", s.node.Term())
			}
			wasLeader = isLeader
			if isLeader {
				s.ens.noteAcked(s.ens.since(time.Now()))
			} else if leader != 0 && leader != uint64(s.id) && (leader != touched || now.Sub(lastTouch) >= touchEvery) {
				lastTouch, touched = now, leader
				s.sendTouches(leader)
			}
			serving := s.Serving()
			if wasServing && !serving {
				s.log.Warn("lost contact with the leader; closing client connections until it is back", "why", s.contactLost())
				s.closeClients()
			}
			wasServing = serving
		}
	}
}

// contactLost says, for the log, why the member stopped serving: how long
// ago it last heard from a leader, and how long ago it sent the newest touch
// a leader acknowledged (a member that hears the leader but gets no
// acknowledgement cannot reach it).
func (s *Server) contactLost() string {
	if !s.ready.Load() || s.failed.Load() {
		return "the server is not ready"
	}
	age := func(d time.Duration) string { return d.Round(time.Millisecond).String() + " ago" }
	heard := "never"
	if last := s.node.LeaderContact(); !last.IsZero() {
		heard = age(time.Since(last))
	}
	acked := "never"
	if v := s.ens.acked.Load(); v >= 0 {
		acked = age(time.Duration(s.ens.since(time.Now()) - v))
	}
	return fmt.Sprintf("no two-way contact with a leader within syncLimit x tickTime (%v): last heard from a leader %s; newest touch a leader acknowledged sent %s",
		s.syncLimit(), heard, acked)
}

// sendTouches tells the leader which sessions have a live connection here,
// after a token (the time now) that the leader echoes back. It is sent even
// without sessions: the echo is this member's proof that it reaches the
// leader.
func (s *Server) sendTouches(leader uint64) {
	s.mu.Lock()
	b := make([]byte, 8, 8+8*len(s.bySession))
	for id := range s.bySession {
		b = binary.BigEndian.AppendUint64(b, uint64(id))
	}
	s.mu.Unlock()
	binary.BigEndian.PutUint64(b, uint64(s.ens.since(time.Now())))
	s.ens.tr.Send(leader, transport.KindTouch, b)
}

// closeClients closes every client connection (the server stopped serving).
func (s *Server) closeClients() {
	s.forEachConn(func(c *conn) {
		if !c.fourLW {
			c.close()
		}
	})
}

// takeOwnership makes this server the owner of a session that reattaches
// here: if another server owned it, a setOwner entry is committed before the
// client is answered, so any write still in flight through the old server
// fails with SessionMoved.
func (c *conn) takeOwnership(sid int64) error {
	c.s.fsm.RLock()
	x := c.s.fsm.Session(sid)
	owner := int64(0)
	if x != nil {
		owner = x.Owner
	}
	c.s.fsm.RUnlock()
	if owner == c.s.id {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.s.ctx, 30*time.Second)
	defer cancel()
	r, err := c.s.proposeWait(ctx, &txn.Entry{Op: txn.OpSetOwner, Session: sid})
	if err != nil {
		return fmt.Errorf("moving session 0x%x here: %w", sid, err)
	}
	if r.Err != 0 {
		return errClose{fmt.Sprintf("session 0x%x could not move here: %v", sid, r.Err), false}
	}
	return nil
}

// proposeWait proposes e and waits until it is applied here.
func (s *Server) proposeWait(ctx context.Context, e *txn.Entry) (fsm.Result, error) {
	done := make(chan fsm.Result, 1)
	failed := make(chan error, 1)
	if err := s.propose(e, func(r fsm.Result) { done <- r }, func(err error) { failed <- err }); err != nil {
		return fsm.Result{}, err
	}
	select {
	case r := <-done:
		return r, nil
	case err := <-failed:
		return fsm.Result{}, err
	case <-ctx.Done():
		return fsm.Result{}, ctx.Err()
	}
}

// TransferLeadership asks raft to hand leadership to member id (only the
// leader acts on it).
func (s *Server) TransferLeadership(id uint64) {
	if s.node != nil {
		s.node.TransferLeadership(id)
	}
}
