// Package raftnode is the only importer of go.etcd.io/raft/v3. It owns one
// RawNode and drives it from a single event loop: ticks, proposals (drained
// in batches so many client writes share one Ready cycle and one fsync),
// messages from peers, ReadIndex requests, and Ready handling in raft's
// required order: persist HardState and entries (one fdatasync when raft
// says it must), install a snapshot from the leader, send messages, hand
// committed entries to the applier, Advance.
//
// The applier is a second goroutine that calls the Apply callback with
// committed entries in log order, so applying batch N (and answering its
// clients) overlaps persisting batch N+1. Conf changes are applied to raft
// on the loop itself; the membership travels with each batch so
// ConfState() inside Apply matches the applied index. Before a snapshot
// from the leader replaces the state, the loop waits for the applier to
// finish everything committed before it.
//
// raft.MemoryStorage holds the log in memory; Config.Storage (the WAL) is
// its durable copy, written before anything is sent or applied.
//
// A standalone Warren server is a one-member raft group: the same code path
// as an ensemble.
package raftnode
