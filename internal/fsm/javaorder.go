package fsm

import (
	"slices"

	"github.com/warren-zk/warren/internal/acl"
)

// ephemeralDeleteOrder returns a closing session's ephemeral paths in the order ZooKeeper
// deletes them (and so fires their watches): DataTree.killSession walks the session's
// java.util.HashSet of paths, whose iteration order is the bucket of the spread
// String.hashCode in a table of 16 slots doubled while the set is over 3/4 full, ties in
// insertion order (creation order: czxid). The table size follows the set's current size;
// ZooKeeper's never shrinks, so a session that once held more than 12 ephemerals at a time
// may differ in order, not in effect.
func (f *FSM) ephemeralDeleteOrder(paths []string) []string {
	n := 16
	for len(paths) > n-n/4 {
		n *= 2
	}
	bucket := func(p string) int {
		h := uint32(acl.JavaStringHash(p))
		return int((h ^ (h >> 16)) & uint32(n-1))
	}
	out := slices.Clone(paths)
	slices.SortStableFunc(out, func(a, b string) int {
		if ba, bb := bucket(a), bucket(b); ba != bb {
			return ba - bb
		}
		za, zb := f.tree.Get(a).Czxid, f.tree.Get(b).Czxid
		switch {
		case za < zb:
			return -1
		case za > zb:
			return 1
		}
		return 0
	})
	return out
}
