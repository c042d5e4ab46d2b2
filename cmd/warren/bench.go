package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/warren-zk/warren/internal/bench"
)

const benchUsage = `usage: warren bench [flags]

Generate load against any ZooKeeper-protocol server (Warren or Apache
ZooKeeper) and report ops/s, latency percentiles, errors by ZooKeeper error
code and the client's own CPU time per operation.

Workloads (-workload, several comma-separated run one after another):
  create      create persistent znodes (each session in its own directory)
  create-seq  create persistent sequential znodes
  delete      pre-create -ops (or -keys) znodes, then delete them
  set         setData on random keys of a pre-created key space (-keys)
  get         getData on random keys
  exists      exists on random keys
  children    getChildren on a node with -children children
  mixed       -read-ratio getData, the rest setData, on random keys
  multi       multi of -multi-ops creates or setData (-multi-op)
  watch       -sessions sessions watch one node, another sets it; latency is
              the time until every watcher has the notification
  churn       connect, create an ephemeral znode, close the session; repeat
  load        create -keys znodes of -value-size bytes (no directory gets more
              than 10000 children); with -keep for memory/restart tests.
              load and delete run until done unless -duration is given.

Flags:
`

func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	servers := fs.String("server", "127.0.0.1:2181", "comma-separated `host:port` list of one server or ensemble; sessions are spread round-robin")
	workloads := fs.String("workload", "mixed", "workload(s), comma-separated: "+strings.Join(bench.Workloads, ", "))
	sessions := fs.Int("sessions", 64, "concurrent sessions (one TCP connection each)")
	duration := fs.Duration("duration", 10*time.Second, "measurement time per workload (0: no time bound)")
	ops := fs.Int64("ops", 0, "stop after this many measured operations (0: no bound); whichever of -duration and -ops comes first")
	valueSize := fs.Int("value-size", 100, "bytes of data per create/setData")
	keys := fs.Int("keys", 10000, "key space: znodes pre-created for set/get/exists/mixed/multi -multi-op set; znodes delete pre-creates without -ops; znodes load creates")
	outstanding := fs.Int("outstanding", 1, "requests in flight per session (1: closed loop)")
	warmup := fs.Duration("warmup", 0, "run unmeasured for this long first")
	root := fs.String("root", "/warren-bench", "parent znode of the run's directory, created if missing")
	keep := fs.Bool("keep", false, "leave the created znodes in place")
	jsonOut := fs.Bool("json", false, "print one JSON object per result line instead of the table")
	progress := fs.Duration("progress", time.Second, "progress line interval on stderr (0: none)")
	readRatio := fs.Float64("read-ratio", 0.9, "mixed: fraction of reads (getData); the rest are setData")
	multiOps := fs.Int("multi-ops", 10, "multi: operations per multi")
	multiOp := fs.String("multi-op", "create", "multi: create or set")
	children := fs.Int("children", 100, "children: number of children of the listed node")
	sessionTimeout := fs.Duration("session-timeout", 30*time.Second, "session timeout to request")
	seed := fs.Uint64("seed", 0, "seed for the key choice (0: fixed default)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load generator to this file (for performance work)")
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "warren bench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	durationSet := false
	fs.Visit(func(f *flag.Flag) { durationSet = durationSet || f.Name == "duration" })

	var addrs []string
	for _, a := range strings.Split(*servers, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	rr := *readRatio
	if rr == 0 {
		rr = -1 // Config: negative means 0
	}
	base := bench.Config{
		Servers: addrs, Sessions: *sessions, Ops: *ops, ValueSize: *valueSize, Keys: *keys,
		Outstanding: *outstanding, Warmup: *warmup, Root: *root, Keep: *keep, ReadRatio: rr,
		MultiOps: *multiOps, MultiOp: *multiOp, Children: *children, SessionTimeout: *sessionTimeout,
		Progress: *progress, ProgressOut: stderr, Seed: *seed,
	}
	var names []string
	for _, w := range strings.Split(*workloads, ",") {
		if w = strings.TrimSpace(w); w != "" {
			names = append(names, w)
		}
	}
	if len(names) == 0 {
		fmt.Fprintln(stderr, "warren bench: no workload")
		return 2
	}

	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "warren bench: %v\n", err)
			return 2
		}
		defer stopProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the process, even during cleanup
	}()

	var results []bench.Result
	code := 0
	for _, w := range names {
		cfg := base
		cfg.Workload = w
		cfg.Duration = *duration
		if (w == "load" || w == "delete") && !durationSet {
			cfg.Duration = 0
		}
		res, err := bench.Run(ctx, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "warren bench: %s: %v\n", w, err)
			code = 1
		}
		if res.Ops > 0 || err == nil {
			results = append(results, res)
			if *jsonOut {
				b, _ := json.Marshal(res)
				fmt.Fprintf(stdout, "%s\n", b)
			}
			if *keep && res.Dir != "" {
				fmt.Fprintf(stderr, "warren bench: %s: kept %s\n", w, res.Dir)
			}
		}
		if err != nil || ctx.Err() != nil {
			break
		}
	}
	if !*jsonOut && len(results) > 0 {
		bench.WriteTable(stdout, results)
	}
	return code
}
