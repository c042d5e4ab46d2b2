package clients

import (
	"context"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/warren-zk/warren/internal/testutil/deps"
	"github.com/warren-zk/warren/internal/testutil/syncbuf"
)

// TestCliMT drives the C client's shell, cli_mt: single commands in batch mode (-c, one process
// and one session each; a C process starts in milliseconds), then one interactive session for
// watches, auth and ephemerals.
func TestCliMT(t *testing.T) {
	t.Parallel()
	cli := deps.CliMT(t)
	srv := startServer(t, nil)
	gz := connectZK(t, srv.Addr, 10*time.Second)

	batch := func(cmd string, want ...string) string {
		t.Helper()
		out := mustRun(t, command{path: cli, args: []string{"-h", srv.Addr, "-c", cmd}, timeout: 20 * time.Second})
		expectInOrder(t, out, append([]string{"Batch mode: " + cmd + "\n"}, want...))
		return out
	}
	batch("create /cm", "Got a new session id: 0x1", "[/cm]: rc = 0\n\tname = /cm\n")
	batch("create +s /cm/s-", "[/cm/s-]: rc = 0\n\tname = /cm/s-0000000000\n")
	batch("create +s /cm/s-", "[/cm/s-]: rc = 0\n\tname = /cm/s-0000000001\n")
	batch("create2 /cm/c2", "[/cm/c2]: rc = 0\n\tname = /cm/c2\n\tctime = ", "\tversion=0\taversion=0\n\tephemeralOwner = 0\n")
	batch("create +e /cm/e", "Creating [/cm/e] node (mode: 1)\n", "[/cm/e]: rc = 0\n\tname = /cm/e\n")
	batch("create +c /cm/cont", "Creating [/cm/cont] node (mode: 4)\n", "[/cm/cont]: rc = 0\n")
	batch("create +t=600000 /cm/ttl", "Creating [/cm/ttl] node (mode: 5)\n", "[/cm/ttl]: rc = 0\n")
	batch("create /cm", "[/cm]: rc = -110\n")
	batch("create /cm/none/x", "[/cm/none/x]: rc = -101\n")
	batch("set /cm hello", "/cm: rc = 0 Stat:\n", "\tversion=1\taversion=0\n\tephemeralOwner = 0\n")
	batch("get /cm", "/cm: rc = 0\n value_len = 5\nhello\nStat:\n", "\tversion=1\taversion=0\n")
	batch("ls /cm", "/cm: rc = 0\n\tc2\n\tcont\n\ts-0000000000\n\ts-0000000001\n\tttl\n")
	batch("ls2 /cm", "/cm: rc = 0\n\tc2\n\tcont\n\ts-0000000000\n\ts-0000000001\n\tttl\n", "\tversion=1\taversion=0\n")
	batch("sync /cm", "[/cm]: rc = 0\n\tname = /cm\n")
	batch("delete /cm", "/cm: rc = -111\n")
	batch("delete /cm/c2", "/cm/c2: rc = 0\n")
	batch("delete /cm/c2", "/cm/c2: rc = -101\n")
	batch("get /nope", "/nope: rc = -101\n")
	batch("config", "/zookeeper/config: rc = 0\n value_len = 0\n")
	// The ephemeral went with its batch session; the container and the TTL node stay.
	if kids := must1[[]string](t)(childrenOf(gz, "/cm")); !equalStrings(kids, []string{"cont", "s-0000000000", "s-0000000001", "ttl"}) {
		t.Errorf("children of /cm = %v", kids)
	}
	if data, _ := must2[[]byte, *zk.Stat](t)(gz.Get("/cm")); string(data) != "hello" {
		t.Errorf("/cm data = %q", data)
	}

	// Interactive: watches set by get, ls and wexists fire on another client's writes; auth;
	// the session's ephemeral lives exactly as long as the session.
	must1[string](t)(gz.Create("/cm/secret", []byte("s"), zk.FlagPersistent, zk.DigestACL(zk.PermAll, "bob", "secret")))
	sh := startShell(t, cli, "-h", srv.Addr)
	m := sh.waitRegexp(`Got a new session id: 0x([0-9a-f]+)\n`)
	sid, err := strconv.ParseUint(m[1], 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	sh.send("create +e /cm/live")
	sh.wait("[/cm/live]: rc = 0\n\tname = /cm/live\n")
	if ok, st := must2[bool, *zk.Stat](t)(gz.Exists("/cm/live")); !ok || uint64(st.EphemeralOwner) != sid {
		t.Errorf("/cm/live: exists %v, owner %#x, want %#x", ok, st.EphemeralOwner, sid)
	}
	sh.send("get /cm")
	sh.wait("hello\nStat:\n")
	sh.send("ls /cm")
	sh.wait("\tlive\n")
	sh.send("wexists /cm/w")
	sh.wait("Error -101 for /cm/w\n")
	sh.send("get /cm/secret")
	sh.wait("/cm/secret: rc = -102\n")
	must1[*zk.Stat](t)(gz.Set("/cm", []byte("x"), -1))
	sh.wait("Watcher CHANGED_EVENT state = CONNECTED_STATE for path /cm\n")
	must1[string](t)(gz.Create("/cm/w", nil, zk.FlagPersistent, openACL))
	sh.wait("Watcher CREATED_EVENT state = CONNECTED_STATE for path /cm/w\n")
	sh.wait("Watcher CHILD_EVENT state = CONNECTED_STATE for path /cm\n")
	sh.send("addauth digest bob:secret")
	sh.send("get /cm/secret")
	sh.wait("/cm/secret: rc = 0\n value_len = 1\ns\n")
	sh.send("get /cm/w")
	sh.wait("/cm/w: rc = 0\n")
	must1[*zk.Stat](t)(gz.Set("/cm/w", []byte("y"), -1))
	sh.wait("Watcher CHANGED_EVENT state = CONNECTED_STATE for path /cm/w\n")
	sh.send("delete /cm/w")
	sh.wait("/cm/w: rc = 0\n")
	sh.send("quit")
	sh.exit()
	if ok, _ := must2[bool, *zk.Stat](t)(gz.Exists("/cm/live")); ok {
		t.Errorf("/cm/live survived cli_mt's session")
	}
}

// shell is an interactive process whose output is read as it comes.
type shell struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *syncbuf.Buffer
	pos    int // output before pos has been consumed by wait
	cancel context.CancelFunc
	done   chan error
}

func startShell(t *testing.T, path string, args ...string) *shell {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	cmd := exec.CommandContext(ctx, path, args...)
	setProcessGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", path, err)
	}
	s := &shell{t: t, cmd: cmd, stdin: stdin, out: out, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

func (s *shell) send(line string) {
	s.t.Helper()
	if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
		s.t.Fatalf("write %q: %v\n----- output -----\n%s", line, err, s.out.String())
	}
}

// wait waits for want to appear after what earlier waits consumed.
func (s *shell) wait(want string) {
	s.t.Helper()
	s.waitFor(strings.TrimSpace(want), func(rest string) (int, bool) {
		i := strings.Index(rest, want)
		return i + len(want), i >= 0
	})
}

func (s *shell) waitRegexp(re string) []string {
	s.t.Helper()
	var m []string
	r := regexp.MustCompile(re)
	s.waitFor(re, func(rest string) (int, bool) {
		loc := r.FindStringSubmatchIndex(rest)
		if loc == nil {
			return 0, false
		}
		m = nil
		for i := 0; i < len(loc); i += 2 {
			m = append(m, rest[loc[i]:loc[i+1]])
		}
		return loc[1], true
	})
	return m
}

func (s *shell) waitFor(what string, find func(rest string) (int, bool)) {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		all := s.out.String()
		if n, ok := find(all[s.pos:]); ok {
			s.pos += n
			return
		}
		select {
		case err := <-s.done:
			s.done <- err
			s.t.Fatalf("%s exited (%v) before printing %q\n----- output -----\n%s", s.cmd.Path, err, what, s.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s did not print %q within 15s\n----- output -----\n%s", s.cmd.Path, what, s.out.String())
		}
	}
}

// exit closes stdin and waits for the process to end.
func (s *shell) exit() {
	s.t.Helper()
	s.stdin.Close()
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			s.t.Errorf("%s: %v\n----- output -----\n%s", s.cmd.Path, err, s.out.String())
		}
	case <-time.After(15 * time.Second):
		s.t.Fatalf("%s did not exit\n----- output -----\n%s", s.cmd.Path, s.out.String())
	}
}
