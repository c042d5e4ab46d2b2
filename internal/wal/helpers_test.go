package wal

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

const testDir = "/data/wal"

var errEIO error = syscall.EIO

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func memOpts(m *memFS, segSize int64) Options {
	return Options{FS: m, SegmentSize: segSize, Logger: quietLogger()}
}

func segPath(name string) string { return filepath.Join(testDir, name) }

// mkEnts returns entries first..last at term, each with 100 bytes of data.
func mkEnts(first, last, term uint64) []*raftpb.Entry {
	var out []*raftpb.Entry
	for i := first; i <= last; i++ {
		data := make([]byte, 100)
		for j := range data {
			data[j] = byte(i*31 + term*7 + uint64(j))
		}
		out = append(out, &raftpb.Entry{
			Term:  proto.Uint64(term),
			Index: proto.Uint64(i),
			Type:  raftpb.EntryNormal.Enum(),
			Data:  data,
		})
	}
	return out
}

func mkHS(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: proto.Uint64(term), Vote: proto.Uint64(vote), Commit: proto.Uint64(commit)}
}

// model is the expected content of the log.
type model struct {
	hs   *raftpb.HardState
	ents []*raftpb.Entry
	snap SnapshotMark
}

func (m *model) save(hs *raftpb.HardState, ents []*raftpb.Entry) {
	if hs != nil && (hs.GetTerm() != 0 || hs.GetVote() != 0 || hs.GetCommit() != 0) {
		m.hs = hs
	}
	for _, e := range ents {
		if len(m.ents) > 0 {
			first := m.ents[0].GetIndex()
			if e.GetIndex() <= first {
				m.ents = nil
			} else if e.GetIndex() <= m.ents[len(m.ents)-1].GetIndex() {
				m.ents = m.ents[:e.GetIndex()-first]
			}
		}
		m.ents = append(m.ents, e)
	}
}

func (m *model) snapshot(index, term uint64) {
	if index > m.snap.Index {
		m.snap = SnapshotMark{index, term}
	}
}

func (m model) clone() model {
	m.ents = append([]*raftpb.Entry(nil), m.ents...)
	return m
}

func (m model) lastIndex() uint64 {
	if len(m.ents) == 0 {
		return 0
	}
	return m.ents[len(m.ents)-1].GetIndex()
}

// diffState describes how st differs from m ("" if not).
func diffState(st *State, m model) string {
	if !proto.Equal(st.HardState, m.hs) || (st.HardState == nil) != (m.hs == nil) {
		return fmt.Sprintf("hard state %v, want %v", st.HardState, m.hs)
	}
	if st.Snapshot != m.snap {
		return fmt.Sprintf("snapshot %+v, want %+v", st.Snapshot, m.snap)
	}
	if len(st.Entries) != len(m.ents) {
		return fmt.Sprintf("%d entries %s, want %d %s", len(st.Entries), span(st.Entries), len(m.ents), span(m.ents))
	}
	for i := range st.Entries {
		if !proto.Equal(st.Entries[i], m.ents[i]) {
			return fmt.Sprintf("entry %d: %v, want %v", i, st.Entries[i], m.ents[i])
		}
	}
	return ""
}

func span(es []*raftpb.Entry) string {
	if len(es) == 0 {
		return "[]"
	}
	return fmt.Sprintf("[%d..%d]", es[0].GetIndex(), es[len(es)-1].GetIndex())
}

func checkState(t testing.TB, st *State, m model) {
	t.Helper()
	if d := diffState(st, m); d != "" {
		t.Fatal(d)
	}
}

func mustOpen(t testing.TB, opts Options) (*WAL, *State) {
	t.Helper()
	w, st, err := Open(testDir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return w, st
}

func mustSave(t testing.TB, w *WAL, m *model, hs *raftpb.HardState, ents []*raftpb.Entry, mustSync bool) {
	t.Helper()
	if err := w.Save(hs, ents, mustSync); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if m != nil {
		m.save(hs, ents)
	}
}

// rec is one record found by scanning a segment.
type rec struct {
	off, end, size int // start, end of the unpadded bytes, padded size
	typ            byte
}

// scan returns the valid records of a segment from its start, stopping at
// the first invalid position or after an end record.
func scan(data []byte) []rec {
	var out []rec
	for off := 0; off < len(data); {
		typ, payload, size, ok := parseRecord(data[off:])
		if !ok {
			break
		}
		out = append(out, rec{off, off + headerLen + len(payload), size, typ})
		off += size
		if typ == typeEnd {
			break
		}
	}
	return out
}
