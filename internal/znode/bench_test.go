package znode

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"testing"

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
// and that plus what its writer then does without the lock (ParentsFirst),
// for a 100k-node tree.
func BenchmarkCapture(b *testing.B) {
	tr, _ := benchTree(b)
	b.Run("locked", func(b *testing.B) {
		for b.Loop() {
			c := tr.Capture()
			c.Release()
		}
	})
	b.Run("locked+order", func(b *testing.B) {
		for b.Loop() {
			c := tr.Capture()
			c.ParentsFirst()
			c.Release()
		}
	})
}

// BenchmarkLoad rebuilds a 100k-node tree with a Loader from a capture in
// two orders: sorted by path (siblings one after another: the Loader finds
// each parent in its one-entry cache) and ParentsFirst's (siblings
// scattered: a parent lookup per node), to show what the cheaper order
// costs a restart.
func BenchmarkLoad(b *testing.B) {
	tr, _ := benchTree(b)
	c := tr.Capture()
	c.ParentsFirst()
	defer c.Release()
	sorted := &Capture{Paths: slices.Clone(c.Paths), Nodes: slices.Clone(c.Nodes)}
	sort.Sort(byPathForBench{sorted})
	for _, order := range []struct {
		name string
		c    *Capture
	}{{"sorted", sorted}, {"parents-first", c}} {
		b.Run(order.name, func(b *testing.B) {
			nodes := make([]Node, len(order.c.Nodes))
			for b.Loop() {
				b.StopTimer()
				for i, n := range order.c.Nodes {
					nodes[i] = *n
				}
				t := New()
				t.ResetSized(len(nodes))
				b.StartTimer()
				ld := t.NewLoader()
				for i, p := range order.c.Paths {
					if err := ld.Add(p, &nodes[i], order.c.Nodes[i].NumChildren()); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkOrder is the snapshot writer's ordering of a 100k-node capture:
// ParentsFirst, and the sort by path it replaced.
func BenchmarkOrder(b *testing.B) {
	tr, _ := benchTree(b)
	c := tr.Capture()
	defer c.Release()
	b.Run("parents-first", func(b *testing.B) {
		for b.Loop() {
			cc := &Capture{Paths: slices.Clone(c.Paths), Nodes: slices.Clone(c.Nodes)}
			cc.ParentsFirst()
		}
	})
	b.Run("sort-by-path", func(b *testing.B) {
		for b.Loop() {
			cc := &Capture{Paths: slices.Clone(c.Paths), Nodes: slices.Clone(c.Nodes)}
			sort.Sort(byPathForBench{cc})
		}
	})
}

type byPathForBench struct{ c *Capture }

func (b byPathForBench) Len() int           { return len(b.c.Paths) }
func (b byPathForBench) Less(i, j int) bool { return b.c.Paths[i] < b.c.Paths[j] }
func (b byPathForBench) Swap(i, j int) {
	b.c.Paths[i], b.c.Paths[j] = b.c.Paths[j], b.c.Paths[i]
	b.c.Nodes[i], b.c.Nodes[j] = b.c.Nodes[j], b.c.Nodes[i]
}

// BenchmarkFirstChangeAfterCapture is what the first create in a directory
// of 100k children costs right after a snapshot captured the tree (the
// copy-on-write of the directory's node).
func BenchmarkFirstChangeAfterCapture(b *testing.B) {
	tr := New()
	tr.Create(CreateArgs{Path: "/dir", ACL: proto.OpenACLUnsafe, Zxid: 1})
	for i := range benchNodes {
		tr.Create(CreateArgs{Path: fmt.Sprintf("/dir/n%08d", i), ACL: proto.OpenACLUnsafe, Zxid: int64(i + 2)})
	}
	i := 0
	for b.Loop() {
		b.StopTimer()
		c := tr.Capture()
		p := fmt.Sprintf("/dir/new%08d", i)
		i++
		b.StartTimer()
		tr.Create(CreateArgs{Path: p, ACL: proto.OpenACLUnsafe, Zxid: int64(benchNodes + i + 2)})
		b.StopTimer()
		c.Release()
		b.StartTimer()
	}
}
