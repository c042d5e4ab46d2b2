// Command benchcompare measures Warren side by side with Apache ZooKeeper
// 3.8.0 (the Debian package) on one machine, for the targets of DESIGN.md §8
// and issue 7. `make bench-compare` runs it; docs/performance.md describes
// what it measures and records results.
//
// For each mode (standalone, 3-member ensemble) it starts ZooKeeper and
// Warren with the same zoo.cfg on loopback ports picked at run time, in a
// temporary directory, and runs each workload (internal/bench) against
// each, alternating ZooKeeper, Warren, ZooKeeper, Warren, … for -pairs
// pairs, removing the benchmark's znodes after every run. It prints, per
// mode and workload, the median over the pairs of the ratio Warren/ZooKeeper
// of throughput and of p99 latency, and every run's numbers. Then, on fresh
// servers, it bulk-loads -znodes znodes of -value-size bytes into each,
// records resident memory (VmRSS of the server process; for ZooKeeper the
// JVM), and restarts each -pairs times, measuring the time from process
// start to the first correct getData of the last loaded znode.
//
// Every server runs in its own process group and is killed when the tool
// exits, however it exits (on Linux the kernel kills them too if the tool
// itself is killed).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/warren-zk/warren/internal/bench"
	"github.com/warren-zk/warren/internal/proto"
)

const usage = `usage: go run ./tools/benchcompare [flags]     (make bench-compare BENCH_COMPARE_FLAGS='…')

Starts Apache ZooKeeper 3.8.0 (Debian package zookeeper; make deps) and Warren
(built from this tree) with equivalent zoo.cfg files on loopback, runs every
workload against each, alternating, and prints the median ratios
Warren/ZooKeeper; then compares resident memory after a bulk load and the time
to serve again after a restart. The defaults are the full comparison of
issue 7 (about 30 minutes on 2 CPUs); a quick look (a few minutes):

  go run ./tools/benchcompare -modes standalone -pairs 1 -duration 3s -znodes 100000

Flags:
`

// Workloads run by default, in order; watch uses -watch-sessions sessions.
var defaultWorkloads = []string{"create", "set", "get", "mixed", "watch", "churn"}

const (
	benchRoot   = "/warren-bench"      // parent of the workloads' directories
	loadRoot    = "/warren-bench-load" // parent of the bulk load's directory
	loadFanout  = 10000                // internal/bench's bucket size: key i is dir/b<i/10000>/k<i>
	memoryDelay = 2 * time.Second      // pause between the end of the load and the VmRSS reading
)

type options struct {
	modes, workloads      []string
	pairs                 int
	duration, warmup      time.Duration
	settle                time.Duration
	sessions, watchSess   int
	valueSize, keys       int
	znodes, loadOut       int
	stop                  string
	zkHeap                string
	zkJVMArgs             []string
	java, classpath       string
	warren, warrenRev     string
	dir                   string
	keep, jsonOut         bool
	jsonFile              string
	timeout, startTimeout time.Duration
	restartTimeout        time.Duration
	loadTimeout, runSlack time.Duration
	progress              time.Duration
	command               string
	quiet                 bool
	modRoot               string
	serverCPUs, clientCPU string
	floor                 bool
}

func orAll(cpus string) string {
	if cpus == "" {
		return "(all)"
	}
	return cpus
}

// pinSelf restricts every thread of this process (and the threads it starts
// later, which inherit it) to cpus.
func pinSelf(ctx context.Context, cpus string) error {
	out, err := exec.CommandContext(ctx, "taskset", "-a", "-p", "-c", cpus, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("benchcompare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modes := fs.String("modes", "standalone,ensemble", "modes to compare: standalone (one server) and/or ensemble (3 servers of each kind)")
	workloads := fs.String("workloads", strings.Join(defaultWorkloads, ","), "workloads to run, in order (any of internal/bench's except load and delete); empty: none")
	fs.IntVar(&o.pairs, "pairs", 3, "alternating ZooKeeper/Warren pairs per workload, and restarts of each server")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each run's measurement")
	fs.DurationVar(&o.settle, "settle", time.Second, "pause after each run (after its znodes are removed)")
	fs.IntVar(&o.sessions, "sessions", 64, "concurrent sessions per run (for churn: concurrent connect/create/close loops)")
	fs.IntVar(&o.watchSess, "watch-sessions", 1000, "watching sessions of the watch fan-out workload")
	fs.IntVar(&o.valueSize, "value-size", 100, "bytes per znode value")
	fs.IntVar(&o.keys, "keys", 10000, "key space of set, get and mixed (znodes created before the run)")
	fs.IntVar(&o.znodes, "znodes", 1000000, "znodes to bulk-load for the memory and restart comparison (0: skip it)")
	fs.IntVar(&o.loadOut, "load-outstanding", 16, "requests in flight per session during the bulk load")
	fs.StringVar(&o.stop, "stop", "kill", "how servers are stopped before a restart: kill (SIGKILL, a crash) or term (SIGTERM, clean)")
	fs.StringVar(&o.zkHeap, "zk-heap", "2g", "ZooKeeper's JVM -Xmx (the Debian package sets none)")
	zkArgs := fs.String("zk-jvm-args", "", "extra JVM options for ZooKeeper, space-separated")
	fs.StringVar(&o.java, "java", "", "java binary (default: found as internal/testutil/deps finds it)")
	fs.StringVar(&o.classpath, "zk-classpath", "", "ZooKeeper 3.8 server classpath (default: the Debian package's jars, as internal/testutil/deps lists them)")
	fs.StringVar(&o.warren, "warren", "", "warren binary to run (default: go build ./cmd/warren of this tree)")
	fs.StringVar(&o.warrenRev, "warren-rev", "", "build Warren from this git revision (git archive into the temporary directory) instead of the work tree")
	fs.StringVar(&o.dir, "dir", "", "directory for configs, data and logs (default: a new temporary directory)")
	fs.BoolVar(&o.keep, "keep", false, "keep the directory (data and server logs) afterwards")
	fs.BoolVar(&o.jsonOut, "json", false, "print JSON lines (type machine, summary, resource-summary, run, memory, restart, problem) instead of tables")
	fs.StringVar(&o.jsonFile, "json-out", "", "also write the JSON lines to this file")
	fs.DurationVar(&o.timeout, "timeout", 4*time.Hour, "bound on the whole comparison")
	fs.DurationVar(&o.startTimeout, "start-timeout", 2*time.Minute, "bound on a fresh server or ensemble coming up")
	fs.DurationVar(&o.restartTimeout, "restart-timeout", 10*time.Minute, "bound on a restart reaching its first correct read")
	fs.DurationVar(&o.loadTimeout, "load-timeout", time.Hour, "bound on one bulk load")
	fs.DurationVar(&o.runSlack, "run-slack", 5*time.Minute, "bound on a run's setup and cleanup beyond -warmup + -duration")
	fs.DurationVar(&o.progress, "progress", 0, "internal/bench progress lines on stderr at this interval (0: one line per run)")
	fs.BoolVar(&o.quiet, "q", false, "no progress lines on stderr")
	fs.StringVar(&o.serverCPUs, "server-cpus", "", "run every server process on these CPUs (a taskset list such as 1 or 2-3; empty: no pinning)")
	fs.StringVar(&o.clientCPU, "client-cpus", "", "run this process, the load generator, on these CPUs (taskset list; empty: no pinning)")
	fs.BoolVar(&o.floor, "floor", false, "also run each workload against tools/floorserver -fsync (a server that only reads each request, group-commits the writes, answers and notifies data watches; in the ensemble mode, a leader and two followers that replicate the writes: what the machine allows), third in each pair (not the ensemble's watch)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.modes, o.workloads = splitList(*modes), splitList(*workloads)
	o.zkJVMArgs = strings.Fields(*zkArgs)
	for _, m := range o.modes {
		if m != modeStandalone && m != modeEnsemble {
			return nil, fmt.Errorf("-modes: unknown mode %q (standalone, ensemble)", m)
		}
	}
	if len(o.modes) == 0 {
		return nil, errors.New("-modes: no mode")
	}
	for _, w := range o.workloads {
		if !slices.Contains(bench.Workloads, w) || w == "load" || w == "delete" {
			return nil, fmt.Errorf("-workloads: %q is not a timed workload of internal/bench", w)
		}
	}
	switch {
	case o.pairs < 1:
		return nil, errors.New("-pairs must be at least 1")
	case o.duration <= 0:
		return nil, errors.New("-duration must be positive")
	case o.warmup < 0 || o.settle < 0:
		return nil, errors.New("-warmup and -settle cannot be negative")
	case o.sessions < 1 || o.watchSess < 1:
		return nil, errors.New("-sessions and -watch-sessions must be at least 1")
	case o.valueSize < 1 || o.keys < 1 || o.znodes < 0 || o.loadOut < 1:
		return nil, errors.New("-value-size, -keys and -load-outstanding must be positive, -znodes not negative")
	case o.stop != "kill" && o.stop != "term":
		return nil, fmt.Errorf("-stop %q: kill or term", o.stop)
	case len(o.workloads) == 0 && o.znodes == 0:
		return nil, errors.New("nothing to do: no workload and -znodes 0")
	}
	o.command = "go run ./tools/benchcompare"
	for _, a := range args {
		o.command += " " + shellQuote(a)
	}
	return o, nil
}

// shellQuote quotes an argument for the command line the report shows.
func shellQuote(a string) string {
	if a != "" && strings.IndexFunc(a, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,@+%", r))
	}) < 0 {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

func main() {
	// The first SIGINT/SIGTERM/SIGHUP cancels the comparison: the current
	// run ends, the report of what was measured is printed, every server is
	// killed. A second signal, or 20 seconds without an exit, kills the
	// servers and exits at once.
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "benchcompare: %v: stopping (a second signal exits at once)\n", s)
		cancel(fmt.Errorf("interrupted by %v", s))
		select {
		case <-sigs:
		case <-time.After(20 * time.Second):
		}
		procs.killAll()
		fmt.Fprintln(os.Stderr, "benchcompare: killed every server; exiting")
		os.Exit(130)
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	procs.killAll()
	os.Exit(code)
}

// tool is one comparison in progress.
type tool struct {
	o       *options
	e       *env
	rep     *report
	stderr  io.Writer
	root    string
	begin   time.Time
	runNo   int
	runsAll int
}

func (t *tool) logf(format string, args ...any) {
	if t.o.quiet {
		return
	}
	el := time.Since(t.begin).Round(time.Second)
	fmt.Fprintf(t.stderr, "benchcompare [%s, load %s]: %s\n", el, loadAvg(), fmt.Sprintf(format, args...))
}

// run is the whole comparison; it returns the exit code (0: every run and
// measurement succeeded; 1: something failed, the report says what; 2: bad
// flags or a missing dependency).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	defer procs.killAll()
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "benchcompare: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeoutCause(ctx, o.timeout, fmt.Errorf("the whole comparison exceeded -timeout %v", o.timeout))
	defer cancel()
	t := &tool{o: o, rep: &report{}, stderr: stderr, begin: time.Now()}
	t.e = &env{logf: t.logf}

	if o.java == "" || o.classpath == "" {
		java, cp, err := findZooKeeper()
		if err != nil {
			fmt.Fprintf(stderr, "benchcompare: %v\n", err)
			return 2
		}
		if o.java == "" {
			o.java = java
		}
		if o.classpath == "" {
			o.classpath = cp
		}
	}
	// Servers run in their own directories: make the programs' paths absolute.
	for _, p := range []*string{&o.java, &o.warren} {
		if *p != "" && strings.ContainsRune(*p, os.PathSeparator) {
			if *p, err = filepath.Abs(*p); err != nil {
				fmt.Fprintf(stderr, "benchcompare: %v\n", err)
				return 2
			}
		}
	}
	t.e.java, t.e.classpath = o.java, o.classpath
	t.e.zkJVM = zkJVMFlags(o.zkHeap, o.zkJVMArgs)
	t.e.serverCPUs = o.serverCPUs
	if o.clientCPU != "" {
		if err := pinSelf(ctx, o.clientCPU); err != nil {
			fmt.Fprintf(stderr, "benchcompare: -client-cpus: %v\n", err)
			return 2
		}
	}

	if o.dir == "" {
		t.root, err = os.MkdirTemp("", "warren-benchcompare-")
	} else {
		t.root, err = filepath.Abs(o.dir)
		if err == nil {
			err = os.MkdirAll(t.root, 0o755)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "benchcompare: %v\n", err)
		return 1
	}
	defer func() {
		procs.killAll() // before removing their data
		if o.keep {
			fmt.Fprintf(stderr, "benchcompare: kept %s\n", t.root)
		} else {
			os.RemoveAll(t.root)
		}
	}()

	o.modRoot, err = moduleRoot(ctx)
	if err != nil && o.warren == "" {
		fmt.Fprintf(stderr, "benchcompare: %v\n", err)
		return 2
	}
	m := &t.rep.machine
	switch {
	case o.warren != "":
		m.WarrenCommit = "binary " + o.warren
	case o.warrenRev != "":
		t.logf("building warren from revision %s (git archive, go build ./cmd/warren)", o.warrenRev)
		var commit string
		if o.warren, commit, err = buildWarrenRev(ctx, o.modRoot, o.warrenRev, t.root); err != nil {
			fmt.Fprintf(stderr, "benchcompare: %v\n", err)
			return 1
		}
		m.WarrenCommit = "commit " + commit + " (built from git archive)"
	default:
		t.logf("building warren (go build ./cmd/warren in %s)", o.modRoot)
		if o.warren, err = buildWarren(ctx, o.modRoot, t.root); err != nil {
			fmt.Fprintf(stderr, "benchcompare: %v\n", err)
			return 1
		}
		m.WarrenCommit = gitDescribe(ctx, o.modRoot) + " (work tree)"
	}
	t.e.warren = o.warren
	if o.floor {
		if o.modRoot == "" {
			fmt.Fprintf(stderr, "benchcompare: -floor: %v\n", err)
			return 2
		}
		if t.e.floor, err = buildCommand(ctx, o.modRoot, t.root, "tools/floorserver"); err != nil {
			fmt.Fprintf(stderr, "benchcompare: %v\n", err)
			return 1
		}
	}

	m.Type, m.Started, m.Command = "machine", t.begin.Format(time.RFC3339), o.command
	m.LoadAvgStart = loadAvg()
	m.ZKJVMFlags = t.e.zkJVM
	describeMachine(ctx, m, o.java, t.e.zkJVM, o.serverCPUs)
	m.Settings = fmt.Sprintf("modes %s; workloads %s; %d pairs; %d sessions (watch: %d watchers + 1 writer); %d-byte values; "+
		"key space %d; %v warmup + %v measured per run; %v pause between runs; bulk load of %d znodes (%d sessions × %d in flight); stop before restart: %s",
		strings.Join(o.modes, ","), strings.Join(o.workloads, ","), o.pairs, o.sessions, o.watchSess, o.valueSize,
		o.keys, o.warmup, o.duration, o.settle, o.znodes, o.sessions, o.loadOut, stopName(o.stop))
	if o.serverCPUs != "" || o.clientCPU != "" {
		m.Settings += fmt.Sprintf("; servers on CPUs %s, load generator on CPUs %s", orAll(o.serverCPUs), orAll(o.clientCPU))
	}
	t.runsAll = len(o.modes) * len(o.workloads) * o.pairs * 2
	if o.floor {
		m.Settings += "; floor server in the runs"
		for _, mode := range o.modes {
			for _, w := range o.workloads {
				if floorRuns(mode, w) {
					t.runsAll += o.pairs
				}
			}
		}
	}
	t.logf("machine: %d CPUs, %s; load average %s; root %s", m.NProc, m.CPUModel, m.LoadAvgStart, t.root)

	failed := false
	for _, mode := range o.modes {
		if len(o.workloads) > 0 {
			if err := t.workloads(ctx, mode); err != nil {
				t.rep.problem("%s workloads: %v", mode, err)
				t.logf("%s workloads: %v", mode, err)
				failed = true
			}
		}
		if ctx.Err() != nil {
			break
		}
		if o.znodes > 0 {
			if err := t.memoryAndRestart(ctx, mode); err != nil {
				t.rep.problem("%s memory/restart: %v", mode, err)
				t.logf("%s memory/restart: %v", mode, err)
				failed = true
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		t.rep.problem("stopped early: %v", context.Cause(ctx))
		failed = true
	}
	for _, r := range t.rep.runs {
		failed = failed || r.Err != ""
	}
	for _, r := range t.rep.restarts {
		failed = failed || r.Err != ""
	}
	m.LoadAvgEnd = loadAvg()
	m.Elapsed = round(time.Since(t.begin).Seconds(), 1)
	if o.jsonOut {
		err = t.rep.writeJSON(stdout)
	} else {
		err = t.rep.writeTable(stdout)
	}
	if err == nil && o.jsonFile != "" {
		var f *os.File
		if f, err = os.Create(o.jsonFile); err == nil {
			err = t.rep.writeJSON(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "benchcompare: writing the report: %v\n", err)
		return 1
	}
	if failed {
		return 1
	}
	return 0
}

func stopName(how string) string {
	if how == "kill" {
		return "SIGKILL"
	}
	return "SIGTERM"
}

// removeDir deletes a cluster directory unless -keep.
func (t *tool) removeDir(dir string) {
	if !t.o.keep {
		os.RemoveAll(dir)
	}
}

// floorRuns reports whether -floor runs workload w against the floor
// server in the mode: every one but the ensemble's watch (an ensemble
// floor's watches fire only on the member that took the setData).
func floorRuns(mode, w string) bool { return mode == modeStandalone || w != "watch" }

// workloads starts a ZooKeeper and a Warren cluster of the mode and runs
// every workload against both, alternating, -pairs times (with -floor, the
// floor server third in each pair).
func (t *tool) workloads(ctx context.Context, mode string) error {
	zk, err := newCluster(t.e, kindZK, mode, filepath.Join(t.root, mode+"-zookeeper"))
	if err != nil {
		return err
	}
	defer t.removeDir(zk.dir)
	defer zk.kill()
	wr, err := newCluster(t.e, kindWarren, mode, filepath.Join(t.root, mode+"-warren"))
	if err != nil {
		return err
	}
	defer t.removeDir(wr.dir)
	defer wr.kill()
	all := []*cluster{zk, wr}
	if t.o.floor {
		fl, err := newCluster(t.e, kindFloor, mode, filepath.Join(t.root, mode+"-floor"))
		if err != nil {
			return err
		}
		defer t.removeDir(fl.dir)
		defer fl.kill()
		all = append(all, fl)
	}
	for _, c := range all {
		t.logf("starting %s", c.name)
		if err := c.start(ctx, t.o.startTimeout); err != nil {
			return err
		}
		t.logf("%s serving on %s", c.name, strings.Join(c.addrs(), ","))
	}
	for _, w := range t.o.workloads {
		for pair := 1; pair <= t.o.pairs; pair++ {
			for _, c := range all {
				if c.kind == kindFloor && !floorRuns(mode, w) {
					continue
				}
				if err := ctx.Err(); err != nil {
					return context.Cause(ctx)
				}
				t.benchOne(ctx, c, w, pair)
				if err := c.alive(); err != nil {
					return fmt.Errorf("%w\n%s", err, c.logTails(30))
				}
			}
		}
	}
	return nil
}

// benchOne runs one workload against one cluster and records it.
func (t *tool) benchOne(ctx context.Context, c *cluster, w string, pair int) {
	t.runNo++
	for attempt := 1; ; attempt++ {
		rec := t.benchAttempt(ctx, c, w, pair, attempt)
		// A run that failed before measuring anything (typically: not every
		// one of 1000 sessions completed its handshake within 10s on a busy
		// machine) is retried once; both attempts are reported, the last
		// one counts.
		if rec.valid() || rec.Ops > 0 || attempt == maxAttempts || ctx.Err() != nil {
			return
		}
	}
}

// maxAttempts is the number of tries of a run that measures nothing.
const maxAttempts = 2

func (t *tool) benchAttempt(ctx context.Context, c *cluster, w string, pair, attempt int) runRecord {
	o := t.o
	cfg := bench.Config{
		Servers: c.addrs(), Workload: w, Sessions: o.sessions, Duration: o.duration, Warmup: o.warmup,
		ValueSize: o.valueSize, Keys: o.keys, Root: benchRoot, Seed: uint64(pair),
	}
	if w == "watch" {
		cfg.Sessions = o.watchSess
	}
	if o.progress > 0 {
		cfg.Progress, cfg.ProgressOut = o.progress, t.stderr
	}
	rctx, cancel := context.WithTimeout(ctx, o.warmup+o.duration+o.runSlack)
	res, err := bench.Run(rctx, cfg)
	cancel()
	if err == nil && res.Ops == 0 {
		err = errors.New("no operation succeeded")
	}
	if res.Sessions == 0 {
		res.Sessions = cfg.Sessions
	}
	if cerr := cleanRoot(context.WithoutCancel(ctx), c.members[0].addr(), benchRoot); cerr != nil {
		t.rep.problem("%s %s pair %d: removing %s after the run: %v", c.name, w, pair, benchRoot, cerr)
	}
	rec := newRunRecord(c.mode, w, pair, c.kind, res, err)
	rec.Attempt = attempt
	t.rep.addRun(rec)
	msg := fmt.Sprintf("[%d/%d] %s %s pair %d %s: %.0f ops/s, p99 %.2f ms, %d errors",
		t.runNo, t.runsAll, c.mode, w, pair, c.kind, rec.OpsPerSec, rec.P99, rec.Errors)
	if attempt > 1 {
		msg += fmt.Sprintf(" (attempt %d)", attempt)
	}
	if err != nil {
		msg += ": " + firstLine(err.Error())
	}
	t.logf("%s", msg)
	if o.settle > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(o.settle):
		}
	}
	return rec
}

// firstLine shortens a multi-line error (one line per failed session) for
// the progress line; the report has all of it.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return fmt.Sprintf("%s (and %d more lines)", s[:i], strings.Count(s[i:], "\n"))
	}
	return s
}

// memoryAndRestart starts a fresh ZooKeeper and a fresh Warren cluster,
// bulk-loads -znodes znodes into each (ZooKeeper first), records VmRSS,
// then restarts them alternately -pairs times.
func (t *tool) memoryAndRestart(ctx context.Context, mode string) error {
	o := t.o
	type loaded struct {
		c    *cluster
		path string
		data []byte
	}
	var ls []*loaded
	for _, kind := range []string{kindZK, kindWarren} {
		c, err := newCluster(t.e, kind, mode, filepath.Join(t.root, mode+"-"+kind+"-load"))
		if err != nil {
			return err
		}
		defer t.removeDir(c.dir)
		defer c.kill()
		t.logf("starting a fresh %s for the bulk load", c.name)
		if err := c.start(ctx, o.startTimeout); err != nil {
			return err
		}
		t.logf("%s: loading %d znodes of %d bytes", c.name, o.znodes, o.valueSize)
		cfg := bench.Config{
			Servers: c.addrs(), Workload: "load", Sessions: o.sessions, Keys: o.znodes, ValueSize: o.valueSize,
			Outstanding: o.loadOut, Root: loadRoot, Keep: true,
		}
		if o.progress > 0 {
			cfg.Progress, cfg.ProgressOut = o.progress, t.stderr
		}
		lctx, cancel := context.WithTimeout(ctx, o.loadTimeout)
		res, err := bench.Run(lctx, cfg)
		cancel()
		if err == nil && (res.Ops != int64(o.znodes) || res.ErrorCount() > 0) {
			err = fmt.Errorf("created %d of %d znodes (errors: %s)", res.Ops, o.znodes, res.ErrorsString())
		}
		if err != nil {
			return fmt.Errorf("%s: bulk load: %w", c.name, err)
		}
		t.logf("%s: loaded %d znodes in %.1fs (%.0f/s)", c.name, res.Ops, res.Seconds, res.OpsPerSec)
		// The last key loaded: dir/b<i/10000>/k<i> (internal/bench's layout),
		// read back now so that a restart is checked against the loaded data.
		last := o.znodes - 1
		l := &loaded{c: c, path: fmt.Sprintf("%s/b%d/k%d", res.Dir, last/loadFanout, last)}
		if l.data, err = getData(ctx, c.members[0].addr(), l.path); err != nil {
			return fmt.Errorf("%s: reading back %s: %w", c.name, l.path, err)
		}
		if len(l.data) != o.valueSize {
			return fmt.Errorf("%s: %s has %d bytes, not %d", c.name, l.path, len(l.data), o.valueSize)
		}
		ls = append(ls, l)
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(memoryDelay):
		}
		mems, err := c.mem()
		if err != nil {
			return err
		}
		for i, mi := range mems {
			t.rep.addMemory(memoryRecord{Type: "memory", Mode: mode, Server: kind, Member: i + 1, PID: c.members[i].p.pid(),
				Znodes: o.znodes, RSSBytes: mi.RSS, HWMBytes: mi.HWM, LoadSeconds: round(res.Seconds, 2), LoadOpsPerSec: round(res.OpsPerSec, 1)})
			t.logf("%s member %d: VmRSS %s MiB (peak %s MiB)", c.name, i+1, mib(mi.RSS), mib(mi.HWM))
		}
	}
	for pair := 1; pair <= o.pairs; pair++ {
		for _, l := range ls {
			if err := ctx.Err(); err != nil {
				return context.Cause(ctx)
			}
			rec := restartRecord{Type: "restart", Mode: mode, Server: l.c.kind, Pair: pair, Znodes: o.znodes, Stop: stopName(o.stop)}
			first, all, err := l.c.restart(ctx, o.stop, l.path, l.data, o.restartTimeout)
			if err != nil {
				rec.Err = err.Error()
				t.rep.addRestart(rec)
				return err
			}
			rec.FirstRead, rec.AllRead = round(first.Seconds(), 3), round(all.Seconds(), 3)
			if mems, err := l.c.mem(); err == nil {
				for _, mi := range mems {
					rec.RSSAfter = append(rec.RSSAfter, mi.RSS)
				}
			}
			t.rep.addRestart(rec)
			t.logf("%s restart %d (%s): first correct read after %.3fs, all members after %.3fs", l.c.name, pair, rec.Stop, rec.FirstRead, rec.AllRead)
			// Let an ensemble finish settling (followers syncing) before the next restart.
			if err := l.c.waitReady(ctx, time.Now().Add(o.startTimeout)); err != nil {
				return fmt.Errorf("%s after restart %d: %w", l.c.name, pair, err)
			}
		}
	}
	return nil
}

// getData reads path once over a new session.
func getData(ctx context.Context, addr, path string) ([]byte, error) {
	gctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := bench.Dial(gctx, addr, bench.DialOptions{SessionTimeout: probeSession})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var resp proto.GetDataResponse
	if err := conn.Call(gctx, proto.OpGetData, &proto.GetDataRequest{Path: path}, &resp); err != nil {
		return nil, err
	}
	return resp.Data, nil
}
