package clients

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/testutil/syncbuf"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
)

// reaperInterval is the container/TTL reaper period of the test servers (ZooKeeper's default is
// a minute).
const reaperInterval = 100 * time.Millisecond

// jvmFlags make short-lived JVMs start fast and stay small.
var jvmFlags = []string{"-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx96m"}

// startServer starts a Warren server with TTL nodes enabled and a fast container/TTL reaper.
func startServer(t *testing.T, edit func(*config.Config)) *warrentest.Server {
	t.Helper()
	return warrentest.Start(t, &warrentest.Options{
		Config: func(c *config.Config) {
			c.ExtendedTypesEnabled = true
			if edit != nil {
				edit(c)
			}
		},
		ContainerCheckInterval: reaperInterval,
	})
}

// command describes one external process.
type command struct {
	path    string
	args    []string
	env     []string // added to the environment
	dir     string
	stdin   string
	timeout time.Duration
}

// run runs c to completion (or until its timeout, when the whole process group is killed) and
// returns its combined stdout and stderr. err is non-nil when the process failed or timed out.
func run(t *testing.T, c command) (string, error) {
	t.Helper()
	if c.timeout == 0 {
		c.timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.path, c.args...)
	setProcessGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	cmd.Dir = c.dir
	if len(c.env) > 0 {
		cmd.Env = append(cmd.Environ(), c.env...)
	}
	cmd.Stdin = strings.NewReader(c.stdin)
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s: %v (exit: %v)", c.path, time.Since(start).Round(time.Millisecond), err)
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out after %v: %w", c.path, c.timeout, errors.Join(err, ctx.Err()))
	}
	return out.String(), err
}

// mustRun is run that fails the test, showing the output, when the process fails.
func mustRun(t *testing.T, c command) string {
	t.Helper()
	out, err := run(t, c)
	if err != nil {
		t.Fatalf("%s %s: %v\n----- output -----\n%s\n------------------", c.path, strings.Join(c.args, " "), err, out)
	}
	return out
}

// expectInOrder checks that out contains each of want, in this order (each one after the end of
// the previous match). Unrelated lines (asynchronous watch notifications, for example) may come
// in between.
func expectInOrder(t *testing.T, out string, want []string) {
	t.Helper()
	rest, pos := out, 0
	for i, w := range want {
		j := strings.Index(rest, w)
		if j < 0 {
			prev := "the start"
			if i > 0 {
				prev = fmt.Sprintf("%q (ending at byte %d)", want[i-1], pos)
			}
			if k := strings.Index(out, w); k >= 0 {
				t.Errorf("output has %q only before %s, at byte %d", w, prev, k)
			} else {
				t.Errorf("output lacks %q (expected after %s)", w, prev)
			}
			continue
		}
		pos += j + len(w)
		rest = rest[j+len(w):]
	}
	if t.Failed() {
		t.Logf("----- full output -----\n%s\n-----------------------", out)
	}
}

// eventually polls cond every 20ms until it is true or timeout passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
