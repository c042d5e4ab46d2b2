package crash

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The WAL record format, from internal/wal/doc.go: records start at 8-byte-aligned offsets;
// uint32 CRC-32C of bytes 4..9+len, uint32 len, uint8 type, payload, zero padding.
const (
	recHeaderLen = 9
	recEntry     = 2
	recHardState = 3
	recCommit    = 4
	recEnd       = 6
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func walRecord(typ byte, payload []byte) []byte {
	b := make([]byte, 4, recHeaderLen+len(payload)+8)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, typ)
	b = append(b, payload...)
	binary.BigEndian.PutUint32(b, crc32.Checksum(b[4:], castagnoli))
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// validEnd returns the offset just past the last valid record of a segment (where a new
// batch would be written) and the number of valid records.
func validEnd(data []byte) (off, records int) {
	for off+recHeaderLen <= len(data) {
		n := int(binary.BigEndian.Uint32(data[off+4:]))
		if n > len(data)-off-recHeaderLen {
			break
		}
		end := off + recHeaderLen + n
		if crc32.Checksum(data[off+4:end], castagnoli) != binary.BigEndian.Uint32(data[off:]) {
			break
		}
		typ := data[off+8]
		if typ < 1 || typ > recEnd {
			break
		}
		off = (end + 7) &^ 7
		records++
		if typ == recEnd {
			break
		}
	}
	return off, records
}

// lastSegment returns the path of the WAL segment being written (the highest sequence number).
func lastSegment(dataDir string) (string, error) {
	names, err := filepath.Glob(filepath.Join(dataDir, "version-2", "wal-*.wal"))
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "", fmt.Errorf("no WAL segment in %s", filepath.Join(dataDir, "version-2"))
	}
	slices.Sort(names) // fixed-width hex sequence numbers sort as numbers
	return names[len(names)-1], nil
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	if b[0] == 0 {
		b[0] = 0xa5 // a torn tail is something other than the zeros of preallocation
	}
	return b
}

// tornTails are kinds of damage a crash in the middle of a batch can leave after the last
// complete (committed) batch of the log.
var tornTails = []struct {
	name string
	make func(rng *rand.Rand, room int) []byte
}{
	{"random bytes", func(rng *rand.Rand, room int) []byte {
		return randomBytes(rng, 1+rng.IntN(min(room, 4096)))
	}},
	{"complete entry and hard state records without their commit record", func(rng *rand.Rand, room int) []byte {
		b := walRecord(recEntry, randomBytes(rng, 16+rng.IntN(200)))
		b = append(b, walRecord(recEntry, randomBytes(rng, 16+rng.IntN(200)))...)
		return append(b, walRecord(recHardState, randomBytes(rng, 12))...)
	}},
	{"an entry record and half a commit record", func(rng *rand.Rand, room int) []byte {
		b := walRecord(recEntry, randomBytes(rng, 16+rng.IntN(200)))
		// No zero byte in the payload: the zeros of preallocation after the cut cannot
		// complete the record.
		commit := walRecord(recCommit, binary.BigEndian.AppendUint64(nil, 0x0102030405060708))
		return append(b, commit[:12]...)
	}},
	{"a record header whose length runs past the end of the segment", func(rng *rand.Rand, room int) []byte {
		b := make([]byte, 16)
		binary.BigEndian.PutUint32(b, rng.Uint32())
		binary.BigEndian.PutUint32(b[4:], uint32(room+4096))
		b[8] = recEntry
		return b
	}},
}

// damageTail writes the damage right after the last valid record of the last segment.
func damageTail(dataDir string, rng *rand.Rand, mk func(*rand.Rand, int) []byte) (string, error) {
	path, err := lastSegment(dataDir)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	off, records := validEnd(data)
	room := len(data) - off
	if room < 512 {
		return "", fmt.Errorf("%s: only %d bytes left after the last valid record", path, room)
	}
	b := mk(rng, room)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.WriteAt(b, int64(off)); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d bytes at offset %d of %s (after %d valid records)", len(b), off, filepath.Base(path), records), nil
}

// TestTornTail kills the server in the middle of a workload, damages the end of the last WAL
// segment as an unfinished batch would, and checks that the server repairs it (saying so in its
// log), keeps every acknowledged write and keeps working.
func TestTornTail(t *testing.T) {
	h := newHarness(t, 2, "preAllocSize=256")
	cycle := 0
	for _, tt := range tornTails {
		cycle++
		var what string
		for attempt := 0; ; attempt++ {
			h.runAndKill(cycle, time.Duration(150+h.rng.IntN(250))*time.Millisecond)
			var err error
			what, err = damageTail(h.srv.dataDir, h.rng, tt.make)
			if err == nil {
				break
			}
			if attempt == 3 {
				h.fatalf("%s: %v", tt.name, err)
			}
			// The segment is nearly full: restart, write some more, try again.
			h.restartAndCheck(cycle, false)
			cycle++
		}
		_, res := h.restartAndCheck(cycle, false)
		log := h.srv.logSince()
		if !strings.Contains(log, "torn tail") {
			h.rep.failf("%s (%s): the server started but logged no torn-tail line; its log:\n%s", tt.name, what, lastLines(log, 20))
		}
		t.Logf("torn tail %q: %s; repaired, %d acknowledged nodes verified", tt.name, what, res.nodes)
	}
	// One more crash on the repaired log, without damage.
	cycle++
	h.runAndKill(cycle, 300*time.Millisecond)
	h.restartAndCheck(cycle, false)
	h.finish(cycle)
}
