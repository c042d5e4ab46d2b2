package walfault

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/warren-zk/warren/internal/wal"
)

// writeLog writes a small real log with internal/wal into dataDir.
func writeLog(t *testing.T, dataDir string) {
	t.Helper()
	w, _, err := wal.Open(filepath.Join(dataDir, "version-2"), wal.Options{SegmentSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := uint64(1); i <= 5; i++ {
		e := &raftpb.Entry{Term: proto.Uint64(1), Index: proto.Uint64(i), Data: []byte("payload")}
		if err := w.Save(&raftpb.HardState{Term: proto.Uint64(1), Commit: proto.Uint64(i)}, []*raftpb.Entry{e}, true); err != nil {
			t.Fatal(err)
		}
	}
}

// The independent reading of the format agrees with internal/wal's, record
// by record, and Record encodes what Records reads back.
func TestRecordsMatchTheWAL(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, dir)
	var want []string
	if _, err := wal.Scan(filepath.Join(dir, "version-2"), func(r wal.Record) error {
		want = append(want, r.Type)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, data, err := NewestSegment(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := map[byte]string{1: "header", Entry: "entry", HardState: "hardstate", Commit: "commit", Snapshot: "snapshot", End: "end"}
	var got []string
	for _, r := range Records(data) {
		got = append(got, names[r.Type])
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("records\n got %v\nwant %v", got, want)
	}
	b := append(Record(Entry, []byte("x")), Record(Commit, make([]byte, 8))...)
	if rs := Records(b); len(rs) != 2 || rs[0].Type != Entry || rs[1].Type != Commit || rs[1].End != len(b) {
		t.Fatalf("Records(Record...) = %+v", rs)
	}
}

// Every torn tail lands after the last valid record, leaves the records
// before it intact, and (with cut) shortens the file inside the damage; the
// log still opens, repaired, with every entry.
func TestWriteTornTail(t *testing.T) {
	for _, tail := range TornTails {
		for _, cut := range []bool{false, true} {
			t.Run(tail.Name, func(t *testing.T) {
				dir := t.TempDir()
				writeLog(t, dir)
				_, before, _ := NewestSegment(dir)
				valid := Records(before)
				rng := rand.New(rand.NewPCG(1, 2))
				what, err := WriteTornTail(dir, rng, tail, 512, cut)
				if err != nil {
					t.Fatal(err)
				}
				path, after, _ := NewestSegment(dir)
				end := valid[len(valid)-1].End
				if string(after[:end]) != string(before[:end]) {
					t.Fatalf("%s: the valid records changed", what)
				}
				if fi, _ := os.Stat(path); cut != (fi.Size() < int64(len(before))) {
					t.Fatalf("%s: size %d of %d (cut %v)", what, fi.Size(), len(before), cut)
				}
				w, st, err := wal.Open(filepath.Join(dir, "version-2"), wal.Options{SegmentSize: 64 << 10})
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				w.Close()
				if len(st.Entries) != 5 || !st.Repaired {
					t.Fatalf("%s: %d entries, repaired %v", what, len(st.Entries), st.Repaired)
				}
			})
		}
	}
}
