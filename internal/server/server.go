package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/fsm"
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/raftnode"
	"github.com/warren-zk/warren/internal/session"
	"github.com/warren-zk/warren/internal/txn"
	"github.com/warren-zk/warren/internal/wal"
	"github.com/warren-zk/warren/internal/watch"
	"github.com/warren-zk/warren/internal/znode"
)

// Version is the version string Warren reports where ZooKeeper reports its own
// (srvr, mntr, envi). Tools parse the leading dotted digits.
const Version = "3.9.0-warren, built on 2026-11-21 00:00 UTC"

// Options configure a Server beyond the zoo.cfg.
type Options struct {
	Logger *slog.Logger
	// Listener, if set, is used instead of listening on the configured address.
	Listener net.Listener
	// ContainerCheckInterval is how often the reaper looks for empty
	// containers and expired TTL nodes (ZooKeeper's
	// znode.container.checkIntervalMs, default 60s).
	ContainerCheckInterval time.Duration
	// MaxBuffer is jute.maxbuffer (default 0xfffff).
	MaxBuffer int
	// PeerListener, if set, is used for the peer port instead of listening
	// on the address of this server's server.N line.
	PeerListener net.Listener
	// SecureListener, if set, is used for the TLS client port instead of
	// listening on secureClientPortAddress:secureClientPort (tls.go).
	SecureListener net.Listener
	// Env, if set, replaces os.Getenv for reading SERVER_JVMFLAGS and
	// JVMFLAGS (-Dzookeeper.* settings, authprov.go).
	Env func(string) string
	// AdminListener, if set, serves the AdminServer instead of listening on
	// admin.serverAddress:admin.serverPort (even if admin.enableServer is
	// false). MetricsListener, if set, serves Prometheus metrics instead of
	// metricsProvider.httpHost:httpPort (even if metricsProvider.className
	// does not ask for them).
	AdminListener, MetricsListener net.Listener
	// Pprof serves net/http/pprof under /debug/pprof/ on the AdminServer
	// (as warren.pprof=true in the zoo.cfg does).
	Pprof bool
	// WALFS, if set, replaces the file system under the write-ahead log
	// (tests inject faults through it).
	WALFS wal.FS
	// SnapshotCatchUp is how many entries before a snapshot stay in the
	// in-memory raft log for followers slightly behind (default 5000); a
	// follower further behind is sent the snapshot.
	SnapshotCatchUp uint64
}

// Server is a Warren server.
type Server struct {
	cfg  *config.Config
	opts Options
	log  *slog.Logger
	id   int64

	fsm     *fsm.FSM
	watches *watch.Manager
	node    *raftnode.Node
	ln      net.Listener

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	conns     map[*conn]struct{}
	perIP     map[string]int
	bySession map[int64]*conn
	sessions  *session.Tracker

	pendMu  sync.Mutex
	pending map[uint64]func(fsm.Result)
	reqID   atomic.Uint64
	nextSID atomic.Int64

	waitMu  sync.Mutex
	waiters []applyWaiter

	started   time.Time
	stats     serverStats
	traceMask atomic.Int64
	sec       security   // authentication, TLS and limits (authprov.go)
	adm       adminState // AdminServer, metrics, storage metrics (admin.go)

	wal    *wal.WAL
	ens    *ensemble
	ready  atomic.Bool // the log is replayed up to a fresh read index
	failed atomic.Bool // a fatal storage error happened
	// extendedTerm is the newest term in which this member, as leader,
	// gave every session a full timeout (extendForTerm). Lock order:
	// extendMu, then the tree lock, then the session tracker's.
	extendMu      sync.Mutex
	extendedTerm  uint64 // guarded by extendMu
	fatalc        chan error
	snapshotting  bool   // guarded by the tree lock
	lastSnapIndex uint64 // guarded by the tree lock
	snapThreshold uint64 // guarded by the tree lock
	logCompacted  uint64 // the applier's last CompactLog index
	lastSnapZxid  atomic.Int64
	lastSnapTime  atomic.Int64
	connSeq       atomic.Uint64
}

type applyWaiter struct {
	index uint64
	ch    chan struct{}
}

// New creates a server from cfg. Start it with Start.
func New(cfg *config.Config, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ContainerCheckInterval == 0 {
		opts.ContainerCheckInterval = 60 * time.Second
	}
	if opts.MaxBuffer == 0 {
		opts.MaxBuffer = jute.DefaultMaxBuffer
	}
	id := cfg.MyID
	if id == 0 {
		id = 1 // standalone servers use server id 1 in session ids
	}
	s := &Server{
		cfg: cfg, opts: opts, log: opts.Logger, id: id,
		conns: map[*conn]struct{}{}, perIP: map[string]int{},
		bySession: map[int64]*conn{}, sessions: session.New(time.Duration(cfg.TickTime) * time.Millisecond),
		pending: map[uint64]func(fsm.Result){},
		fatalc:  make(chan error, 1),
	}
	s.watches = watch.New()
	s.initProps()
	s.fsm = s.newFSM()
	s.snapThreshold = s.nextSnapThreshold()
	// Request ids must not repeat across restarts (replayed entries carry
	// the old ones), so they start from the clock.
	s.reqID.Store(uint64(time.Now().UnixNano()))
	// Session ids: server id in the top byte, a millisecond clock in the
	// next 40 bits, a counter in the low 16 (ZooKeeper's layout).
	base := (id << 56) | ((time.Now().UnixMilli() & 0xFFFFFFFFFF) << 16)
	s.nextSID.Store(base)
	s.stats.reset()
	s.traceMask.Store(306)
	s.adm.init(cfg)
	return s
}

// Start starts raft, waits for leadership, and begins accepting clients.
func (s *Server) Start(ctx context.Context) error {
	if err := s.initSecurity(); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.started = time.Now()
	if err := s.startAdmin(); err != nil {
		s.cancel()
		return fmt.Errorf("server: %w", err)
	}
	if err := s.startEnsemble(); err != nil {
		s.cancel()
		return fmt.Errorf("server: %w", err)
	}
	recoverStart := time.Now()
	// No garbage collection while the tree is loaded and the local log
	// replayed (gcpause.go); it resumes then, on any failure, or after 30 s
	// at most.
	resumeGC := pauseGC()
	gcTimer := time.AfterFunc(30*time.Second, resumeGC)
	started := false
	defer func() {
		if !started {
			gcTimer.Stop()
			resumeGC()
		}
	}()
	restart, err := s.recover()
	if err != nil {
		if s.ens != nil {
			s.ens.tr.Close()
		}
		s.cancel()
		if s.wal != nil {
			s.wal.Close()
		}
		return fmt.Errorf("server: recover from %s: %w", s.cfg.DataDir, err)
	}
	s.recovered(time.Since(recoverStart))
	var storage raftnode.Storage
	if s.wal != nil {
		storage = meteredWAL{s, s.wal}
	}
	rc := raftnode.Config{
		ID: uint64(s.id), Peers: []uint64{uint64(s.id)},
		Storage: storage, Restart: restart,
		Apply: s.apply, ApplySnapshot: s.installSnapshot, Logger: s.log,
		Tick: raftTick, ElectionTicks: s.electionTicks(),
	}
	if s.ens != nil {
		rc.Peers = s.ens.voters
		rc.Send = s.sendRaft
		rc.Learner = s.ens.learner
	}
	node, err := raftnode.New(rc)
	if err != nil {
		s.cancel()
		s.wal.Close()
		return fmt.Errorf("server: start raft: %w", err)
	}
	// s.node is set before the node first calls apply (replaying the log).
	s.node = node
	if err := node.Run(s.ctx); err != nil {
		s.cancel()
		s.wal.Close()
		return fmt.Errorf("server: start raft: %w", err)
	}
	if s.ens != nil {
		if err := s.ens.tr.Start(); err != nil {
			s.Stop()
			return fmt.Errorf("server: peer port: %w", err)
		}
		s.wg.Add(1)
		go s.startupElection()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-node.Done()
		if err := node.Err(); err != nil {
			s.fatal(err)
		}
	}()
	if s.ens == nil {
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		if err := node.WaitLeader(wctx); err != nil {
			s.Stop()
			return fmt.Errorf("server: no raft leader: %w", err)
		}
		if err := s.replayed(wctx); err != nil {
			s.Stop()
			return fmt.Errorf("server: replaying the log: %w", err)
		}
		s.ready.Store(true)
		gcTimer.Stop()
		resumeGC()
		// Loading the snapshot and replaying the log left garbage behind:
		// hand it back to the OS rather than carry it as resident memory.
		go debug.FreeOSMemory()
	} else {
		// A member resumes collecting once its own log is replayed.
		var commit uint64
		if restart != nil && restart.HardState != nil {
			commit = restart.HardState.GetCommit()
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
			defer cancel()
			s.waitApplied(ctx, commit)
			gcTimer.Stop()
			resumeGC()
		}()
		// An ensemble member listens at once but serves clients only once
		// it knows a leader and has applied everything committed before.
		s.wg.Add(2)
		go s.ensembleLoop()
		go func() {
			defer s.wg.Done()
			for s.ctx.Err() == nil {
				ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
				err := node.WaitLeader(ctx)
				if err == nil {
					err = s.replayed(ctx)
				}
				cancel()
				if err == nil {
					s.ready.Store(true)
					s.log.Info("caught up with the ensemble; serving clients", "mode", s.Mode(), "zxid", fmt.Sprintf("0x%x", s.fsm.LastZxid()))
					return
				}
			}
		}()
	}
	// A server that starts (or a new leader) gives every session a full
	// timeout before expiring any.
	s.fsm.RLock()
	s.trackSessions(time.Now(), false)
	s.fsm.RUnlock()
	if err := s.listenClients(); err != nil {
		s.Stop()
		return err
	}
	s.wg.Add(3)
	go s.purgeLoop()
	go func() {
		defer s.wg.Done()
		s.sessions.Run(s.ctx, s.expireSessions)
	}()
	go s.reaperLoop()
	s.adm.up.Store(true)
	started = true
	return nil
}

// Addr returns the client listener's address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Stop closes the listener and every connection and stops raft.
func (s *Server) Stop() {
	if s.cancel != nil {
		s.cancel()
	}
	if s.ln != nil {
		s.ln.Close()
	}
	s.closeSecureListener()
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
	if s.node != nil {
		s.node.Stop()
	}
	if s.ens != nil {
		s.ens.tr.Close()
	}
	s.wg.Wait()
	if s.wal != nil {
		s.wal.Close()
	}
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("accept failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		ip := remoteIP(nc.RemoteAddr())
		s.mu.Lock()
		if max := s.cfg.MaxClientCnxns; max > 0 && s.perIP[ip] >= max {
			s.mu.Unlock()
			s.log.Warn("too many connections from one address, closing", "ip", ip, "max", max)
			nc.Close()
			continue
		}
		if max := s.cfg.MaxCnxns; max > 0 && len(s.conns) >= max {
			s.mu.Unlock()
			s.log.Warn("too many connections, closing", "max", max)
			nc.Close()
			continue
		}
		c := newConn(s, nc, ip)
		s.conns[c] = struct{}{}
		s.perIP[ip]++
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.serve()
		}()
	}
}

func remoteIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; !ok {
		return
	}
	delete(s.conns, c)
	if s.perIP[c.ip]--; s.perIP[c.ip] <= 0 {
		delete(s.perIP, c.ip)
	}
	if sid := c.sessionID.Load(); sid != 0 && s.bySession[sid] == c {
		delete(s.bySession, sid)
	}
}

// attach makes c the connection of session sid, closing any previous one.
func (s *Server) attach(sid int64, c *conn) {
	s.mu.Lock()
	old := s.bySession[sid]
	s.bySession[sid] = c
	s.mu.Unlock()
	if old != nil && old != c {
		old.close()
	}
}

// --- proposals and apply ---

// propose encodes e (stamping time and origin) and proposes it. cb runs on
// the apply goroutine with the tree lock held when the entry is applied;
// fail runs if raft drops it.
func (s *Server) propose(e *txn.Entry, cb func(fsm.Result), fail func(error)) error {
	e.Origin = s.id
	e.Time = time.Now().UnixMilli()
	if s.ens != nil && !s.node.IsLeader() {
		if cb != nil {
			e.ReqID = s.reqID.Add(1)
			s.pendMu.Lock()
			s.pending[e.ReqID] = cb
			s.pendMu.Unlock()
		}
		failFwd := func(err error) {
			if fail != nil {
				fail(err)
			}
		}
		if err := s.forwardWrite(e, failFwd); err != nil {
			s.pendMu.Lock()
			delete(s.pending, e.ReqID)
			s.pendMu.Unlock()
			return err
		}
		return nil
	}
	if cb != nil {
		e.ReqID = s.reqID.Add(1)
		s.pendMu.Lock()
		s.pending[e.ReqID] = cb
		s.pendMu.Unlock()
	}
	reqID := e.ReqID
	failWrap := func(err error) {
		if reqID != 0 {
			s.pendMu.Lock()
			delete(s.pending, reqID)
			s.pendMu.Unlock()
		}
		if fail != nil {
			fail(err)
		}
	}
	if err := s.node.Propose(s.ctx, e.Marshal(), failWrap); err != nil {
		failWrap(err)
		return err
	}
	return nil
}

func (s *Server) apply(ents []*raftpb.Entry) {
	s.fsm.Lock()
	for _, e := range ents {
		data := e.GetData()
		if e.GetType() != raftpb.EntryNormal {
			data = nil
		}
		res := s.fsm.Apply(e.GetTerm(), e.GetIndex(), data)
		if res.Entry != nil && res.Entry.Op == proto.OpCreateSession && res.Err == proto.ErrOK {
			s.sessions.Add(res.Entry.Session, time.Duration(res.Entry.Timeout)*time.Millisecond, time.Now())
		}
		if res.Entry != nil && res.Entry.Origin == s.id && res.Entry.ReqID != 0 {
			s.forwardDone(res.Entry.ReqID)
			s.pendMu.Lock()
			cb := s.pending[res.Entry.ReqID]
			delete(s.pending, res.Entry.ReqID)
			s.pendMu.Unlock()
			if cb != nil {
				cb(res)
			}
		}
	}
	s.maybeSnapshot()
	applied := s.fsm.AppliedIndex()
	s.fsm.Unlock()
	s.notifyApplied(applied)
	// A standalone server's in-memory raft log serves no follower: keep
	// only what is not applied yet (up to snapCount entries would stay
	// until the next snapshot otherwise).
	if s.ens == nil && applied >= s.logCompacted+logCompactEvery {
		if err := s.node.CompactLog(applied); err != nil {
			s.log.Warn("compacting the in-memory log failed", "err", err)
		}
		s.logCompacted = applied
	}
}

// logCompactEvery is how many applied entries a standalone server lets
// accumulate in its in-memory raft log before dropping them.
const logCompactEvery = 1024

// waitApplied blocks until the applied index reaches idx.
func (s *Server) waitApplied(ctx context.Context, idx uint64) error {
	if s.fsm.AppliedIndex() >= idx {
		return nil
	}
	ch := make(chan struct{})
	s.waitMu.Lock()
	s.waiters = append(s.waiters, applyWaiter{idx, ch})
	s.waitMu.Unlock()
	if s.fsm.AppliedIndex() >= idx {
		s.notifyApplied(s.fsm.AppliedIndex())
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) notifyApplied(idx uint64) {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	if len(s.waiters) == 0 {
		return
	}
	keep := s.waiters[:0]
	for _, w := range s.waiters {
		if w.index <= idx {
			close(w.ch)
		} else {
			keep = append(keep, w)
		}
	}
	s.waiters = keep
}

// --- sessions ---

func (s *Server) newSessionID() int64 {
	for {
		id := s.nextSID.Add(1) - 1
		if id != znode.ContainerOwner && id != 0 {
			return id
		}
	}
}

// onSessionClosed runs on the apply goroutine (tree lock held).
func (s *Server) onSessionClosed(id int64) {
	s.sessions.Remove(id)
	s.mu.Lock()
	c := s.bySession[id]
	s.mu.Unlock()
	if c != nil && !c.closingSession.Load() {
		go c.close()
	}
}

// expireSessions proposes closeSession for sessions the tracker found silent.
func (s *Server) expireSessions(ids []int64) {
	if s.ens != nil && !s.node.IsLeader() {
		// Only the leader decides expiry; followers just keep deadlines.
		for _, id := range ids {
			s.sessions.Reopen(id, time.Now())
		}
		return
	}
	// A new leader's deadlines for sessions held by other members are
	// stale: if expiry runs before ensembleLoop has extended them for this
	// term, extend them now and expire nothing yet.
	if s.ens != nil && s.extendForTerm(s.node.Term()) {
		return
	}
	now := time.Now()
	for _, id := range ids {
		// (ids were collected before an extension that may have finished
		// since: a session it gave a new deadline is not expired.)
		if e := s.sessions.Get(id); e == nil {
			continue
		} else if e.Deadline().After(now) {
			s.sessions.Reopen(id, now) // clears the mark Expired set
			continue
		}
		s.log.Info("session expired", "session", fmt.Sprintf("0x%x", id))
		id := id
		reopen := func(error) { s.sessions.Reopen(id, time.Now()) }
		if err := s.propose(&txn.Entry{Op: proto.OpCloseSession, Session: id}, nil, reopen); err != nil {
			reopen(err)
		}
	}
}

// trackSessions gives the sessions the state machine holds a full timeout
// from now in the session tracker; with onlyMissing, only those it does not
// track yet. The caller holds the tree lock (read or write).
func (s *Server) trackSessions(now time.Time, onlyMissing bool) {
	for _, id := range s.fsm.SessionIDs() {
		if x := s.fsm.Session(id); x != nil && (!onlyMissing || s.sessions.Get(id) == nil) {
			s.sessions.Add(id, time.Duration(x.Timeout)*time.Millisecond, now)
		}
	}
}

// extendForTerm gives every session a full timeout once per term in which
// this member leads, before it expires any (a new leader's deadlines for
// sessions held by other members are stale: their touches went to the old
// leader). It reports whether it extended them now; whichever of
// ensembleLoop and the expiry callback gets there first does it, and only
// once (extending twice would keep abandoned sessions, and their
// ephemerals, for two timeouts after every leader change).
func (s *Server) extendForTerm(term uint64) bool {
	s.extendMu.Lock()
	defer s.extendMu.Unlock()
	if s.extendedTerm >= term {
		return false
	}
	s.fsm.RLock()
	s.trackSessions(time.Now(), false)
	s.fsm.RUnlock()
	s.extendedTerm = term // only now: the expiry callback waits for the extension
	return true
}

// reaperLoop deletes empty containers and expired TTL nodes through the log.
func (s *Server) reaperLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.ContainerCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			if s.ens != nil && !s.node.IsLeader() {
				continue
			}
			for _, p := range s.reapCandidates(now) {
				s.propose(&txn.Entry{Op: proto.OpDeleteContainer, Body: []byte(p)}, nil, nil)
			}
		}
	}
}

func (s *Server) reapCandidates(now time.Time) []string {
	s.fsm.RLock()
	defer s.fsm.RUnlock()
	tr := s.fsm.Tree()
	var out []string
	for _, p := range tr.Containers() {
		if n := tr.Get(p); n != nil && n.NumChildren() == 0 && n.Cversion > 0 {
			out = append(out, p)
		}
	}
	ms := now.UnixMilli()
	for _, p := range tr.TTLNodes() {
		if n := tr.Get(p); n != nil && n.NumChildren() == 0 && ms-n.Mtime > znode.TTLOf(n.EphemeralOwner) {
			out = append(out, p)
		}
	}
	return out
}

// negotiateTimeout clamps a requested timeout as ZooKeeper does.
func (s *Server) negotiateTimeout(req int32) int32 {
	minT, maxT := int32(s.cfg.MinSessionTimeout), int32(s.cfg.MaxSessionTimeout)
	if req < minT {
		req = minT
	}
	if req > maxT {
		req = maxT
	}
	return req
}
