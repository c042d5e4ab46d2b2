package znode

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

const benchNodes = 100_000

// benchPaths returns n paths spread over 100 parents: /bench/pNN/nNNNNNNN.
func benchPaths(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("/%s/p%02d/n%08d", prefix, i%100, i)
	}
	return out
}

// benchTree returns a tree with benchNodes nodes of 16 bytes of data each.
func benchTree(tb testing.TB) (*Tree, []string) {
	tb.Helper()
	tr := New()
	data := []byte("0123456789abcdef")
	tr.Create(CreateArgs{Path: "/bench", Data: data, ACL: proto.OpenACLUnsafe, Zxid: 1})
	for i := range 100 {
		tr.Create(CreateArgs{Path: fmt.Sprintf("/bench/p%02d", i), Data: data, ACL: proto.OpenACLUnsafe, Zxid: 1})
	}
	paths := benchPaths("bench", benchNodes)
	for i, p := range paths {
		// Each node gets its own data buffer, as decoded requests do.
		tr.Create(CreateArgs{Path: p, Data: append([]byte(nil), data...), ACL: proto.OpenACLUnsafe, Zxid: int64(i + 2), Time: int64(i)})
	}
	return tr, paths
}

func BenchmarkCreate(b *testing.B) {
	b.ReportAllocs()
	tr, _ := benchTree(b)
	data := []byte("0123456789abcdef")
	for i := range 100 {
		tr.Create(CreateArgs{Path: fmt.Sprintf("/bench/p%02d/new", i), ACL: proto.OpenACLUnsafe, Zxid: 1})
	}
	// Paths are prepared in batches outside the timer.
	const batch = 1 << 16
	var paths []string
	i := 0
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if i == len(paths) {
			b.StopTimer()
			paths = make([]string, batch)
			for j := range paths {
				paths[j] = fmt.Sprintf("/bench/p%02d/new/c%09d", (n+j)%100, n+j)
			}
			i = 0
			b.StartTimer()
		}
		tr.Create(CreateArgs{Path: paths[i], Data: data, ACL: proto.OpenACLUnsafe, Zxid: int64(n), Time: int64(n)})
		i++
	}
}

func BenchmarkGet(b *testing.B) {
	b.ReportAllocs()
	tr, paths := benchTree(b)
	for i := range paths {
		paths[i] = strings.Clone(paths[i]) // as a decoded request's path
	}
	b.ResetTimer()
	var st proto.Stat
	for n := 0; n < b.N; n++ {
		st = tr.Get(paths[n%len(paths)]).Stat()
	}
	if st.DataLength != 16 {
		b.Fatal("bad stat")
	}
}

func BenchmarkSetData(b *testing.B) {
	b.ReportAllocs()
	tr, paths := benchTree(b)
	for i := range paths {
		paths[i] = strings.Clone(paths[i]) // as a decoded request's path
	}
	data := []byte("fedcba9876543210")
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		p := paths[n%len(paths)]
		tr.SetData(tr.Get(p), p, data, int64(n), int64(n))
	}
}

// BenchmarkMemoryPerZnode reports the heap held per znode of a 100k-node
// tree with 16-byte data and ~25-byte paths (paths and data included).
func BenchmarkMemoryPerZnode(b *testing.B) {
	for n := 0; n < b.N; n++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tr, _ := benchTree(b)
		runtime.GC()
		runtime.ReadMemStats(&after)
		perNode := float64(after.HeapAlloc-before.HeapAlloc) / float64(tr.Len())
		runtime.KeepAlive(tr)
		b.ReportMetric(perNode, "bytes/znode")
	}
}

// BenchmarkCapture is what a snapshot holds the tree lock for (Capture),
// and that plus what its writer then does without the lock (building every
// path, Each), for a 100k-node tree.
func BenchmarkCapture(b *testing.B) {
	tr, _ := benchTree(b)
	b.Run("locked", func(b *testing.B) {
		for b.Loop() {
			c := tr.Capture()
			c.Release()
		}
	})
	b.Run("locked+paths", func(b *testing.B) {
		for b.Loop() {
			c := tr.Capture()
			c.Each(func([]byte, *Node) error { return nil })
			c.Release()
		}
	})
}

// BenchmarkLoad rebuilds a 100k-node tree with a Loader, in a capture's
// order (what a restart does after decoding a snapshot).
func BenchmarkLoad(b *testing.B) {
	tr, _ := benchTree(b)
	c := tr.Capture()
	defer c.Release()
	var paths []string
	c.Each(func(p []byte, _ *Node) error {
		paths = append(paths, string(p))
		return nil
	})
	nodes := make([]Node, c.Len())
	for b.Loop() {
		b.StopTimer()
		for i, n := range c.Nodes {
			nodes[i] = *n
		}
		t := New()
		t.Reset()
		b.StartTimer()
		ld := t.NewLoader()
		for i, p := range paths {
			if err := ld.Add(p, &nodes[i], c.Nodes[i].NumChildren()); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkFirstChangeAfterCapture is what the first create in a directory
// of 100k children costs right after a snapshot captured the tree (the
// copy-on-write of the directory's node), reported as ns/first-change. Each
// round takes a capture (a few ms, not counted), so the rounds are a fixed
// number per iteration: timing only the create would have the testing
// package run hundreds of thousands of captures to fill a second.
func BenchmarkFirstChangeAfterCapture(b *testing.B) {
	tr := New()
	tr.Create(CreateArgs{Path: "/dir", ACL: proto.OpenACLUnsafe, Zxid: 1})
	for i := range benchNodes {
		tr.Create(CreateArgs{Path: fmt.Sprintf("/dir/n%08d", i), ACL: proto.OpenACLUnsafe, Zxid: int64(i + 2)})
	}
	const rounds = 50
	i := 0
	var changes time.Duration
	for b.Loop() {
		for range rounds {
			c := tr.Capture()
			p := fmt.Sprintf("/dir/new%08d", i)
			i++
			start := time.Now()
			tr.Create(CreateArgs{Path: p, ACL: proto.OpenACLUnsafe, Zxid: int64(benchNodes + i + 2)})
			changes += time.Since(start)
			c.Release()
		}
	}
	b.ReportMetric(float64(changes.Nanoseconds())/float64(i), "ns/first-change")
}
