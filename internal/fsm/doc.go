// Package fsm is Warren's deterministic state machine: it applies committed
// log entries (txn.Entry) to the data tree and the session table, computes
// each entry's zxid and result, and fires the watches the change sets off.
// It also implements the read operations against the same state.
//
// Apply is a pure function of (state, entry): it reads no clock, randomness
// or configuration beyond the fixed Options given at construction (which are
// the same on every replica). Validation happens here, in ZooKeeper's
// precedence order, so a failed write is still an entry with an error result
// and consumes a zxid, as in ZooKeeper.
//
// Locking: the FSM's RWMutex is the tree lock. Apply runs with Lock held by
// the caller (so it can complete requests atomically with the change); reads
// run with at least RLock held. Lock order: FSM lock -> watch.Manager lock ->
// connection locks.
package fsm
