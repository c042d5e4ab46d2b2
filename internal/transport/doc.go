// Package transport carries messages between the servers of an ensemble:
// raft messages, forwarded client writes, session touches and their
// acknowledgements, and snapshot streams for replicas too far behind to
// catch up from the log.
//
// Wire format (TCP, on each server's peer port). A sender opens one
// connection per peer and writes, first, a hello:
//
//	8 bytes  magic "WRNPEER1"
//	8 bytes  sender id (big-endian)
//	8 bytes  cluster id (big-endian; a mismatch closes the connection)
//	1 byte   stream kind: 0 messages, 1 snapshot
//
// then, on a message stream, frames:
//
//	4 bytes  length n of what follows (big-endian), at most MaxFrame
//	1 byte   kind (KindRaft, KindForward, ...)
//	n-1      payload
//
// A receiver hands every frame, whatever its kind, to the Handler; a kind
// the Handler does not know is ignored there, never an error.
//
// A snapshot stream carries one frame holding the raft MsgSnap message,
// then an 8-byte body length and the body (the snapshot file), and is
// closed by the receiver after a 1-byte verdict (0 ok).
//
// Ordering: frames from one sender to one receiver arrive in the order they
// were sent, on one connection, so a follower's forwarded writes reach the
// leader in FIFO order. Connections are outbound-only for sending: a
// server receives on the connections its peers opened. So one direction of
// a link can fail while the other works (a one-way partition); the server
// does not take hearing a peer as proof that the peer hears it (the leader
// acknowledges session touches, KindTouchAck, and a member that gets no
// acknowledgement stops serving, internal/server/ensemble.go).
//
// Delivery: a frame may be lost when a connection breaks; the sender learns
// it through Generation changing (every reconnect bumps it), which is how a
// follower knows that writes it forwarded on the old connection have an
// unknown fate.
package transport
