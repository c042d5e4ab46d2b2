package crash

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

const (
	// serveBound is how long a restarted server may take to answer ruok and a read.
	serveBound = 10 * time.Second
	// expirySlack is how long after its timeout a dead session's ephemerals may linger
	// (the tracker expires on tick boundaries and the closeSession goes through the log).
	expirySlack = 4 * time.Second
	keepers     = 4
	deadPerKill = 2
)

// testSeed returns the seed from -crash.seed or the clock, and says how to reproduce.
func testSeed(t *testing.T) int64 {
	seed := *flagSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (reproduce: go test ./tests/crash -run '^%s$' -crash.seed=%d -crash.cycles=%d)", seed, t.Name(), seed, *flagCycles)
	return seed
}

func summary(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	r := func(x time.Duration) time.Duration { return x.Round(time.Millisecond) }
	return fmt.Sprintf("min %v, median %v, max %v (n=%d)", r(s[0]), r(s[len(s)/2]), r(s[len(s)-1]), len(s))
}

// TestCrashRestart runs a concurrent workload, kills the server with SIGKILL at a random
// moment, restarts it on the same data directory and port, and checks every acknowledged
// write after each restart.
func TestCrashRestart(t *testing.T) {
	// Small segments so that the log rolls over to new segment files during the test;
	// snapCount=200 makes snapshots happen all along.
	h := newHarness(t, 1, "preAllocSize=128")
	cycles := *flagCycles
	for cycle := 1; cycle <= cycles; cycle++ {
		cycleStart := time.Now()
		burst := time.Duration(300+h.rng.IntN(500)) * time.Millisecond
		h.runAndKill(cycle, burst)
		killAt := time.Since(cycleStart)
		tts, res := h.restartAndCheck(cycle, true)
		t.Logf("cycle %d: kill at %v (burst %v), served %v after the restart, verified %d nodes in %v; %d writes acknowledged so far; cycle took %v",
			cycle, killAt.Round(time.Millisecond), burst, tts.Round(time.Millisecond), res.nodes,
			h.st.verify[len(h.st.verify)-1].Round(time.Millisecond), h.acked(), time.Since(cycleStart).Round(time.Millisecond))
	}
	h.finish(cycles)
}

// checkSequence creates one more sequential node: its number must be above every
// acknowledged one (no reuse after a crash).
func checkSequence(c *client, m *model, cycle int, fail func(string, ...any)) {
	data := []byte(fmt.Sprintf("probe-%d", cycle))
	cl, _ := c.create(seqPath+"/s-", data, proto.ModePersistentSequential)
	r := cl.wait()
	if !r.ok() {
		fail("sequential create after the restart: %v", r)
		return
	}
	resp, err := decodeCreate2(r)
	if err != nil {
		fail("sequential create after the restart: %v", err)
		return
	}
	n, ok := seqSuffix(resp.Path)
	m.mu.Lock()
	max, maxPath := m.seqMax, m.seqMaxPath
	m.mu.Unlock()
	if !ok || n <= max {
		fail("sequential create after the restart got %s, but %s was acknowledged before: a sequence number was reused", resp.Path, maxPath)
	}
	m.ackCreate(&ackedNode{path: resp.Path, data: data, czxid: resp.Stat.Czxid, by: "checker", cycle: cycle})
}

// waitEphemeralsGone polls deadPath until no child belongs to one of sids (hex session ids,
// the prefix of every name those sessions created) or the deadline passes. It returns when
// they were seen gone.
func waitEphemeralsGone(addr string, sids map[string]bool, deadline time.Time) (time.Time, error) {
	c, err := dial("expiry-check", addr, keeperTimeoutMs, 0, nil, 0)
	if err != nil {
		return time.Time{}, fmt.Errorf("expiry check session: %v", err)
	}
	defer c.closeSession()
	for {
		kids, err := c.children(deadPath)
		if err != nil {
			return time.Time{}, fmt.Errorf("expiry check: %v", err)
		}
		var left []string
		for _, k := range kids {
			if sid, _, _ := strings.Cut(k, "-"); sids[sid] {
				left = append(left, k)
			}
		}
		if len(left) == 0 {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			slices.Sort(left)
			if len(left) > 10 {
				left = append(left[:10], "…")
			}
			return time.Time{}, fmt.Errorf("%d ephemerals of sessions that never came back still exist %v after their timeout (%d ms): %s",
				len(left), expirySlack, deadTimeoutMs, strings.Join(left, ", "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// retryStarts tells a one-off failure to start from a data directory that can no longer start:
// it starts the server up to n more times and says how that went.
func retryStarts(srv *serverProc, n int) string {
	for i := 1; i <= n; i++ {
		srv.kill()
		if err := srv.start(); err != nil {
			return fmt.Sprintf("retry %d: %v", i, err)
		}
		if _, err := srv.waitServing(serveBound, rootPath); err == nil {
			return fmt.Sprintf("retried: start %d after the failure served", i)
		}
	}
	return fmt.Sprintf("retried: %d more starts on the same data directory failed too (last one's log:\n%s)", n, lastLines(srv.logSince(), 15))
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
