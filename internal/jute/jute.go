package jute

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// DefaultMaxBuffer is ZooKeeper's default jute.maxbuffer (0xfffff bytes).
const DefaultMaxBuffer = 0xfffff

// ErrShort reports that a record ended before all its fields were read.
var ErrShort = errors.New("jute: record truncated")

// ErrLength reports a length or count that is negative (other than -1) or larger
// than the limit.
var ErrLength = errors.New("jute: length out of range")

// Encoder appends jute-encoded values to a byte slice.
type Encoder struct {
	b []byte
}

// NewEncoder returns an Encoder that appends to buf (which may be nil).
func NewEncoder(buf []byte) *Encoder { return &Encoder{b: buf} }

// Bytes returns the encoded bytes.
func (e *Encoder) Bytes() []byte { return e.b }

// Len returns the number of bytes encoded so far.
func (e *Encoder) Len() int { return len(e.b) }

// Reset empties the encoder, keeping its storage.
func (e *Encoder) Reset() { e.b = e.b[:0] }

// SetBytes replaces the encoder's storage.
func (e *Encoder) SetBytes(b []byte) { e.b = b }

// Int appends a 4-byte int.
func (e *Encoder) Int(v int32) { e.b = binary.BigEndian.AppendUint32(e.b, uint32(v)) }

// Long appends an 8-byte long.
func (e *Encoder) Long(v int64) { e.b = binary.BigEndian.AppendUint64(e.b, uint64(v)) }

// Bool appends a boolean byte.
func (e *Encoder) Bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// Buffer appends a buffer; nil encodes as null (-1), an empty non-nil slice as length 0.
func (e *Encoder) Buffer(v []byte) {
	if v == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(v)))
	e.b = append(e.b, v...)
}

// String appends a ustring. Warren never sends null strings; "" is length 0.
func (e *Encoder) String(v string) {
	e.Int(int32(len(v)))
	e.b = append(e.b, v...)
}

// Strings appends a vector of ustrings; nil encodes as an empty vector.
func (e *Encoder) Strings(v []string) {
	e.Int(int32(len(v)))
	for _, s := range v {
		e.String(s)
	}
}

// Raw appends bytes verbatim.
func (e *Encoder) Raw(v []byte) { e.b = append(e.b, v...) }

// Decoder reads jute-encoded values from a byte slice.
type Decoder struct {
	b   []byte
	off int
	err error
	// MaxBuffer bounds every buffer and string length and every vector count.
	MaxBuffer int
}

// NewDecoder returns a Decoder over b with the default length limit.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b, MaxBuffer: DefaultMaxBuffer} }

// Reset points the decoder at b and clears its error.
func (d *Decoder) Reset(b []byte) {
	d.b, d.off, d.err = b, 0, nil
	if d.MaxBuffer == 0 {
		d.MaxBuffer = DefaultMaxBuffer
	}
}

// Err returns the first error met, if any.
func (d *Decoder) Err() error { return d.err }

// Fail records err as the decoder's error unless one is already set.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Remaining returns the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

// Offset returns the number of bytes consumed.
func (d *Decoder) Offset() int { return d.off }

// Rest returns the unread bytes without consuming them.
func (d *Decoder) Rest() []byte { return d.b[d.off:] }

func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b)-d.off {
		d.err = ErrShort
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

// Int reads a 4-byte int.
func (d *Decoder) Int() int32 {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(p))
}

// Long reads an 8-byte long.
func (d *Decoder) Long() int64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(p))
}

// Bool reads a boolean byte.
func (d *Decoder) Bool() bool {
	p := d.take(1)
	if p == nil {
		return false
	}
	return p[0] != 0
}

// length reads a length or count and checks it; -1 reports null.
func (d *Decoder) length(elemMin int) (n int, null bool) {
	v := d.Int()
	if d.err != nil {
		return 0, false
	}
	if v == -1 {
		return 0, true
	}
	if v < 0 || int(v) > d.MaxBuffer {
		d.err = fmt.Errorf("%w: %d", ErrLength, v)
		return 0, false
	}
	// Every element takes at least elemMin bytes, so a count larger than the
	// remaining bytes allow is a lie; refuse it before allocating.
	if elemMin > 0 && int(v) > (len(d.b)-d.off)/elemMin {
		d.err = ErrShort
		return 0, false
	}
	return int(v), false
}

// Buffer reads a buffer. Null decodes as nil; empty as a non-nil empty slice.
// The result is a copy, safe to keep.
func (d *Decoder) Buffer() []byte {
	n, null := d.length(1)
	if null || d.err != nil {
		return nil
	}
	p := d.take(n)
	if p == nil {
		return nil
	}
	out := make([]byte, n)
	copy(out, p)
	return out
}

// BufferNoCopy is like Buffer but returns a slice aliasing the input.
func (d *Decoder) BufferNoCopy() []byte {
	n, null := d.length(1)
	if null || d.err != nil {
		return nil
	}
	p := d.take(n)
	if p == nil {
		return nil
	}
	return p[:n:n]
}

// String reads a ustring; null decodes as "".
func (d *Decoder) String() string {
	s, _ := d.NullableString()
	return s
}

// NullableString reads a ustring and reports whether it was null.
func (d *Decoder) NullableString() (string, bool) {
	n, null := d.length(1)
	if null || d.err != nil {
		return "", null
	}
	p := d.take(n)
	if p == nil {
		return "", false
	}
	return string(p), false
}

// Count reads a vector element count, checked against the remaining bytes
// assuming each element takes at least elemMin bytes. Null reads as -1.
func (d *Decoder) Count(elemMin int) int {
	n, null := d.length(elemMin)
	if null {
		return -1
	}
	return n
}

// Strings reads a vector of ustrings; null decodes as nil.
func (d *Decoder) Strings() []string {
	n := d.Count(4)
	if n <= 0 || d.err != nil {
		if n == 0 {
			return []string{}
		}
		return nil
	}
	out := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.String())
	}
	return out
}
