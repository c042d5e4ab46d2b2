// Package walfault damages Warren write-ahead log segments the way crashes
// (and worse) do, for the crash and robustness suites. It writes the record
// format from internal/wal/doc.go independently of internal/wal, so the
// tests check the log against its specification, not against its own code:
// records start at 8-byte-aligned offsets and are a uint32 CRC-32C of bytes
// 4..9+len, a uint32 len, a uint8 type, the payload and zero padding.
package walfault

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
)

// Record types (internal/wal/doc.go).
const (
	HeaderLen = 9
	Entry     = 2
	HardState = 3
	Commit    = 4
	Snapshot  = 5
	End       = 6
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Record encodes one valid record of the given type, padded.
func Record(typ byte, payload []byte) []byte {
	b := make([]byte, 4, HeaderLen+len(payload)+8)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, typ)
	b = append(b, payload...)
	binary.BigEndian.PutUint32(b, crc32.Checksum(b[4:], castagnoli))
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// Span is one valid record of a segment: [Off, End) with End aligned (the
// offset of the next record).
type Span struct {
	Off, End int
	Type     byte
}

// Records returns the valid records at the start of a segment, up to the
// first invalid position or an end record.
func Records(data []byte) []Span {
	var out []Span
	off := 0
	for off+HeaderLen <= len(data) {
		n := int(binary.BigEndian.Uint32(data[off+4:]))
		if n > len(data)-off-HeaderLen {
			break
		}
		end := off + HeaderLen + n
		if crc32.Checksum(data[off+4:end], castagnoli) != binary.BigEndian.Uint32(data[off:]) {
			break
		}
		typ := data[off+8]
		if typ < 1 || typ > End {
			break
		}
		next := (end + 7) &^ 7
		out = append(out, Span{Off: off, End: next, Type: typ})
		off = next
		if typ == End {
			break
		}
	}
	return out
}

// RandomBytes returns n random bytes whose first is never zero (a torn tail
// is something other than the zeros of preallocation).
func RandomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	b[0] |= 0x80
	return b
}

// NewestSegment returns the path and contents of the segment being written
// (the highest sequence number) in a data directory.
func NewestSegment(dataDir string) (string, []byte, error) {
	names, err := filepath.Glob(filepath.Join(dataDir, "version-2", "wal-*.wal"))
	if err != nil {
		return "", nil, err
	}
	if len(names) == 0 {
		return "", nil, fmt.Errorf("no WAL segment in %s", filepath.Join(dataDir, "version-2"))
	}
	slices.Sort(names) // fixed-width hex sequence numbers sort as numbers
	path := names[len(names)-1]
	data, err := os.ReadFile(path)
	return path, data, err
}

// TornTail is a kind of damage a crash in the middle of a batch can leave
// after the last complete batch: Make returns the bytes, given the room left
// in the segment.
type TornTail struct {
	Name string
	Make func(rng *rand.Rand, room int) []byte
}

// TornTails are the kinds of torn tail the suites write.
var TornTails = []TornTail{
	{"random bytes", func(rng *rand.Rand, room int) []byte {
		return RandomBytes(rng, 1+rng.IntN(min(room, 4096)))
	}},
	{"complete entry and hard state records without their commit record", func(rng *rand.Rand, room int) []byte {
		var b []byte
		for i, n := 0, 1+rng.IntN(4); i < n; i++ {
			b = append(b, Record(Entry, RandomBytes(rng, 16+rng.IntN(200)))...)
		}
		return append(b, Record(HardState, RandomBytes(rng, 12))...)
	}},
	{"an entry record and half a commit record", func(rng *rand.Rand, room int) []byte {
		b := Record(Entry, RandomBytes(rng, 16+rng.IntN(200)))
		// No zero byte in the payload: the zeros of preallocation after
		// the cut cannot complete the record.
		commit := Record(Commit, binary.BigEndian.AppendUint64(nil, 0x0102030405060708))
		return append(b, commit[:12]...)
	}},
	{"a record header whose length runs past the end of the segment", func(rng *rand.Rand, room int) []byte {
		b := make([]byte, 16)
		binary.BigEndian.PutUint32(b, rng.Uint32())
		binary.BigEndian.PutUint32(b[4:], uint32(room+4096))
		b[8] = Entry
		return b
	}},
}

// ErrNoRoom reports that the newest segment is too full for WriteTornTail:
// the WAL rolls over to a new segment before a batch would not fit, so a
// crash cannot leave a longer tail there.
var ErrNoRoom = errors.New("no room for a torn tail")

// WriteTornTail writes tail right after the last valid record of the newest
// segment of dataDir (refusing if fewer than minRoom bytes are left there)
// and, if cut, truncates the file at a random point inside it (as if the
// file's size had not reached the disk). It says what it did.
func WriteTornTail(dataDir string, rng *rand.Rand, tail TornTail, minRoom int, cut bool) (string, error) {
	path, data, err := NewestSegment(dataDir)
	if err != nil {
		return "", err
	}
	recs := Records(data)
	if len(recs) == 0 {
		return "", fmt.Errorf("%s: no valid record", path)
	}
	off := recs[len(recs)-1].End
	room := len(data) - off
	if room < minRoom {
		return "", fmt.Errorf("%s: %w: only %d bytes left after the last valid record", filepath.Base(path), ErrNoRoom, room)
	}
	b := tail.Make(rng, room)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.WriteAt(b, int64(off)); err != nil {
		return "", err
	}
	what := fmt.Sprintf("%s (%d bytes) at offset %d of %s, after %d valid records", tail.Name, len(b), off, filepath.Base(path), len(recs))
	if cut {
		at := off + 1 + rng.IntN(len(b))
		if err := f.Truncate(int64(at)); err != nil {
			return "", err
		}
		what += fmt.Sprintf(", the file cut to %d bytes", at)
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return what, nil
}
