package raftnode

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// ErrStopped is returned once the node has stopped.
var ErrStopped = errors.New("raftnode: stopped")

// ErrDropped reports a proposal raft refused (no leader, or not the leader).
var ErrDropped = errors.New("raftnode: proposal dropped")

// Storage is the durable log the node writes every Ready to (the WAL).
type Storage interface {
	// Save persists the HardState (nil if unchanged) and entries as one
	// batch, durable before returning when mustSync.
	Save(hs *raftpb.HardState, ents []*raftpb.Entry, mustSync bool) error
}

// Restart is the state recovered from disk.
type Restart struct {
	// SnapshotIndex/Term/ConfState describe the loaded snapshot (zero if none).
	SnapshotIndex, SnapshotTerm uint64
	ConfState                   *raftpb.ConfState
	HardState                   *raftpb.HardState
	// Entries after the snapshot, contiguous.
	Entries []*raftpb.Entry
}

// Empty reports whether nothing was recovered (a brand-new node).
func (r *Restart) Empty() bool {
	return r == nil || (r.SnapshotIndex == 0 && len(r.Entries) == 0 && (r.HardState == nil || raft.IsEmptyHardState(r.HardState)))
}

// Config configures a Node.
type Config struct {
	ID    uint64
	Peers []uint64
	// Storage is the durable log; nil keeps the log in memory only.
	Storage Storage
	// Restart is the recovered state; nil or empty bootstraps a new group.
	Restart *Restart
	// Tick is the raft tick interval (default 100ms).
	Tick time.Duration
	// ElectionTicks is how many ticks a follower waits without hearing from
	// the leader before it campaigns (default 10); a leader steps down
	// (check-quorum) after as long without hearing from a quorum.
	ElectionTicks int
	// Apply receives committed entries in log order, on the applier
	// goroutine (one goroutine, never concurrently with itself).
	Apply func(ents []*raftpb.Entry)
	// Send delivers messages to peers without blocking. It is called from
	// the loop and, with acknowledgements and votes once what they promise
	// is durable, from the storage goroutine, so concurrently. Nil for a
	// one-member group.
	Send func(msgs []*raftpb.Message)
	// ApplySnapshot installs a snapshot received from the leader (its file
	// is already on disk); called on the applier goroutine after every
	// entry before it and before any entry after it is applied.
	ApplySnapshot func(snap *raftpb.Snapshot) error
	// Learner starts the node as a non-voter (a ZooKeeper observer): it never
	// campaigns.
	Learner bool
	// Logger is used for raft's and our own messages.
	Logger *slog.Logger
}

type proposal struct {
	data []byte
	fail func(error)
}

type readReq struct {
	id   uint64
	done chan uint64
}

// Node runs raft.
type Node struct {
	cfg     Config
	rn      *raft.RawNode
	storage *raft.MemoryStorage
	log     *slog.Logger

	propc chan proposal
	// props is the loop's scratch for a batch of proposals (loop only).
	props []proposal
	readc chan readReq
	recvc chan *raftpb.Message
	repc  chan func(*raft.RawNode)
	stopc chan struct{}
	done  chan struct{}

	leader     atomic.Uint64
	state      atomic.Int32 // raft.StateType
	leaderSeen atomic.Int64 // unix nanos of the last message from the leader
	term       atomic.Uint64
	readID     atomic.Uint64
	err        error
	cs         *raftpb.ConfState
	reads      map[uint64]readReq
	once       sync.Once
	applyc     chan applyItem
	// appliedCS is the membership as of the applied entries (applier only).
	appliedCS *raftpb.ConfState
	applied   chan struct{} // closed when the applier has stopped
	appendc   chan appendItem
	stored    chan struct{} // closed when the storage goroutine has stopped
	local     mailbox
	failc     chan struct{} // closed when the storage goroutine failed
	failOnce  sync.Once
	failErr   error
	// inline is set for a one-member group (no Send): the loop writes its
	// appends itself, since no peer could use the time, and a hand-off to
	// the storage goroutine and back costs two goroutine switches per
	// batch.
	inline bool
	// started is set once the loop runs; Stop closes done itself otherwise.
	started atomic.Bool
	// lostLog is set while the leader's heartbeats count on entries this
	// member lost; lostAsked and lostAsks pace and rotate its requests for a
	// new leader (see askNewLeader; loop only).
	lostLog   bool
	lostAsked time.Time
	lostAsks  int
}

// New creates the node from cfg (recovered state or a new group). Call Run
// to start it.
func New(cfg Config) (*Node, error) {
	if cfg.Tick == 0 {
		cfg.Tick = 100 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	st := raft.NewMemoryStorage()
	restart := !cfg.Restart.Empty()
	var applied uint64
	if restart {
		r := cfg.Restart
		if r.SnapshotIndex > 0 {
			snap := &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{
				Index: proto.Uint64(r.SnapshotIndex), Term: proto.Uint64(r.SnapshotTerm), ConfState: r.ConfState,
			}}
			if err := st.ApplySnapshot(snap); err != nil {
				return nil, fmt.Errorf("raftnode: load snapshot: %w", err)
			}
			applied = r.SnapshotIndex
		}
		if r.HardState != nil {
			hs := r.HardState
			// raft refuses to start (it panics) with a commit index past the
			// end of the log, which only a log that lost entries it had made
			// durable can have. A member of an ensemble learns the commit
			// index again from the leader, and the lost entries with it.
			last := r.SnapshotIndex
			if len(r.Entries) > 0 {
				last = max(last, r.Entries[len(r.Entries)-1].GetIndex())
			}
			if hs.GetCommit() > last {
				cfg.Logger.Warn("the log ends before its recorded commit index: it lost entries it had made durable; starting at its end",
					"commit", hs.GetCommit(), "last_index", last)
				hs = proto.Clone(hs).(*raftpb.HardState)
				hs.Commit = proto.Uint64(last)
			}
			if err := st.SetHardState(hs); err != nil {
				return nil, fmt.Errorf("raftnode: load hard state: %w", err)
			}
		}
		if len(r.Entries) > 0 {
			if err := st.Append(r.Entries); err != nil {
				return nil, fmt.Errorf("raftnode: load entries: %w", err)
			}
		}
	}
	rc := &raft.Config{
		Applied:         applied,
		ID:              cfg.ID,
		ElectionTick:    electionTicks(cfg),
		HeartbeatTick:   1,
		Storage:         st,
		MaxSizePerMsg:   1 << 20,
		MaxInflightMsgs: 256,
		// A follower far behind (back from a pause, a partition or a
		// restart) would otherwise get up to MaxInflightMsgs x
		// MaxSizePerMsg of appends in one Ready, all encoded on the raft
		// loop: seconds in which the leader sends no heartbeats and every
		// member stops serving (robustness U1). Bounding the bytes in
		// flight per follower bounds that work per Ready.
		MaxInflightBytes:          maxInflightBytes,
		MaxUncommittedEntriesSize: 64 << 20,
		CheckQuorum:               true,
		PreVote:                   true,
		ReadOnlyOption:            raft.ReadOnlySafe,
		DisableProposalForwarding: true,
		// Appends and applies are handed to two goroutines as messages
		// (see doc.go): the loop never waits for the disk.
		AsyncStorageWrites: true,
		Logger:             raftLogger{cfg.Logger.With("component", "raft")},
	}
	rn, err := raft.NewRawNode(rc)
	if err != nil {
		return nil, fmt.Errorf("raftnode: %w", err)
	}
	if !restart {
		peers := make([]raft.Peer, len(cfg.Peers))
		for i, p := range cfg.Peers {
			peers[i] = raft.Peer{ID: p}
		}
		if err := rn.Bootstrap(peers); err != nil {
			return nil, fmt.Errorf("raftnode: bootstrap: %w", err)
		}
	}
	n := &Node{
		cfg: cfg, rn: rn, storage: st, log: cfg.Logger,
		propc:  make(chan proposal, 4096),
		readc:  make(chan readReq, 256),
		recvc:  make(chan *raftpb.Message, 4096),
		repc:   make(chan func(*raft.RawNode), 64),
		stopc:  make(chan struct{}),
		done:   make(chan struct{}),
		reads:  map[uint64]readReq{},
		local:  mailbox{ready: make(chan struct{}, 1)},
		failc:  make(chan struct{}),
		inline: cfg.Send == nil,
	}
	if restart && cfg.Restart.ConfState != nil {
		n.cs = cfg.Restart.ConfState
		n.appliedCS = n.cs
	}
	return n, nil
}

// Run applies what the recovered log already committed (through Apply,
// synchronously), campaigns if this is a one-member group, and starts the
// event loop. Separate from New so the caller holds the *Node before its
// Apply callback first runs.
func (n *Node) Run(ctx context.Context) (err error) {
	n.applyc = make(chan applyItem, 8)
	n.applied = make(chan struct{})
	n.appendc = make(chan appendItem, 64)
	n.stored = make(chan struct{})
	go n.applyLoop()
	go n.storeLoop()
	defer func() {
		if err != nil {
			n.stopWorkers()
		}
	}()
	if err := n.settle(); err != nil {
		return fmt.Errorf("raftnode: initial ready: %w", err)
	}
	cfg := n.cfg
	if len(cfg.Peers) == 1 && cfg.Peers[0] == cfg.ID && !cfg.Learner {
		if err := n.rn.Campaign(); err != nil {
			return fmt.Errorf("raftnode: campaign: %w", err)
		}
		// A one-member group wins at once; don't wait for a tick to see it.
		if err := n.settle(); err != nil {
			return fmt.Errorf("raftnode: campaign ready: %w", err)
		}
	}
	n.started.Store(true)
	go n.run(ctx)
	return nil
}

// settle handles Readies, waits for the storage goroutine and the applier,
// and steps their responses, until raft has nothing left to do (before the
// loop runs).
func (n *Node) settle() error {
	for {
		if err := n.handleReady(); err != nil {
			return err
		}
		n.drainStore()
		n.drainApply()
		if n.failed() {
			return n.failErr
		}
		msgs := n.local.take()
		if len(msgs) == 0 && !n.rn.HasReady() {
			return nil
		}
		n.stepMsgs(msgs)
	}
}

// stopWorkers stops the storage goroutine, then the applier (which the
// storage goroutine may be waiting for), and waits for both.
func (n *Node) stopWorkers() {
	close(n.appendc)
	<-n.stored
	close(n.applyc)
	<-n.applied
}

// Leader returns the current leader's id (0 if unknown).
func (n *Node) Leader() uint64 { return n.leader.Load() }

// WaitLeader blocks until a leader is known.
func (n *Node) WaitLeader(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for n.Leader() == 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-n.done:
			return ErrStopped
		case <-t.C:
		}
	}
	return nil
}

// Propose queues data for proposal. fail is called (from the loop) if raft
// drops it; otherwise the entry reaches Apply once committed.
func (n *Node) Propose(ctx context.Context, data []byte, fail func(error)) error {
	select {
	case n.propc <- proposal{data: data, fail: fail}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.done:
		return ErrStopped
	}
}

// ReadIndex returns a commit index that is safe to serve linearizable reads
// at once applied.
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	r := readReq{id: n.readID.Add(1), done: make(chan uint64, 1)}
	select {
	case n.readc <- r:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-n.done:
		return 0, ErrStopped
	}
	select {
	case idx := <-r.done:
		if idx == 0 {
			return 0, ErrDropped
		}
		return idx, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-n.done:
		return 0, ErrStopped
	}
}

// Err returns the error that stopped the loop, if any (after Done).
func (n *Node) Err() error {
	select {
	case <-n.done:
		return n.err
	default:
		return nil
	}
}

// ConfState returns the membership as of the last applied entry. Call it
// only from the Apply callback.
func (n *Node) ConfState() *raftpb.ConfState {
	if n.appliedCS == nil {
		return &raftpb.ConfState{}
	}
	return proto.Clone(n.appliedCS).(*raftpb.ConfState)
}

// Compact records a snapshot at index in the in-memory log and drops
// entries up to index-keep. Safe to call from any goroutine.
func (n *Node) Compact(index, keep uint64, cs *raftpb.ConfState) error {
	// (CompactLog may have dropped the log past index already; the
	// snapshot record needs the entry at index.)
	if first, err := n.storage.FirstIndex(); err == nil && index+1 >= first {
		if _, err := n.storage.CreateSnapshot(index, cs, nil); err != nil && err != raft.ErrSnapOutOfDate {
			return err
		}
	}
	if index > keep {
		if err := n.storage.Compact(index - keep); err != nil && err != raft.ErrCompacted {
			return err
		}
	}
	return nil
}

// CompactLog drops the in-memory log up to index, an applied index. Only a
// one-member group may call it: no follower will ever need those entries,
// and the WAL holds their durable copy.
func (n *Node) CompactLog(index uint64) error {
	if err := n.storage.Compact(index); err != nil && err != raft.ErrCompacted {
		return err
	}
	return nil
}

// Stop ends the loop and waits for it.
func (n *Node) Stop() {
	n.once.Do(func() {
		close(n.stopc)
		if !n.started.Load() {
			close(n.done)
		}
	})
	<-n.done
}

// Done is closed when the loop has ended.
func (n *Node) Done() <-chan struct{} { return n.done }

const maxBatch = 1024

// applyItem is a batch of committed entries for the applier, a snapshot
// for it to install, or a barrier it closes once everything before it is
// applied.
type applyItem struct {
	ents  []*raftpb.Entry
	cs    *raftpb.ConfState // membership after this batch's conf changes
	resps []*raftpb.Message // raft's messages to step once ents are applied
	// snap is a snapshot from the leader to install (through
	// Config.ApplySnapshot); the result goes to snapDone.
	snap     *raftpb.Snapshot
	snapDone chan error
	barrier  chan struct{}
}

// appendItem is one of raft's MsgStorageAppend messages for the storage
// goroutine, or a barrier it closes once everything before it is durable.
type appendItem struct {
	m        *raftpb.Message
	mustSync bool
	barrier  chan struct{}
}

// mailbox carries raft's messages to itself (the responses of the storage
// goroutine and the applier) back to the loop. put never blocks, so neither
// goroutine ever waits for the loop, which may be waiting for them.
type mailbox struct {
	mu    sync.Mutex
	msgs  []*raftpb.Message
	ready chan struct{} // holds a token while msgs is not empty
}

func (b *mailbox) put(msgs []*raftpb.Message) {
	if len(msgs) == 0 {
		return
	}
	b.mu.Lock()
	b.msgs = append(b.msgs, msgs...)
	b.mu.Unlock()
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

func (b *mailbox) take() []*raftpb.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.msgs
	b.msgs = nil
	return m
}

// maxInflightBytes bounds the append bytes in flight to one follower.
const maxInflightBytes = 4 << 20

// stallWarning is how long the applier may take over one batch, the storage
// goroutine over one write, the raft loop wait for room in the applier's or
// the storage goroutine's queue, step a batch of messages, or handle one
// Ready, before it is logged: while the raft loop is busy it sends no
// heartbeats, and members that stop hearing their leader for syncLimit x
// tickTime stop serving clients.
const stallWarning = 200 * time.Millisecond

// applyLoop applies committed entries in order, and installs snapshots
// between them, off the raft loop.
func (n *Node) applyLoop() {
	defer close(n.applied)
	for it := range n.applyc {
		if it.snap != nil {
			var err error
			if n.cfg.ApplySnapshot == nil {
				err = errors.New("raftnode: received a snapshot but cannot install one")
			} else {
				err = n.cfg.ApplySnapshot(it.snap)
			}
			if err == nil {
				n.appliedCS = proto.Clone(it.snap.GetMetadata().GetConfState()).(*raftpb.ConfState)
			}
			it.snapDone <- err
			continue
		}
		if len(it.ents) > 0 {
			n.appliedCS = it.cs
			start := time.Now()
			n.cfg.Apply(it.ents)
			if d := time.Since(start); d > stallWarning {
				n.log.Warn("applying a batch took long", "took", d, "entries", len(it.ents),
					"first", it.ents[0].GetIndex())
			}
		}
		n.local.put(it.resps)
		if it.barrier != nil {
			close(it.barrier)
		}
	}
}

// drainApply waits until every batch handed to the applier is applied.
func (n *Node) drainApply() {
	b := make(chan struct{})
	n.applyc <- applyItem{barrier: b}
	<-b
}

// drainStore waits until everything handed to the storage goroutine is
// written.
func (n *Node) drainStore() {
	b := make(chan struct{})
	n.appendc <- appendItem{barrier: b}
	<-b
}

// fail records the first error of the storage goroutine; the loop stops on
// it.
func (n *Node) fail(err error) {
	n.failOnce.Do(func() {
		n.failErr = err
		close(n.failc)
	})
}

func (n *Node) failed() bool {
	select {
	case <-n.failc:
		return true
	default:
		return false
	}
}

// storeLoop writes raft's appends (entries, HardState, snapshots) to the
// durable log in order, then hands their responses on: to this member's
// raft through the mailbox, to peers through Send. Appends queued together
// are written as one batch with one fdatasync (group commit).
func (n *Node) storeLoop() {
	defer close(n.stored)
	var batch []appendItem
	for it := range n.appendc {
		batch = append(batch[:0], it)
	more:
		for len(batch) < maxBatch {
			select {
			case it, ok := <-n.appendc:
				if !ok {
					break more
				}
				batch = append(batch, it)
			default:
				break more
			}
		}
		self, err := n.store(batch)
		n.local.put(self)
		if err != nil {
			n.fail(err)
		}
		clear(batch)
	}
}

// store handles a batch of appendItems in order: runs of plain appends are
// written together; a snapshot is installed on its own; barriers are
// closed once what precedes them is written. It returns the responses
// addressed to this member's raft, for the caller to step.
func (n *Node) store(batch []appendItem) (self []*raftpb.Message, err error) {
	for len(batch) > 0 {
		k := 0
		for k < len(batch) && batch[k].barrier == nil && raft.IsEmptySnap(batch[k].m.GetSnapshot()) {
			k++
		}
		if k > 0 {
			if !n.failed() {
				if self, err = n.write(batch[:k], self); err != nil {
					return self, err
				}
			}
			batch = batch[k:]
			continue
		}
		it := batch[0]
		batch = batch[1:]
		if it.barrier != nil {
			close(it.barrier)
			continue
		}
		if n.failed() {
			continue
		}
		// A snapshot from the leader is installed (and recorded in the
		// log) before the entries that follow it are written, so the log
		// never holds entries past a gap that its snapshot record would
		// explain only later. raft hands out no committed entry while the
		// snapshot is in flight, and the applier installs it after
		// everything it was handed before.
		snap := it.m.GetSnapshot()
		done := make(chan error, 1)
		n.applyc <- applyItem{snap: snap, snapDone: done}
		if err := <-done; err != nil {
			return self, fmt.Errorf("install snapshot: %w", err)
		}
		if err := n.storage.ApplySnapshot(snap); err != nil {
			return self, fmt.Errorf("install snapshot: %w", err)
		}
		if self, err = n.write([]appendItem{it}, self); err != nil {
			return self, err
		}
	}
	return self, nil
}

// write persists a run of appends as one batch (entries of a later append
// replace those of an earlier one from its first index on, as raft's log
// does), adds them to the in-memory log, sends their responses to peers,
// and appends those to this member's raft to self.
func (n *Node) write(items []appendItem, self []*raftpb.Message) ([]*raftpb.Message, error) {
	start := time.Now()
	var (
		hs       *raftpb.HardState
		ents     []*raftpb.Entry
		mustSync bool
	)
	for i, it := range items {
		m := it.m
		if m.Term != nil {
			hs = &raftpb.HardState{Term: m.Term, Vote: m.Vote, Commit: m.Commit}
		}
		mustSync = mustSync || it.mustSync
		switch {
		case len(m.GetEntries()) == 0:
		case len(ents) == 0 && i == len(items)-1:
			ents = m.GetEntries() // no copy for the usual single append
		default:
			first := m.GetEntries()[0].GetIndex()
			k := sort.Search(len(ents), func(j int) bool { return ents[j].GetIndex() >= first })
			ents = append(ents[:k:k], m.GetEntries()...)
		}
	}
	if n.cfg.Storage != nil {
		if err := n.cfg.Storage.Save(hs, ents, mustSync); err != nil {
			return self, fmt.Errorf("persist: %w", err)
		}
	}
	if hs != nil {
		if err := n.storage.SetHardState(hs); err != nil {
			return self, err
		}
	}
	if len(ents) > 0 {
		if err := n.storage.Append(ents); err != nil {
			return self, err
		}
	}
	if d := time.Since(start); d > stallWarning {
		n.log.Warn("writing a batch to the log took long", "took", d, "entries", len(ents), "sync", mustSync)
	}
	var peers []*raftpb.Message
	for _, it := range items {
		for _, r := range it.m.GetResponses() {
			if r.GetTo() == n.cfg.ID {
				self = append(self, r)
			} else {
				peers = append(peers, r)
			}
		}
	}
	// Acknowledgements and votes go out only now: they promise durable
	// state.
	if len(peers) > 0 && n.cfg.Send != nil {
		n.cfg.Send(peers)
	}
	return self, nil
}

// stepMsgs steps the responses of the storage goroutine and the applier
// (loop only).
func (n *Node) stepMsgs(msgs []*raftpb.Message) {
	for _, m := range msgs {
		if err := n.rn.Step(m); err != nil {
			n.log.Debug("raft step (local)", "err", err, "type", m.GetType().String())
		}
	}
}

func (n *Node) run(ctx context.Context) {
	defer close(n.done)
	defer n.stopWorkers()
	defer func() {
		for _, r := range n.reads {
			r.done <- 0
		}
	}()
	t := time.NewTicker(n.cfg.Tick)
	defer t.Stop()
	for {
		var began time.Time
		select {
		case <-ctx.Done():
			return
		case <-n.stopc:
			return
		case <-t.C:
			n.rn.Tick()
			if n.IsLeader() {
				n.leaderSeen.Store(time.Now().UnixNano())
			}
		case p := <-n.propc:
			began = time.Now()
			batch := append(n.props[:0], p)
		drain:
			for len(batch) < maxBatch {
				select {
				case p := <-n.propc:
					batch = append(batch, p)
				default:
					break drain
				}
			}
			n.proposeBatch(batch)
			clear(batch) // the payloads belong to raft's log now
			n.props = batch[:0]
		case m := <-n.recvc:
			began = time.Now()
			n.step(m)
		drainRecv:
			for i := 0; i < maxBatch; i++ {
				select {
				case m := <-n.recvc:
					n.step(m)
				default:
					break drainRecv
				}
			}
		case fn := <-n.repc:
			fn(n.rn)
		case <-n.local.ready:
			n.stepMsgs(n.local.take())
		case <-n.failc:
			n.log.Error("writing the raft log failed; stopping", "err", n.failErr)
			n.err = n.failErr
			return
		case r := <-n.readc:
			n.reads[r.id] = r
			var ctxb [8]byte
			binary.BigEndian.PutUint64(ctxb[:], r.id)
			n.rn.ReadIndex(ctxb[:])
		}
		if !began.IsZero() {
			if d := time.Since(began); d > stallWarning {
				n.log.Warn("stepping a batch of messages or proposals took long", "took", d)
			}
		}
		if err := n.handleReady(); err != nil {
			n.log.Error("raft ready handling failed; stopping", "err", err)
			n.err = err
			return
		}
	}
}

func (n *Node) step(m *raftpb.Message) {
	if m.GetFrom() != 0 && m.GetFrom() == n.leader.Load() {
		n.leaderSeen.Store(time.Now().UnixNano())
	}
	lost := false
	if m.GetType() == raftpb.MessageType_MsgHeartbeat {
		m, lost = n.clampHeartbeat(m)
	}
	if err := n.rn.Step(m); err != nil && !errors.Is(err, raft.ErrStepPeerNotFound) {
		n.log.Debug("raft step", "err", err, "type", m.GetType().String(), "from", m.GetFrom())
	}
	if lost {
		n.askNewLeader(m.GetFrom())
	}
}

// clampHeartbeat bounds the commit index a leader's heartbeat carries by the
// end of this member's log, and reports whether it had to (loop only).
//
// A leader's heartbeat carries min(its match index for this member, its
// commit index), and this member acknowledges entries only once they are
// durable and in n.storage: the commit index can exceed n.storage's last
// index only if this member lost entries it had acknowledged (its disk lost
// fsynced writes). raft would panic on it ("tocommit(N) is out of range
// [lastIndex(M)]") and the member would crash-loop. (A MsgApp's commit index
// is bounded by raft itself, by the last entry the message matched.)
func (n *Node) clampHeartbeat(m *raftpb.Message) (*raftpb.Message, bool) {
	last, err := n.storage.LastIndex()
	if err != nil || m.GetCommit() <= last || m.GetTerm() < n.rn.BasicStatus().GetTerm() {
		// (raft ignores a heartbeat from an earlier term.)
		if err == nil && n.lostLog && m.GetCommit() <= last {
			n.lostLog, n.lostAsks = false, 0
			n.log.Info("the leader no longer counts on the log entries this member lost", "leader", m.GetFrom(), "last_index", last)
		}
		return m, false
	}
	if !n.lostLog {
		n.lostLog = true
		n.log.Warn("this member lost log entries it had acknowledged (its disk lost data it had written durably); it catches up from the leader",
			"leader", m.GetFrom(), "leader_commit", m.GetCommit(), "last_index", last)
	}
	m = proto.Clone(m).(*raftpb.Message)
	m.Commit = proto.Uint64(last)
	return m, true
}

// askNewLeader asks the leader (through raft, which forwards the request)
// to hand leadership to another voter, after clampHeartbeat found that the
// leader counts on entries this member lost (loop only). raft never lowers
// a leader's match index for a follower: this leader keeps sending from
// past the end of this member's log and takes its rejections for stale
// ones. A new leader knows nothing of what this member acknowledged, probes
// its log from the end and sends it the entries it lost. At most one
// request per election timeout (raft abandons a transfer that has not
// finished by then, and the leader takes no proposal meanwhile); successive
// requests name the other voters in turn, in case one is down.
func (n *Node) askNewLeader(leader uint64) {
	if time.Since(n.lostAsked) < n.cfg.Tick*time.Duration(electionTicks(n.cfg)) {
		return
	}
	n.lostAsked = time.Now()
	var ids []uint64
	for id := range n.rn.Status().Config.Voters.IDs() {
		if id != n.cfg.ID && id != leader {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	asks := n.lostAsks
	n.lostAsks++
	if len(ids) == 0 {
		if asks == 0 {
			n.log.Warn("no other voter can take over leadership: this member catches up only once another member leads", "leader", leader)
		}
		return
	}
	to := ids[asks%len(ids)]
	n.log.Info("asking the leader to hand leadership to another member, which will send this member the entries it lost", "leader", leader, "to", to)
	n.rn.TransferLeader(to)
}

// Step hands a message from a peer to raft. It never blocks: when the
// queue is full the message is dropped (raft retransmits).
func (n *Node) Step(m *raftpb.Message) {
	select {
	case n.recvc <- m:
	default:
	}
}

// ReportUnreachable tells raft that a peer could not be reached. It never
// blocks, so Config.Send (which runs on the loop) may call it: when the
// loop's request queue is full the report is dropped, which only delays
// raft's switch of that peer to probing until the next failed send reports
// it again.
func (n *Node) ReportUnreachable(id uint64) {
	select {
	case n.repc <- func(rn *raft.RawNode) { rn.ReportUnreachable(id) }:
	default:
	}
}

// ReportSnapshot tells raft whether a snapshot reached a peer.
func (n *Node) ReportSnapshot(id uint64, ok bool) {
	st := raft.SnapshotFinish
	if !ok {
		st = raft.SnapshotFailure
	}
	n.do(func(rn *raft.RawNode) { rn.ReportSnapshot(id, st) })
}

// CampaignIfLeaderless starts an election (a pre-vote first, as configured)
// unless this member knows a leader or is a learner.
func (n *Node) CampaignIfLeaderless() {
	n.do(func(rn *raft.RawNode) {
		if st := rn.BasicStatus(); st.Lead == raft.None && st.RaftState != raft.StateLeader && !n.cfg.Learner {
			_ = rn.Campaign()
		}
	})
}

// TransferLeadership asks raft to hand leadership to id.
func (n *Node) TransferLeadership(id uint64) {
	n.do(func(rn *raft.RawNode) { rn.TransferLeader(id) })
}

func (n *Node) do(fn func(*raft.RawNode)) {
	select {
	case n.repc <- fn:
	case <-n.done:
	}
}

// Status returns raft's status (including progress on a leader).
func (n *Node) Status() raft.Status {
	ch := make(chan raft.Status, 1)
	n.do(func(rn *raft.RawNode) { ch <- rn.Status() })
	select {
	case st := <-ch:
		return st
	case <-n.done:
		return raft.Status{}
	}
}

// IsLeader reports whether this node is the raft leader.
func (n *Node) IsLeader() bool { return raft.StateType(n.state.Load()) == raft.StateLeader }

// Term returns the current raft term.
func (n *Node) Term() uint64 { return n.term.Load() }

// LeaderContact returns when this node last heard from a leader (zero time
// if never): a message from the current leader, or, on the leader itself,
// its latest tick as leader. It is kept across a leadership change, so a
// short leaderless gap does not look like lost contact.
func (n *Node) LeaderContact() time.Time {
	if n.IsLeader() {
		return time.Now()
	}
	v := n.leaderSeen.Load()
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v)
}

// proposeBatch proposes the entries of a batch of proposals in one raft
// message: a leader then appends them together and sends each follower one
// append for the batch, where proposing them one by one sent one append
// (and got back one acknowledgement) per entry. Each proposal is still its
// own entry. If raft drops the batch (no leader, a leadership transfer,
// too many uncommitted bytes), the proposals are tried one by one, so
// that a batch fails no proposal that would have succeeded alone.
func (n *Node) proposeBatch(batch []proposal) {
	if len(batch) == 1 {
		n.propose(batch[0])
		return
	}
	ents := make([]*raftpb.Entry, len(batch))
	for i := range batch {
		ents[i] = &raftpb.Entry{Data: batch[i].data}
	}
	err := n.rn.Step(&raftpb.Message{
		Type:    raftpb.MessageType_MsgProp.Enum(),
		From:    proto.Uint64(n.cfg.ID),
		Entries: ents,
	})
	if err == nil {
		return
	}
	for _, p := range batch {
		n.propose(p)
	}
}

func (n *Node) propose(p proposal) {
	if err := n.rn.Propose(p.data); err != nil {
		if p.fail != nil {
			p.fail(fmt.Errorf("%w: %v", ErrDropped, err))
		}
	}
}

func (n *Node) handleReady() error {
	for n.rn.HasReady() {
		var ph readyPhases
		ph.start = time.Now()
		if err := n.handleOneReady(&ph); err != nil {
			return err
		}
		if d := time.Since(ph.start); d > stallWarning {
			n.log.Warn("handling one raft Ready took long", "took", d, "ready", ph.ready, "apply", ph.dispatch,
				"store", ph.store, "send", ph.send, "entries", ph.entries, "committed", ph.committed, "messages", ph.messages,
				"message_entries", ph.msgEntries, "message_bytes", ph.msgBytes)
		}
	}
	return nil
}

// readyPhases is where the time of one Ready went (for the slow-Ready
// warning): building it, handing committed entries to the applier and
// appends to the storage goroutine (both wait only when their queue is
// full), and sending.
type readyPhases struct {
	start                        time.Time
	ready, dispatch, store, send time.Duration
	entries, committed, messages int
	msgEntries, msgBytes         int // what the messages carry
}

// lap returns the time since *prev and sets *prev to now.
func lap(prev *time.Time) time.Duration {
	now := time.Now()
	d := now.Sub(*prev)
	*prev = now
	return d
}

// maxAppendBytesPerReady bounds the entry bytes one Ready sends to one
// peer. A follower in raft's probe state gets a new append of up to
// MaxSizePerMsg for every response it sends (outside raft's inflight
// accounting), and one that comes back from a pause answers every heartbeat
// and append it missed at once: a leader then built hundreds of appends in
// one Ready (296 MB for 760 messages in one robustness run) and encoded them
// on this loop for half a minute, sending no heartbeats (robustness U1).
const maxAppendBytesPerReady = 4 << 20

// capAppends returns msgs without the appends to a peer past
// maxAppendBytesPerReady (a first append is always kept, however large),
// and the peers that lost some; it counts the entries and bytes the
// messages carry into ph. Dropping is what a lost message does, which raft
// tolerates. msgs itself is returned when nothing is dropped.
func capAppends(msgs []*raftpb.Message, ph *readyPhases) (kept []*raftpb.Message, dropped []uint64) {
	type peerBytes struct {
		to uint64
		n  int
	}
	var buf [8]peerBytes
	used := buf[:0]
	kept, copied := msgs, false
	for i, m := range msgs {
		n := 0
		for _, e := range m.GetEntries() {
			n += len(e.GetData())
		}
		ph.msgEntries += len(m.GetEntries())
		ph.msgBytes += n
		keep := true
		if m.GetType() == raftpb.MessageType_MsgApp && n > 0 {
			j := 0
			for j < len(used) && used[j].to != m.GetTo() {
				j++
			}
			if j == len(used) {
				used = append(used, peerBytes{to: m.GetTo()})
			}
			if used[j].n > 0 && used[j].n+n > maxAppendBytesPerReady {
				keep = false
			} else {
				used[j].n += n
			}
		}
		if !keep {
			if !copied {
				kept, copied = append([]*raftpb.Message(nil), msgs[:i]...), true
			}
			if !slices.Contains(dropped, m.GetTo()) {
				dropped = append(dropped, m.GetTo())
			}
		} else if copied {
			kept = append(kept, m)
		}
	}
	return kept, dropped
}

// handleOneReady hands one Ready's appends to the storage goroutine and
// its committed entries to the applier, and sends its messages.
func (n *Node) handleOneReady(ph *readyPhases) error {
	t := ph.start
	rd := n.rn.Ready()
	ph.ready = lap(&t)
	ph.entries, ph.committed = len(rd.Entries), len(rd.CommittedEntries)
	var app, apply *raftpb.Message
	msgs := rd.Messages[:0] // raft hands the slice over with the Ready
	for _, m := range rd.Messages {
		switch m.GetTo() {
		case raft.LocalAppendThread:
			app = m
		case raft.LocalApplyThread:
			apply = m
		default:
			msgs = append(msgs, m)
		}
	}
	ph.messages = len(msgs)
	msgs, dropped := capAppends(msgs, ph)
	for _, to := range dropped {
		n.rn.ReportUnreachable(to) // raft probes it again, as after a lost message
	}
	if rd.SoftState != nil {
		if old := n.leader.Swap(rd.SoftState.Lead); old != rd.SoftState.Lead && rd.SoftState.Lead != 0 {
			n.leaderSeen.Store(time.Now().UnixNano())
		}
		n.state.Store(int32(rd.SoftState.RaftState))
	}
	if rd.HardState != nil && rd.HardState.Term != nil {
		n.term.Store(rd.HardState.GetTerm())
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		// The entries committed after it are dispatched with its
		// membership (the storage goroutine has the applier install it
		// before raft hands out any of them).
		n.cs = proto.Clone(rd.Snapshot.GetMetadata().GetConfState()).(*raftpb.ConfState)
	}
	if apply != nil {
		// Committed entries are in the durable log already (raft hands
		// out only those with AsyncStorageWrites).
		if err := n.dispatch(apply.GetEntries(), apply.GetResponses()); err != nil {
			return err
		}
	}
	ph.dispatch = lap(&t)
	if app != nil && n.inline {
		self, err := n.store([]appendItem{{m: app, mustSync: rd.MustSync}})
		if err != nil {
			return err
		}
		// The responses (entries stable, the leader's own acknowledgement)
		// are stepped at once: the next Ready hands out what they commit.
		n.stepMsgs(self)
	} else if app != nil {
		it := appendItem{m: app, mustSync: rd.MustSync}
		select {
		case n.appendc <- it:
		default:
			// The storage goroutine is behind by a whole queue.
			start := time.Now()
			select {
			case n.appendc <- it:
			case <-n.failc:
				return n.failErr
			}
			if d := time.Since(start); d > stallWarning {
				n.log.Warn("the raft loop waited for the log writer", "took", d)
			}
		}
	}
	ph.store = lap(&t)
	// Messages that promise durable state (acknowledgements, votes) are
	// the append's responses, sent once it is written; everything here
	// may go now. A leader's appends thus reach the followers while its
	// own write is in flight (raft thesis §10.2.1): raft counts the
	// leader in a quorum only once its write is durable.
	if len(msgs) > 0 && n.cfg.Send != nil {
		n.cfg.Send(msgs)
	}
	ph.send = lap(&t)
	for _, rs := range rd.ReadStates {
		if len(rs.RequestCtx) == 8 {
			id := binary.BigEndian.Uint64(rs.RequestCtx)
			if r, ok := n.reads[id]; ok {
				delete(n.reads, id)
				r.done <- rs.Index
			}
		}
	}
	return nil
}

// dispatch applies the conf changes among committed entries to raft and
// hands the entries to the applier, with the responses to step once they
// are applied.
func (n *Node) dispatch(committed []*raftpb.Entry, resps []*raftpb.Message) error {
	for _, e := range committed {
		switch e.GetType() {
		case raftpb.EntryConfChange:
			cc := &raftpb.ConfChange{}
			if err := proto.Unmarshal(e.GetData(), cc); err != nil {
				return err
			}
			n.cs = n.rn.ApplyConfChange(cc)
		case raftpb.EntryConfChangeV2:
			cc := &raftpb.ConfChangeV2{}
			if err := proto.Unmarshal(e.GetData(), cc); err != nil {
				return err
			}
			n.cs = n.rn.ApplyConfChange(cc)
		}
	}
	it := applyItem{ents: append([]*raftpb.Entry(nil), committed...), cs: n.cs, resps: resps}
	select {
	case n.applyc <- it:
	default:
		// The applier is behind by a whole queue: the raft loop (and with
		// it heartbeats and replication) waits for it.
		start := time.Now()
		n.applyc <- it
		if d := time.Since(start); d > stallWarning {
			n.log.Warn("the raft loop waited for the applier", "took", d)
		}
	}
	return nil
}

// electionTicks is raft's election timeout in ticks.
func electionTicks(cfg Config) int { return max(cfg.ElectionTicks, 10) }

// raftLogger adapts slog to raft's Logger interface.
type raftLogger struct{ l *slog.Logger }

func (r raftLogger) Debug(v ...interface{})                 {}
func (r raftLogger) Debugf(format string, v ...interface{}) {}
func (r raftLogger) Error(v ...interface{})                 { r.l.Error(fmt.Sprint(v...)) }
func (r raftLogger) Errorf(format string, v ...interface{}) { r.l.Error(fmt.Sprintf(format, v...)) }
func (r raftLogger) Info(v ...interface{})                  {}
func (r raftLogger) Infof(format string, v ...interface{})  {}
func (r raftLogger) Warning(v ...interface{})               { r.l.Warn(fmt.Sprint(v...)) }
func (r raftLogger) Warningf(format string, v ...interface{}) {
	r.l.Warn(fmt.Sprintf(format, v...))
}
func (r raftLogger) Fatal(v ...interface{}) { r.l.Error(fmt.Sprint(v...)); panic(fmt.Sprint(v...)) }
func (r raftLogger) Fatalf(format string, v ...interface{}) {
	r.l.Error(fmt.Sprintf(format, v...))
	panic(fmt.Sprintf(format, v...))
}
func (r raftLogger) Panic(v ...interface{}) { panic(fmt.Sprint(v...)) }
func (r raftLogger) Panicf(format string, v ...interface{}) {
	panic(fmt.Sprintf(format, v...))
}
