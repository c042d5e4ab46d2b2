package fsm

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/znode"
)

// BenchmarkSnapshotWrite measures what a snapshot costs the server per
// znode: the capture under the tree lock, then the ordering and encoding
// its writer does without the lock (into io.Discard: the file, its checksum
// and the disk are snap's), for a tree of 200k znodes of 100 bytes.
func BenchmarkSnapshotWrite(b *testing.B) {
	const nodes = 200_000
	src := New(Options{})
	data := bytes.Repeat([]byte("x"), 100)
	tr := src.Tree()
	for i := 0; i < 100; i++ {
		tr.Create(znode.CreateArgs{Path: fmt.Sprintf("/b%02d", i), Data: data, ACL: proto.OpenACLUnsafe, Zxid: 1, Time: 1})
	}
	for i := 0; i < nodes; i++ {
		tr.Create(znode.CreateArgs{Path: fmt.Sprintf("/b%02d/n%07d", i%100, i), Data: data, ACL: proto.OpenACLUnsafe, Zxid: int64(i), Time: int64(i)})
	}
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
