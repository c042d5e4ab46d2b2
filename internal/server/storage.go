package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/warren-zk/warren/internal/fsm"
	"github.com/warren-zk/warren/internal/raftnode"
	"github.com/warren-zk/warren/internal/snap"
	"github.com/warren-zk/warren/internal/wal"
)

// snapCatchUp is how many entries before a snapshot stay in the in-memory
// raft log, so a follower slightly behind can catch up without a snapshot.
const snapCatchUp = 5000

// SnapDir and WALDir are where a config's snapshots and log segments live
// (ZooKeeper keeps its own files under version-2 too).
func SnapDir(dataDir string) string   { return filepath.Join(dataDir, "version-2") }
func WALDir(dataLogDir string) string { return filepath.Join(dataLogDir, "version-2") }

// recover loads the newest valid snapshot and the WAL, and returns what raft
// needs to restart (nil for a brand-new data directory).
func (s *Server) recover() (*raftnode.Restart, error) {
	var (
		membership []byte
		restoreErr error
	)
	// A brand-new data directory starts from the initial snapshot (the
	// initial tree and membership at index 1), identical on every member.
	if gone := snap.RemoveTemp(SnapDir(s.cfg.DataDir)); len(gone) > 0 {
		s.log.Info("removed unfinished snapshot files left by an earlier stop", "files", gone)
	}
	existing, err := snap.List(SnapDir(s.cfg.DataDir))
	if err != nil {
		return nil, err
	}
	if len(existing) == 0 {
		segs, _ := wal.SegmentNames(WALDir(s.cfg.DataLogDir))
		if len(segs) == 0 {
			if _, err := s.writeInitialSnapshot(); err != nil {
				return nil, fmt.Errorf("writing the initial snapshot: %w", err)
			}
		}
	}
	meta, err := snap.LoadNewest(SnapDir(s.cfg.DataDir), s.log,
		func() { s.fsm = s.newFSM() },
		func(r io.Reader) error {
			_, _, membership, restoreErr = s.fsm.Restore(r)
			return restoreErr
		})
	if err != nil && !errors.Is(err, snap.ErrNoSnapshot) {
		return nil, err
	}
	w, st, err := wal.Open(WALDir(s.cfg.DataLogDir), wal.Options{
		SegmentSize: int64(s.cfg.PreAllocSizeKB) * 1024,
		Logger:      s.log,
		FS:          s.opts.WALFS,
		// Entries the snapshot covers are neither decoded nor kept, and
		// segments holding only such entries are not read.
		SkipThrough: meta.Index,
	})
	if err != nil {
		return nil, err
	}
	s.wal = w
	r := &raftnode.Restart{HardState: st.HardState}
	if meta.Index > 0 {
		cs := &raftpb.ConfState{}
		if err := proto.Unmarshal(membership, cs); err != nil {
			return nil, fmt.Errorf("snapshot %s: membership: %w", meta.Path, err)
		}
		r.SnapshotIndex, r.SnapshotTerm, r.ConfState = meta.Index, meta.Term, cs
		s.lastSnapIndex = meta.Index
		s.log.Info("loaded snapshot", "file", meta.Path, "index", meta.Index, "zxid", fmt.Sprintf("0x%x", s.fsm.LastZxid()))
	}
	ents := st.Entries // all above meta.Index (SkipThrough)
	if len(ents) > 0 && ents[0].GetIndex() != meta.Index+1 {
		return nil, fmt.Errorf("the log starts at index %d but the newest usable snapshot ends at %d: "+
			"entries in between are missing; restore the data directory from a replica or backup", ents[0].GetIndex(), meta.Index)
	}
	if meta.Index > 0 && st.LastIndex > 0 && st.LastIndex < meta.Index {
		s.log.Warn("the snapshot is newer than the whole log", "snapshot", meta.Index, "log_last", st.LastIndex)
	}
	r.Entries = ents
	if r.HardState != nil && r.HardState.GetCommit() < meta.Index {
		hs := proto.Clone(r.HardState).(*raftpb.HardState)
		hs.Commit = proto.Uint64(meta.Index)
		r.HardState = hs
	}
	if st.Repaired {
		s.log.Warn("the log had a torn tail from a crash; it was cut off (no acknowledged write is lost: it was never fsynced)")
	}
	s.log.Info("recovered", "snapshot_index", meta.Index, "log_entries", len(ents), "wal_segments", len(w.Segments()), "wal_segments_read", st.SegmentsRead)
	if r.Empty() {
		return nil, nil
	}
	return r, nil
}

func (s *Server) newFSM() *fsm.FSM {
	return fsm.New(fsm.Options{
		ExtendedTypes:   s.cfg.ExtendedTypesEnabled,
		SkipACL:         s.cfg.SkipACL,
		ACLSchemes:      s.sec.schemes,
		EnforceQuota:    javaBoolTrue(s.sec.props["enforceQuota"]),
		QuotaLog:        s.quotaLog,
		Watches:         s.watches,
		OnSessionClosed: s.onSessionClosed,
	})
}

// nextSnapThreshold picks how many entries to apply before the next
// snapshot: snapCount/2 plus a random part up to snapCount/2, as ZooKeeper
// does, so replicas do not all snapshot at once.
func (s *Server) nextSnapThreshold() uint64 {
	n := uint64(s.cfg.SnapCount)
	if n < 2 {
		n = 2
	}
	return n/2 + rand.Uint64N(n/2+1)
}

// maybeSnapshot runs on the apply goroutine with the tree lock held.
func (s *Server) maybeSnapshot() {
	if s.snapshotting || s.wal == nil {
		return
	}
	applied := s.fsm.AppliedIndex()
	if applied-s.lastSnapIndex < s.snapThreshold {
		return
	}
	snapshot := s.fsm.Capture()
	if b, err := proto.Marshal(s.node.ConfState()); err == nil {
		snapshot.Membership = b
	}
	s.snapshotting = true
	s.snapThreshold = s.nextSnapThreshold()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := s.writeSnapshot(snapshot)
		s.fsm.Lock()
		snapshot.Release()
		s.snapshotting = false
		if err == nil {
			s.lastSnapIndex = snapshot.Index
		}
		s.fsm.Unlock()
		if err != nil {
			s.fatal(fmt.Errorf("snapshot: %w", err))
		}
	}()
}

// writeSnapshot writes the file, records it in the WAL, compacts the
// in-memory log and applies retention.
func (s *Server) writeSnapshot(sn *fsm.Snapshot) error {
	start := time.Now()
	meta, err := snap.Save(SnapDir(s.cfg.DataDir), sn.Index, sn.Term, func(w io.Writer) error {
		_, err := sn.WriteTo(w)
		return err
	})
	if err != nil {
		return err
	}
	if err := s.wal.SaveSnapshot(sn.Index, sn.Term); err != nil {
		return err
	}
	cs := &raftpb.ConfState{}
	if err := proto.Unmarshal(sn.Membership, cs); err == nil {
		keep := s.opts.SnapshotCatchUp
		if keep == 0 {
			keep = snapCatchUp
		}
		if err := s.node.Compact(sn.Index, keep, cs); err != nil {
			s.log.Warn("compacting the in-memory log failed", "err", err)
		}
	}
	s.snapshotTaken(time.Since(start))
	s.lastSnapZxid.Store(sn.LastZxid()) // before the time: lsnp reads the time first
	s.lastSnapTime.Store(time.Now().UnixMilli())
	s.log.Info("snapshot written", "file", meta.Path, "nodes", sn.NodeCount(), "bytes", meta.Size,
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Purge applies retention: keep the newest snapRetainCount snapshots and the
// log segments the oldest of them needs.
func (s *Server) Purge() error {
	oldest, err := snap.Purge(SnapDir(s.cfg.DataDir), s.cfg.AutopurgeSnapRetainCount)
	if err != nil {
		return err
	}
	if oldest > 0 && s.wal != nil {
		return s.wal.ReleaseTo(oldest)
	}
	return nil
}

func (s *Server) purgeLoop() {
	defer s.wg.Done()
	hours := s.cfg.AutopurgePurgeInterval
	if hours <= 0 {
		return
	}
	t := time.NewTicker(time.Duration(hours) * time.Hour)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			if err := s.Purge(); err != nil {
				s.log.Warn("autopurge failed", "err", err)
			}
		}
	}
}

// fatal reports an unrecoverable storage error: the server must exit.
func (s *Server) fatal(err error) {
	s.log.Error("fatal storage error; the server must stop", "err", err)
	// Nothing can commit any more: stop serving, so clients see the
	// connection close (ConnectionLoss) and move to another server.
	if s.failed.CompareAndSwap(false, true) {
		go s.closeClients()
	}
	select {
	case s.fatalc <- err:
	default:
	}
}

// Fatal delivers an error after which the server cannot go on (a failed
// write or fsync of the log or a snapshot). The process should exit.
func (s *Server) Fatal() <-chan error { return s.fatalc }

// replayed waits until everything committed before start-up is applied.
func (s *Server) replayed(ctx context.Context) error {
	idx, err := s.node.ReadIndex(ctx)
	if err != nil {
		return err
	}
	return s.waitApplied(ctx, idx)
}
