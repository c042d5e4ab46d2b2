package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/warren-zk/warren/internal/bench"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/testutil/deps"
)

const (
	kindZK     = "zookeeper"
	kindWarren = "warren"
	// kindFloor is tools/floorserver with -fsync: a server that does no
	// work beyond reading each request, group-committing the writes to a
	// log and answering (-floor).
	kindFloor = "floor"

	modeStandalone = "standalone"
	modeEnsemble   = "ensemble"

	zkMainClass = "org.apache.zookeeper.server.quorum.QuorumPeerMain"

	startAttempts = 3
	probeSession  = 4 * time.Second // 2 ticks: the smallest session timeout both servers grant
)

// env is what starting the servers needs.
type env struct {
	java      string   // java binary
	classpath string   // ZooKeeper 3.8 server classpath (internal/testutil/deps)
	zkJVM     []string // JVM options before the log and class path arguments
	warren    string   // warren binary
	floor     string   // floorserver binary (-floor)
	// serverCPUs, when set, is the taskset CPU list every server runs on.
	serverCPUs string
	logf       func(format string, args ...any)
}

// zkJVMFlags are the JVM options every ZooKeeper server gets, before
// -Xmx and any -zk-jvm-args. The Debian package's zkServer.sh sets no heap
// size (the JVM's default is a quarter of the RAM); the tool sets -Xmx so that
// 1M znodes fit and the setting is recorded.
func zkJVMFlags(heap string, extra []string) []string {
	flags := []string{
		"-Xmx" + heap,
		"-XX:-UsePerfData", // no /tmp/hsperfdata_* files
		"-Djava.net.preferIPv4Stack=true",
		"-Dzookeeper.jmx.log4j.disable=true",
	}
	return append(flags, extra...)
}

// member is one server process of a cluster (myid = id).
type member struct {
	id                                 int
	dir, dataDir, cfgPath              string
	logPath                            string // the process's stdout and stderr
	zkLog                              string // ZooKeeper's log4j file ("" for Warren)
	clientPort, peerPort, electionPort int
	p                                  *proc
}

func (m *member) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.clientPort)) }

// cluster is a standalone server or a 3-member ensemble of one kind, with
// its configuration and data under dir.
type cluster struct {
	kind, mode string
	name       string // for messages: "zookeeper standalone"
	dir        string
	env        *env
	members    []*member
	starts     int
}

func newCluster(e *env, kind, mode, dir string) (*cluster, error) {
	n := 1
	if mode == modeEnsemble {
		n = 3
	}
	c := &cluster{kind: kind, mode: mode, name: kind + " " + mode, dir: dir, env: e}
	for i := 1; i <= n; i++ {
		mdir := filepath.Join(dir, fmt.Sprintf("m%d", i))
		m := &member{id: i, dir: mdir, dataDir: filepath.Join(mdir, "data"), cfgPath: filepath.Join(mdir, "zoo.cfg")}
		if kind == kindZK {
			m.logPath = filepath.Join(mdir, "zookeeper.out")
			m.zkLog = filepath.Join(mdir, "zookeeper.log")
		} else {
			m.logPath = filepath.Join(mdir, kind+".log")
		}
		if err := os.MkdirAll(m.dataDir, 0o755); err != nil {
			return nil, err
		}
		if mode == modeEnsemble {
			if err := os.WriteFile(filepath.Join(m.dataDir, "myid"), []byte(strconv.Itoa(i)+"\n"), 0o644); err != nil {
				return nil, err
			}
		}
		c.members = append(c.members, m)
	}
	return c, nil
}

func (c *cluster) addrs() []string {
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = m.addr()
	}
	return out
}

// freePorts asks the kernel for n distinct unused loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// configure picks the ports and writes every member's zoo.cfg. Both kinds
// get the same file: tickTime 2000, the zoo_sample.cfg limits, loopback
// client ports, no per-IP connection limit, every four-letter word, no
// AdminServer; an ensemble adds server.N lines (peer and election ports on
// 127.0.0.1) and dataDir/myid. Everything else is each server's default
// (ZooKeeper: forceSync=yes, snapCount 100000, …; Warren: fsync on).
func (c *cluster) configure() error {
	ports, err := freePorts(3 * len(c.members))
	if err != nil {
		return err
	}
	for i, m := range c.members {
		m.clientPort, m.peerPort, m.electionPort = ports[3*i], ports[3*i+1], ports[3*i+2]
	}
	for _, m := range c.members {
		lines := []string{
			fmt.Sprintf("# Written by tools/benchcompare: %s, member %d.", c.name, m.id),
			"tickTime=2000",
			"initLimit=10",
			"syncLimit=5",
			"dataDir=" + m.dataDir,
			fmt.Sprintf("clientPort=%d", m.clientPort),
			"clientPortAddress=127.0.0.1",
			"maxClientCnxns=0",
			"4lw.commands.whitelist=*",
			"admin.enableServer=false",
		}
		if c.mode == modeEnsemble {
			for _, o := range c.members {
				lines = append(lines, fmt.Sprintf("server.%d=127.0.0.1:%d:%d", o.id, o.peerPort, o.electionPort))
			}
		}
		if err := os.WriteFile(m.cfgPath, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// argv is the command line of member m, under taskset when the servers are
// pinned (taskset execs the server: same process).
func (c *cluster) argv(m *member) ([]string, error) {
	argv, err := c.serverArgv(m)
	if err != nil || c.env.serverCPUs == "" {
		return argv, err
	}
	return append([]string{"taskset", "-c", c.env.serverCPUs}, argv...), nil
}

func (c *cluster) serverArgv(m *member) ([]string, error) {
	switch c.kind {
	case kindWarren:
		return []string{c.env.warren, "server", "-log-level", "info", m.cfgPath}, nil
	case kindFloor:
		argv := []string{c.env.floor, "-addr", m.addr(), "-fsync", m.dataDir}
		if c.mode == modeEnsemble {
			// Member 1 leads; the others follow it.
			lead := net.JoinHostPort("127.0.0.1", strconv.Itoa(c.members[0].peerPort))
			if m.id == 1 {
				return append(argv, "-peer", lead), nil
			}
			return append(argv, "-leader", lead), nil
		}
		return argv, nil
	}
	log4j, err := deps.Log4jConfig(m.dir, m.zkLog)
	if err != nil {
		return nil, err
	}
	argv := append([]string{c.env.java}, c.env.zkJVM...)
	argv = append(argv,
		"-Dzookeeper.log.dir="+m.dir,
		"-Dzookeeper.log.file="+filepath.Base(m.zkLog),
		log4j,
		"-cp", c.env.classpath, zkMainClass, m.cfgPath)
	return argv, nil
}

// launch starts every member's process and returns the time just before
// the first exec.
func (c *cluster) launch(fresh bool) (time.Time, error) {
	c.starts++
	t0 := time.Now()
	for _, m := range c.members {
		argv, err := c.argv(m)
		if err != nil {
			return t0, err
		}
		if fresh && m.zkLog != "" {
			os.Remove(m.zkLog)
		}
		p, err := startProc(argv, m.dir, m.logPath, fresh, fmt.Sprintf("%s member %d, start #%d", c.name, m.id, c.starts))
		if err != nil {
			return t0, fmt.Errorf("%s member %d: %w", c.name, m.id, err)
		}
		m.p = p
	}
	return t0, nil
}

// start configures and starts the cluster on fresh ports and waits until
// every member serves and a write commits. A start that fails because a port
// was taken meanwhile (other programs share the machine) is retried on new
// ports.
func (c *cluster) start(ctx context.Context, timeout time.Duration) error {
	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		if err := c.configure(); err != nil {
			return err
		}
		if _, err := c.launch(true); err != nil {
			c.kill()
			return err
		}
		err := c.waitReady(ctx, time.Now().Add(timeout))
		if err == nil {
			return nil
		}
		c.kill()
		lastErr = err
		if ctx.Err() != nil || !(errors.Is(err, errNotOurs) || c.bindFailed()) {
			break
		}
		c.env.logf("%s: a port was taken (attempt %d): %v; retrying on other ports", c.name, attempt, err)
	}
	return fmt.Errorf("%s did not start: %w\n%s", c.name, lastErr, c.logTails(30))
}

var errNotOurs = errors.New("another server answers on the port")

// waitReady polls until every member answers srvr with a Mode, is the
// server this cluster started (conf names its dataDir), accepts a session,
// and a write through member 1 commits.
func (c *cluster) waitReady(ctx context.Context, deadline time.Time) error {
	for _, m := range c.members {
		var last error
		for {
			if !m.p.alive() {
				return fmt.Errorf("member %d exited: %v", m.id, m.p.waitErr)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("member %d not serving before the start timeout (last: %v)", m.id, last)
			}
			last = probe(ctx, m, c.kind != kindFloor)
			if last == nil {
				break
			}
			if errors.Is(last, errNotOurs) {
				return last
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for {
		err := writeProbe(ctx, c.members[0].addr())
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no write committed before the start timeout: %v", err)
		}
		if err := c.alive(); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// probe checks that member m serves: srvr shows a Mode, conf names its
// dataDir (if checkConf; the floor server has no conf), a session can
// read.
func probe(ctx context.Context, m *member, checkConf bool) error {
	r, err := fourLetter(m.addr(), "srvr", time.Second)
	if err != nil {
		return err
	}
	if !strings.Contains(r, "Mode: ") {
		return fmt.Errorf("srvr: %q", strings.TrimSpace(r))
	}
	if checkConf {
		r, err = fourLetter(m.addr(), "conf", time.Second)
		if err != nil {
			return err
		}
		if !strings.Contains(r, "dataDir="+filepath.Join(m.dataDir, "version-2")+"\n") {
			return fmt.Errorf("%w: conf on %s: %q", errNotOurs, m.addr(), r)
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := bench.Dial(pctx, m.addr(), bench.DialOptions{SessionTimeout: probeSession})
	if err != nil {
		return err
	}
	err = conn.Call(pctx, proto.OpExists, &proto.ExistsRequest{Path: "/"}, nil)
	if err != nil {
		conn.Abort()
		return err
	}
	return conn.Close()
}

func writeProbe(ctx context.Context, addr string) error {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := bench.Dial(pctx, addr, bench.DialOptions{SessionTimeout: probeSession})
	if err != nil {
		return err
	}
	const p = "/benchcompare-ready"
	err = conn.Call(pctx, proto.OpCreate, &proto.CreateRequest{Path: p, Acl: proto.OpenACLUnsafe}, nil)
	if err == nil || errors.Is(err, proto.ErrNodeExists) {
		err = conn.Call(pctx, proto.OpDelete, &proto.DeleteRequest{Path: p, Version: -1}, nil)
		if errors.Is(err, proto.ErrNoNode) {
			err = nil
		}
	}
	if err != nil {
		conn.Abort()
		return err
	}
	return conn.Close()
}

// fourLetter sends a four-letter word and returns the answer.
func fourLetter(addr, cmd string, timeout time.Duration) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(nc, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(nc)
	return string(b), err
}

// alive reports an error naming the members whose process has exited.
func (c *cluster) alive() error {
	var dead []string
	for _, m := range c.members {
		if m.p == nil || !m.p.alive() {
			msg := fmt.Sprintf("member %d is not running", m.id)
			if m.p != nil {
				msg = fmt.Sprintf("member %d exited: %v", m.id, m.p.waitErr)
			}
			dead = append(dead, msg)
		}
	}
	if len(dead) > 0 {
		return fmt.Errorf("%s: %s", c.name, strings.Join(dead, "; "))
	}
	return nil
}

// kill SIGKILLs every member's process group and waits for the exits.
func (c *cluster) kill() {
	var wg sync.WaitGroup
	for _, m := range c.members {
		if m.p != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := m.p.kill(); err != nil {
					c.env.logf("%s member %d: %v", c.name, m.id, err)
				}
			}()
		}
	}
	wg.Wait()
}

// stop ends every member: how is "kill" (SIGKILL, a crash) or "term"
// (SIGTERM, up to 30s for a clean exit, then SIGKILL).
func (c *cluster) stop(how string) error {
	if how == "kill" {
		c.kill()
		return nil
	}
	errs := make([]error, len(c.members))
	var wg sync.WaitGroup
	for i, m := range c.members {
		if m.p != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = m.p.term(30 * time.Second)
			}()
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// mem reads every member's resident memory.
func (c *cluster) mem() ([]memInfo, error) {
	out := make([]memInfo, len(c.members))
	for i, m := range c.members {
		if m.p == nil || !m.p.alive() {
			return nil, fmt.Errorf("%s member %d is not running", c.name, m.id)
		}
		mi, err := readMem(m.p.pid())
		if err != nil {
			return nil, err
		}
		out[i] = mi
	}
	return out, nil
}

// restart stops every member (how: kill or term), starts them all again on
// the same ports and data, and polls each member (every pollEvery) with a
// new session and a getData of path until it returns want. It returns the
// time from just before the first exec to the first member's correct read
// and to the last member's.
func (c *cluster) restart(ctx context.Context, how, path string, want []byte, timeout time.Duration) (first, all time.Duration, err error) {
	if err := c.stop(how); err != nil {
		c.env.logf("%s: stop: %v", c.name, err)
	}
	t0, err := c.launch(false)
	if err != nil {
		return 0, 0, err
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	times := make([]time.Duration, len(c.members))
	errs := make([]error, len(c.members))
	var wg sync.WaitGroup
	for i, m := range c.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			times[i], errs[i] = pollRead(rctx, m, path, want, t0)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, 0, fmt.Errorf("%s restart: %w\n%s", c.name, err, c.logTails(20))
	}
	first, all = times[0], times[0]
	for _, d := range times[1:] {
		first, all = min(first, d), max(all, d)
	}
	return first, all, nil
}

const pollEvery = 10 * time.Millisecond

// pollRead retries a getData of path on m until it returns want.
func pollRead(ctx context.Context, m *member, path string, want []byte, t0 time.Time) (time.Duration, error) {
	var last error
	for {
		if err := readOnce(ctx, m.addr(), path, want); err == nil {
			return time.Since(t0), nil
		} else {
			last = err
		}
		if !m.p.alive() {
			return 0, fmt.Errorf("member %d exited before serving: %v (last read: %v)", m.id, m.p.waitErr, last)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("member %d: no correct read of %s: %w (last read: %v)", m.id, path, ctx.Err(), last)
		case <-time.After(pollEvery):
		}
	}
}

func readOnce(ctx context.Context, addr, path string, want []byte) error {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := bench.Dial(rctx, addr, bench.DialOptions{SessionTimeout: probeSession})
	if err != nil {
		return err
	}
	var resp proto.GetDataResponse
	err = conn.Call(rctx, proto.OpGetData, &proto.GetDataRequest{Path: path}, &resp)
	if err == nil && !bytes.Equal(resp.Data, want) {
		err = fmt.Errorf("getData %s returned %d bytes that differ from the %d loaded", path, len(resp.Data), len(want))
	}
	if err != nil {
		conn.Abort()
		return err
	}
	conn.Close()
	return nil
}

// bindFailed reports whether a member's logs say a port was in use.
func (c *cluster) bindFailed() bool {
	for _, m := range c.members {
		for _, f := range []string{m.logPath, m.zkLog} {
			if f == "" {
				continue
			}
			b, _ := os.ReadFile(f)
			if bytes.Contains(b, []byte("Address already in use")) || bytes.Contains(b, []byte("address already in use")) ||
				bytes.Contains(b, []byte("BindException")) {
				return true
			}
		}
	}
	return false
}

// logTails returns the last n lines of every member's logs.
func (c *cluster) logTails(n int) string {
	var b strings.Builder
	for _, m := range c.members {
		for _, f := range []string{m.zkLog, m.logPath} {
			if f != "" {
				fmt.Fprintf(&b, "--- %s (last %d lines) ---\n%s\n", f, n, tail(f, n))
			}
		}
	}
	return b.String()
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// cleanRoot removes root and everything below it (a no-op when missing),
// so that every run starts from the same tree.
func cleanRoot(ctx context.Context, addr, root string) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	conn, err := bench.Dial(cctx, addr, bench.DialOptions{SessionTimeout: 30 * time.Second})
	if err != nil {
		return err
	}
	defer conn.Close()
	return bench.RemoveTree(cctx, []*bench.Conn{conn}, root)
}
