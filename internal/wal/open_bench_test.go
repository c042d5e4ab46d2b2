package wal

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// BenchmarkOpenPreallocated measures recovery of a log whose one 64 MiB
// segment holds a few batches and is otherwise preallocated zeros (the
// common restart case).
func BenchmarkOpenPreallocated(b *testing.B) {
	dir := b.TempDir()
	w, _, err := Open(dir, Options{SegmentSize: 64 << 20, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	for i := uint64(1); i <= 100; i++ {
		e := &raftpb.Entry{Index: proto.Uint64(i), Term: proto.Uint64(1), Data: make([]byte, 100)}
		if err := w.Save(&raftpb.HardState{Term: proto.Uint64(1), Commit: proto.Uint64(i)}, []*raftpb.Entry{e}, false); err != nil {
			b.Fatal(err)
		}
	}
	w.Close()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		w, st, err := Open(dir, Options{SegmentSize: 64 << 20, NoSync: true})
		if err != nil || len(st.Entries) != 100 {
			b.Fatalf("open: %v, %d entries", err, len(st.Entries))
		}
		w.Close()
	}
}
