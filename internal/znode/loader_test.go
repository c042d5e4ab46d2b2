package znode

import (
	"strings"
	"testing"
)

func TestLoader(t *testing.T) {
	type add struct {
		path     string
		owner    int64
		children int
	}
	for _, tc := range []struct {
		name    string
		adds    []add
		wantErr string // the error of the last add ("" for none)
	}{
		{"siblings and nesting", []add{{"/", 0, 2}, {"/a", 0, 2}, {"/a/x", 0, 0}, {"/a/y", 0, 1}, {"/a/y/z", 0, 0}, {"/b", 0, 0}}, ""},
		{"back to an earlier parent", []add{{"/a", 0, 1}, {"/b", 0, 1}, {"/b/1", 0, 0}, {"/a/1", 0, 0}}, ""},
		{"owners indexed", []add{{"/e", 5, 0}, {"/c", ContainerOwner, 0}, {"/t", TTLMask | 1000, 0}}, ""},
		{"parent missing", []add{{"/a", 0, 0}, {"/b/c", 0, 0}}, `"/b/c" comes before its parent`},
		{"duplicate", []add{{"/a", 0, 1}, {"/a/b", 0, 0}, {"/a/b", 0, 0}}, `"/a/b" appears twice`},
		{"duplicate after another parent", []add{{"/a", 0, 1}, {"/a/b", 0, 0}, {"/c", 0, 0}, {"/a", 0, 0}}, `"/a" appears twice`},
		{"invalid path", []add{{"/a", 0, 1}, {"//a", 0, 0}}, `"//a": invalid path`},
		{"not absolute", []add{{"a", 0, 0}}, `"a": invalid path`},
		{"root after other nodes", []add{{"/", 0, 1}, {"/a", 0, 0}, {"/", 0, 0}}, `"/" comes after other nodes`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := New()
			tr.Reset()
			ld := tr.NewLoader()
			var err error
			for i, a := range tc.adds {
				n := &Node{EphemeralOwner: a.owner}
				n.PutData([]byte(a.path))
				if a.path == "/" {
					n.PutData(nil) // as New's root
				}
				err = ld.Add(a.path, n, a.children)
				if err != nil && i != len(tc.adds)-1 {
					t.Fatalf("add %q: %v", a.path, err)
				}
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The loaded tree equals one built by Restore, node by node.
			want := New()
			want.Reset()
			for _, a := range tc.adds {
				if a.path != "/" {
					wn := &Node{EphemeralOwner: a.owner}
					wn.PutData([]byte(a.path))
					want.Restore(a.path, wn)
				}
			}
			if tr.Len() != want.Len() || tr.ApproximateDataSize() != want.ApproximateDataSize() {
				t.Fatalf("len %d size %d, want %d %d", tr.Len(), tr.ApproximateDataSize(), want.Len(), want.ApproximateDataSize())
			}
			for _, a := range tc.adds {
				g, w := tr.Get(a.path), want.Get(a.path)
				if g == nil || w == nil || strings.Join(g.ChildNames(), ",") != strings.Join(w.ChildNames(), ",") {
					t.Errorf("%s: children differ", a.path)
				}
			}
			if strings.Join(tr.Containers(), ",") != strings.Join(want.Containers(), ",") ||
				strings.Join(tr.TTLNodes(), ",") != strings.Join(want.TTLNodes(), ",") ||
				strings.Join(tr.Ephemerals(5), ",") != strings.Join(want.Ephemerals(5), ",") {
				t.Error("owner indexes differ")
			}
		})
	}
}
