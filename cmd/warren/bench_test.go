package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/warren-zk/warren/internal/testutil/warrentest"
)

func TestBenchCommand(t *testing.T) {
	s := warrentest.Start(t, nil)

	var out, errb bytes.Buffer
	code := runBench([]string{"-server", s.Addr, "-workload", "create,get", "-sessions", "2", "-ops", "50",
		"-keys", "20", "-json", "-progress", "0"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got:\n%s", out.String())
	}
	for i, w := range []string{"create", "get"} {
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, lines[i])
		}
		if m["workload"] != w || m["ops"] != 50.0 || m["errors"] != 0.0 || m["sessions"] != 2.0 || m["server"] != s.Addr {
			t.Errorf("line %d: %s", i, lines[i])
		}
	}

	out.Reset()
	errb.Reset()
	code = runBench([]string{"-server", s.Addr, "-workload", "mixed", "-sessions", "2", "-duration", "300ms",
		"-keys", "20", "-progress", "100ms"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errb.String())
	}
	if !strings.Contains(out.String(), "ops/s") || !strings.Contains(out.String(), "mixed") {
		t.Errorf("table:\n%s", out.String())
	}
	if !strings.Contains(errb.String(), "bench mixed:") {
		t.Errorf("no progress lines on stderr:\n%s", errb.String())
	}

	for _, args := range [][]string{{"-workload", "nope", "-server", s.Addr}, {"-bogus"}, {"extra"}} {
		out.Reset()
		errb.Reset()
		if code := runBench(args, &out, &errb); code == 0 {
			t.Errorf("%q: exit 0", args)
		}
	}
}
