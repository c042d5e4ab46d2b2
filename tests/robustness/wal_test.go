package robustness

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/warren-zk/warren/internal/testutil/walfault"
)

// damageWALTail leaves the newest WAL segment of a killed Warren member as a crash in the
// middle of writing a batch can: after the last complete batch, garbage; or the records of an
// unfinished batch (no commit record, or half of one), possibly with the file cut inside
// them. Nothing fsynced is touched, so the member must repair the tail, start, and lose
// nothing (reliability.md §2 row 6; internal/wal/doc.go "Recovery").
func damageWALTail(dataDir string, rng *rand.Rand) (string, error) {
	return walfault.WriteTornTail(dataDir, rng, walfault.TornTails[rng.IntN(len(walfault.TornTails))], 4096, rng.IntN(2) == 0)
}

// loseLastBatch damages the newest WAL segment of a killed Warren member beyond what a crash
// can do with a working fsync: the last `batches` complete batches are cut short, zeroed, or
// (batches == 1) the last commit record broken. The last batch may be one whose fsync the
// kill interrupted (never acknowledged); the one before it was acknowledged. The rest of the ensemble holds that batch;
// the member must come back and catch up. A batch that records a snapshot is never damaged
// (losing it would invalidate released segments).
func loseLastBatch(dataDir string, rng *rand.Rand, batches int) (string, error) {
	path, data, err := walfault.NewestSegment(dataDir)
	if err != nil {
		return "", err
	}
	recs := walfault.Records(data)
	if len(recs) == 0 {
		return "", fmt.Errorf("%s: no valid record", path)
	}
	validEnd := recs[len(recs)-1].End
	// last: the final commit record; prev: the commit record before the lost batches.
	last, prev, seen := -1, -1, 0
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Type == walfault.Commit {
			if last < 0 {
				last = i
			}
			if seen++; seen > batches {
				prev = i
				break
			}
		}
	}
	if last < 0 || recs[last].End != validEnd {
		return "", fmt.Errorf("%s: no complete batch at the end", filepath.Base(path))
	}
	batchStart := recs[0].End // after the segment header
	if prev >= 0 {
		batchStart = recs[prev].End
	}
	entries := 0
	for _, r := range recs {
		if r.Off >= batchStart && r.Type == walfault.Snapshot {
			return "", fmt.Errorf("%s: the last batch records a snapshot", filepath.Base(path))
		}
		if r.Off >= batchStart && r.Type == walfault.Entry {
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
		at := recs[last].Off + walfault.HeaderLen + rng.IntN(8)
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
