// Package raftnode is the only importer of go.etcd.io/raft/v3. It owns one
// RawNode and drives it from a single event loop: ticks, proposals (drained in
// batches so many client writes share one Ready cycle and, with durable
// storage, one fsync), ReadIndex requests, and Ready handling in raft's
// required order: persist HardState and entries, send messages, hand
// committed entries to the Apply callback in log order, Advance.
//
// A standalone Warren server is a one-member raft group: the same code path
// as an ensemble.
//
// Until durable storage lands, the log lives in raft.MemoryStorage only.
package raftnode
