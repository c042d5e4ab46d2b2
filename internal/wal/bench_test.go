package wal

import (
	"path/filepath"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// benchSave appends batches of n entries (100 bytes of data each) with a
// HardState to a log on the real file system in b.TempDir().
func benchSave(b *testing.B, n int, noSync bool) {
	dir := filepath.Join(b.TempDir(), "wal")
	w, _, err := Open(dir, Options{NoSync: noSync, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	batches := make([][]*raftpb.Entry, 64)
	next := uint64(1)
	for i := range batches {
		batches[i] = mkEnts(next, next+uint64(n)-1, 1)
		next += uint64(n)
	}
	hs := mkHS(1, 1, 0)
	syncs := w.Syncs()
	b.SetBytes(int64(n * 100))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Reuse the prepared entries; indexes repeat every 64 batches,
		// which the WAL does not check on the write path.
		if err := w.Save(hs, batches[i%len(batches)], true); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(w.Syncs()-syncs)/float64(b.N), "fsyncs/op")
}

func BenchmarkSave1NoSync(b *testing.B)  { benchSave(b, 1, true) }
func BenchmarkSave1Sync(b *testing.B)    { benchSave(b, 1, false) }
func BenchmarkSave64NoSync(b *testing.B) { benchSave(b, 64, true) }
func BenchmarkSave64Sync(b *testing.B)   { benchSave(b, 64, false) }
