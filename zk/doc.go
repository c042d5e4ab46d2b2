// Package zk is a client for ZooKeeper and for Warren, which speaks the same
// protocol (ZooKeeper 3.5 to 3.9 servers).
//
// # Sessions
//
// Connect establishes a session with one server of an ensemble and returns a
// *Conn, which keeps the session alive (it pings after a third of the session
// timeout without traffic) and moves it to another server when the connection
// breaks: it treats two thirds of the session timeout without hearing from the
// server as a broken connection, tries the servers in a random order with
// exponential backoff between passes, reattaches the session with its id and
// password, sends the credentials of WithAuth and AddAuth again, and re-arms
// every watch with SetWatches (SetWatches2 when there are persistent watches),
// in batches of about 128 KiB of paths. A Conn is safe for concurrent use; it
// runs one manager goroutine, plus one reader and one writer per TCP
// connection, all of which are gone when Close returns.
//
// State reports where the session is; StateEvents delivers every change:
//
//	Connecting → Connected (or ConnectedReadOnly) → Disconnected → Connecting → …
//	… → Expired | AuthFailed    the Conn is dead; only Close remains
//	… → Closed                  after Close
//
// # Errors
//
// Every operation returns nil or an *Error naming the operation and path.
// ZooKeeper's error codes are Code values, and the constants ErrNoNode,
// ErrNodeExists, ErrBadVersion, … are the sentinels to test with errors.Is:
//
//	if errors.Is(err, zk.ErrNoNode) { … }
//
// Three errors say what happened to the session rather than to the node, as
// ZooKeeper defines them:
//
//   - ErrConnectionLoss: the TCP connection broke while the request was in
//     flight (or before it could be sent). The request may or may not have
//     taken effect. The Conn reconnects by itself; the session and its
//     ephemeral nodes and watches are intact as long as it reconnects within
//     the session timeout.
//   - ErrSessionExpired: the server expired the session (the client learns
//     it when it reconnects). The Conn is dead: its ephemeral nodes are gone,
//     every watch has ended, and every later call fails the same way. Make a
//     new Conn.
//   - ErrClosed: the Conn was closed with Close.
//
// An operation whose context ends first returns the context's error (also
// wrapped in *Error); like ErrConnectionLoss, a write that was already sent
// may still have been applied.
//
// # Chroot
//
// A connect string may end with a path ("h1:2181,h2:2181/app"): every path
// the Conn sends is then taken relative to it, and every path it returns
// (created names, watch events, sync, getEphemerals) has it removed.
//
// # Watches
//
// GetW, ExistsW and ChildrenW set one-shot watches, as ZooKeeper does: each
// returns a channel that receives exactly one Event and is then closed. The
// watch is registered atomically with the reply, so the event of any change
// after the read is delivered, and it is delivered before the reply to the
// change if both come through this Conn. One-shot watches survive reconnects:
// an event that happened while disconnected is delivered when the session is
// reattached (SetWatches compares the node with the last zxid the client saw).
// If the session ends instead, the channel receives an EventNotWatching event
// whose Err is ErrSessionExpired or ErrClosed.
//
// AddWatch sets a persistent watch (optionally recursive, covering a
// subtree), which keeps firing until Watcher.Close. Its events arrive in order
// on Watcher.Events. The read loop never waits for a consumer: each Watcher
// buffers up to WithWatcherBuffer events (default 1024); a consumer that lets
// the buffer fill up loses the watch rather than some events — the channel is
// closed after the events it holds and Watcher.Err reports
// ErrWatcherOverflow. A persistent watch also receives EventSession events
// when the connection is lost and re-established: the server re-arms it but
// does not replay the changes made in between, so a consumer that caches data
// should re-read it after StateConnected.
//
// # Read-only servers
//
// With WithReadOnly(true) the session may attach to a server that lost its
// quorum and serves reads only (StateConnectedReadOnly); writes then fail
// with ErrNotReadOnly. The client does not go looking for a read-write server
// while attached to a read-only one.
package zk
