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
// Structure: each node maps its children's names to the children; there is
// no table of all paths. A lookup walks the path one component at a time
// from the root (one map lookup per component). A child's name is a string
// of its own (cloned from the request's path), so no path is kept alive by
// the tree; the indexes of ephemerals, containers and TTL nodes hold full
// paths.
//
// Memory: a Node is 96 bytes (TestNodeSize). Its data is a pointer and a
// 32-bit length (unsafe.Slice rebuilds the slice; a nil pointer is null
// data, distinct from empty) rather than a 24-byte slice header, and its ACL
// a pointer to the interned list rather than a slice header; the snapshot
// generation is 32 bits. With 1M znodes of 100 bytes the live heap is about
// 96 MB of Nodes, 106 MB of data, 49 MB of children maps and 17 MB of
// names (docs/performance.md); a global path table used to add ~55 MB for
// the table and ~41 MB for the paths.
//
// Snapshots: Capture records, under the caller's write lock, every node in
// breadth-first order with its name and its parent's position (no paths);
// Capture.Each builds the paths afterwards without the lock. While a
// capture is open a node is copied before it is changed (its parent's map
// is pointed at the copy); the copy shares the children map, which the
// capture no longer reads.
package znode
