// Package txn defines the envelope of a Warren log entry and the zxid rule.
//
// Entry layout (jute encoding, in order):
//
//	int        version (1)
//	int        op        ZooKeeper opcode (createSession -10, closeSession -11,
//	                     deleteContainer 20 for reaper deletions, or a client write opcode)
//	long       session   the session the request belongs to (0 for reaper entries)
//	int        cxid      the client's xid
//	long       time      the proposer's wall clock in ms (becomes ctime/mtime)
//	long       origin    id of the server holding the client connection
//	long       reqID     origin-unique id used to hand the result back to the connection
//	vector<Id> auth      the connection's auth ids at the time of the request
//	int        timeout   negotiated session timeout (createSession)
//	buffer     body      the request body exactly as the client sent it
//
// Everything apply needs is in the entry: apply reads no clock, config or
// randomness.
//
// zxid rule (same on every replica): the state machine keeps the current
// epoch E, the raft index S at which E began and the term of the last applied
// entry. For an entry (term t, index i): if t differs from the last term, E =
// max(t, E+1) and S = i; else if i-S would exceed 0xFFFFFFFF, E = E+1 and S =
// i. The zxid is E<<32 | (i-S). Zxids therefore increase strictly with the
// raft index.
package txn
