//go:build !unix

package server

// maxFDs is -1 where there is no descriptor limit to report, as in
// ZooKeeper's OSMXBean.
func maxFDs() int64 { return -1 }
