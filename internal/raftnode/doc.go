// Package raftnode is the only importer of go.etcd.io/raft/v3. It owns one
// RawNode and drives it from a single event loop: ticks, proposals (drained
// in batches so many client writes share one Ready cycle and one fsync, and
// stepped as one raft message so a leader sends each follower one append for
// the batch rather than one per entry; each write is still its own entry),
// messages from peers, ReadIndex requests, and the responses of the two
// goroutines below.
//
// Raft runs with asynchronous storage writes (raft's AsyncStorageWrites):
// a Ready's log appends (entries, HardState, a snapshot from the leader)
// are a message to the storage goroutine, and its committed entries a
// message to the applier; the loop hands them over and goes on stepping,
// without waiting for the disk. Three goroutines, one direction of waiting:
//
//   - the loop sends peer messages at once, queues appends to the storage
//     goroutine and committed entries to the applier (it waits only when a
//     queue is full);
//   - the storage goroutine writes the appends queued together as one batch
//     with one fdatasync when raft needs one (group commit; a later
//     append's entries replace an earlier one's from its first index on),
//     adds them to the in-memory log (raft.MemoryStorage, which raft reads
//     only for durable entries), then delivers the appends' responses:
//     acknowledgements and votes, which promise durable state, to peers;
//     raft's own (entries now stable, a leader's acknowledgement of its own
//     append) to the loop through a mailbox that never blocks. A snapshot
//     from the leader is handed to the applier, which installs it after
//     everything committed before it; the storage goroutine waits for that,
//     then records it and writes the entries after it;
//   - the applier calls Apply with committed entries in log order (raft
//     hands out only entries already in this member's durable log) and
//     returns raft's acknowledgement through the mailbox.
//
// Neither worker ever waits for the loop. So the leader keeps sending
// heartbeats and stepping acknowledgements while its own write is in
// flight: two followers that hold an entry durably commit it in a group of
// three without the leader's disk, and a member whose disk stalls does not
// fall silent and lose its leader or its leadership. A leader's appends
// reach the followers before its own fsync (raft thesis §10.2.1); raft
// counts the leader in a quorum only once its write is durable. Conf
// changes are applied to raft on the loop as their entries are handed to
// the applier; the membership travels with each batch so ConfState()
// inside Apply matches the applied index. Stop stops the storage goroutine
// first (it may be waiting for the applier), then the applier.
//
// Config.Storage (the WAL) is the durable copy of the log.
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
// carried), the applier or the storage goroutine being a whole queue
// behind; the workers log a slow batch of their own. Raft's probe state is outside its inflight accounting (every
// response from a lagging follower earns it a new append), so each Ready also
// sends at most maxAppendBytesPerReady of entries to a peer and drops the
// rest, reporting the peer unreachable as a lost message would.
//
// A standalone Warren server is a one-member raft group: the same code path
// as an ensemble, except that its loop writes the appends itself and steps
// their responses at once (no peer could use the time the loop would gain,
// and the hand-off to the storage goroutine and back cost a standalone
// server 8% of its set throughput, median of six alternating pairs).
package raftnode
