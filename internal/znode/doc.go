// Package znode is Warren's in-memory data tree: znodes addressed by absolute
// path, each with data, an ACL list and ZooKeeper's Stat fields.
//
// The tree does no I/O, starts no goroutines, reads no clock and takes no
// locks: its owner (the state machine) serialises writers and lets readers in
// under its own lock. Every mutation takes the zxid and time to stamp from the
// caller, so applying the same operations yields the same tree everywhere.
//
// Invariants:
//   - "/" always exists; every other node's parent exists.
//   - Stored Cversion counts child creations ever made (it never decreases);
//     Stat reports ZooKeeper's visible cversion, 2*Cversion - NumChildren.
//   - EphemeralOwner is the owning session for ephemerals, ContainerOwner for
//     containers and TTLMask|ttl for TTL nodes; Stat reports 0 for the latter two.
//   - The ephemeral index, container set and TTL set always agree with the nodes.
//   - Identical ACL lists are one interned list; a node holds a pointer to it.
//   - A node's data bytes never change once stored (SetData stores new
//     bytes): snapshots in progress and replies read them without a lock.
//
// Memory: a Node is 96 bytes (TestNodeSize). Its data is a pointer and a
// 32-bit length (unsafe.Slice rebuilds the slice; a nil pointer is null
// data, distinct from empty) rather than a 24-byte slice header, and its ACL
// a pointer to the interned list rather than a slice header; the snapshot
// generation is 32 bits. With 1M znodes of 100 bytes the live heap is about
// 97 MB of Nodes, 104 MB of data, 54 MB of paths, 55 MB of path table and
// 43 MB of child sets (docs/performance.md).
package znode
