package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Record is one record found by Scan, for inspection tools.
type Record struct {
	Segment   string
	Offset    int64
	Type      string
	Entry     *raftpb.Entry
	HardState *raftpb.HardState
	Batch     uint64
	Snapshot  SnapshotMark
}

// SegmentNames lists the segment files in dir, oldest first.
func SegmentNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type seg struct {
		name string
		seq  uint64
	}
	var segs []seg
	for _, e := range ents {
		if s, _, ok := parseSegName(e.Name()); ok {
			segs = append(segs, seg{e.Name(), s})
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].seq < segs[j].seq })
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = s.name
	}
	return out, nil
}

// Scan reads every segment in dir without changing anything and calls fn
// for each valid record, in order. Where a segment stops holding valid
// records before its end, a note says so (a torn tail in the last segment
// is normal after a crash).
func Scan(dir string, fn func(Record) error) (notes []string, err error) {
	names, err := SegmentNames(dir)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return notes, err
		}
		off := 0
		for off < len(data) {
			typ, payload, size, ok := parseRecord(data[off:])
			if !ok {
				if !allZero(data[off:]) {
					notes = append(notes, fmt.Sprintf("%s: no valid record at offset %d (%d bytes follow)", name, off, len(data)-off))
				}
				break
			}
			r := Record{Segment: name, Offset: int64(off)}
			switch typ {
			case typeHeader:
				r.Type = "header"
			case typeEntry:
				r.Type = "entry"
				r.Entry = &raftpb.Entry{}
				if err := proto.Unmarshal(payload, r.Entry); err != nil {
					return notes, fmt.Errorf("%s offset %d: %w", name, off, err)
				}
			case typeHardState:
				r.Type = "hardstate"
				r.HardState = &raftpb.HardState{}
				if err := proto.Unmarshal(payload, r.HardState); err != nil {
					return notes, fmt.Errorf("%s offset %d: %w", name, off, err)
				}
			case typeCommit:
				r.Type = "commit"
				if len(payload) == 8 {
					r.Batch = binary.BigEndian.Uint64(payload)
				}
			case typeSnapshot:
				r.Type = "snapshot"
				if len(payload) == 16 {
					r.Snapshot = SnapshotMark{binary.BigEndian.Uint64(payload), binary.BigEndian.Uint64(payload[8:])}
				}
			case typeEnd:
				r.Type = "end"
			}
			if err := fn(r); err != nil {
				return notes, err
			}
			off += size
			if typ == typeEnd {
				break
			}
		}
	}
	return notes, nil
}

// PurgeSegments deletes, without opening the log, the segments of dir that
// hold only entries at or below index; the newest segment is always kept, and
// so are those holding the newest HardState and snapshot mark (as ReleaseTo).
// It is safe while a server uses the log: those segments are never read
// again once a snapshot covers them.
func PurgeSegments(dir string, index uint64) (removed []string, err error) {
	names, err := SegmentNames(dir)
	if err != nil {
		return nil, err
	}
	limit, err := pinned(dir, names)
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(names) && i < limit; i++ {
		_, next, _ := parseSegName(names[i+1])
		if next == 0 || next-1 > index {
			break
		}
		if err := os.Remove(filepath.Join(dir, names[i])); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, err
		}
		removed = append(removed, names[i])
	}
	return removed, nil
}

// pinned returns the position in names of the oldest segment that holds the
// newest committed HardState or snapshot mark (len(names) if none does),
// reading segments from the newest back only until both are found.
func pinned(dir string, names []string) (int, error) {
	hs, sn := -1, -1
	for i := len(names) - 1; i >= 0 && (hs < 0 || sn < 0); i-- {
		data, err := os.ReadFile(filepath.Join(dir, names[i]))
		if err != nil {
			return 0, err
		}
		sawHS, sawSnap := false, false
		for off := 0; off < len(data); {
			typ, _, size, ok := parseRecord(data[off:])
			if !ok || typ == typeEnd {
				break
			}
			switch typ {
			case typeHardState:
				sawHS = true
			case typeSnapshot:
				sawSnap = true
			case typeCommit: // the records before it are committed
				if sawHS && hs < 0 {
					hs = i
				}
				if sawSnap && sn < 0 {
					sn = i
				}
			}
			off += size
		}
	}
	p := len(names)
	if hs >= 0 {
		p = hs
	}
	if sn >= 0 && sn < p {
		p = sn
	}
	return p, nil
}
