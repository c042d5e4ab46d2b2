package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

// checkGone fails the test if p exists on the server at addr.
func checkGone(t *testing.T, addr, p string) {
	t.Helper()
	c := dial(t, addr, DialOptions{})
	err := c.Call(context.Background(), proto.OpExists, &proto.ExistsRequest{Path: p}, nil)
	if !errors.Is(err, proto.ErrNoNode) {
		t.Errorf("%s still exists after the run (exists: %v)", p, err)
	}
}

// checkRun runs cfg against addr (host:port[,host:port…]) and checks it measured something, had no errors and
// cleaned up after itself (the root included, which it created).
func checkRun(t *testing.T, addr string, cfg Config) Result {
	t.Helper()
	cfg.Servers = strings.Split(addr, ",")
	if cfg.Root == "" {
		cfg.Root = "/bench-test/" + strings.ReplaceAll(t.Name(), "/", "-")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Ops <= 0 || res.ErrorCount() != 0 || res.OpsPerSec <= 0 || res.Seconds <= 0 {
		t.Fatalf("ops %d, ops/s %.1f, seconds %.3f, errors %s", res.Ops, res.OpsPerSec, res.Seconds, res.ErrorsString())
	}
	if !(0 < res.P50 && res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.P999 && res.P999 <= res.Max) {
		t.Errorf("percentiles out of order: %v %v %v %v %v", res.P50, res.P90, res.P99, res.P999, res.Max)
	}
	if res.ClientCPUPerOp <= 0 {
		t.Errorf("client CPU per op %v", res.ClientCPUPerOp)
	}
	if !cfg.Keep {
		checkGone(t, cfg.Servers[0], cfg.Root)
	}
	return res
}

func TestWorkloads(t *testing.T) {
	t.Parallel()
	srv := startWarren(t)
	cases := []struct {
		cfg     Config
		exactly int64 // expected Ops, if the run is bounded by ops only
	}{
		{Config{Workload: "create", Ops: 200}, 200},
		{Config{Workload: "create-seq", Ops: 200, Outstanding: 4}, 200},
		{Config{Workload: "delete", Ops: 200}, 200},
		{Config{Workload: "set", Ops: 200, Keys: 50}, 200},
		{Config{Workload: "get", Duration: 200 * time.Millisecond, Keys: 50, Outstanding: 8}, 0},
		{Config{Workload: "exists", Ops: 200, Keys: 50, Warmup: 20 * time.Millisecond}, 200},
		{Config{Workload: "children", Ops: 200, Children: 30}, 200},
		{Config{Workload: "mixed", Ops: 200, Keys: 50, ReadRatio: 0.5}, 200},
		{Config{Workload: "multi", Ops: 50, MultiOps: 5}, 50},
		{Config{Workload: "multi", Ops: 50, MultiOps: 5, MultiOp: "set", Keys: 20}, 50},
		{Config{Workload: "watch", Ops: 30}, 30},
		{Config{Workload: "churn", Ops: 40}, 40},
		{Config{Workload: "load", Keys: 500, Outstanding: 16}, 500},
	}
	for _, tc := range cases {
		name := tc.cfg.Workload
		if tc.cfg.MultiOp != "" {
			name += "-" + tc.cfg.MultiOp
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			cfg.Sessions = 4
			res := checkRun(t, srv.Addr, cfg)
			if tc.exactly > 0 && res.Ops != tc.exactly {
				t.Errorf("ops %d, want exactly %d", res.Ops, tc.exactly)
			}
		})
	}
}

func TestLoadKeepsNodesWithKeep(t *testing.T) {
	t.Parallel()
	srv := startWarren(t)
	res := checkRun(t, srv.Addr, Config{Workload: "load", Keys: fanout + 10, Sessions: 4, Outstanding: 64, Keep: true})
	c := dial(t, srv.Addr, DialOptions{})
	ctx := context.Background()
	var buckets proto.GetChildrenResponse
	if err := c.Call(ctx, proto.OpGetChildren, &proto.GetChildrenRequest{Path: res.Dir}, &buckets); err != nil {
		t.Fatal(err)
	}
	if len(buckets.Children) != 2 {
		t.Fatalf("buckets %v, want b0 and b1", buckets.Children)
	}
	total := 0
	for _, b := range buckets.Children {
		var kids proto.GetChildrenResponse
		if err := c.Call(ctx, proto.OpGetChildren, &proto.GetChildrenRequest{Path: res.Dir + "/" + b}, &kids); err != nil {
			t.Fatal(err)
		}
		if len(kids.Children) > fanout {
			t.Errorf("%s has %d children", b, len(kids.Children))
		}
		total += len(kids.Children)
	}
	if total != fanout+10 {
		t.Fatalf("%d znodes loaded, want %d", total, fanout+10)
	}
	var gr proto.GetDataResponse
	if err := c.Call(ctx, proto.OpGetData, &proto.GetDataRequest{Path: res.Dir + "/b1/k10005"}, &gr); err != nil || len(gr.Data) != 100 {
		t.Fatalf("getData: %v, %d bytes", err, len(gr.Data))
	}
	if err := RemoveTree(ctx, []*Conn{c}, "/bench-test"); err != nil {
		t.Fatal(err)
	}
}

func TestRunHonoursCancel(t *testing.T) {
	t.Parallel()
	srv := startWarren(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once the server has answered a good number of requests (a
	// fixed delay was not enough on a loaded machine: setup alone could
	// outlast it), or after 30 s at the latest.
	var cancelledAt time.Time
	cancelled := make(chan struct{})
	go func() {
		defer close(cancelled)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) && received(srv.Addr) < 300 {
			time.Sleep(20 * time.Millisecond)
		}
		cancelledAt = time.Now()
		cancel()
	}()
	res, err := Run(ctx, Config{Servers: []string{srv.Addr}, Workload: "get", Sessions: 2, Duration: time.Hour, Keys: 10, Root: "/cancel"})
	<-cancelled
	if !errors.Is(err, context.Canceled) || time.Since(cancelledAt) > 10*time.Second {
		t.Fatalf("err %v, %v after the cancel", err, time.Since(cancelledAt))
	}
	if res.Ops == 0 {
		t.Error("nothing measured before the cancel")
	}
	checkGone(t, srv.Addr, "/cancel")
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Workload: "get", Duration: time.Second},
		{Servers: []string{"x:1"}, Workload: "nope", Duration: time.Second},
		{Servers: []string{"x:1"}, Workload: "get"},
		{Servers: []string{"x:1"}, Workload: "get", Duration: time.Second, Root: "rel"},
		{Servers: []string{"x:1"}, Workload: "mixed", Duration: time.Second, ReadRatio: 2},
		{Servers: []string{"x:1"}, Workload: "multi", Duration: time.Second, MultiOp: "delete"},
	} {
		if _, err := Run(context.Background(), cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func TestResultOutput(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	r := Result{Workload: "get", Server: "a:1,b:2", Sessions: 64, Outstanding: 1, ValueSize: 100, Seconds: 2,
		Errors: map[proto.Err]int64{proto.ErrNoNode: 3}, ClientCPUPerOp: 2500 * time.Nanosecond}
	r.fill(h)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"workload", "server", "sessions", "ops", "seconds", "ops_per_sec", "p50_ms", "p90_ms",
		"p99_ms", "p999_ms", "max_ms", "errors", "client_cpu_us_per_op"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if m["ops"] != 1000.0 || m["ops_per_sec"] != 500.0 || m["p50_ms"].(float64) < 0.5 || m["p50_ms"].(float64) > 0.504 || m["max_ms"] != 1.0 ||
		m["errors"] != 3.0 || m["client_cpu_us_per_op"] != 2.5 {
		t.Errorf("JSON values: %s", b)
	}
	if !strings.HasPrefix(string(b), `{"workload":"get","server":"a:1,b:2","sessions":64,"ops":1000,`) {
		t.Errorf("JSON key order: %s", b)
	}
	var out bytes.Buffer
	if err := WriteTable(&out, []Result{r}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"ops/s", "p99.9 ms", "cpu µs/op", "500", "get errors: NoNode(-101)=3"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
}

func TestServersMustShareOneTree(t *testing.T) {
	t.Parallel()
	a, b := startWarren(t), startWarren(t)
	_, err := Run(context.Background(), Config{Servers: []string{a.Addr, b.Addr}, Workload: "get", Sessions: 2, Ops: 10, Keys: 5, Root: "/two"})
	if err == nil || !strings.Contains(err.Error(), "one ensemble") {
		t.Fatalf("Run over two unrelated servers: %v", err)
	}
	checkGone(t, a.Addr, "/two")
	// The same server twice is one tree: sessions alternate between the
	// addresses.
	checkRun(t, a.Addr+","+a.Addr, Config{Workload: "get", Sessions: 3, Ops: 30, Keys: 5})
}

// received returns the server's "Received:" packet count from srvr.
func received(addr string) int {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	c.Write([]byte("srvr"))
	b, _ := io.ReadAll(c)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Received: "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}
