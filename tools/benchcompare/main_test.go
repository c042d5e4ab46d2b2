package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/testutil/deps"
)

// TestSmoke runs the whole comparison once, as small as it gets: standalone
// only, one pair, 200 ms runs, 1000 znodes, one restart of each server,
// the floor server in the runs too (-floor). It
// checks that every part produced its records, not the numbers. It needs the
// Debian zookeeper package (skipped loudly without it; failed under CI=true).
func TestSmoke(t *testing.T) {
	java := deps.Java(t)
	cp := deps.ZooKeeperClasspath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	args := []string{
		"-java", java, "-zk-classpath", cp,
		"-modes", "standalone", "-pairs", "1", "-duration", "200ms", "-warmup", "0", "-settle", "0",
		"-sessions", "8", "-watch-sessions", "16", "-keys", "100", "-znodes", "1000", "-zk-heap", "256m",
		"-start-timeout", "60s", "-restart-timeout", "60s", "-run-slack", "60s", "-timeout", "100s", "-json", "-floor",
	}
	start := time.Now()
	code := run(ctx, args, &out, &errOut)
	t.Logf("benchcompare took %v", time.Since(start).Round(time.Millisecond))
	if code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	counts := map[string]int{}
	summaries := map[string]summaryRecord{}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var head struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		counts[head.Type]++
		switch head.Type {
		case "summary":
			var s summaryRecord
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				t.Fatal(err)
			}
			summaries[s.Workload] = s
		case "problem":
			t.Errorf("problem reported: %s", sc.Text())
		}
	}
	want := map[string]int{"machine": 1, "summary": 6, "run": 18, "memory": 2, "restart": 2, "resource-summary": 2}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%d lines of type %q, want %d", counts[k], k, n)
		}
	}
	for _, w := range defaultWorkloads {
		s, ok := summaries[w]
		if !ok || s.Pairs != 1 || !(s.ThroughputRatio > 0) || !(s.P99Ratio > 0) || s.FloorPairs != 1 || !(s.FloorRatio > 0) {
			t.Errorf("summary of %s: %+v", w, s)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
	if procs.m != nil && len(procs.m) != 0 {
		t.Errorf("%d server processes still registered after run returned", len(procs.m))
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
}

func TestSummaryPairsOnlyBothValid(t *testing.T) {
	r := &report{}
	add := func(pair int, server string, ops, p99 float64, err string) {
		r.addRun(runRecord{Mode: modeStandalone, Workload: "set", Pair: pair, Server: server, Ops: 1, OpsPerSec: ops, P99: p99, Err: err})
	}
	add(1, kindZK, 100, 10, "")
	add(1, kindWarren, 300, 4, "")
	add(2, kindZK, 100, 10, "")
	add(2, kindWarren, 100, 10, "boom") // not counted
	add(3, kindZK, 200, 10, "")
	add(3, kindWarren, 200, 2, "")
	s := r.summaries()
	if len(s) != 1 {
		t.Fatalf("%d summaries", len(s))
	}
	got := s[0]
	if got.Pairs != 2 || got.ThroughputRatio != 2 || got.P99Ratio != 0.3 || got.ThroughputMet == nil || !*got.ThroughputMet || got.P99Met == nil || !*got.P99Met {
		t.Errorf("summary %+v", got)
	}
}

func TestSummaryFloor(t *testing.T) {
	r := &report{}
	add := func(pair int, server string, ops float64, err string) {
		r.addRun(runRecord{Mode: modeStandalone, Workload: "set", Pair: pair, Server: server, Ops: 1, OpsPerSec: ops, P99: 1, Err: err})
	}
	add(1, kindZK, 100, "")
	add(1, kindWarren, 150, "")
	add(1, kindFloor, 300, "")
	add(2, kindZK, 100, "")
	add(2, kindWarren, 200, "")
	add(2, kindFloor, 400, "boom") // not counted in the floor columns
	add(3, kindZK, 200, "")
	add(3, kindWarren, 300, "")
	add(3, kindFloor, 500, "")
	s := r.summaries()
	if len(s) != 1 {
		t.Fatalf("%d summaries", len(s))
	}
	got := s[0]
	// Warren/ZK over all three pairs: 1.5, 2, 1.5; floor/ZK over pairs 1
	// and 3: 3, 2.5; Warren/floor: 0.5, 0.6.
	if got.Pairs != 3 || got.ThroughputRatio != 1.5 || got.FloorPairs != 2 || got.FloorOpsPerSec != 400 ||
		got.FloorRatio != 2.75 || got.WarrenFloorRatio != 0.55 || got.FloorP99Ratio != 1 {
		t.Errorf("summary %+v", got)
	}
	var out strings.Builder
	if err := r.writeTable(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "floor/zk") || !strings.Contains(out.String(), "2.75") {
		t.Errorf("no floor table:\n%s", out.String())
	}
}

func TestParseFlags(t *testing.T) {
	var errs strings.Builder
	for _, bad := range [][]string{
		{"-modes", "cluster"}, {"-workloads", "load"}, {"-pairs", "0"}, {"-stop", "nicely"},
		{"-workloads", "", "-znodes", "0"}, {"extra"},
	} {
		if _, err := parseFlags(bad, &errs); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
	o, err := parseFlags(nil, &errs)
	if err != nil {
		t.Fatal(err)
	}
	if o.pairs != 3 || o.duration != 10*time.Second || o.warmup != 2*time.Second || o.sessions != 64 ||
		o.watchSess != 1000 || o.valueSize != 100 || o.znodes != 1000000 || len(o.modes) != 2 || len(o.workloads) != 6 {
		t.Errorf("defaults: %+v", o)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"-pairs": "-pairs", "": "''", "a b": "'a b'", "it's": `'it'\''s'`, "/tmp/x.jsonl": "/tmp/x.jsonl",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// With -server-cpus every server runs under taskset (which execs it: the
// same process, so its pid and VmRSS are the server's); without, directly.
func TestServerPinning(t *testing.T) {
	m := &member{cfgPath: "/d/zoo.cfg"}
	for _, tc := range []struct {
		cpus string
		want []string
	}{
		{"", []string{"/bin/warren", "server", "-log-level", "info", "/d/zoo.cfg"}},
		{"1", []string{"taskset", "-c", "1", "/bin/warren", "server", "-log-level", "info", "/d/zoo.cfg"}},
		{"2-3", []string{"taskset", "-c", "2-3", "/bin/warren", "server", "-log-level", "info", "/d/zoo.cfg"}},
	} {
		c := &cluster{kind: kindWarren, env: &env{warren: "/bin/warren", serverCPUs: tc.cpus}}
		got, err := c.argv(m)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("-server-cpus %q: argv %q, want %q", tc.cpus, got, tc.want)
		}
	}
	o, err := parseFlags([]string{"-server-cpus", "1", "-client-cpus", "0"}, io.Discard)
	if err != nil || o.serverCPUs != "1" || o.clientCPU != "0" {
		t.Fatalf("parseFlags: %+v, %v", o, err)
	}
}

// The floor server's command lines: one member alone; in an ensemble,
// member 1 leads on its peer port and the others follow it there.
func TestFloorArgv(t *testing.T) {
	e := &env{floor: "/bin/floor"}
	members := []*member{
		{id: 1, dataDir: "/d/m1", clientPort: 2181, peerPort: 2888},
		{id: 2, dataDir: "/d/m2", clientPort: 2182, peerPort: 2889},
		{id: 3, dataDir: "/d/m3", clientPort: 2183, peerPort: 2890},
	}
	alone := &cluster{kind: kindFloor, mode: modeStandalone, env: e, members: members[:1]}
	got, err := alone.argv(members[0])
	if want := []string{"/bin/floor", "-addr", "127.0.0.1:2181", "-fsync", "/d/m1"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("standalone: %q, %v; want %q", got, err, want)
	}
	ens := &cluster{kind: kindFloor, mode: modeEnsemble, env: e, members: members}
	for i, want := range [][]string{
		{"/bin/floor", "-addr", "127.0.0.1:2181", "-fsync", "/d/m1", "-peer", "127.0.0.1:2888"},
		{"/bin/floor", "-addr", "127.0.0.1:2182", "-fsync", "/d/m2", "-leader", "127.0.0.1:2888"},
		{"/bin/floor", "-addr", "127.0.0.1:2183", "-fsync", "/d/m3", "-leader", "127.0.0.1:2888"},
	} {
		if got, err := ens.argv(members[i]); err != nil || !slices.Equal(got, want) {
			t.Errorf("ensemble member %d: %q, %v; want %q", i+1, got, err, want)
		}
	}
	if floorRuns(modeEnsemble, "watch") || !floorRuns(modeStandalone, "watch") || !floorRuns(modeEnsemble, "set") {
		t.Error("floorRuns")
	}
}
