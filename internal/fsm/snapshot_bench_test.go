package fsm

import (
	"io"
	"testing"
)

// BenchmarkSnapshotWrite measures what a snapshot costs the server per
// znode: the capture under the tree lock, then the paths and the encoding
// its writer does without the lock (into io.Discard: the file, its checksum
// and the disk are snap's), for a tree of 200k znodes of 100 bytes.
func BenchmarkSnapshotWrite(b *testing.B) {
	src := benchFSM(200_000)
	tr := src.Tree()
	b.ReportAllocs()
	for b.Loop() {
		src.Lock()
		sn := src.Capture()
		src.Unlock()
		if _, err := sn.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
		src.Lock()
		sn.Release()
		src.Unlock()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(tr.Len()), "ns/znode")
}
