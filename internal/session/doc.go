// Package session tracks session liveness on the server that decides expiry
// (the standalone server, later the leader).
//
// As in ZooKeeper's ExpiryQueue, deadlines live on tick boundaries: every
// packet from a session's client moves its deadline to
// roundUp(now + timeout, tick), and the tracker checks at every tick boundary,
// so a silent session expires between timeout and timeout+tick after its last
// packet. An expired session is marked closing and reported once; the caller
// proposes its closeSession entry, and calls Remove once that is applied (or
// Reopen if the proposal failed).
//
// Touch is lock-free (an atomic store) because it runs for every packet; the
// tracker's mutex guards only the set of sessions.
package session
