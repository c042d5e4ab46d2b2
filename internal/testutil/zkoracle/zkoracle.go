// Package zkoracle starts a real Apache ZooKeeper 3.8.0 server (Debian bookworm's zookeeper
// package, run on the machine's JRE) for a Go test, so that Warren's behaviour can be compared
// with the reference byte for byte.
//
// The server is standalone, listens on 127.0.0.1 only (a port picked at run time, no AdminServer,
// no quorum ports), keeps its data, config and logs in the test's t.TempDir(), and is killed (the
// whole process group, SIGKILL) by Stop, which t.Cleanup also calls. When the test failed, the
// tail of the server's log is printed at cleanup.
package zkoracle

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/testutil/deps"
)

// MainClass is the class the Debian package's zkServer.sh runs.
const MainClass = "org.apache.zookeeper.server.quorum.QuorumPeerMain"

const (
	defaultTickTime     = 2000
	defaultStartTimeout = 30 * time.Second
	startAttempts       = 5
	stopTimeout         = 10 * time.Second
)

// Options adjust the server. The zero value (or nil) gives the defaults.
type Options struct {
	// ExtraConfig is written into zoo.cfg after the harness's own keys; a key that the harness
	// also sets (tickTime, dataDir, clientPort, clientPortAddress, 4lw.commands.whitelist,
	// admin.enableServer) replaces the harness's value. The readiness check needs the four-letter
	// words ruok and srvr, so a whitelist set here must include them.
	ExtraConfig map[string]string
	// TickTime in ms; 0 means 2000 (the Debian example's value; ZooKeeper's own default is 3000).
	TickTime int
	// JVMProps are passed to the JVM as -Dkey=value (for example "jute.maxbuffer" or
	// "readonlymode.enabled", which cannot be set from zoo.cfg).
	JVMProps map[string]string
	// JVMArgs are extra JVM options, placed after the harness's own (-Xmx256m, …), so that for
	// example "-Xmx2g" for a large tree wins.
	JVMArgs []string
	// StartTimeout bounds the wait for the server to answer; 0 means 30s.
	StartTimeout time.Duration
}

// Server is a running ZooKeeper.
type Server struct {
	Addr       string // "127.0.0.1:PORT"
	Port       int
	DataDir    string // dataDir from zoo.cfg (snapshots and logs live in DataDir/version-2)
	Dir        string // the temporary directory holding zoo.cfg, the data and the logs
	ConfigFile string // the zoo.cfg the server was started with
	LogFile    string // ZooKeeper's own log (log4j)
	OutFile    string // the JVM's stdout and stderr

	t        testing.TB
	proc     *process // the current JVM
	stopOnce sync.Once
}

// process is one started JVM.
type process struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has been reaped
	waitErr error         // valid after exited is closed
}

// Start starts a ZooKeeper server and waits until it serves (ruok answers imok and srvr reports
// a mode). It fails the test if the server does not come up, and skips it (or fails it when
// CI=true) if Java or the zookeeper package is missing.
func Start(t testing.TB, opts *Options) *Server {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	java := deps.Java(t)
	cp := deps.ZooKeeperClasspath(t)

	dir := t.TempDir() // registered before our Cleanup, so removed after Stop has run
	s := &Server{
		t:          t,
		Dir:        dir,
		DataDir:    filepath.Join(dir, "data"),
		ConfigFile: filepath.Join(dir, "zoo.cfg"),
		LogFile:    filepath.Join(dir, "zookeeper.log"),
		OutFile:    filepath.Join(dir, "zookeeper.out"),
	}
	if err := os.MkdirAll(s.DataDir, 0o755); err != nil {
		t.Fatalf("zkoracle: %v", err)
	}
	log4jFlag, err := deps.Log4jConfig(dir, s.LogFile)
	if err != nil {
		t.Fatalf("zkoracle: %v", err)
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = defaultStartTimeout
	}
	deadline := time.Now().Add(timeout)

	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		port, err := pickPort()
		if err != nil {
			t.Fatalf("zkoracle: picking a port: %v", err)
		}
		s.Port = port
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := os.WriteFile(s.ConfigFile, []byte(config(s, opts)), 0o644); err != nil {
			t.Fatalf("zkoracle: %v", err)
		}
		// Fresh logs per attempt, so bindFailed looks at this attempt only.
		for _, f := range []string{s.LogFile, s.OutFile} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("zkoracle: %v", err)
			}
		}
		if err := s.launch(java, cp, log4jFlag, opts); err != nil {
			t.Fatalf("zkoracle: starting java: %v", err)
		}
		err = s.waitReady(deadline)
		if err == nil {
			t.Cleanup(s.cleanup)
			return s
		}
		s.kill()
		lastErr = err
		if !(errors.Is(err, errNotOurs) || s.bindFailed()) || time.Now().After(deadline) {
			break
		}
		t.Logf("zkoracle: port %d was taken (attempt %d), retrying with another port", port, attempt)
	}
	t.Fatalf("zkoracle: ZooKeeper did not start: %v\n--- %s (tail) ---\n%s\n--- %s (tail) ---\n%s",
		lastErr, s.LogFile, tail(s.LogFile, 40), s.OutFile, tail(s.OutFile, 20))
	return nil
}

// config renders zoo.cfg.
func config(s *Server, opts *Options) string {
	tick := opts.TickTime
	if tick <= 0 {
		tick = defaultTickTime
	}
	type kv struct{ k, v string }
	base := []kv{
		{"tickTime", strconv.Itoa(tick)},
		{"dataDir", s.DataDir},
		{"clientPort", strconv.Itoa(s.Port)},
		{"clientPortAddress", "127.0.0.1"},
		{"4lw.commands.whitelist", "*"},
		{"admin.enableServer", "false"},
	}
	var b strings.Builder
	b.WriteString("# Written by internal/testutil/zkoracle: standalone, loopback only.\n")
	for _, e := range base {
		v := e.v
		if o, ok := opts.ExtraConfig[e.k]; ok {
			v = o
		}
		fmt.Fprintf(&b, "%s=%s\n", e.k, v)
	}
	for _, k := range slices.Sorted(maps.Keys(opts.ExtraConfig)) {
		if slices.ContainsFunc(base, func(e kv) bool { return e.k == k }) {
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", k, opts.ExtraConfig[k])
	}
	return b.String()
}

func (s *Server) launch(java, cp, log4jFlag string, opts *Options) error {
	args := []string{
		"-Xmx256m",
		"-XX:-UsePerfData", // no /tmp/hsperfdata_* files
		"-Djava.net.preferIPv4Stack=true",
		"-Dzookeeper.log.dir=" + s.Dir,
		"-Dzookeeper.log.file=" + filepath.Base(s.LogFile),
		"-Dzookeeper.jmx.log4j.disable=true",
		log4jFlag,
	}
	for _, k := range slices.Sorted(maps.Keys(opts.JVMProps)) {
		args = append(args, "-D"+k+"="+opts.JVMProps[k])
	}
	args = append(args, opts.JVMArgs...)
	args = append(args, "-cp", cp, MainClass, s.ConfigFile)

	out, err := os.OpenFile(s.OutFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(java, args...)
	cmd.Dir = s.Dir
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	s.proc = p
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return nil
}

// waitReady polls the four-letter words until the server serves, the process dies, or the
// deadline passes.
func (s *Server) waitReady(deadline time.Time) error {
	var last string
	for {
		select {
		case <-s.proc.exited:
			return fmt.Errorf("java exited: %v", s.proc.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not serving after the start timeout (last answer: %q)", last)
		}
		if r, err := s.fourLetter("ruok", time.Second); err != nil {
			last = err.Error()
		} else if r != "imok" {
			last = r
		} else if r, err := s.fourLetter("srvr", time.Second); err != nil {
			last = err.Error()
		} else if !strings.Contains(r, "Mode: ") {
			last = r
		} else if err := s.checkOwnServer(); err != nil {
			return err
		} else {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var errNotOurs = errors.New("another server answers on the port")

// checkOwnServer makes sure the server answering on our port is the one we started (another
// process could have grabbed the port between freePort and the JVM binding it).
func (s *Server) checkOwnServer() error {
	select {
	case <-s.proc.exited:
		return fmt.Errorf("java exited, but something else answers on %s: %v", s.Addr, s.proc.waitErr)
	default:
	}
	r, err := s.fourLetter("conf", time.Second)
	if err != nil || strings.Contains(r, "not in the whitelist") {
		return nil // cannot tell; the process is alive, so assume it is ours
	}
	if !strings.Contains(r, "dataDir="+filepath.Join(s.DataDir, "version-2")) {
		return fmt.Errorf("%w: the server on %s answers conf with %q", errNotOurs, s.Addr, r)
	}
	return nil
}

// bindFailed reports whether the last start failed because the port was in use.
func (s *Server) bindFailed() bool {
	for _, f := range []string{s.LogFile, s.OutFile} {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte("Address already in use")) || bytes.Contains(b, []byte("BindException")) {
			return true
		}
	}
	return false
}

// FourLetter sends a four-letter-word command (for example "ruok", "srvr", "mntr") on a new
// connection and returns everything the server wrote before closing it. cmd is sent as is, so
// "stmk" can be followed by its 8-byte mask.
func (s *Server) FourLetter(cmd string) (string, error) {
	return s.fourLetter(cmd, 10*time.Second)
}

func (s *Server) fourLetter(cmd string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", s.Addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	if _, err := io.WriteString(c, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return string(b), err
	}
	return string(b), nil
}

// PID returns the process id of the JVM.
func (s *Server) PID() int {
	if s.proc == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// Stop kills the server's process group and waits for the JVM to exit. It is idempotent and
// safe to call from several goroutines; t.Cleanup calls it too. The data directory survives
// until the test's temporary directory is removed. The kill is a SIGKILL, so Stop behaves like a
// crash: ZooKeeper fsyncs every transaction before acknowledging it, so acknowledged writes are in
// DataDir.
func (s *Server) Stop() {
	s.stopOnce.Do(s.kill)
}

func (s *Server) kill() {
	if s.proc == nil {
		return
	}
	killGroup(s.proc.cmd.Process)
	select {
	case <-s.proc.exited:
	case <-time.After(stopTimeout):
		s.t.Errorf("zkoracle: java (pid %d) did not exit %v after SIGKILL", s.PID(), stopTimeout)
	}
}

func (s *Server) cleanup() {
	if s.t.Failed() {
		s.t.Logf("zkoracle: server %s (pid %d); last lines of %s:\n%s", s.Addr, s.PID(), s.LogFile, tail(s.LogFile, 40))
	}
	s.Stop()
}

// pickPort is freePort, replaceable by tests.
var pickPort = freePort

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("not a TCP address: " + l.Addr().String())
	}
	return addr.Port, nil
}

// tail returns the last n lines of a file (or a note that it cannot be read).
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
