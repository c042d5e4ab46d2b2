package crash

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serverProc is a `warren server` process that the test starts, kills and restarts on the
// same data directory and port. Its stdout and stderr go to one log file, each start marked.
type serverProc struct {
	bin, dir, cfgPath, logPath string
	dataDir                    string
	port                       int
	addr                       string

	cmd     *exec.Cmd
	logf    *os.File
	exited  chan struct{}
	waitErr error
	starts  int
	logMark int64 // log size when the current incarnation started
}

// newServerProc writes the zoo.cfg of the crash tests (extra lines appended) in a fresh
// directory; the server is not started.
func newServerProc(t *testing.T, extra ...string) *serverProc {
	t.Helper()
	dir := t.TempDir()
	s := &serverProc{
		bin: warrenBinary(t), dir: dir,
		cfgPath: filepath.Join(dir, "zoo.cfg"), logPath: filepath.Join(dir, "server.log"),
		dataDir: filepath.Join(dir, "data"), port: freePort(t),
	}
	s.addr = fmt.Sprintf("127.0.0.1:%d", s.port)
	cfg := []string{
		"dataDir=" + s.dataDir,
		"clientPortAddress=127.0.0.1",
		fmt.Sprintf("clientPort=%d", s.port),
		"tickTime=200",
		"snapCount=200",
		"4lw.commands.whitelist=*",
	}
	cfg = append(cfg, extra...)
	if err := os.WriteFile(s.cfgPath, []byte(strings.Join(cfg, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	s.logf = f
	t.Cleanup(func() {
		s.kill()
		s.logf.Close()
	})
	return s
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start spawns the server (it must not be running).
func (s *serverProc) start() error {
	s.starts++
	fmt.Fprintf(s.logf, "=== crash test: start #%d at %s ===\n", s.starts, time.Now().Format("15:04:05.000"))
	if st, err := s.logf.Stat(); err == nil {
		s.logMark = st.Size()
	}
	cmd := exec.Command(s.bin, "server", s.cfgPath)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = s.logf, s.logf
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	return nil
}

// kill sends SIGKILL and waits for the process to be gone. It is a no-op if it is not running.
func (s *serverProc) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

// running reports whether the process is alive (it may have exited by itself).
func (s *serverProc) running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// waitServing polls ruok until it answers imok, then does a read on a new session, and returns
// the time since start. It fails if that takes longer than bound or if the process exits.
func (s *serverProc) waitServing(bound time.Duration, readPath string) (time.Duration, error) {
	started := time.Now()
	deadline := started.Add(bound)
	for !ruok(s.addr, 200*time.Millisecond) {
		if !s.running() {
			return 0, fmt.Errorf("the server exited before serving (%v)", s.waitErr)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("ruok did not answer imok within %v", bound)
		}
		time.Sleep(3 * time.Millisecond)
	}
	for {
		err := func() error {
			c, err := dial("serving-probe", s.addr, 4000, 0, nil, 0)
			if err != nil {
				return err
			}
			defer c.closeSession()
			r := c.getData(readPath).wait()
			if !r.ok() {
				return fmt.Errorf("getData %s: %v", readPath, r)
			}
			return nil
		}()
		if err == nil {
			return time.Since(started), nil
		}
		if !s.running() {
			return 0, fmt.Errorf("the server exited before serving (%v); last read attempt: %v", s.waitErr, err)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("ruok answered but a read did not succeed within %v: %v", bound, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits (up to 10s) for a clean exit.
func (s *serverProc) stop() error {
	if s.cmd == nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		s.cmd = nil
		return s.waitErr
	case <-time.After(10 * time.Second):
		s.kill()
		return errors.New("the server did not exit within 10s of SIGTERM")
	}
}

// logSince returns what the current incarnation has logged so far.
func (s *serverProc) logSince() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil || int64(len(b)) < s.logMark {
		return ""
	}
	return string(b[s.logMark:])
}

// logTail returns the last n lines of the whole server log.
func (s *serverProc) logTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", s.logPath, err)
	}
	return lastLines(string(b), n)
}
