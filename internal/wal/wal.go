package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// ErrCorrupt reports committed log data that failed its checks.
var ErrCorrupt = errors.New("wal: corrupt")

// ErrFailed is returned once a write or sync has failed: the WAL accepts no
// more writes.
var ErrFailed = errors.New("wal: an earlier write or sync failed")

// Options configure a WAL.
type Options struct {
	// SegmentSize is the preallocated size of each segment (default 64 MiB).
	SegmentSize int64
	// FS is the file system (default the real one).
	FS FS
	// Logger receives recovery messages.
	Logger *slog.Logger
	// NoSync skips fdatasync (tests and benchmarks only).
	NoSync bool
	// SkipThrough is the index of the snapshot the caller has loaded:
	// entries at or below it are not returned, and segments holding only
	// such entries are not read at all (when the segment after them carries
	// the log's state, see doc.go). 0 returns every entry.
	SkipThrough uint64
}

// State is what Open recovered.
type State struct {
	HardState *raftpb.HardState
	// Entries are the entries the log holds above Options.SkipThrough,
	// contiguous, oldest first.
	Entries []*raftpb.Entry
	// FirstIndex and LastIndex bound every entry the log holds, including
	// those at or below SkipThrough that were not returned (0, 0: none).
	// With skipped segments FirstIndex is the first index of the first
	// segment read (the skipped segments hold the entries before it).
	FirstIndex, LastIndex uint64
	// SegmentsRead is how many segments were read (the others were skipped).
	SegmentsRead int
	// Snapshot is the newest snapshot marker (zero if none).
	Snapshot SnapshotMark
	// Repaired is set if a torn tail was cut off.
	Repaired bool
}

// SnapshotMark records that a snapshot at Index/Term is durable.
type SnapshotMark struct{ Index, Term uint64 }

type segment struct {
	name       string
	seq        uint64
	firstIndex uint64
}

// WAL is an open write-ahead log. Save, SaveSnapshot and ReleaseTo must not
// be called concurrently with each other (the raft loop is the only writer).
type WAL struct {
	dir  string
	opts Options
	fs   FS
	log  *slog.Logger

	mu       sync.Mutex
	segs     []segment
	f        File
	off      int64
	batch    uint64
	lastIdx  uint64
	failed   error
	buf      []byte
	ebuf     []byte // scratch for one marshalled entry (Save)
	syncs    uint64
	lastSnap SnapshotMark
	// hsSeq and snapSeq are the segments holding the newest HardState and
	// snapshot mark (0: none); ReleaseTo keeps them.
	hsSeq, snapSeq uint64
	// hs is the newest HardState written (cut carries it into each new
	// segment).
	hs *raftpb.HardState
	// dataStart is where the open segment's own batches begin (after its
	// header and carried state): a segment holding nothing past it is
	// never rolled over.
	dataStart int64
	// zeroed is how far the open segment has been written (with zeros
	// where nothing else was written yet); always >= off.
	zeroed int64
}

// zeroChunk is the step in which a segment is filled with written zeros
// ahead of its write offset (see doc.go, Preallocation).
const zeroChunk = 256 << 10

var zeros [zeroChunk]byte

// zeroTo writes zeros to the open segment f from w.zeroed on, a chunk at a
// time, until end is covered (never past the segment size, never below the
// write offset): appends then overwrite blocks that were already written, and
// their fdatasync has no extent conversion to commit.
func (w *WAL) zeroTo(f File, end int64) error {
	if w.zeroed < w.off {
		w.zeroed = w.off
	}
	for w.zeroed < end && w.zeroed < w.opts.SegmentSize {
		// Up to the next chunk boundary: after recovery the write
		// offset can be anywhere.
		n := min(zeroChunk-w.zeroed%zeroChunk, w.opts.SegmentSize-w.zeroed)
		if _, err := f.WriteAt(zeros[:n], w.zeroed); err != nil {
			return w.fail(fmt.Errorf("wal: fill with zeros: %w", err))
		}
		w.zeroed += n
	}
	return nil
}

func segName(seq, first uint64) string { return fmt.Sprintf("wal-%016x-%016x.wal", seq, first) }

func parseSegName(name string) (seq, first uint64, ok bool) {
	if !strings.HasPrefix(name, "wal-") || !strings.HasSuffix(name, ".wal") {
		return 0, 0, false
	}
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(name, "wal-"), ".wal"), "-")
	if len(parts) != 2 || len(parts[0]) != 16 || len(parts[1]) != 16 {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(parts[0], 16, 64)
	f, err2 := strconv.ParseUint(parts[1], 16, 64)
	return s, f, err1 == nil && err2 == nil
}

// Open opens (creating if needed) the log in dir and recovers its state.
func Open(dir string, opts Options) (*WAL, *State, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = 64 << 20
	}
	if opts.FS == nil {
		opts.FS = OSFS{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	w := &WAL{dir: dir, opts: opts, fs: opts.FS, log: opts.Logger}
	if err := w.fs.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("wal: create %s: %w", dir, err)
	}
	names, err := w.fs.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("wal: read %s: %w", dir, err)
	}
	for _, n := range names {
		if seq, first, ok := parseSegName(n); ok {
			w.segs = append(w.segs, segment{n, seq, first})
		}
	}
	sort.Slice(w.segs, func(i, j int) bool { return w.segs[i].seq < w.segs[j].seq })
	for i := 1; i < len(w.segs); i++ {
		if w.segs[i].seq != w.segs[i-1].seq+1 {
			return nil, nil, fmt.Errorf("%w: segment %s follows %s: a segment is missing", ErrCorrupt, w.segs[i].name, w.segs[i-1].name)
		}
	}
	// A crash right after creating a segment can leave it without its
	// header (all zeros, or a torn header); such a file holds nothing and is
	// removed.
	if n := len(w.segs); n > 0 {
		path := filepath.Join(dir, w.segs[n-1].name)
		if empty, err := w.neverWritten(path); err != nil {
			return nil, nil, err
		} else if empty {
			w.log.Warn("wal: removing a segment that was created but never written", "file", path)
			if err := w.fs.Remove(path); err != nil {
				return nil, nil, fmt.Errorf("wal: remove %s: %w", path, err)
			}
			w.segs = w.segs[:n-1]
		}
	}
	st := &State{}
	if len(w.segs) == 0 {
		if err := w.cut(1, 1); err != nil {
			return nil, nil, err
		}
		return w, st, nil
	}
	if err := w.recover(st); err != nil {
		return nil, nil, err
	}
	return w, st, nil
}

// logState is the log being rebuilt by recovery: the bounds of every entry
// it holds and the entries above skip, decoded.
type logState struct {
	skip        uint64
	empty       bool
	first, last uint64
	ents        []*raftpb.Entry
}

// firstToRead returns the position in w.segs of the first segment recovery
// must read: every segment before it holds only entries at or below skip,
// and it carries the log's state (a v2 header). Without both, 0.
func (w *WAL) firstToRead(skip uint64) (int, error) {
	i := 0
	for i+1 < len(w.segs) && w.segs[i+1].firstIndex > 0 && w.segs[i+1].firstIndex-1 <= skip {
		i++
	}
	if i == 0 {
		return 0, nil
	}
	head, err := w.readHead(w.segs[i].name)
	if err != nil {
		return 0, err
	}
	if i == len(w.segs)-1 && !startsCommitted(head) {
		// The newest segment: a crash while it was being created can
		// leave its header without the batch carrying the state after
		// it. The one before it was complete before this one was cut.
		i--
		if i == 0 {
			return 0, nil
		}
		if head, err = w.readHead(w.segs[i].name); err != nil {
			return 0, err
		}
	}
	typ, payload, _, ok := parseRecord(head)
	if !ok || typ != typeHeader || len(payload) != 24 || string(payload[:8]) != magic {
		// An older segment without carried state, or a damaged header
		// (reported when it is read): read everything.
		return 0, nil
	}
	return i, nil
}

// readHead returns the first bytes of a segment (its header and carried
// state fit in them).
func (w *WAL) readHead(name string) ([]byte, error) {
	path := filepath.Join(w.dir, name)
	f, err := w.fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("wal: read %s: %w", path, err)
	}
	return head[:n], nil
}

// startsCommitted reports whether a segment's header is followed by a
// complete batch (its first commit record comes before any invalid record).
func startsCommitted(head []byte) bool {
	off := 0
	for off < len(head) {
		typ, _, size, ok := parseRecord(head[off:])
		if !ok {
			return false
		}
		if typ == typeCommit {
			return true
		}
		off += size
	}
	return false
}

// recover replays the segments into st and leaves the last one open for
// appends. Segments holding only entries at or below Options.SkipThrough are
// skipped when the first segment after them carries the log's state.
func (w *WAL) recover(st *State) error {
	skip := w.opts.SkipThrough
	start, err := w.firstToRead(skip)
	if err != nil {
		return err
	}
	l := &logState{skip: skip, empty: true}
	if start > 0 {
		// The skipped segments hold entries up to where this one begins.
		l.empty, l.first, l.last = false, w.segs[start].firstIndex, w.segs[start].firstIndex-1
	}
	st.SegmentsRead = len(w.segs) - start
	var (
		pending []pendingRec
		data    []byte
	)
	for i := start; i < len(w.segs); i++ {
		sg := w.segs[i]
		last := i == len(w.segs)-1
		path := filepath.Join(w.dir, sg.name)
		f, err := w.fs.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("wal: open %s: %w", path, err)
		}
		size, err := f.Size()
		if err != nil {
			f.Close()
			return fmt.Errorf("wal: stat %s: %w", path, err)
		}
		// One buffer serves every segment: pending records alias it, and
		// decoding copies what it keeps.
		if int64(cap(data)) < size {
			data = make([]byte, size)
		}
		data = data[:size]
		if _, err := f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
			f.Close()
			return fmt.Errorf("wal: read %s: %w", path, err)
		}
		// A batch never spans segments: records left over from the
		// previous one belong to no batch.
		pending = pending[:0]
		off := 0
		sawHeader, sawEnd := false, false
		committedOff := -1
		for off < len(data) && !sawEnd {
			typ, payload, size, ok := parseRecord(data[off:])
			if !ok {
				break
			}
			if !sawHeader {
				if typ != typeHeader || len(payload) != 24 || (string(payload[:8]) != magic && string(payload[:8]) != magicV1) ||
					binary.BigEndian.Uint64(payload[8:]) != sg.seq {
					f.Close()
					return fmt.Errorf("%w: %s: bad segment header; the file is not a Warren WAL segment of this log", ErrCorrupt, path)
				}
				sawHeader = true
				off += size
				committedOff = off
				continue
			}
			switch typ {
			case typeCommit:
				if len(payload) != 8 {
					f.Close()
					return fmt.Errorf("%w: %s offset %d: bad commit record", ErrCorrupt, path, off)
				}
				b := binary.BigEndian.Uint64(payload)
				if b <= w.batch {
					f.Close()
					return fmt.Errorf("%w: %s offset %d: batch %d after batch %d", ErrCorrupt, path, off, b, w.batch)
				}
				w.batch = b
				for _, p := range pending {
					snap := st.Snapshot
					if err := w.applyRec(p, st, l); err != nil {
						f.Close()
						return fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
					}
					if p.typ == typeHardState {
						w.hsSeq = sg.seq
					}
					if st.Snapshot != snap {
						w.snapSeq = sg.seq
					}
				}
				pending = pending[:0]
				committedOff = off + size
			case typeEnd:
				sawEnd = true
				committedOff = off + size
			default:
				pending = append(pending, pendingRec{typ, payload})
			}
			off += size
		}
		if !sawHeader {
			f.Close()
			return fmt.Errorf("%w: %s: no segment header", ErrCorrupt, path)
		}
		if !last {
			f.Close()
			if !sawEnd {
				return fmt.Errorf("%w: %s offset %d: damaged record before the end of a full segment; restore the data directory from a replica or backup", ErrCorrupt, path, off)
			}
			continue
		}
		// Last segment: anything after the last commit is an unfinished batch.
		if sawEnd {
			// The crash came between closing this segment and creating the
			// next: start the next one now.
			f.Close()
			w.finishRecovery(st, l)
			return w.cut(sg.seq+1, w.lastIdx+1)
		}
		if at, found := findCommit(data, off); found {
			f.Close()
			return fmt.Errorf("%w: %s offset %d: damaged record followed by committed data at offset %d; "+
				"the log cannot be trusted past this point: restore the data directory from a replica or backup, "+
				"or move it aside to start empty", ErrCorrupt, path, off, at)
		}
		// (A file cut short inside the padding of its last record ends
		// before committedOff.)
		if len(pending) > 0 || (committedOff < len(data) && !allZero(data[committedOff:])) {
			w.log.Warn("wal: cutting off a torn tail (an unfinished batch from a crash)",
				"file", path, "offset", committedOff, "bytes", len(data)-committedOff)
			if err := f.Truncate(int64(committedOff)); err != nil {
				f.Close()
				return fmt.Errorf("wal: truncate %s: %w", path, err)
			}
			if err := f.Allocate(w.opts.SegmentSize); err != nil {
				f.Close()
				return fmt.Errorf("wal: preallocate %s: %w", path, err)
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return fmt.Errorf("wal: sync %s: %w", path, err)
			}
			st.Repaired = true
		}
		w.f = f
		w.off = int64(committedOff)
		w.zeroed = w.off
		w.dataStart = 40 // the header record
	}
	w.finishRecovery(st, l)
	return nil
}

func (w *WAL) finishRecovery(st *State, l *logState) {
	st.Entries = l.ents
	if !l.empty {
		st.FirstIndex, st.LastIndex = l.first, l.last
	}
	w.lastIdx = st.LastIndex
	w.lastSnap = st.Snapshot
	w.hs = st.HardState
}

// neverWritten reports whether the file holds no valid header and no
// valid commit record: only zeros, or a header torn by a crash (cut syncs
// the header before anything else is written to a segment).
func (w *WAL) neverWritten(path string) (bool, error) {
	f, err := w.fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return false, fmt.Errorf("wal: open %s: %w", path, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return false, fmt.Errorf("wal: stat %s: %w", path, err)
	}
	first := make([]byte, min(size, 64<<10))
	if _, err := f.ReadAt(first, 0); err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("wal: read %s: %w", path, err)
	}
	if typ, _, _, ok := parseRecord(first); ok && typ == typeHeader {
		return false, nil
	}
	data := first
	if int64(len(first)) < size {
		data = make([]byte, size)
		if _, err := f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
			return false, fmt.Errorf("wal: read %s: %w", path, err)
		}
	}
	_, found := findCommit(data, 0)
	return !found, nil
}

type pendingRec struct {
	typ     byte
	payload []byte
}

func (w *WAL) applyRec(p pendingRec, st *State, l *logState) error {
	switch p.typ {
	case typeEntry:
		idx, ok := peekIndex(p.payload)
		var e *raftpb.Entry
		if !ok || idx > l.skip {
			e = &raftpb.Entry{}
			if err := proto.Unmarshal(p.payload, e); err != nil {
				return fmt.Errorf("entry: %w", err)
			}
			if ok && e.GetIndex() != idx {
				return fmt.Errorf("entry: index %d read as %d", e.GetIndex(), idx)
			}
			idx = e.GetIndex()
			if idx <= l.skip {
				e = nil
			}
		}
		// raft's overwrite rule: an entry at i replaces those at i and later.
		if !l.empty {
			switch {
			case idx <= l.first:
				l.empty = true
			case idx <= l.last:
				l.last = idx - 1
				if n := len(l.ents); n > 0 && l.ents[0].GetIndex() <= l.last {
					l.ents = l.ents[:l.last-l.ents[0].GetIndex()+1]
				} else {
					l.ents = l.ents[:0]
				}
			case idx != l.last+1:
				return fmt.Errorf("entry %d after %d: gap", idx, l.last)
			}
		}
		if l.empty {
			l.empty, l.first, l.ents = false, idx, l.ents[:0]
		}
		l.last = idx
		if e != nil {
			l.ents = append(l.ents, e)
		}
	case typeHardState:
		hs := &raftpb.HardState{}
		if err := proto.Unmarshal(p.payload, hs); err != nil {
			return fmt.Errorf("hard state: %w", err)
		}
		if !isEmptyHardState(hs) {
			st.HardState = hs
		}
	case typeSnapshot:
		if len(p.payload) != 16 {
			return fmt.Errorf("snapshot record of %d bytes", len(p.payload))
		}
		m := SnapshotMark{binary.BigEndian.Uint64(p.payload), binary.BigEndian.Uint64(p.payload[8:])}
		if m.Index > st.Snapshot.Index {
			st.Snapshot = m
		}
		// A snapshot installed from the leader (this replica was far
		// behind) may lie past the end of the log: it supersedes every
		// entry before it, and the log continues after its index.
		if !l.empty && l.last < m.Index {
			l.empty, l.ents = true, l.ents[:0]
		}
	default:
		return fmt.Errorf("unknown record type %d", p.typ)
	}
	return nil
}

// peekIndex reads a raftpb.Entry's index (field 3, a varint) without
// decoding the entry; ok is false if the payload is not laid out as
// proto.Marshal lays it out (fields in number order), and the caller decodes
// it in full.
func peekIndex(b []byte) (uint64, bool) {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		field, wire := key>>3, key&7
		if wire != 0 || field > 3 {
			return 0, false
		}
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		if field == 3 {
			return v, true
		}
		b = b[n:]
	}
	return 0, false
}

func isEmptyHardState(hs *raftpb.HardState) bool {
	return hs.GetTerm() == 0 && hs.GetVote() == 0 && hs.GetCommit() == 0
}

// zeroBlock is compared against in allZero (bytes.Equal is vectorised).
var zeroBlock = make([]byte, 64<<10)

func allZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeroBlock))
		if !bytes.Equal(b[:n], zeroBlock[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}

// findCommit looks for a valid commit record at any aligned offset from off on.
func findCommit(data []byte, off int) (int, bool) {
	// The usual tail is the zero-filled preallocated space: nothing to
	// search there (the loop below walks every aligned offset).
	if off >= len(data) || allZero(data[off:]) {
		return 0, false
	}
	for p := (off + align) &^ (align - 1); p+headerLen <= len(data); p += align {
		if data[p+8] != typeCommit {
			continue
		}
		if typ, payload, _, ok := parseRecord(data[p:]); ok && typ == typeCommit && len(payload) == 8 {
			return p, true
		}
	}
	return 0, false
}

// cut starts segment seq whose entries begin at firstIndex.
func (w *WAL) cut(seq, firstIndex uint64) error {
	name := segName(seq, firstIndex)
	path := filepath.Join(w.dir, name)
	f, err := w.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return w.fail(fmt.Errorf("wal: create %s: %w", path, err))
	}
	if err := f.Allocate(w.opts.SegmentSize); err != nil {
		f.Close()
		return w.fail(fmt.Errorf("wal: preallocate %s: %w", path, err))
	}
	// The header and, as the segment's first batch, the newest HardState
	// and snapshot mark: recovery can start at this segment without
	// reading the ones before it.
	hdr := appendRecord(nil, typeHeader, append([]byte(magic), u64(seq, firstIndex)...))
	carried := false
	if w.hs != nil {
		p, err := proto.Marshal(w.hs)
		if err != nil {
			f.Close()
			return w.fail(fmt.Errorf("wal: encode hard state: %w", err))
		}
		hdr = appendRecord(hdr, typeHardState, p)
		carried = true
	}
	if w.lastSnap.Index > 0 {
		hdr = appendRecord(hdr, typeSnapshot, u64(w.lastSnap.Index, w.lastSnap.Term))
		carried = true
	}
	if carried {
		w.batch++
		hdr = appendRecord(hdr, typeCommit, u64(w.batch))
	}
	w.off, w.zeroed = 0, 0
	if err := w.zeroTo(f, int64(len(hdr))); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteAt(hdr, 0); err != nil {
		f.Close()
		return w.fail(fmt.Errorf("wal: write %s: %w", path, err))
	}
	if err := w.sync(f); err != nil {
		f.Close()
		return w.fail(fmt.Errorf("wal: sync %s: %w", path, err))
	}
	if err := w.fs.SyncDir(w.dir); err != nil {
		f.Close()
		return w.fail(fmt.Errorf("wal: sync dir %s: %w", w.dir, err))
	}
	w.f = f
	w.off = int64(len(hdr))
	w.dataStart = w.off
	w.segs = append(w.segs, segment{name, seq, firstIndex})
	if w.hs != nil {
		w.hsSeq = seq
	}
	if w.lastSnap.Index > 0 {
		w.snapSeq = seq
	}
	return nil
}

func (w *WAL) sync(f File) error {
	if w.opts.NoSync {
		return nil
	}
	w.syncs++
	return f.Sync()
}

func (w *WAL) fail(err error) error {
	if w.failed == nil {
		w.failed = err
	}
	return err
}

// Save appends HardState (if not nil/empty) and entries as one batch and,
// when mustSync, makes it durable with one fdatasync before returning.
func (w *WAL) Save(hs *raftpb.HardState, ents []*raftpb.Entry, mustSync bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		return fmt.Errorf("%w: %v", ErrFailed, w.failed)
	}
	if isEmptyHardState(hs) {
		hs = nil
	}
	if hs == nil && len(ents) == 0 {
		return nil
	}
	b := w.buf[:0]
	for _, e := range ents {
		p, err := proto.MarshalOptions{}.MarshalAppend(w.ebuf[:0], e)
		if err != nil {
			return fmt.Errorf("wal: encode entry: %w", err)
		}
		if cap(p) <= 1<<20 {
			w.ebuf = p // the next entry's scratch (appendRecord copies p)
		}
		if len(p) > maxRecord {
			return fmt.Errorf("wal: entry %d is %d bytes, over the %d-byte record limit", e.GetIndex(), len(p), maxRecord)
		}
		b = appendRecord(b, typeEntry, p)
	}
	if hs != nil {
		p, err := proto.Marshal(hs)
		if err != nil {
			return fmt.Errorf("wal: encode hard state: %w", err)
		}
		b = appendRecord(b, typeHardState, p)
	}
	if err := w.writeBatch(b, firstIndex(ents)); err != nil {
		return err
	}
	if len(ents) > 0 {
		w.lastIdx = ents[len(ents)-1].GetIndex()
	}
	if hs != nil {
		w.hsSeq = w.segs[len(w.segs)-1].seq
		w.hs = hs
	}
	if mustSync {
		if err := w.sync(w.f); err != nil {
			return w.fail(fmt.Errorf("wal: fdatasync: %w", err))
		}
	}
	if cap(b) <= 4<<20 {
		w.buf = b[:0]
	}
	return nil
}

func firstIndex(ents []*raftpb.Entry) uint64 {
	if len(ents) == 0 {
		return 0
	}
	return ents[0].GetIndex()
}

// writeBatch closes b with a commit record and writes it, cutting a new
// segment first if it does not fit.
func (w *WAL) writeBatch(b []byte, first uint64) error {
	// The commit and end records are 24 bytes each (9-byte frame, 8-byte
	// payload, padding). A new segment is cut before this batch takes its
	// number: cut may write a batch of its own.
	const commitLen, endLen = 24, 24
	if w.off+int64(len(b))+commitLen+endLen > w.opts.SegmentSize && w.off > w.dataStart {
		if err := w.rollover(first); err != nil {
			return err
		}
	}
	w.batch++
	b = appendRecord(b, typeCommit, u64(w.batch))
	if err := w.zeroTo(w.f, w.off+int64(len(b))); err != nil {
		return err
	}
	if _, err := w.f.WriteAt(b, w.off); err != nil {
		return w.fail(fmt.Errorf("wal: write: %w", err))
	}
	w.off += int64(len(b))
	w.buf = b
	return nil
}

// rollover closes the current segment with an end record and starts the next.
func (w *WAL) rollover(first uint64) error {
	cur := w.segs[len(w.segs)-1]
	end := appendRecord(nil, typeEnd, u64(cur.seq))
	if _, err := w.f.WriteAt(end, w.off); err != nil {
		return w.fail(fmt.Errorf("wal: write: %w", err))
	}
	if err := w.sync(w.f); err != nil {
		return w.fail(fmt.Errorf("wal: fdatasync: %w", err))
	}
	if err := w.f.Close(); err != nil {
		return w.fail(fmt.Errorf("wal: close: %w", err))
	}
	if first == 0 {
		first = w.lastIdx + 1
	}
	return w.cut(cur.seq+1, first)
}

// SaveSnapshot records durably that a snapshot at (index, term) exists.
func (w *WAL) SaveSnapshot(index, term uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		return fmt.Errorf("%w: %v", ErrFailed, w.failed)
	}
	b := appendRecord(w.buf[:0], typeSnapshot, u64(index, term))
	if err := w.writeBatch(b, 0); err != nil {
		return err
	}
	if err := w.sync(w.f); err != nil {
		return w.fail(fmt.Errorf("wal: fdatasync: %w", err))
	}
	if index >= w.lastSnap.Index {
		w.lastSnap = SnapshotMark{index, term}
		w.snapSeq = w.segs[len(w.segs)-1].seq
	}
	return nil
}

// ReleaseTo deletes whole segments holding only entries at or below index
// (call it once a snapshot at index is durable). The segment being written
// is never deleted, nor are those holding the newest HardState and snapshot
// mark (or they would be lost: raft's term and vote above all).
func (w *WAL) ReleaseTo(index uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	keep := 0
	// Segment i holds entries [first_i, first_{i+1}); it can go if
	// first_{i+1}-1 <= index.
	for keep+1 < len(w.segs) && w.segs[keep+1].firstIndex > 0 && w.segs[keep+1].firstIndex-1 <= index &&
		(w.hsSeq == 0 || w.segs[keep].seq < w.hsSeq) && (w.snapSeq == 0 || w.segs[keep].seq < w.snapSeq) {
		keep++
	}
	for i, sg := range w.segs[:keep] {
		// (warren purge may have removed it already.)
		if err := w.fs.Remove(filepath.Join(w.dir, sg.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.segs = append([]segment(nil), w.segs[i:]...) // forget those already gone
			return fmt.Errorf("wal: remove %s: %w", sg.name, err)
		}
	}
	if keep > 0 {
		w.segs = append([]segment(nil), w.segs[keep:]...)
		if err := w.fs.SyncDir(w.dir); err != nil {
			return fmt.Errorf("wal: sync dir: %w", err)
		}
	}
	return nil
}

// Syncs returns the number of fdatasync calls made (for metrics and tests).
func (w *WAL) Syncs() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.syncs
}

// Segments returns the current segment file names, oldest first.
func (w *WAL) Segments() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, len(w.segs))
	for i, s := range w.segs {
		out[i] = s.name
	}
	return out
}

// Close closes the open segment.
func (w *WAL) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
