package fsm

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"sort"

	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/txn"
	"github.com/warren-zk/warren/internal/znode"
)

// Snapshot body format (after the snap package's file header), all integers
// big-endian:
//
//	uint32  version (2)
//	uint64  applied raft index, uint64 its term
//	uint64  zxid epoch, uint64 epoch start index, uint64 last term, int64 last zxid
//	uint32  number of ACL lists; each: uint32 length + jute vector<ACL>
//	uint64  number of nodes; each after its parent (Warren writes them breadth-first):
//	        uint32 length + jute { ustring path; buffer data; int aclIndex;
//	        long czxid, mzxid, ctime, mtime, pzxid, ephemeralOwner;
//	        int version, cversion, aversion, numChildren }
//	        (numChildren is at least 0 and at most the nodes after this one;
//	        Restore rejects a body that breaks it)
//	uint32  number of sessions; each: int64 id, int32 timeout, int64 owner
//	uint32  length + membership (raft ConfState, protobuf; opaque here)
const snapshotVersion = 2

// Snapshot is a point-in-time capture of the state machine.
type Snapshot struct {
	Index, Term uint64
	epoch       uint64
	epochStart  uint64
	lastTerm    uint64
	lastZxid    int64
	tree        *znode.Capture
	sessions    []Session
	f           *FSM
	// Membership is the raft configuration at Index (protobuf bytes).
	Membership []byte
}

// Capture takes a snapshot of the current state. The caller holds Lock; the
// capture is cheap (one pass over the tree, no paths built) and the tree stays
// copy-on-write until Release, so WriteTo can run without any lock while
// writes continue.
func (f *FSM) Capture() *Snapshot {
	s := &Snapshot{
		Index: f.applied.Load(), Term: f.zx.LastTerm,
		epoch: f.zx.Epoch, epochStart: f.zx.EpochStart, lastTerm: f.zx.LastTerm,
		lastZxid: f.lastZxid.Load(), tree: f.tree.Capture(), f: f,
	}
	for _, x := range f.sessions {
		s.sessions = append(s.sessions, *x)
	}
	sort.Slice(s.sessions, func(i, j int) bool { return s.sessions[i].ID < s.sessions[j].ID })
	return s
}

// Release ends copy-on-write; the caller holds Lock.
func (s *Snapshot) Release() { s.tree.Release() }

// NodeCount returns the number of captured nodes.
func (s *Snapshot) NodeCount() int { return s.tree.Len() }

// LastZxid is the zxid of the last transaction the snapshot holds.
func (s *Snapshot) LastZxid() int64 { return s.lastZxid }

// WriteTo streams the snapshot body to w.
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	cw := &countWriter{w: bw}
	var hdr []byte
	hdr = binary.BigEndian.AppendUint32(hdr, snapshotVersion)
	for _, v := range []uint64{s.Index, s.Term, s.epoch, s.epochStart, s.lastTerm, uint64(s.lastZxid)} {
		hdr = binary.BigEndian.AppendUint64(hdr, v)
	}
	cw.Write(hdr)

	// ACL table: nodes with equal lists share the tree's interned copy.
	index := map[*[]proto.ACL]int32{}
	var lists [][]proto.ACL
	for _, n := range s.tree.Nodes {
		r := n.ACLRef()
		if r == nil {
			continue
		}
		if _, ok := index[r]; !ok {
			index[r] = int32(len(lists))
			lists = append(lists, *r)
		}
	}
	e := jute.NewEncoder(make([]byte, 0, 4096))
	cw.Write(binary.BigEndian.AppendUint32(nil, uint32(len(lists))))
	for _, l := range lists {
		e.Reset()
		e.Int(int32(len(l)))
		for i := range l {
			l[i].Encode(e)
		}
		cw.Write(binary.BigEndian.AppendUint32(nil, uint32(e.Len())))
		cw.Write(e.Bytes())
	}
	cw.Write(binary.BigEndian.AppendUint64(nil, uint64(s.tree.Len())))
	// Parents first, as Restore needs; the paths are built here, outside
	// the tree lock.
	err := s.tree.Each(func(path []byte, n *znode.Node) error {
		e.Reset()
		e.Int(0)
		e.Buffer(path) // a jute string: the same bytes as a non-null buffer
		e.Buffer(n.Data())
		ai := int32(-1)
		if r := n.ACLRef(); r != nil {
			ai = index[r]
		}
		e.Int(ai)
		for _, v := range []int64{n.Czxid, n.Mzxid, n.Ctime, n.Mtime, n.Pzxid, n.EphemeralOwner} {
			e.Long(v)
		}
		e.Int(n.Version)
		e.Int(n.Cversion)
		e.Int(n.Aversion)
		e.Int(int32(n.NumChildren()))
		b := e.Bytes()
		binary.BigEndian.PutUint32(b, uint32(len(b)-4))
		cw.Write(b)
		return cw.err
	})
	if err != nil {
		return cw.n, fmt.Errorf("fsm: snapshot: %w", err)
	}
	cw.Write(binary.BigEndian.AppendUint32(nil, uint32(len(s.sessions))))
	for _, x := range s.sessions {
		var b []byte
		b = binary.BigEndian.AppendUint64(b, uint64(x.ID))
		b = binary.BigEndian.AppendUint32(b, uint32(x.Timeout))
		b = binary.BigEndian.AppendUint64(b, uint64(x.Owner))
		cw.Write(b)
	}
	cw.Write(binary.BigEndian.AppendUint32(nil, uint32(len(s.Membership))))
	cw.Write(s.Membership)
	if cw.err != nil {
		return cw.n, cw.err
	}
	return cw.n, bw.Flush()
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// Restore replaces the state with a snapshot body read from r and returns
// the snapshot's index, term and membership bytes. The caller holds Lock (or
// has not shared the FSM yet). On error the FSM must be discarded.
//
// The body is not trusted: snap checks its checksum only after Restore has
// read it, and a follower's snapshot comes from a peer. Counts read from it
// size nothing beyond what the bytes can hold: if r has a Len method
// (bytes.Reader, snap.Load's reader), no more nodes are expected than the
// bytes left could encode; without one, at most 1<<20 are preallocated for.
func (f *FSM) Restore(r io.Reader) (index, term uint64, membership []byte, err error) {
	index, term, err = f.restore(r, &membership)
	return index, term, membership, err
}

func (f *FSM) restore(r io.Reader, membership *[]byte) (index, term uint64, err error) {
	br := bufio.NewReaderSize(r, 256<<10)
	rd := &snapReader{r: br}
	if v := rd.u32(); rd.err == nil && v != snapshotVersion {
		return 0, 0, fmt.Errorf("fsm: snapshot version %d not supported", v)
	}
	index, term = rd.u64(), rd.u64()
	epoch, start, lastTerm, lastZxid := rd.u64(), rd.u64(), rd.u64(), int64(rd.u64())
	nl := rd.u32()
	if rd.err != nil {
		return 0, 0, rd.fail()
	}
	lists := make([][]proto.ACL, 0, min(int(nl), 1<<16))
	d := jute.NewDecoder(nil)
	for i := uint32(0); i < nl && rd.err == nil; i++ {
		b := rd.record()
		if rd.err != nil {
			break
		}
		d.Reset(b)
		d.MaxBuffer = len(b)
		n := d.Count(8)
		l := make([]proto.ACL, 0, max(n, 0))
		for j := 0; j < n && d.Err() == nil; j++ {
			var a proto.ACL
			a.Decode(d)
			l = append(l, a)
		}
		if d.Err() != nil {
			return 0, 0, fmt.Errorf("fsm: snapshot ACL list %d: %w", i, d.Err())
		}
		lists = append(lists, l)
	}
	nn := rd.u64()
	if rd.err != nil {
		return 0, 0, rd.fail()
	}
	expect := min(nn, 1<<20)
	if l, ok := r.(interface{ Len() int }); ok {
		expect = min(nn, uint64(max(l.Len()+br.Buffered(), 0))/minNodeRecord)
	}
	if err := f.loadNodes(rd, nn, expect, lists); err != nil {
		return 0, 0, err
	}
	ns := rd.u32()
	f.sessions = map[int64]*Session{}
	for i := uint32(0); i < ns && rd.err == nil; i++ {
		id := int64(rd.u64())
		to := int32(rd.u32())
		owner := int64(rd.u64())
		f.sessions[id] = &Session{ID: id, Timeout: to, Owner: owner}
	}
	if rd.err != nil {
		return 0, 0, rd.fail()
	}
	if m := rd.record(); rd.err == nil {
		*membership = append([]byte(nil), m...)
	} else {
		return 0, 0, rd.fail()
	}
	f.zx.Epoch, f.zx.EpochStart, f.zx.LastTerm = epoch, start, lastTerm
	f.lastZxid.Store(lastZxid)
	f.applied.Store(index)
	return index, term, nil
}

type snapReader struct {
	r   *bufio.Reader
	err error
	buf []byte
}

func (s *snapReader) fail() error {
	return fmt.Errorf("fsm: snapshot truncated or unreadable: %w", s.err)
}

func (s *snapReader) read(n int) []byte {
	if s.err != nil {
		return nil
	}
	if cap(s.buf) < n {
		s.buf = make([]byte, n)
	}
	b := s.buf[:n]
	if _, err := io.ReadFull(s.r, b); err != nil {
		s.err = err
		return nil
	}
	return b
}

func (s *snapReader) u32() uint32 {
	b := s.read(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (s *snapReader) u64() uint64 {
	b := s.read(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// record reads a uint32-length-prefixed record (at most 64 MiB).
func (s *snapReader) record() []byte {
	n := s.u32()
	if s.err != nil {
		return nil
	}
	if n > 64<<20 {
		s.err = fmt.Errorf("record of %d bytes", n)
		return nil
	}
	return s.read(int(n))
}

// ZxidState returns the zxid computation state (for inspection tools).
func (f *FSM) ZxidState() txn.ZxidState { return f.zx }

// loadedNode is one node decoded from a snapshot, ready to insert.
type loadedNode struct {
	path     string
	n        *znode.Node
	children int // the size its child table starts with
}

// minNodeRecord is the fewest bytes a node record takes: its length, a
// one-byte path, null data, the ACL index, six longs and four ints.
const minNodeRecord = 4 + (4 + 1) + 4 + 4 + 6*8 + 4*4

// loadNodes reads nn node records and inserts them. One goroutine decodes
// (allocating nodes in slabs) while this one inserts, so loading a large
// snapshot uses both cores and little garbage. Every node's child count
// sizes its child table, until those sizes add up to expect (at most nn; a
// valid snapshot's add up to nn-1).
func (f *FSM) loadNodes(rd *snapReader, nn, expect uint64, lists [][]proto.ACL) error {
	f.tree.Reset()
	refs := make([]*[]proto.ACL, len(lists))
	for i := range lists {
		refs[i] = f.tree.InternACL(lists[i])
	}
	batches := make(chan []loadedNode, 8)
	stop := make(chan struct{})
	var decodeErr error
	go func() {
		defer close(batches)
		const batchLen, slabLen = 1024, 4096
		var slab []znode.Node
		budget := int64(expect)
		batch := make([]loadedNode, 0, batchLen)
		d := jute.NewDecoder(nil)
		for i := uint64(0); i < nn; i++ {
			b := rd.record()
			if rd.err != nil {
				decodeErr = rd.fail()
				return
			}
			d.Reset(b)
			d.MaxBuffer = len(b)
			if len(slab) == 0 {
				slab = make([]znode.Node, min(uint64(slabLen), nn-i))
			}
			n := &slab[0]
			slab = slab[1:]
			path := d.String()
			n.PutData(d.Buffer())
			ai := d.Int()
			n.Czxid, n.Mzxid, n.Ctime, n.Mtime, n.Pzxid, n.EphemeralOwner = d.Long(), d.Long(), d.Long(), d.Long(), d.Long(), d.Long()
			n.Version, n.Cversion, n.Aversion = d.Int(), d.Int(), d.Int()
			children := d.Int()
			if d.Err() != nil {
				decodeErr = fmt.Errorf("fsm: snapshot node %d: %w", i, d.Err())
				return
			}
			if ai >= 0 {
				if int(ai) >= len(lists) {
					decodeErr = fmt.Errorf("fsm: snapshot node %q: ACL index %d out of range", path, ai)
					return
				}
				n.PutACL(refs[ai])
			}
			// Children come after their parent.
			if children < 0 || uint64(children) > nn-1-i {
				decodeErr = fmt.Errorf("fsm: snapshot node %q: %d children, with %d nodes after it", path, children, nn-1-i)
				return
			}
			hint := min(int64(children), budget)
			budget -= hint
			batch = append(batch, loadedNode{path, n, int(hint)})
			if len(batch) == batchLen {
				select {
				case batches <- batch:
				case <-stop:
					return
				}
				batch = make([]loadedNode, 0, batchLen)
			}
		}
		if len(batch) > 0 {
			select {
			case batches <- batch:
			case <-stop:
			}
		}
	}()
	var insertErr error
	ld := f.tree.NewLoader()
	for batch := range batches {
		if insertErr != nil {
			continue
		}
		for _, l := range batch {
			if err := ld.Add(l.path, l.n, l.children); err != nil {
				insertErr = fmt.Errorf("fsm: snapshot: %w", err)
				close(stop)
				break
			}
		}
	}
	if decodeErr != nil {
		return decodeErr
	}
	return insertErr
}
