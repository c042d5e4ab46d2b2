// Package robustness is Warren's robustness suite (issue 4; reference/reliability.md §1–§3):
// multi-process ensembles of the real `warren server` binary, faults injected while concurrent
// client sessions run a workload, and checkers that judge what the clients were told. The
// same suite runs against an Apache ZooKeeper 3.8 ensemble (the Debian package, as
// internal/testutil/zkoracle launches it) as a control, and must pass there too. Everything
// lives in the _test.go files.
//
// # Running it
//
//	make test          # go test -race ./...: the short version (a few minutes at most)
//	make robustness    # the long version: go test ./tests/robustness -robustness.long
//	go test ./tests/robustness -run '^TestWarren3$' -robustness.seed=N [-robustness.long]
//
// Tests: TestWarren3 (3 voters), TestWarren5Observer (5 voters + 1 observer), TestZooKeeper3
// (the control); the long version adds TestWarren3Observer and TestZooKeeper5Observer. The
// short version runs 4 nemesis rounds per cluster with faults of 2–4s; the long one 24 rounds
// (every nemesis at least once) with faults of 2–10s and more sessions. Flags:
//
//	-robustness.seed N     replay: the cluster options, nemesis schedule and workload choices
//	                       come from the seed (thread interleavings do not); every run prints
//	                       its seed and the command line that replays it
//	-robustness.long       the long version (also: WARREN_ROBUSTNESS=long)
//	-robustness.rounds N   nemesis rounds per cluster
//	-robustness.keep       keep each run's directory (configs, data, logs) even when it passes
//	-robustness.bin PATH   use this warren binary instead of building ./cmd/warren
//	-robustness.race       build the server with the race detector
//
// The server is built once per test binary run from the module root (found from the working
// directory). A failing run keeps its directory (printed): every member's zoo.cfg, data and
// log, run.log (the nemesis schedule on the same clock as the history), violations.txt, and
// for a linearizability failure the key's history and porcupine's visualization. The
// ZooKeeper control needs the Debian packages `make deps` installs (it is skipped without
// them, or fails when CI=true).
//
// # Clusters
//
// Every member gets its own zoo.cfg (tickTime 100–200ms from the seed, initLimit 10, syncLimit
// 5, a small snapCount so snapshots and snapshot transfers happen, every port picked at run
// time, loopback only). Peer links go through fault-injecting TCP proxies the suite controls:
// one proxy per directed link and port (Warren: the peer port; ZooKeeper: the quorum and the
// election port), so in member i's zoo.cfg the server.j line (j ≠ i) names i's proxy to j,
// while its own line names its real ports. A proxy forwards, partitions (drop: connections
// stay open and silently lose everything, then are closed when the link heals; refuse: every
// connection is closed at once), adds latency (in order) or cuts its live connections.
//
// # Nemeses
//
// One per round, then healed, then the ensemble must be healthy again (every member running
// and serving, one leader; a member that exits by itself fails the run) within 60s: kill -9
// of one member, of the leader, of every member (restarted on the same data); kill -9 of a
// member then a torn tail in its newest WAL segment, as a crash in the middle of a batch
// leaves it (garbage after the last record, or an unfinished batch without its commit record,
// with or without the file cut inside it), which Warren must repair (Warren only); SIGSTOP of
// one member or of the leader; partitions (the leader isolated, a minority split off, a
// bridge where one member talks to both halves, the leader's outgoing connections silenced);
// latency on every peer link; peer connections cut at random. Losing the last complete
// (fsynced) batches of a member's log is beyond a crash with a working fsync; it is done only
// by TestReproR5 (bug R5, fixed).
//
// # Workload
//
// Concurrent sessions of the zk package: register workers (setData with and without a
// version, quorum reads, plain reads, sync+reads on a few keys that rotate every 2s so each
// key's history stays small), sequential creates, short-timeout sessions that create
// ephemerals and are closed or abandoned (the server must expire them), keeper sessions that
// hold ephemerals to the end (many, with staggered deadlines, so that some deadline falls
// just after a leader change), writers of a watched subtree (creates and one setData per
// node, never deletes, so every change is a distinct event whose zxid the final tree tells),
// persistent recursive watchers through the zk package (zk.Conn.AddWatch, re-armed across
// reconnects) and through raw connections (which see each notification's header zxid and
// ping every 200ms). Every loop is bounded in operations and in time and stops by itself.
//
// # Checkers
//
// Each has unit tests (checker_unit_test.go) showing it rejects a history with its anomaly.
//
//   - linearizable: setData (blind and CAS) and quorum reads (getData, then a multi that
//     checks the version read), per key, with porcupine; the model is the node's (data,
//     version). An operation whose outcome the client did not learn (ConnectionLoss, a
//     timeout, an expired session) has an open end (return +inf); before porcupine sees the
//     history, unknown writes are settled where the observations decide them (a value that
//     was read happened; a write that can only have produced a version someone saw with
//     another value did not).
//   - sequential-consistency: per session, plain reads (and sync+reads, which are not
//     linearization points in ZooKeeper): one value per (key, version), only values someone
//     wrote, versions never decrease (monotonic reads, read-your-writes), and no read older
//     than a zxid the session already saw (single system image).
//   - lost-write: in the final state every register is at or past every version a client
//     wrote or saw, every acknowledged create and setData is there.
//   - replicas-identical: after healing, every member's whole tree (read from its own client
//     port after a sync) is the same: paths, data and every Stat field (ZooKeeper's
//     /zookeeper/config is each server's own view of its static config and is left out).
//   - sequential-names: unique, the prefix and a 10-digit counter, increasing in real time.
//   - ephemerals: while the keepers live, their acknowledged ephemerals are on every replica
//     and owned by them, and no ephemeral of a session that ended a timeout (plus grace) ago
//     remains; once every session ended, no ephemeral remains on any replica.
//   - session-expiry: a keeper or worker session (whose client keeps reconnecting, and whose
//     timeout exceeds any window in which it cannot reach a serving member) never expires.
//   - watch-events: per connection, every event is a committed change (its header zxid, when
//     the server sends one as Warren and ZooKeeper 3.9 do, is that change's zxid), no
//     duplicates, strictly increasing zxids across reconnects; per stable connection no gap:
//     a raw watcher has every change after its registration up to a ping reply's zxid before
//     that reply, a zk.Conn watcher every change between its first and last event.
//   - process: no member exits by itself.
//
// # Known bugs and regressions
//
// A Warren run whose only findings match a known bug (knownIssues in robustness_test.go,
// recognised from the members' logs) is skipped with the bug's name and the findings, so that
// it does not hide anything else; the ZooKeeper control accepts ZooKeeper's own behaviour the
// same way: a leader resumed after SIGSTOP expiring sessions, and replicas that differ only in
// nodes created in different epochs on two members (zkStaleEpochTxns: seen once in CI, a leader
// isolated with creates in flight kept them after rejoining; ZooKeeper's follower sync has
// known bugs of this family). Focused reproductions (repro_test.go) of open bugs are skipped
// naming the bug unless -robustness.repro is given (none is open). R7 (a member that caught
// up by installing the leader's snapshot kept its clients, whose watches silently missed the
// changes the snapshot covered) is fixed: the member now drops its clients, which re-arm
// their watches with setWatches; it has no focused reproduction, the long run's watch checker
// covers it. Fixed bugs keep their tests: TestReproR3 (a leader resumed after SIGSTOP expired
// sessions), TestReproR5 (a member that lost the last batches it had acknowledged, beyond a
// crash with a working fsync, crash-looped on a raft panic at the leader's next heartbeat; now
// internal/raftnode bounds the heartbeat's commit index by the member's log and the member
// asks the leader to hand leadership to another member, since raft never lowers a leader's
// match index for a follower; the new leader sends it the lost entries; ~15 s) and
// TestReproR6 (a member that heard the leader but could not reach it, its outgoing peer
// connections silenced, kept serving, and the leader expired the sessions it held; now the
// leader acknowledges every member's session touches and a member without an acknowledgement
// within syncLimit x tickTime stops serving, so its clients move; ~20 s) run always;
// TestReproR2 (a new leader expired sessions before extending them; probabilistic,
// ~40 s) with -robustness.repro; TestRegressionR4 (a member that caught up by snapshot could
// not restart) in the long version. The leader-one-way nemesis exercises R6 in every run that
// draws it: an expiry it explains ("one-way-partition") is a failure.
//
// U1 (fourth session: diagnosed, fixed; it had been open since the second): session
// expiries nothing explained, under CPU starvation, in TestWarren5Observer (seed
// 40523821652098 with -robustness.race reproduced it in 5 of 6 runs late in the fourth
// session). A member back from a pause (SIGSTOP) answers every heartbeat and append it missed
// at once, and in raft's probe state every such response earns it a fresh append of up to
// MaxSizePerMsg (1 MiB): the leader built hundreds of appends in one Ready (319 messages and
// 65 MB, 841 and 162 MB, 760 and 296 MB in three of them) and encoded them on its raft loop for
// 6 to 33 s, sending no heartbeats. Every other member then stopped serving (no two-way contact
// within syncLimit x tickTime), turned its clients away, and the keeper sessions expired when
// the next leader's extension ran out. The leader's server had kept answering touches, which
// is why the members' logs said "last heard from a leader 750ms ago; newest touch a leader
// acknowledged sent 100ms ago". Found with raftnode's stall warnings (a slow applier, a raft
// loop waiting for it, slow stepping, and a slow Ready with the time of each phase and what
// its messages carry). Fixed by bounding the appends in flight per follower (raft's
// MaxInflightBytes, 4 MiB) and, for the probe state, the entry bytes one Ready sends to a
// peer (4 MiB; the rest is dropped like a lost message). The seed above then passed 3 of 3
// race-built runs.
package robustness
