package fsm

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"

	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/znode"
)

// snapshotBytes returns the snapshot body of f's state with the given
// membership (which the server, not the FSM, keeps).
func snapshotBytes(t testing.TB, f *FSM, membership []byte) []byte {
	t.Helper()
	f.Lock()
	sn := f.Capture()
	sn.Membership = membership
	f.Unlock()
	var buf bytes.Buffer
	_, err := sn.WriteTo(&buf)
	f.Lock()
	sn.Release()
	f.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzRestore hands Restore arbitrary snapshot bodies: what a damaged file
// or a peer's snapshot stream can give it before snap checks the checksum,
// which comes at the end. Restore must return an error, never panic or
// allocate without bound, and a state it accepts must write back to a
// snapshot that restores to the same state.
func FuzzRestore(f *testing.F) {
	for _, n := range []int{0, 30, 300} {
		a := New(Options{ExtendedTypes: true})
		a.Lock()
		for i, e := range randomEntries(uint64(n)+3, n) {
			a.Apply(1+uint64(i/100), uint64(i+1), e.Marshal())
		}
		a.Unlock()
		f.Add(snapshotBytes(f, a, []byte{8, 1}))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a := New(Options{ExtendedTypes: true})
		a.Lock()
		index, _, members, err := a.Restore(bytes.NewReader(body))
		a.Unlock()
		if err != nil {
			return
		}
		// (The term in the header is not compared: a snapshot written
		// from a state carries the term of its last entry, ZxidState's
		// LastTerm, as the header term too.)
		a.RLock()
		want := dumpFSM(a)
		a.RUnlock()
		b := New(Options{ExtendedTypes: true})
		b.Lock()
		defer b.Unlock()
		index2, _, members2, err := b.Restore(bytes.NewReader(snapshotBytes(t, a, members)))
		if err != nil {
			t.Fatalf("a restored state does not restore from its own snapshot: %v\n%s", err, want)
		}
		if index2 != index || !bytes.Equal(members2, members) || b.ZxidState() != a.ZxidState() {
			t.Fatalf("index, membership, zxid state %d %x %+v, then %d %x %+v",
				index, members, a.ZxidState(), index2, members2, b.ZxidState())
		}
		if got := dumpFSM(b); got != want {
			t.Fatalf("state changed through a snapshot:\n%s\n---\n%s", want, got)
		}
	})
}

// TestRestoreBoundsAllocation: counts in a damaged snapshot body must not
// make Restore allocate beyond what the body's bytes could hold. Restore
// once sized its tables by them: a body of a hundred bytes claiming 1<<26
// nodes took gigabytes, and one whose root claimed 1<<31-1 children had
// the test process killed for memory at 23 GiB resident. The counts here
// are smaller, so that a regression fails the check rather than the
// machine.
func TestRestoreBoundsAllocation(t *testing.T) {
	a := New(Options{ExtendedTypes: true})
	a.Lock()
	for i, e := range randomEntries(5, 60) {
		a.Apply(1, uint64(i+1), e.Marshal())
	}
	a.Unlock()
	good := snapshotBytes(t, a, nil)
	// The header is 4+6*8 bytes, then the ACL lists, then the node count.
	d := 4 + 6*8
	nl := int(binary.BigEndian.Uint32(good[d:]))
	d += 4
	for range nl {
		d += 4 + int(binary.BigEndian.Uint32(good[d:]))
	}
	nodes := d // the node count; the first node record follows it
	rootChildren := nodes + 8 + 4 + int(binary.BigEndian.Uint32(good[nodes+8:])) - 4

	for _, tc := range []struct {
		name string
		edit func(b []byte) []byte
	}{
		{"node count 1<<22, body cut after it", func(b []byte) []byte {
			binary.BigEndian.PutUint64(b[nodes:], 1<<22)
			return b[:nodes+8]
		}},
		{"node count 1<<22, whole body", func(b []byte) []byte {
			binary.BigEndian.PutUint64(b[nodes:], 1<<22)
			return b
		}},
		{"the root claims 1<<22 children", func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[rootChildren:], 1<<22)
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.edit(bytes.Clone(good))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			f := New(Options{ExtendedTypes: true})
			f.Lock()
			_, _, _, err := f.Restore(bytes.NewReader(body))
			f.Unlock()
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("a damaged body restored without an error")
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 32<<20 {
				t.Fatalf("restoring %d bytes allocated %d MiB (%v)", len(body), got>>20, err)
			}
		})
	}
}

// TestRestoreRejectsBadPaths: a snapshot whose body names a node with a path
// ZooKeeper would refuse does not restore.
func TestRestoreRejectsBadPaths(t *testing.T) {
	a := New(Options{ExtendedTypes: true})
	a.Lock()
	a.Tree().Create(znode.CreateArgs{Path: "/abcd", ACL: proto.OpenACLUnsafe, Zxid: 1, Time: 1})
	a.Unlock()
	good := snapshotBytes(t, a, nil)
	for _, bad := range []string{"/ab\x01d", "/a/..", "//bcd", "/abc/", "/a\xffcd", "abcde"} {
		body := bytes.Replace(bytes.Clone(good), []byte("/abcd"), []byte(bad), 1)
		if bytes.Equal(body, good) {
			t.Fatal("the path is not in the body")
		}
		f := New(Options{ExtendedTypes: true})
		f.Lock()
		_, _, _, err := f.Restore(bytes.NewReader(body))
		f.Unlock()
		if err == nil || !strings.Contains(err.Error(), "invalid path") {
			t.Errorf("path %q: Restore returned %v, want an invalid path error", bad, err)
		}
	}
	f := New(Options{ExtendedTypes: true})
	f.Lock()
	defer f.Unlock()
	if _, _, _, err := f.Restore(bytes.NewReader(good)); err != nil || f.Tree().Get("/abcd") == nil {
		t.Fatalf("the unchanged body: %v", err)
	}
}
