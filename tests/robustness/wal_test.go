package robustness

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
)

// The WAL record format, from internal/wal/doc.go: records start at 8-byte-aligned offsets;
// uint32 CRC-32C of bytes 4..9+len, uint32 len, uint8 type, payload, zero padding.
const (
	walHeaderLen = 9
	walEntry     = 2
	walHardState = 3
	walCommit    = 4
	walSnapshot  = 5
	walEnd       = 6
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type walRec struct {
	off, end int // end: offset of the next record (aligned)
	typ      byte
}

// walRecords parses the valid records at the start of a segment.
func walRecords(data []byte) []walRec {
	var out []walRec
	off := 0
	for off+walHeaderLen <= len(data) {
		n := int(binary.BigEndian.Uint32(data[off+4:]))
		if n > len(data)-off-walHeaderLen {
			break
		}
		end := off + walHeaderLen + n
		if crc32.Checksum(data[off+4:end], castagnoli) != binary.BigEndian.Uint32(data[off:]) {
			break
		}
		typ := data[off+8]
		if typ < 1 || typ > walEnd {
			break
		}
		next := (end + 7) &^ 7
		out = append(out, walRec{off: off, end: next, typ: typ})
		off = next
		if typ == walEnd {
			break
		}
	}
	return out
}

// walRecord encodes one record (valid CRC) of the given type.
func walRecord(typ byte, payload []byte) []byte {
	b := make([]byte, 4, walHeaderLen+len(payload)+8)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, typ)
	b = append(b, payload...)
	binary.BigEndian.PutUint32(b, crc32.Checksum(b[4:], castagnoli))
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	b[0] |= 0x80 // never the zeros of preallocation
	return b
}

// newestSegment returns the path and contents of the WAL segment being written.
func newestSegment(dataDir string) (string, []byte, error) {
	names, err := filepath.Glob(filepath.Join(dataDir, "version-2", "wal-*.wal"))
	if err != nil {
		return "", nil, err
	}
	if len(names) == 0 {
		return "", nil, fmt.Errorf("no WAL segment in %s", filepath.Join(dataDir, "version-2"))
	}
	slices.Sort(names)
	path := names[len(names)-1]
	data, err := os.ReadFile(path)
	return path, data, err
}

// damageWALTail leaves the newest WAL segment of a killed Warren member as a crash in the
// middle of writing a batch can: after the last complete batch, garbage; or the records of an
// unfinished batch (no commit record, or half of one), possibly with the file cut inside
// them. Nothing fsynced is touched, so the member must repair the tail, start, and lose
// nothing (reliability.md §2 row 6; internal/wal/doc.go "Recovery").
func damageWALTail(dataDir string, rng *rand.Rand) (string, error) {
	path, data, err := newestSegment(dataDir)
	if err != nil {
		return "", err
	}
	recs := walRecords(data)
	if len(recs) == 0 {
		return "", fmt.Errorf("%s: no valid record", path)
	}
	validEnd := recs[len(recs)-1].end
	room := len(data) - validEnd
	if room < 4096 {
		return "", fmt.Errorf("%s: only %d bytes after the last record", filepath.Base(path), room)
	}
	var b []byte
	var what string
	switch rng.IntN(3) {
	case 0:
		b = randomBytes(rng, 1+rng.IntN(min(room, 4096)))
		what = fmt.Sprintf("%d garbage bytes", len(b))
	case 1:
		for i, n := 0, 1+rng.IntN(4); i < n; i++ {
			b = append(b, walRecord(walEntry, randomBytes(rng, 16+rng.IntN(200)))...)
		}
		b = append(b, walRecord(walHardState, randomBytes(rng, 12))...)
		what = "an unfinished batch (entry and hard state records, no commit record)"
	case 2:
		b = walRecord(walEntry, randomBytes(rng, 16+rng.IntN(200)))
		commit := walRecord(walCommit, binary.BigEndian.AppendUint64(nil, 0x0102030405060708))
		b = append(b, commit[:12]...)
		what = "an unfinished batch ending in half a commit record"
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.WriteAt(b, int64(validEnd)); err != nil {
		return "", err
	}
	what = fmt.Sprintf("%s written after the last record (offset %d) of %s", what, validEnd, filepath.Base(path))
	if rng.IntN(2) == 0 {
		// The file ends inside the damage (as if its size had not reached the disk).
		cut := validEnd + 1 + rng.IntN(len(b))
		if err := f.Truncate(int64(cut)); err != nil {
			return "", err
		}
		what += fmt.Sprintf(", the file cut to %d bytes", cut)
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return what, nil
}

// loseLastBatch damages the newest WAL segment of a killed Warren member beyond what a crash
// can do with a working fsync: the last `batches` complete batches are cut short, zeroed, or
// (batches == 1) the last commit record broken. The last batch may be one whose fsync the
// kill interrupted (never acknowledged); the one before it was acknowledged. The rest of the ensemble holds that batch;
// the member must come back and catch up. A batch that records a snapshot is never damaged
// (losing it would invalidate released segments).
func loseLastBatch(dataDir string, rng *rand.Rand, batches int) (string, error) {
	path, data, err := newestSegment(dataDir)
	if err != nil {
		return "", err
	}
	recs := walRecords(data)
	if len(recs) == 0 {
		return "", fmt.Errorf("%s: no valid record", path)
	}
	validEnd := recs[len(recs)-1].end
	// last: the final commit record; prev: the commit record before the lost batches.
	last, prev, seen := -1, -1, 0
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].typ == walCommit {
			if last < 0 {
				last = i
			}
			if seen++; seen > batches {
				prev = i
				break
			}
		}
	}
	if last < 0 || recs[last].end != validEnd {
		return "", fmt.Errorf("%s: no complete batch at the end", filepath.Base(path))
	}
	batchStart := recs[0].end // after the segment header
	if prev >= 0 {
		batchStart = recs[prev].end
	}
	entries := 0
	for _, r := range recs {
		if r.off >= batchStart && r.typ == walSnapshot {
			return "", fmt.Errorf("%s: the last batch records a snapshot", filepath.Base(path))
		}
		if r.off >= batchStart && r.typ == walEntry {
			entries++
		}
	}
	if entries == 0 {
		return "", fmt.Errorf("%s: the last batch holds no entry", filepath.Base(path))
	}
	base := filepath.Base(path)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var what string
	mode := rng.IntN(3)
	if batches > 1 {
		mode = rng.IntN(2)
	}
	switch mode {
	case 0:
		cut := batchStart + 1 + rng.IntN(validEnd-batchStart-1)
		if err := f.Truncate(int64(cut)); err != nil {
			return "", err
		}
		what = fmt.Sprintf("%s truncated to %d bytes (last batch %d..%d cut)", base, cut, batchStart, validEnd)
	case 1:
		from := batchStart + rng.IntN(validEnd-batchStart)
		if _, err := f.WriteAt(make([]byte, validEnd-from), int64(from)); err != nil {
			return "", err
		}
		what = fmt.Sprintf("%s zeroed from %d to %d (last batch %d..%d)", base, from, validEnd, batchStart, validEnd)
	case 2:
		at := recs[last].off + walHeaderLen + rng.IntN(8)
		if _, err := f.WriteAt([]byte{data[at] ^ byte(1+rng.IntN(255))}, int64(at)); err != nil {
			return "", err
		}
		what = fmt.Sprintf("a byte of the last commit record (offset %d) of %s flipped", at, base)
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return what, nil
}
