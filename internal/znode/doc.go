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
//   - Identical ACL lists share one backing slice (interned), to save memory.
package znode
