// Package clients drives real, unmodified ZooKeeper clients against an in-process Warren server:
// go-zookeeper (github.com/go-zookeeper/zk), the Java zkCli (ZooKeeperMain), the C client's cli_mt,
// Python's kazoo and Java's Apache Curator, all from Debian packages (see internal/testutil/deps).
//
// Everything lives in the _test.go files; every external process is bounded by a context timeout,
// pointed only at 127.0.0.1, and its output is shown when a test fails.
package clients
