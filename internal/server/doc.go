// Package server is Warren's client-facing server: the listener, the
// per-connection request pipeline, sessions and their expiry, and the glue
// between client requests, the raft node and the state machine.
//
// Request pipeline (one per connection, DESIGN.md §2-3):
//   - A reader goroutine decodes frames in arrival order. Writes become log
//     entries proposed at once (so a session can pipeline them); reads,
//     pings, watch operations and auth are queued behind any earlier
//     request of the connection that has not completed and executed in
//     order, so a read issued after a write sees it.
//   - Writes complete on the apply goroutine, with the tree lock held: the
//     reply, and any reads queued behind the write, are produced atomically
//     with the change. Watch events fired by the change are queued to their
//     connections before that reply.
//   - A writer goroutine sends one connection's replies and events in the
//     order they were queued, batching them into as few syscalls as it can.
//
// Lock order: fsm lock -> conn.mu -> watch.Manager lock -> conn.outMu;
// Server.mu and Server.pendMu are leaves (never held while taking another).
// The tree lock is always taken before conn.mu.
package server
