package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/warren-zk/warren/internal/bench"
)

// target is a goal of DESIGN.md §8 / issue 7 for a Warren/ZooKeeper ratio:
// at least (throughput) or at most (latency, memory, restart time) value.
type target struct {
	atLeast bool
	value   float64
}

func (t *target) String() string {
	if t == nil {
		return ""
	}
	if t.atLeast {
		return fmt.Sprintf("≥ %.2f", t.value)
	}
	return fmt.Sprintf("≤ %.2f", t.value)
}

func (t *target) met(ratio float64) *bool {
	if t == nil || math.IsNaN(ratio) {
		return nil
	}
	ok := ratio <= t.value
	if t.atLeast {
		ok = ratio >= t.value
	}
	return &ok
}

func atLeast(v float64) *target { return &target{atLeast: true, value: v} }
func atMost(v float64) *target  { return &target{value: v} }

// The targets of issue 7 (the same in standalone and 3-node ensemble mode).
var (
	throughputTargets = map[string]*target{
		"create": atLeast(2.0), "set": atLeast(2.0), "get": atLeast(1.5), "mixed": atLeast(1.75), "churn": atLeast(2.0),
	}
	p99Targets    = map[string]*target{"create": atMost(0.5), "set": atMost(0.5), "watch": atMost(0.5)}
	rssTarget     = atMost(0.5)
	restartTarget = atMost(0.25)
)

// runRecord is one benchmark run (JSON type "run").
type runRecord struct {
	Type      string  `json:"type"`
	Mode      string  `json:"mode"`
	Workload  string  `json:"workload"`
	Pair      int     `json:"pair"`
	Attempt   int     `json:"attempt"`
	Server    string  `json:"server"`
	Sessions  int     `json:"sessions"`
	Ops       int64   `json:"ops"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50       float64 `json:"p50_ms"`
	P90       float64 `json:"p90_ms"`
	P99       float64 `json:"p99_ms"`
	P999      float64 `json:"p999_ms"`
	Max       float64 `json:"max_ms"`
	Errors    int64   `json:"errors"`
	ErrorList string  `json:"errors_by_code,omitempty"`
	ClientCPU float64 `json:"client_cpu_us_per_op"`
	Note      string  `json:"note,omitempty"`
	Err       string  `json:"error,omitempty"`
}

// valid reports whether the run measured something and did not fail.
func (r *runRecord) valid() bool { return r.Err == "" && r.Ops > 0 }

func msOf(d time.Duration) float64 { return round(float64(d)/1e6, 3) }

func round(f float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(f*p) / p
}

func newRunRecord(mode, workload string, pair int, server string, res bench.Result, err error) runRecord {
	r := runRecord{
		Type: "run", Mode: mode, Workload: workload, Pair: pair, Server: server, Sessions: res.Sessions,
		Ops: res.Ops, Seconds: round(res.Seconds, 3), OpsPerSec: round(res.OpsPerSec, 1),
		P50: msOf(res.P50), P90: msOf(res.P90), P99: msOf(res.P99), P999: msOf(res.P999), Max: msOf(res.Max),
		Errors: res.ErrorCount(), ErrorList: res.ErrorsString(),
		ClientCPU: round(float64(res.ClientCPUPerOp)/1e3, 1), Note: res.Note,
	}
	if err != nil {
		r.Err = err.Error()
	}
	return r
}

// summaryRecord is the median comparison of one workload in one mode
// (JSON type "summary").
type summaryRecord struct {
	Type             string  `json:"type"`
	Mode             string  `json:"mode"`
	Workload         string  `json:"workload"`
	Pairs            int     `json:"pairs"` // pairs in which both runs succeeded
	ZKOpsPerSec      float64 `json:"zookeeper_ops_per_sec"`
	WarrenOpsPerSec  float64 `json:"warren_ops_per_sec"`
	ThroughputRatio  float64 `json:"throughput_ratio"`
	ThroughputTarget string  `json:"throughput_target,omitempty"`
	ThroughputMet    *bool   `json:"throughput_target_met,omitempty"`
	ZKP99            float64 `json:"zookeeper_p99_ms"`
	WarrenP99        float64 `json:"warren_p99_ms"`
	P99Ratio         float64 `json:"p99_ratio"`
	P99Target        string  `json:"p99_target,omitempty"`
	P99Met           *bool   `json:"p99_target_met,omitempty"`
	// With -floor: medians over the pairs in which all three runs
	// succeeded (FloorPairs of them).
	FloorPairs       int     `json:"floor_pairs,omitempty"`
	FloorOpsPerSec   float64 `json:"floor_ops_per_sec,omitempty"`
	FloorP99         float64 `json:"floor_p99_ms,omitempty"`
	FloorRatio       float64 `json:"floor_throughput_ratio,omitempty"`        // floor/ZooKeeper
	FloorP99Ratio    float64 `json:"floor_p99_ratio,omitempty"`               // floor/ZooKeeper
	WarrenFloorRatio float64 `json:"warren_floor_throughput_ratio,omitempty"` // Warren/floor
}

// memoryRecord is one server's resident memory after the bulk load (JSON
// type "memory").
type memoryRecord struct {
	Type          string  `json:"type"`
	Mode          string  `json:"mode"`
	Server        string  `json:"server"`
	Member        int     `json:"member"`
	PID           int     `json:"pid"`
	Znodes        int     `json:"znodes"`
	RSSBytes      int64   `json:"rss_bytes"`
	HWMBytes      int64   `json:"peak_rss_bytes"`
	LoadSeconds   float64 `json:"load_seconds"`
	LoadOpsPerSec float64 `json:"load_ops_per_sec"`
}

// restartRecord is one restart (JSON type "restart").
type restartRecord struct {
	Type      string  `json:"type"`
	Mode      string  `json:"mode"`
	Server    string  `json:"server"`
	Pair      int     `json:"pair"`
	Znodes    int     `json:"znodes"`
	Stop      string  `json:"stop"`
	FirstRead float64 `json:"first_read_seconds"` // from the first exec to the first member's correct getData
	AllRead   float64 `json:"all_read_seconds"`   // … to the last member's
	RSSAfter  []int64 `json:"rss_after_bytes,omitempty"`
	Err       string  `json:"error,omitempty"`
}

// resourceRecord compares memory or restart time (JSON type
// "resource-summary").
type resourceRecord struct {
	Type   string  `json:"type"`
	Mode   string  `json:"mode"`
	Metric string  `json:"metric"`
	Unit   string  `json:"unit"`
	ZK     float64 `json:"zookeeper"`
	Warren float64 `json:"warren"`
	Ratio  float64 `json:"ratio"`
	Target string  `json:"target,omitempty"`
	Met    *bool   `json:"target_met,omitempty"`
	How    string  `json:"how"`
}

// machineRecord describes the machine and the settings (JSON type
// "machine"; printed first and, with the end load average, last).
type machineRecord struct {
	Type          string   `json:"type"`
	Started       string   `json:"started"`
	Command       string   `json:"command"`
	NProc         int      `json:"nproc"`
	MemTotal      int64    `json:"mem_total_bytes"`
	CPUModel      string   `json:"cpu_model"`
	Kernel        string   `json:"kernel"`
	GoVersion     string   `json:"go_version"`
	JavaVersion   string   `json:"java_version"`
	ZKJVMFlags    []string `json:"zookeeper_jvm_flags"`
	JVMErgonomics string   `json:"jvm_ergonomics"`
	WarrenCommit  string   `json:"warren_commit"`
	LoadAvgStart  string   `json:"loadavg_start"`
	LoadAvgEnd    string   `json:"loadavg_end,omitempty"`
	Elapsed       float64  `json:"elapsed_seconds,omitempty"`
	Settings      string   `json:"settings"`
}

// report collects every record. Its methods are safe for concurrent use.
type report struct {
	mu       sync.Mutex
	machine  machineRecord
	runs     []runRecord
	memory   []memoryRecord
	restarts []restartRecord
	problems []string
}

func (r *report) addRun(rec runRecord) {
	r.mu.Lock()
	r.runs = append(r.runs, rec)
	r.mu.Unlock()
}

func (r *report) addMemory(rec memoryRecord) {
	r.mu.Lock()
	r.memory = append(r.memory, rec)
	r.mu.Unlock()
}

func (r *report) addRestart(rec restartRecord) {
	r.mu.Lock()
	r.restarts = append(r.restarts, rec)
	r.mu.Unlock()
}

func (r *report) problem(format string, args ...any) {
	r.mu.Lock()
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// median of xs (the mean of the middle two for an even count); NaN if empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// summaries computes, per mode and workload in the order run, the medians
// over the pairs in which both runs succeeded.
func (r *report) summaries() []summaryRecord {
	type key struct{ mode, workload string }
	var order []key
	pairs := map[key]map[int]map[string]*runRecord{}
	for i := range r.runs {
		rr := &r.runs[i]
		k := key{rr.Mode, rr.Workload}
		if pairs[k] == nil {
			pairs[k] = map[int]map[string]*runRecord{}
			order = append(order, k)
		}
		if pairs[k][rr.Pair] == nil {
			pairs[k][rr.Pair] = map[string]*runRecord{}
		}
		pairs[k][rr.Pair][rr.Server] = rr
	}
	var out []summaryRecord
	for _, k := range order {
		var zkT, wT, tR, zkP, wP, pR []float64
		var fT, fP, fR, fpR, wfR []float64
		for _, p := range pairs[k] {
			z, w := p[kindZK], p[kindWarren]
			if z == nil || w == nil || !z.valid() || !w.valid() {
				continue
			}
			zkT, wT, tR = append(zkT, z.OpsPerSec), append(wT, w.OpsPerSec), append(tR, ratio(w.OpsPerSec, z.OpsPerSec))
			zkP, wP, pR = append(zkP, z.P99), append(wP, w.P99), append(pR, ratio(w.P99, z.P99))
			if f := p[kindFloor]; f != nil && f.valid() {
				fT, fP = append(fT, f.OpsPerSec), append(fP, f.P99)
				fR, wfR = append(fR, ratio(f.OpsPerSec, z.OpsPerSec)), append(wfR, ratio(w.OpsPerSec, f.OpsPerSec))
				fpR = append(fpR, ratio(f.P99, z.P99))
			}
		}
		s := summaryRecord{
			Type: "summary", Mode: k.mode, Workload: k.workload, Pairs: len(tR),
			ZKOpsPerSec: round(median(zkT), 1), WarrenOpsPerSec: round(median(wT), 1), ThroughputRatio: round(median(tR), 3),
			ZKP99: round(median(zkP), 3), WarrenP99: round(median(wP), 3), P99Ratio: round(median(pR), 3),
		}
		if len(fT) > 0 {
			s.FloorPairs, s.FloorOpsPerSec, s.FloorP99 = len(fT), round(median(fT), 1), round(median(fP), 3)
			s.FloorRatio, s.WarrenFloorRatio = round(median(fR), 3), round(median(wfR), 3)
			s.FloorP99Ratio = round(median(fpR), 3)
		}
		if t := throughputTargets[k.workload]; t != nil {
			s.ThroughputTarget, s.ThroughputMet = t.String(), t.met(s.ThroughputRatio)
		}
		if t := p99Targets[k.workload]; t != nil {
			s.P99Target, s.P99Met = t.String(), t.met(s.P99Ratio)
		}
		out = append(out, s)
	}
	return out
}

// resourceSummaries compares memory (mean resident memory per server after
// the load) and restart times (median over the restarts) per mode.
func (r *report) resourceSummaries() []resourceRecord {
	var out []resourceRecord
	var modes []string
	for _, m := range r.memory {
		if !slices.Contains(modes, m.Mode) {
			modes = append(modes, m.Mode)
		}
	}
	for _, m := range r.restarts {
		if !slices.Contains(modes, m.Mode) {
			modes = append(modes, m.Mode)
		}
	}
	for _, mode := range modes {
		rss := map[string][]float64{}
		for _, m := range r.memory {
			if m.Mode == mode {
				rss[m.Server] = append(rss[m.Server], float64(m.RSSBytes)/(1<<20))
			}
		}
		if len(rss[kindZK]) > 0 && len(rss[kindWarren]) > 0 {
			z, w := mean(rss[kindZK]), mean(rss[kindWarren])
			how := "VmRSS after the load"
			if mode == modeEnsemble {
				how = "mean VmRSS per server after the load (each server in the raw table)"
			}
			out = append(out, resourceRecord{Type: "resource-summary", Mode: mode, Metric: "rss", Unit: "MiB",
				ZK: round(z, 1), Warren: round(w, 1), Ratio: round(ratio(w, z), 3), Target: rssTarget.String(),
				Met: rssTarget.met(ratio(w, z)), How: how})
		}
		first, all := map[string][]float64{}, map[string][]float64{}
		var pairsFirst, pairsAll []float64
		byPair := map[int]map[string]*restartRecord{}
		stop := ""
		for i := range r.restarts {
			x := &r.restarts[i]
			if x.Mode != mode || x.Err != "" {
				continue
			}
			stop = x.Stop
			first[x.Server] = append(first[x.Server], x.FirstRead)
			all[x.Server] = append(all[x.Server], x.AllRead)
			if byPair[x.Pair] == nil {
				byPair[x.Pair] = map[string]*restartRecord{}
			}
			byPair[x.Pair][x.Server] = x
		}
		for _, p := range byPair {
			if z, w := p[kindZK], p[kindWarren]; z != nil && w != nil {
				pairsFirst = append(pairsFirst, ratio(w.FirstRead, z.FirstRead))
				pairsAll = append(pairsAll, ratio(w.AllRead, z.AllRead))
			}
		}
		if len(pairsFirst) > 0 {
			out = append(out, resourceRecord{Type: "resource-summary", Mode: mode, Metric: "restart-to-first-read", Unit: "s",
				ZK: round(median(first[kindZK]), 3), Warren: round(median(first[kindWarren]), 3),
				Ratio: round(median(pairsFirst), 3), Target: restartTarget.String(), Met: restartTarget.met(median(pairsFirst)),
				How: fmt.Sprintf("stop with %s; process start to the first correct getData; medians over %d restarts", stop, len(pairsFirst))})
			if mode == modeEnsemble {
				out = append(out, resourceRecord{Type: "resource-summary", Mode: mode, Metric: "restart-all-serving", Unit: "s",
					ZK: round(median(all[kindZK]), 3), Warren: round(median(all[kindWarren]), 3),
					Ratio: round(median(pairsAll), 3), Target: restartTarget.String(), Met: restartTarget.met(median(pairsAll)),
					How: "as above, until every member answered the read"})
			}
		}
	}
	return out
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	default:
		return "NO"
	}
}

func num(f float64, digits int) string {
	if math.IsNaN(f) {
		return "-"
	}
	return fmt.Sprintf("%.*f", digits, f)
}

func mib(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }

// writeJSON writes every record as one JSON object per line: machine,
// summaries, resource summaries, runs, memory, restarts, problems.
func (r *report) writeJSON(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	var err error
	put := func(v any) {
		if err == nil {
			err = enc.Encode(v)
		}
	}
	put(r.machine)
	for _, s := range r.summaries() {
		put(s)
	}
	for _, s := range r.resourceSummaries() {
		put(s)
	}
	for _, x := range r.runs {
		put(x)
	}
	for _, x := range r.memory {
		put(x)
	}
	for _, x := range r.restarts {
		put(x)
	}
	for _, p := range r.problems {
		put(map[string]string{"type": "problem", "problem": p})
	}
	return err
}

// writeTable prints the report for people.
func (r *report) writeTable(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.machine
	fmt.Fprintf(w, "Warren vs Apache ZooKeeper 3.8.0, started %s, took %s\n", m.Started, time.Duration(m.Elapsed*float64(time.Second)).Round(time.Second))
	fmt.Fprintf(w, "command:   %s\n", m.Command)
	fmt.Fprintf(w, "machine:   %d CPUs (%s), %.1f GiB RAM, Linux %s\n", m.NProc, m.CPUModel, float64(m.MemTotal)/(1<<30), m.Kernel)
	fmt.Fprintf(w, "software:  %s; %s; Warren %s\n", m.GoVersion, m.JavaVersion, m.WarrenCommit)
	fmt.Fprintf(w, "ZooKeeper JVM flags: %s\n", strings.Join(m.ZKJVMFlags, " "))
	fmt.Fprintf(w, "JVM ergonomics:      %s\n", m.JVMErgonomics)
	fmt.Fprintf(w, "settings:  %s\n", m.Settings)
	fmt.Fprintf(w, "load average (1/5/15 min): start %s, end %s\n", m.LoadAvgStart, m.LoadAvgEnd)

	if sums := r.summaries(); len(sums) > 0 {
		fmt.Fprintf(w, "\nMedian over the pairs of the per-pair ratio Warren/ZooKeeper (ops/s and p99 columns: medians of the runs)\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "mode\tworkload\tpairs\tzk ops/s\twarren ops/s\tratio\ttarget\tmet\tzk p99 ms\twarren p99 ms\tratio\ttarget\tmet")
		for _, s := range sums {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Mode, s.Workload, s.Pairs,
				num(s.ZKOpsPerSec, 0), num(s.WarrenOpsPerSec, 0), num(s.ThroughputRatio, 2), s.ThroughputTarget, yesNo(s.ThroughputMet),
				num(s.ZKP99, 2), num(s.WarrenP99, 2), num(s.P99Ratio, 2), s.P99Target, yesNo(s.P99Met))
		}
		tw.Flush()
		var floor []summaryRecord
		for _, s := range sums {
			if s.FloorPairs > 0 {
				floor = append(floor, s)
			}
		}
		if len(floor) > 0 {
			fmt.Fprintf(w, "\nThe floor (tools/floorserver -fsync: reads each request, group-commits the writes to a log (ensemble: replicated, committed by a majority), answers; keeps no tree):\n")
			fmt.Fprintf(w, "median per-pair ratios floor/ZooKeeper (what a server doing only that reaches here) and Warren/floor\n")
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "mode\tworkload\tpairs\tzk ops/s\tfloor ops/s\tfloor/zk\twarren/floor\tzk p99 ms\tfloor p99 ms\tfloor/zk")
			for _, s := range floor {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Mode, s.Workload, s.FloorPairs, num(s.ZKOpsPerSec, 0),
					num(s.FloorOpsPerSec, 0), num(s.FloorRatio, 2), num(s.WarrenFloorRatio, 2), num(s.ZKP99, 2), num(s.FloorP99, 2), num(s.FloorP99Ratio, 2))
			}
			tw.Flush()
		}
	}
	if res := r.resourceSummaries(); len(res) > 0 {
		fmt.Fprintf(w, "\nMemory and restart, Warren/ZooKeeper\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "mode\tmetric\tzookeeper\twarren\tratio\ttarget\tmet\thow")
		for _, s := range res {
			fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s %s\t%s\t%s\t%s\t%s\n", s.Mode, s.Metric, num(s.ZK, 2), s.Unit, num(s.Warren, 2), s.Unit,
				num(s.Ratio, 3), s.Target, yesNo(s.Met), s.How)
		}
		tw.Flush()
	}
	if len(r.runs) > 0 {
		fmt.Fprintf(w, "\nEvery run (pairs alternate: ZooKeeper, then Warren, then any floor server)\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "mode\tworkload\tpair\tserver\tsessions\tops\tsecs\tops/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\terrors\tcpu µs/op\t")
		for _, x := range r.runs {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%.2f\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%.1f\t\n", x.Mode, x.Workload, x.Pair, x.Server,
				x.Sessions, x.Ops, x.Seconds, x.OpsPerSec, x.P50, x.P90, x.P99, x.P999, x.Max, x.Errors, x.ClientCPU)
		}
		tw.Flush()
		for _, x := range r.runs {
			if x.ErrorList != "" || x.Note != "" || x.Err != "" {
				fmt.Fprintf(w, "  %s %s pair %d %s", x.Mode, x.Workload, x.Pair, x.Server)
				if x.Attempt > 1 || x.Err != "" {
					fmt.Fprintf(w, " (attempt %d)", x.Attempt)
				}
				fmt.Fprint(w, ":")
				if x.ErrorList != "" {
					fmt.Fprintf(w, " errors %s;", x.ErrorList)
				}
				if x.Note != "" {
					fmt.Fprintf(w, " note: %s;", x.Note)
				}
				if x.Err != "" {
					fmt.Fprintf(w, " run failed: %s", firstLine(x.Err))
				}
				fmt.Fprintln(w)
			}
		}
	}
	if len(r.memory) > 0 {
		fmt.Fprintf(w, "\nResident memory after the bulk load\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "mode\tserver\tmember\tznodes\tVmRSS MiB\tVmHWM MiB\tload s\tload ops/s\t")
		for _, x := range r.memory {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%.1f\t%.0f\t\n", x.Mode, x.Server, x.Member, x.Znodes, mib(x.RSSBytes), mib(x.HWMBytes),
				x.LoadSeconds, x.LoadOpsPerSec)
		}
		tw.Flush()
	}
	if len(r.restarts) > 0 {
		fmt.Fprintf(w, "\nRestarts (time from the first exec to a correct getData of the last loaded znode)\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "mode\tserver\tpair\tznodes\tstop\tfirst read s\tall members s\tVmRSS after, MiB\t")
		for _, x := range r.restarts {
			var rss []string
			for _, b := range x.RSSAfter {
				rss = append(rss, mib(b))
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%.3f\t%.3f\t%s\t\n", x.Mode, x.Server, x.Pair, x.Znodes, x.Stop, x.FirstRead, x.AllRead, strings.Join(rss, " "))
		}
		tw.Flush()
		for _, x := range r.restarts {
			if x.Err != "" {
				fmt.Fprintf(w, "  %s %s restart %d failed: %s\n", x.Mode, x.Server, x.Pair, x.Err)
			}
		}
	}
	if len(r.problems) > 0 {
		fmt.Fprintf(w, "\nProblems\n")
		for _, p := range r.problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
	return nil
}
