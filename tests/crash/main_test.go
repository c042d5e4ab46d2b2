package crash

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	flagSeed   = flag.Int64("crash.seed", 0, "seed of the workload and the kill times (0: pick one from the clock)")
	flagCycles = flag.Int("crash.cycles", 20, "kill/restart cycles of TestCrashRestart")
	flagRace   = flag.Bool("crash.race", false, "build the server binary with the race detector")
)

const modulePath = "github.com/warren-zk/warren"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// warrenBinary builds ./cmd/warren once per test binary run and returns its path.
func warrenBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		start := time.Now()
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		buildDir, err = os.MkdirTemp("", "warren-crash-bin-")
		if err != nil {
			buildErr = err
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		out := filepath.Join(buildDir, "warren")
		args := []string{"build", "-o", out}
		if *flagRace {
			args = append(args, "-race")
		}
		args = append(args, "./cmd/warren")
		cmd := exec.Command(goTool, args...)
		cmd.Dir = root
		var outb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &outb, &outb
		if err := cmd.Run(); err != nil {
			buildErr = fmt.Errorf("go %s (in %s): %v\n%s", strings.Join(args, " "), root, err, outb.String())
			return
		}
		if err := recordInputs(goTool, root); err != nil {
			buildErr = err
			return
		}
		binPath = out
		fmt.Fprintf(os.Stderr, "crash: built %s in %v\n", out, time.Since(start).Round(time.Millisecond))
	})
	if buildErr != nil {
		t.Fatalf("cannot build the server: %v", buildErr)
	}
	return binPath
}

// moduleRoot walks up from the working directory (the package directory under go test) to the
// directory whose go.mod declares this module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module "+modulePath)) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of " + modulePath + " above the working directory")
		}
		dir = parent
	}
}

// recordInputs opens every source file of the server binary (and the directories holding
// them, and go.sum). go test caches a passing result keyed on the test binary and on the
// files the test opened; the server is built by a separate process, so without this a change
// to the server would not invalidate a cached PASS of this package.
func recordInputs(goTool, root string) error {
	cmd := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "./cmd/warren")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go list -deps ./cmd/warren: %v", err)
	}
	open := func(p string) []string {
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		names, _ := f.Readdirnames(-1)
		return names
	}
	open(filepath.Join(root, "go.sum"))
	for _, dir := range strings.Fields(string(out)) {
		if rel, err := filepath.Rel(root, dir); err != nil || strings.HasPrefix(rel, "..") {
			continue // a dependency outside the module: go.sum pins it
		}
		for _, name := range open(dir) {
			if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
				open(filepath.Join(dir, name))
			}
		}
	}
	return nil
}
