// Package raftnode is the only importer of go.etcd.io/raft/v3. It owns one
// RawNode and drives it from a single event loop: ticks, proposals (drained
// in batches so many client writes share one Ready cycle and one fsync, and
// stepped as one raft message so a leader sends each follower one append for
// the batch rather than one per entry; each write is still its own entry),
// messages from peers, ReadIndex requests, and Ready handling in this order:
// install a snapshot from the leader (after the applier has finished
// everything committed before it); hand the committed entries that are
// already in the durable log to the applier; a leader sends its messages;
// persist HardState and entries (one fdatasync when raft says it must);
// every other member sends its messages now (votes and acknowledgements
// promise durable state); hand the remaining committed entries (those this
// Ready persisted: a follower can learn an entry is committed as it receives
// it) to the applier; Advance.
//
// The applier is a second goroutine that calls the Apply callback with
// committed entries in log order, so applying batch N (and answering its
// clients) overlaps persisting batch N+1: in a one-member group an entry
// costs one fsync before its reply, not two. An entry is applied only once
// it is in this member's durable log. A leader sending its appends before
// its own fsync lets followers persist in parallel with it (raft thesis
// §10.2.1); raft counts the leader in a quorum only after its write is
// durable. Conf changes are applied to raft on the loop itself; the
// membership travels with each batch so ConfState() inside Apply matches
// the applied index.
//
// raft.MemoryStorage holds the log in memory; Config.Storage (the WAL) is
// its durable copy.
//
// A member whose disk lost entries it had acknowledged (fsynced, then gone)
// comes back and catches up instead of crash-looping on raft's panics: a
// recovered HardState whose commit index is past the end of the log is
// clamped to it, and so is the commit index of a leader's heartbeat (the
// leader's match index for this member, which raft never lowers, is past
// the end of its log). Since that leader would never send the lost entries,
// the member asks it to hand leadership to another voter; the new leader
// probes the member's log from its end and sends them. See clampHeartbeat
// and askNewLeader.
//
// Everything on the loop delays heartbeats, and members that stop hearing
// their leader stop serving. So a leader keeps at most maxInflightBytes of
// appends in flight to a follower (raft's MaxInflightBytes), and the loop
// logs at WARN whatever holds it up for more than stallWarning: a slow batch
// of steps, a slow Ready (with the time of each phase and what its messages
// carried), the applier being a whole queue behind, or a slow batch in the
// applier. Raft's probe state is outside its inflight accounting (every
// response from a lagging follower earns it a new append), so each Ready also
// sends at most maxAppendBytesPerReady of entries to a peer and drops the
// rest, reporting the peer unreachable as a lost message would.
//
// A standalone Warren server is a one-member raft group: the same code path
// as an ensemble.
package raftnode
