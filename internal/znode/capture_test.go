package znode

import (
	"fmt"
	"strings"
	"testing"

	"github.com/warren-zk/warren/internal/proto"
)

// dumpCapture renders what a snapshot reads of a capture: every field and
// the number of children (a captured node shares its children set with the
// live tree, so the names are not part of the capture).
func dumpCapture(c *Capture) string {
	var b strings.Builder
	c.Each(func(p []byte, n *Node) error {
		fmt.Fprintf(&b, "%s data=%q acl=%v stat=%+v stored=%d children=%d\n",
			p, n.Data(), n.ACL(), n.Stat(), n.Cversion, n.NumChildren())
		return nil
	})
	return b.String()
}

// capturePaths returns the captured paths in order, failing the test if
// Each fails.
func capturePaths(t *testing.T, c *Capture) []string {
	t.Helper()
	var out []string
	if err := c.Each(func(p []byte, n *Node) error {
		out = append(out, string(p))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCaptureIsStable checks that a capture keeps showing the tree as it was
// when taken, whatever the tree does afterwards.
func TestCaptureIsStable(t *testing.T) {
	tr := New()
	create(tr, "/p", []byte("p"), 0, 1)
	create(tr, "/p/a", []byte("a"), 0, 2)
	create(tr, "/p/b", []byte("b"), 7, 3)
	c := tr.Capture()
	want := dumpCapture(c)
	checkParentsFirst(t, c)
	if c.Len() != tr.Len() {
		t.Fatalf("capture has %d nodes, tree %d", c.Len(), tr.Len())
	}

	create(tr, "/p/c", []byte("c"), 0, 4)
	create(tr, "/p/a/x", nil, 0, 5)
	tr.Delete("/p/b", 6)
	p := tr.Get("/p")
	tr.SetData(p, "/p", []byte("changed"), 7, 7)
	tr.SetACL(tr.Get("/p/a"), "/p/a", []proto.ACL{{Perms: proto.PermRead, Id: proto.AnyoneID}})
	tr.SetChildStat("/", 99, 99)
	tr.SetVersion("/p/a", 42)
	checkInvariants(t, tr)

	if got := dumpCapture(c); got != want {
		t.Errorf("capture changed after writes:\nbefore:\n%s\nafter:\n%s", want, got)
	}
	c.Release()

	// After Release the tree changes nodes in place again.
	n := tr.Get("/p")
	if m := tr.SetData(n, "/p", []byte("again"), 8, 8); m != n {
		t.Error("SetData copied a node after Release")
	}
}

// TestResetInsertRoundTrip loads a capture into a reset tree, as a snapshot
// restore does, and expects the very same tree.
func TestResetInsertRoundTrip(t *testing.T) {
	tr := New()
	create(tr, "/p", []byte("p"), 0, 1)
	create(tr, "/p/a", []byte("a"), 0, 2)
	create(tr, "/p/e", nil, 0x0100000000000001, 3)
	create(tr, "/c", nil, ContainerOwner, 4)
	create(tr, "/c/t", []byte("ttl"), TTLMask|500, 5)
	tr.Delete("/p/a", 6)
	tr.SetACL(tr.Get("/p"), "/p", []proto.ACL{{Perms: proto.PermRead | 256, Id: proto.Id{Scheme: "digest", Id: "u:h"}}})
	tr.SetData(tr.Get("/zookeeper/config"), "/zookeeper/config", []byte("server.1=x"), 7, 7)
	want := dump(tr)

	c := tr.Capture()
	loaded := New()
	loaded.Create(CreateArgs{Path: "/junk", ACL: proto.OpenACLUnsafe, EphemeralOwner: 9}) // Reset must drop it
	loaded.Reset()
	if loaded.Len() != 1 || loaded.ApproximateDataSize() != 1 || len(loaded.EphemeralSessions()) != 0 {
		t.Fatalf("after Reset: len %d size %d", loaded.Len(), loaded.ApproximateDataSize())
	}
	ld := loaded.NewLoader()
	if err := c.Each(func(p []byte, cn *Node) error {
		n := *cn // a snapshot reader decodes fresh nodes
		acl := append([]proto.ACL(nil), n.ACL()...)
		n.PutACL(loaded.InternACL(acl))
		return ld.Add(string(p), &n, cn.NumChildren())
	}); err != nil {
		t.Fatal(err)
	}
	c.Release()
	checkInvariants(t, loaded)
	if got := dump(loaded); got != want {
		t.Errorf("restored tree differs:\n%s\n---\n%s", want, got)
	}
	// Restored nodes share interned ACLs.
	a, b := loaded.Get("/zookeeper"), loaded.Get("/zookeeper/quota")
	if &a.ACL()[0] != &b.ACL()[0] {
		t.Error("restored ACL lists are not interned")
	}
}

// checkParentsFirst fails unless every captured node comes after its parent
// and each path is paired with its own node (call it before the tree
// changes).
func checkParentsFirst(t *testing.T, c *Capture) {
	t.Helper()
	seen := map[string]bool{}
	paths := capturePaths(t, c)
	for i, p := range paths {
		if p != "/" {
			if parent, _ := Split(p); !seen[parent] {
				t.Fatalf("%s comes before its parent %s: %v", p, parent, paths)
			}
		}
		if seen[p] {
			t.Fatalf("%s captured twice", p)
		}
		seen[p] = true
		if c.Nodes[i] != c.t.Get(p) {
			t.Fatalf("capture pairs %s with another node", p)
		}
	}
}

// A capture orders every tree shape so that a Loader accepts it, and
// keeps each path with its node.
func TestCaptureOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paths []string
	}{
		{"only the root and /zookeeper", nil},
		{"names that sort between a parent and its children", []string{"/a", "/a-b", "/a/b", "/a-b/c", "/a/b/c", "/a.", "/a./x"}},
		{"a deep chain", chain(300)},
		{"wide and deep", wide()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := New()
			for i, p := range tc.paths {
				create(tr, p, []byte(p), 0, int64(i+1))
			}
			c := tr.Capture()
			checkParentsFirst(t, c)
			if c.Len() != tr.Len() {
				t.Fatalf("capture has %d nodes, tree %d", c.Len(), tr.Len())
			}
			loaded := New()
			loaded.Reset()
			ld := loaded.NewLoader()
			if err := c.Each(func(p []byte, cn *Node) error {
				n := *cn
				n.PutACL(loaded.InternACL(n.ACL()))
				return ld.Add(string(p), &n, cn.NumChildren())
			}); err != nil {
				t.Fatal(err)
			}
			c.Release()
			if got, want := dump(loaded), dump(tr); got != want {
				t.Fatalf("loaded tree differs:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func chain(n int) []string {
	var out []string
	p := ""
	for i := range n {
		p += fmt.Sprintf("/d%d", i%3)
		out = append(out, p)
	}
	return out
}

func wide() []string {
	var out []string
	for i := range 20 {
		top := fmt.Sprintf("/t%d", i)
		out = append(out, top)
		for j := range 30 {
			mid := fmt.Sprintf("%s/m%d", top, j)
			out = append(out, mid)
			for k := range 5 {
				out = append(out, fmt.Sprintf("%s/l%d", mid, k))
			}
		}
	}
	return out
}
