package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one server process the tool started. It runs in its own process
// group (so that a kill reaches anything it spawned) and, on Linux, the
// kernel kills it if the tool dies first (see sysProcAttr).
type proc struct {
	cmd     *exec.Cmd
	started time.Time
	exited  chan struct{} // closed when the process has been reaped
	waitErr error         // valid after exited is closed
}

// registry holds every running proc so that the tool can kill them all on
// any exit path (return, error, signal).
type registry struct {
	mu sync.Mutex
	m  map[*proc]bool
}

var procs = &registry{m: map[*proc]bool{}}

func (r *registry) add(p *proc) {
	r.mu.Lock()
	r.m[p] = true
	r.mu.Unlock()
}

func (r *registry) remove(p *proc) {
	r.mu.Lock()
	delete(r.m, p)
	r.mu.Unlock()
}

// killAll sends SIGKILL to the process group of every registered proc and
// waits (boundedly) for them to be reaped.
func (r *registry) killAll() {
	r.mu.Lock()
	ps := make([]*proc, 0, len(r.m))
	for p := range r.m {
		ps = append(ps, p)
	}
	r.mu.Unlock()
	for _, p := range ps {
		p.signal(syscall.SIGKILL)
	}
	for _, p := range ps {
		p.wait(10 * time.Second)
		r.remove(p)
	}
}

// startProc starts argv in dir with stdout and stderr appended to logPath
// (truncated first when truncate is set), after a marker line.
func startProc(argv []string, dir, logPath string, truncate bool, marker string) (*proc, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if truncate {
		flags |= os.O_TRUNC
	}
	logf, err := os.OpenFile(logPath, flags, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy
	fmt.Fprintf(logf, "=== benchcompare: %s at %s ===\n", marker, time.Now().Format("15:04:05.000"))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	procs.add(p)
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// signal sends sig to the process group (falling back to the process).
func (p *proc) signal(sig syscall.Signal) {
	if !p.alive() {
		return
	}
	if err := syscall.Kill(-p.pid(), sig); err != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

func (p *proc) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		return true
	case <-t.C:
		return false
	}
}

// kill sends SIGKILL to the process group and waits for the process to be
// reaped.
func (p *proc) kill() error {
	p.signal(syscall.SIGKILL)
	defer procs.remove(p)
	if !p.wait(30 * time.Second) {
		return fmt.Errorf("pid %d did not exit within 30s of SIGKILL", p.pid())
	}
	return nil
}

// term sends SIGTERM and waits up to grace for the exit, then kills.
func (p *proc) term(grace time.Duration) error {
	p.signal(syscall.SIGTERM)
	if p.wait(grace) {
		procs.remove(p)
		return nil
	}
	if err := p.kill(); err != nil {
		return err
	}
	return fmt.Errorf("pid %d did not exit within %v of SIGTERM; killed", p.pid(), grace)
}

// memInfo is a process's resident memory from /proc/<pid>/status.
type memInfo struct {
	RSS int64 // VmRSS, bytes
	HWM int64 // VmHWM (peak RSS), bytes
}

func readMem(pid int) (memInfo, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return memInfo{}, err
	}
	defer f.Close()
	var m memInfo
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) != 2 || fields[1] != "kB" {
			return memInfo{}, fmt.Errorf("/proc/%d/status: bad %s line %q", pid, k, sc.Text())
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return memInfo{}, fmt.Errorf("/proc/%d/status: %v", pid, err)
		}
		if k == "VmRSS" {
			m.RSS = n << 10
		} else {
			m.HWM = n << 10
		}
	}
	if err := sc.Err(); err != nil {
		return memInfo{}, err
	}
	if m.RSS == 0 {
		return memInfo{}, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
	}
	return m, nil
}
