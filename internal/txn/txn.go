package txn

import (
	"fmt"

	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
)

// Version is the envelope format version.
const Version = 1

// OpSetOwner is Warren's own entry type (not a ZooKeeper opcode): the
// session moved to the server named by Origin, which now holds its
// connection. Writes that still arrive from the former owner fail with
// SessionMoved.
const OpSetOwner proto.OpCode = -100

// Entry is the envelope of one log entry.
type Entry struct {
	Op      proto.OpCode
	Session int64
	Cxid    int32
	Time    int64
	Origin  int64
	ReqID   uint64
	Auth    []proto.Id
	Timeout int32
	Body    []byte
}

// Encode appends the entry to e.
func (x *Entry) Encode(e *jute.Encoder) {
	e.Int(Version)
	e.Int(int32(x.Op))
	e.Long(x.Session)
	e.Int(x.Cxid)
	e.Long(x.Time)
	e.Long(x.Origin)
	e.Long(int64(x.ReqID))
	e.Int(int32(len(x.Auth)))
	for i := range x.Auth {
		x.Auth[i].Encode(e)
	}
	e.Int(x.Timeout)
	e.Buffer(x.Body)
}

// Decode reads an entry from d; Body aliases d's input.
func (x *Entry) Decode(d *jute.Decoder) {
	if v := d.Int(); d.Err() == nil && v != Version {
		d.Fail(fmt.Errorf("txn: unknown entry version %d", v))
		return
	}
	x.Op = proto.OpCode(d.Int())
	x.Session = d.Long()
	x.Cxid = d.Int()
	x.Time = d.Long()
	x.Origin = d.Long()
	x.ReqID = uint64(d.Long())
	if n := d.Count(8); n > 0 {
		x.Auth = make([]proto.Id, n)
		for i := range x.Auth {
			x.Auth[i].Decode(d)
		}
	} else {
		x.Auth = nil
	}
	x.Timeout = d.Int()
	x.Body = d.BufferNoCopy()
}

// size is the length of the entry's encoding.
func (x *Entry) size() int {
	n := 4 + 4 + 8 + 4 + 8 + 8 + 8 + 4 + 4 + 4 + len(x.Body)
	for i := range x.Auth {
		n += 8 + len(x.Auth[i].Scheme) + len(x.Auth[i].Id)
	}
	return n
}

// Marshal returns the encoded entry, in one allocation of its exact size.
func (x *Entry) Marshal() []byte {
	e := jute.NewEncoder(make([]byte, 0, x.size()))
	x.Encode(e)
	return e.Bytes()
}

// Unmarshal decodes an entry; the log is trusted but checked anyway. The
// entry's Body aliases b (Decode too): b must not change while the entry
// is in use.
func Unmarshal(b []byte) (*Entry, error) {
	d := jute.NewDecoder(b)
	d.MaxBuffer = len(b)
	var x Entry
	x.Decode(d)
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("txn: decode entry: %w", err)
	}
	return &x, nil
}

// ZxidState computes zxids from raft (term, index) per the package rule.
type ZxidState struct {
	Epoch      uint64
	EpochStart uint64
	LastTerm   uint64
}

// Next returns the zxid of the entry at (term, index) and advances the state.
func (z *ZxidState) Next(term, index uint64) int64 {
	if term != z.LastTerm {
		e := z.Epoch + 1
		if term > e {
			e = term
		}
		z.Epoch, z.EpochStart, z.LastTerm = e, index, term
	} else if index-z.EpochStart > 0xFFFFFFFF {
		z.Epoch++
		z.EpochStart = index
	}
	return int64(z.Epoch<<32 | (index - z.EpochStart))
}
