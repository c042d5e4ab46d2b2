package wal

import (
	"encoding/binary"
	"hash/crc32"
)

// Record types.
const (
	typeHeader    = 1
	typeEntry     = 2
	typeHardState = 3
	typeCommit    = 4
	typeSnapshot  = 5
	typeEnd       = 6
)

const (
	headerLen = 9
	align     = 8
	// magic starts the header of a segment whose first batch carries the
	// log's state (the newest HardState and snapshot mark); magicV1
	// segments, written before that, do not.
	magic   = "WRNWAL02"
	magicV1 = "WRNWAL01"
	// maxRecord bounds a record's payload (a raft entry is at most a client
	// frame plus its envelope).
	maxRecord = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func padded(n int) int { return (n + align - 1) &^ (align - 1) }

// appendRecord appends one framed, padded record to b.
func appendRecord(b []byte, typ byte, payload []byte) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, typ)
	b = append(b, payload...)
	crc := crc32.Checksum(b[start+4:], castagnoli)
	binary.BigEndian.PutUint32(b[start:], crc)
	for (len(b)-start)%align != 0 {
		b = append(b, 0)
	}
	return b
}

// parseRecord reads the record at b[0:]. ok is false if there is no valid
// record there; size is the padded size of a valid record.
func parseRecord(b []byte) (typ byte, payload []byte, size int, ok bool) {
	if len(b) < headerLen {
		return 0, nil, 0, false
	}
	n := binary.BigEndian.Uint32(b[4:8])
	if n > maxRecord || int(n) > len(b)-headerLen {
		return 0, nil, 0, false
	}
	end := headerLen + int(n)
	if crc32.Checksum(b[4:end], castagnoli) != binary.BigEndian.Uint32(b[0:4]) {
		return 0, nil, 0, false
	}
	typ = b[8]
	if typ < typeHeader || typ > typeEnd {
		return 0, nil, 0, false
	}
	return typ, b[headerLen:end], padded(end), true
}

func u64(v ...uint64) []byte {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = binary.BigEndian.AppendUint64(b, x)
	}
	return b
}
