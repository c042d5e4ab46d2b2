package acl

import (
	"slices"
	"unicode/utf16"

	"github.com/warren-zk/warren/internal/proto"
)

// JavaSetOrder returns ids (a connection's auth ids, in the order they were added, without
// duplicates) in the order ZooKeeper iterates them. ZooKeeper keeps a connection's ids in a set
// backed by a java.util.concurrent.ConcurrentHashMap, so whoAmI lists them, and the "auth" ACL
// scheme expands to them, in hash-bucket order: bucket index of the Id record's hashCode in a
// 16-slot table, ties in insertion order. (With 12 or more ids the Java table has grown and its
// order is no longer reproduced exactly; no real connection has that many.)
func JavaSetOrder(ids []proto.Id) []proto.Id {
	n := 16
	for len(ids) >= n-n/4 {
		n *= 2
	}
	out := slices.Clone(ids)
	slices.SortStableFunc(out, func(a, b proto.Id) int {
		return javaBucket(a, n) - javaBucket(b, n)
	})
	return out
}

// javaBucket is ConcurrentHashMap's bin index for an Id in a table of n slots.
func javaBucket(id proto.Id, n int) int {
	// Jute's generated Id.hashCode: 17, then 37*result + field.hashCode() per field.
	h := int32(17)
	h = 37*h + JavaStringHash(id.Scheme)
	h = 37*h + JavaStringHash(id.Id)
	u := uint32(h)
	spread := (u ^ (u >> 16)) & 0x7fffffff
	return int(spread & uint32(n-1))
}

// JavaStringHash is java.lang.String.hashCode over the UTF-16 code units of s.
func JavaStringHash(s string) int32 {
	var h int32
	for _, c := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(c)
	}
	return h
}
