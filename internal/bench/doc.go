// Package bench is a load generator for ZooKeeper-protocol servers (Warren or
// Apache ZooKeeper): many sessions from one process, each on its own TCP
// connection, driven by a lean client built on Warren's own codec
// (internal/proto records over internal/jute).
//
// The client (Conn) has one writer and one reader goroutine per connection.
// Requests are encoded straight into the connection's output buffer by the
// caller, the writer sends whatever has accumulated in one write, and the
// reader matches each reply to the oldest outstanding request by xid (ZooKeeper
// answers a connection's requests strictly in order) and hands a Completion to
// the channel the request named. Response bodies the load does not need are
// never decoded. Idle connections send pings.
//
// Run executes one workload (see Workloads) and returns a Result: successful
// operations per second, a latency histogram (log-linear, ≤ 0.8% relative
// error), errors by ZooKeeper error code and the process's CPU time per
// operation (getrusage), which shows whether the client itself was the
// bottleneck.
//
// Every run works in its own directory under Config.Root and removes it (and
// Root, if the run created it) afterwards unless Config.Keep is set.
package bench
