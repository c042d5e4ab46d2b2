package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// loadAvg returns the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// describeMachine fills the machine fields of rec.
// serverCPUs is the servers' taskset CPU list ("" when not pinned): the JVM's
// ergonomics depend on the CPUs it may use.
func describeMachine(ctx context.Context, rec *machineRecord, java string, zkJVM []string, serverCPUs string) {
	rec.NProc = runtime.NumCPU()
	rec.GoVersion = runtime.Version()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		rec.Kernel = strings.TrimSpace(string(b))
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				rec.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				fields := strings.Fields(v)
				if len(fields) == 2 {
					n, _ := strconv.ParseInt(fields[0], 10, 64)
					rec.MemTotal = n << 10
				}
				break
			}
		}
		f.Close()
	}
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(cctx, java, "-version").CombinedOutput(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		for i := range lines {
			lines[i] = strings.TrimSpace(lines[i])
		}
		rec.JavaVersion = strings.Join(lines, "; ")
	}
	// The flags the JVM settles on (GC, heap) for the ZooKeeper servers' options.
	argv := append(append([]string{java}, zkJVM...), "-XX:+PrintCommandLineFlags", "-version")
	if serverCPUs != "" {
		argv = append([]string{"taskset", "-c", serverCPUs}, argv...)
	}
	if out, err := exec.CommandContext(cctx, argv[0], argv[1:]...).Output(); err == nil {
		rec.JVMErgonomics = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
}

// gitDescribe names the tree Warren was built from: the commit, and
// "+uncommitted changes" when the work tree differs from it.
func gitDescribe(ctx context.Context, dir string) string {
	head, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "(not a git checkout)"
	}
	s := "commit " + strings.TrimSpace(string(head))
	if st, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		s += " + uncommitted changes"
	}
	return s
}

// goTool returns the go command that runs this program's toolchain.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// moduleRoot returns the directory of the main module (go env GOMOD).
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, goTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the Warren module (go env GOMOD is %q); run from the repository", gomod)
	}
	return filepath.Dir(gomod), nil
}

// buildWarrenRev exports revision rev of the repository at root (git
// archive, so neither the work tree nor the index is touched) into dir/src
// and builds its ./cmd/warren into dir. It returns the binary and the commit.
func buildWarrenRev(ctx context.Context, root, rev, dir string) (bin, commit string, err error) {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short=12", rev+"^{commit}").Output()
	if err != nil {
		return "", "", fmt.Errorf("git rev-parse %s: %v", rev, err)
	}
	commit = strings.TrimSpace(string(out))
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", "", err
	}
	archive := exec.CommandContext(ctx, "git", "-C", root, "archive", "--format=tar", commit)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", "", err
	}
	untar.Stdin = pipe
	var aerr, terr bytes.Buffer
	archive.Stderr, untar.Stderr = &aerr, &terr
	if err := untar.Start(); err != nil {
		return "", "", err
	}
	if err := archive.Run(); err != nil {
		untar.Wait()
		return "", "", fmt.Errorf("git archive %s: %v: %s", commit, err, aerr.String())
	}
	if err := untar.Wait(); err != nil {
		return "", "", fmt.Errorf("tar -x: %v: %s", err, terr.String())
	}
	bin, err = buildWarren(ctx, src, dir)
	return bin, commit, err
}

// buildWarren builds ./cmd/warren of the module at root into dir.
func buildWarren(ctx context.Context, root, dir string) (string, error) {
	return buildCommand(ctx, root, dir, "cmd/warren")
}

// buildCommand builds ./pkg (a main package) of the module at root into
// dir and returns the binary's path.
func buildCommand(ctx context.Context, root, dir, pkg string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", out, "./"+pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./%s (in %s): %v\n%s", pkg, root, err, b)
	}
	return out, nil
}
