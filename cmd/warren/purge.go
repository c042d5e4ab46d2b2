package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/warren-zk/warren/internal/server"
	"github.com/warren-zk/warren/internal/snap"
	"github.com/warren-zk/warren/internal/wal"
)

const purgeUsage = `usage: warren purge [-n count] (zoo.cfg | dataDir [dataLogDir])

Keeps the newest count snapshots (at least 3, as ZooKeeper's PurgeTxnLog) and
the log segments they need; deletes older ones. Safe while the server runs.
`

func runPurge(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 3, "snapshots to keep (minimum 3)")
	fs.Usage = func() { fmt.Fprint(stderr, purgeUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *n < 3 {
		fmt.Fprintln(stderr, "warren purge: -n must be at least 3")
		return 2
	}
	dataDir, logDir, err := dataDirs(fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "warren purge:", err)
		fs.Usage()
		return 2
	}
	before, err := snap.List(server.SnapDir(dataDir))
	if err != nil {
		fmt.Fprintln(stderr, "warren purge:", err)
		return 1
	}
	oldest, err := snap.Purge(server.SnapDir(dataDir), *n)
	if err != nil {
		fmt.Fprintln(stderr, "warren purge:", err)
		return 1
	}
	if removed := len(before) - *n; removed > 0 {
		fmt.Fprintf(stdout, "removed %d snapshot(s)\n", removed)
	}
	if oldest == 0 {
		fmt.Fprintln(stdout, "no snapshot: the log is kept whole")
		return 0
	}
	segs, err := wal.PurgeSegments(server.WALDir(logDir), oldest)
	for _, s := range segs {
		fmt.Fprintln(stdout, "removed log segment", s)
	}
	if err != nil {
		fmt.Fprintln(stderr, "warren purge:", err)
		return 1
	}
	return 0
}
