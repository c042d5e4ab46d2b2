// Package crash kills a real `warren server` process with SIGKILL, again and again, in the
// middle of a concurrent workload, restarts it on the same data directory and port, and checks
// that nothing a client was told had happened was lost:
//
//   - every acknowledged create exists with its data and its creation zxid;
//   - every acknowledged (or observed) version of a CAS-updated node survives: the node's version
//     is at least that, and the data is the acknowledged data when no later write landed (and
//     otherwise the data of one of the attempted writes that could have produced that version);
//   - sequential numbering continues past every acknowledged sequential name;
//   - ephemerals of sessions that reattach (session id + password) survive, ephemerals of
//     sessions that never come back are removed after their timeout;
//   - the server is serving again (ruok + a read) within a bound.
//
// A second test damages the tail of the last WAL segment after a kill (a torn, unfinished
// batch) and checks the server repairs it, says so in its log, and keeps every acknowledged
// write.
//
// The clients speak the wire protocol directly (one connection per session, explicit xids,
// replies matched in FIFO order), so "acknowledged" means exactly: a reply with err 0 arrived.
//
// Flags: -crash.seed (the workload and kill times; printed at the start), -crash.cycles
// (kill/restart cycles, default 20), -crash.race (build the server with the race detector).
// Everything lives in the _test.go files.
package crash
