package robustness

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/testutil/faultproxy"
)

// cluster is an ensemble of server processes on loopback ports whose peer links go through
// proxies the suite controls. Members are numbered 0..size()-1 (myid is index+1). Two
// implementations: Warren (the real binary) and Apache ZooKeeper 3.8 (the control).
type cluster interface {
	kind() string // "warren" or "zookeeper"
	size() int
	voters() int
	isObserver(i int) bool
	clientAddr(i int) string
	clientAddrs() []string
	dataDir(i int) string
	// start starts member i (again, on the same data); it must not be running.
	start(i int) error
	// kill sends SIGKILL and waits for the process to be gone (no-op if it is not running).
	kill(i int)
	// pause and resume send SIGSTOP and SIGCONT.
	pause(i int)
	resume(i int)
	running(i int) bool
	// links returns the proxies of the directed peer link from member `from` to member `to`
	// (every connection `from` opens to `to` goes through them).
	links(from, to int) []*faultproxy.Proxy
	// damageWAL damages the tail of a killed member's newest log segment (empty string and
	// no error when this kind of cluster does not support it).
	damageWAL(i int, rng *rand.Rand) (string, error)
	// exited reports members whose process ended by itself (not killed by the suite).
	exited() []string
	logTail(i, n int) string
	dir() string
	// localPaths are nodes each member writes from its own configuration rather than through
	// the replicated log (left out of the replicas-identical check).
	localPaths() []string
	// serverEvents parses the members' logs for session expiries and leadership starts (to
	// explain an expiry the checkers found).
	serverEvents() []serverEvent
	// pauses returns every SIGSTOP so far, with whether the member then led.
	pauses() []pauseRecord
	// oneWays returns every period in which a member's outgoing peer connections were
	// silenced while the others' reached it (the leader-one-way nemesis).
	oneWays() []pauseRecord
	stop()
}

// pauseRecord is one SIGSTOP/SIGCONT of a member.
type pauseRecord struct {
	member     int
	from, to   time.Time // to is zero while paused
	wasLeading bool
}

// member is one server process of a cluster.
type member struct {
	id       int // myid
	observer bool
	dir      string
	dataDir  string
	cfgPath  string
	logPath  string

	clientPort, peerPort, electionPort int

	mu       sync.Mutex
	cmd      *exec.Cmd
	exitedCh chan struct{}
	waitErr  error
	killed   bool // the suite ended this incarnation
	paused   bool
	starts   int
	died     []string // incarnations that ended by themselves
}

func (m *member) clientAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.clientPort))
}

// spawn starts argv with the member's log file as stdout and stderr.
func (m *member) spawn(argv []string, env []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		select {
		case <-m.exitedCh:
		default:
			return fmt.Errorf("member %d is running", m.id)
		}
	}
	m.starts++
	logf, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== robustness: start #%d of member %d at %s ===\n", m.starts, m.id, time.Now().Format("15:04:05.000"))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = m.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	ch := make(chan struct{})
	m.cmd, m.exitedCh, m.killed, m.paused = cmd, ch, false, false
	go func() {
		err := cmd.Wait()
		m.mu.Lock()
		m.waitErr = err
		if !m.killed {
			m.died = append(m.died, fmt.Sprintf("member %d (start #%d) exited by itself: %v", m.id, m.starts, err))
		}
		m.mu.Unlock()
		close(ch)
	}()
	return nil
}

func (m *member) kill() {
	m.mu.Lock()
	cmd, ch := m.cmd, m.exitedCh
	if cmd == nil {
		m.mu.Unlock()
		return
	}
	m.killed = true
	m.mu.Unlock()
	// The whole process group: a JVM may have children.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		cmd.Process.Kill()
	}
	<-ch
	m.mu.Lock()
	m.cmd = nil
	m.paused = false
	m.mu.Unlock()
}

func (m *member) signal(sig syscall.Signal) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	select {
	case <-m.exitedCh:
		return
	default:
	}
	syscall.Kill(-m.cmd.Process.Pid, sig)
	m.paused = sig == syscall.SIGSTOP
}

func (m *member) running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return false
	}
	select {
	case <-m.exitedCh:
		return false
	default:
		return true
	}
}

func (m *member) logTail(n int) string {
	b, err := os.ReadFile(m.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", m.logPath, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// base holds what both implementations share: members, proxies, directories.
type base struct {
	t       *testing.T
	root    string
	members []*member
	prox    map[[2]int][]*faultproxy.Proxy

	pmu    sync.Mutex
	paused []pauseRecord
	oneway []pauseRecord
}

func (b *base) noteOneWay(i int, start bool) {
	b.pmu.Lock()
	defer b.pmu.Unlock()
	if start {
		b.oneway = append(b.oneway, pauseRecord{member: i, from: time.Now(), wasLeading: true})
		return
	}
	for k := range b.oneway {
		if b.oneway[k].member == i && b.oneway[k].to.IsZero() {
			b.oneway[k].to = time.Now()
		}
	}
}

func (b *base) oneWays() []pauseRecord {
	b.pmu.Lock()
	defer b.pmu.Unlock()
	return append([]pauseRecord(nil), b.oneway...)
}

func (b *base) size() int { return len(b.members) }
func (b *base) voters() int {
	n := 0
	for _, m := range b.members {
		if !m.observer {
			n++
		}
	}
	return n
}
func (b *base) isObserver(i int) bool   { return b.members[i].observer }
func (b *base) clientAddr(i int) string { return b.members[i].clientAddr() }
func (b *base) clientAddrs() []string {
	out := make([]string, len(b.members))
	for i, m := range b.members {
		out[i] = m.clientAddr()
	}
	return out
}
func (b *base) dataDir(i int) string { return b.members[i].dataDir }

func (b *base) kill(i int) {
	b.members[i].kill()
	b.endPause(i)
}

func (b *base) pause(i int) {
	if !b.members[i].running() {
		return
	}
	lead := srvrMode(b.members[i].clientAddr(), 500*time.Millisecond) == "leader"
	b.members[i].signal(syscall.SIGSTOP)
	b.pmu.Lock()
	b.paused = append(b.paused, pauseRecord{member: i, from: time.Now(), wasLeading: lead})
	b.pmu.Unlock()
}

func (b *base) resume(i int) {
	m := b.members[i]
	m.mu.Lock()
	wasPaused := m.paused
	m.mu.Unlock()
	if !wasPaused {
		return
	}
	m.signal(syscall.SIGCONT)
	b.endPause(i)
}

func (b *base) endPause(i int) {
	b.pmu.Lock()
	defer b.pmu.Unlock()
	for k := range b.paused {
		if b.paused[k].member == i && b.paused[k].to.IsZero() {
			b.paused[k].to = time.Now()
		}
	}
}

func (b *base) pauses() []pauseRecord {
	b.pmu.Lock()
	defer b.pmu.Unlock()
	return append([]pauseRecord(nil), b.paused...)
}

func (b *base) running(i int) bool                     { return b.members[i].running() }
func (b *base) links(from, to int) []*faultproxy.Proxy { return b.prox[[2]int{from, to}] }
func (b *base) logTail(i, n int) string                { return b.members[i].logTail(n) }
func (b *base) dir() string                            { return b.root }

// allProxies returns every proxy, in member order.
func (b *base) allProxies() (out []*faultproxy.Proxy) {
	for i := range b.members {
		for j := range b.members {
			out = append(out, b.prox[[2]int{i, j}]...)
		}
	}
	return out
}

func (b *base) exited() []string {
	var out []string
	for _, m := range b.members {
		m.mu.Lock()
		out = append(out, m.died...)
		m.mu.Unlock()
	}
	return out
}

func (b *base) stop() {
	for i, m := range b.members {
		b.resume(i)
		m.kill()
	}
	for _, p := range b.allProxies() {
		p.Close()
	}
}

// newBase lays out n members (the last `observers` of them observers) with their ports and
// directories, and one proxy per directed link and per proxied port kind (ports: 1 for the
// peer port only, 2 for the peer and election ports).
func newBase(t *testing.T, kind string, voters, observers, ports int, seed int64) (*base, error) {
	root, err := os.MkdirTemp("", "warren-robustness-"+kind+"-")
	if err != nil {
		return nil, err
	}
	b := &base{t: t, root: root, prox: map[[2]int][]*faultproxy.Proxy{}}
	n := voters + observers
	for i := 0; i < n; i++ {
		dir := filepath.Join(root, fmt.Sprintf("m%d", i+1))
		m := &member{id: i + 1, observer: i >= voters, dir: dir, dataDir: filepath.Join(dir, "data"),
			cfgPath: filepath.Join(dir, "zoo.cfg"), logPath: filepath.Join(dir, "server.log")}
		if err := os.MkdirAll(m.dataDir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(m.dataDir, "myid"), []byte(strconv.Itoa(m.id)+"\n"), 0o644); err != nil {
			return nil, err
		}
		b.members = append(b.members, m)
	}
	ps, release, err := freePorts(3 * n)
	if err != nil {
		return nil, err
	}
	// The members' ports stay reserved while the proxies pick theirs, so
	// that no proxy gets one of them (a proxy port equal to a member's
	// election port made that member refuse its zoo.cfg).
	defer release()
	for i, m := range b.members {
		m.clientPort, m.peerPort, m.electionPort = ps[3*i], ps[3*i+1], ps[3*i+2]
	}
	for i := range b.members {
		for j, to := range b.members {
			if i == j {
				continue
			}
			targets := []int{to.peerPort, to.electionPort}[:ports]
			for k, port := range targets {
				p, err := faultproxy.New(fmt.Sprintf("%d->%d/%s", i+1, j+1, []string{"peer", "election"}[k]),
					net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), uint64(seed)+uint64(100*i+10*j+k))
				if err != nil {
					b.stop()
					return nil, err
				}
				b.prox[[2]int{i, j}] = append(b.prox[[2]int{i, j}], p)
			}
		}
	}
	return b, nil
}

// serverLines returns the server.N lines of member i's zoo.cfg: its own line has its real
// ports, every other member's line the ports of i's proxies to it.
func (b *base) serverLines(i int, tags func(m *member) string) []string {
	var out []string
	for j, m := range b.members {
		pp, ep := m.peerPort, m.electionPort
		if j != i {
			ps := b.prox[[2]int{i, j}]
			pp = ps[0].Port()
			if len(ps) > 1 {
				ep = ps[1].Port()
			}
		}
		line := fmt.Sprintf("server.%d=127.0.0.1:%d:%d", m.id, pp, ep)
		if m.observer {
			line += ":observer"
		}
		out = append(out, line+tags(m))
	}
	return out
}

// freePorts asks the kernel for n distinct unused loopback ports, held open (so that they
// differ, and nothing else listening on :0 gets them) until release is called.
func freePorts(n int) (ports []int, release func(), err error) {
	var lns []net.Listener
	release = func() {
		for _, l := range lns {
			l.Close()
		}
	}
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			release()
			return nil, func() {}, err
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, release, nil
}

// fourLetter sends a four-letter word and returns the whole answer.
func fourLetter(addr, cmd string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// srvrMode returns the Mode line of srvr ("leader", "follower", "observer", "standalone"), or ""
// when the server does not answer or does not serve.
func srvrMode(addr string, timeout time.Duration) string {
	r, err := fourLetter(addr, "srvr", timeout)
	if err != nil && r == "" {
		return ""
	}
	sc := bufio.NewScanner(strings.NewReader(r))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Mode: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// leader returns the index of the member that says it leads, or -1.
func leader(c cluster) int {
	found := -1
	for i := 0; i < c.size(); i++ {
		if !c.running(i) {
			continue
		}
		if srvrMode(c.clientAddr(i), time.Second) == "leader" {
			if found >= 0 {
				return -1 // two claim it (one is stale): not settled
			}
			found = i
		}
	}
	return found
}

// waitHealthy waits until every running member serves and exactly one of them leads.
func waitHealthy(c cluster, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var modes []string
	for {
		if died := c.exited(); len(died) > 0 {
			return fmt.Errorf("%s", strings.Join(died, "; "))
		}
		modes = modes[:0]
		leaders, serving, up := 0, 0, 0
		for i := 0; i < c.size(); i++ {
			if !c.running(i) {
				modes = append(modes, fmt.Sprintf("%d:down", i+1))
				continue
			}
			up++
			m := srvrMode(c.clientAddr(i), time.Second)
			modes = append(modes, fmt.Sprintf("%d:%s", i+1, m))
			switch m {
			case "leader":
				leaders++
				serving++
			case "follower", "observer":
				serving++
			}
		}
		if leaders == 1 && serving == up {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy after %v: %s", timeout, strings.Join(modes, " "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
