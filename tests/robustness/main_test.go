package robustness

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
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
	flagSeed    = flag.Int64("robustness.seed", 0, "seed of the nemesis schedule and the workload (0: pick one from the clock); printed by every run")
	flagLong    = flag.Bool("robustness.long", false, "run the long version (also: WARREN_ROBUSTNESS=long)")
	flagRounds  = flag.Int("robustness.rounds", 0, "nemesis rounds per cluster (0: 4 short, 24 long)")
	flagKeep    = flag.Bool("robustness.keep", false, "keep the data directories, configs and logs of every run (printed), even when it passes")
	flagRace    = flag.Bool("robustness.race", false, "build the server binary with the race detector")
	flagNemesis = flag.String("robustness.nemesis", "", "comma-separated nemesis names to draw from (default: all that apply)")
	flagBin     = flag.String("robustness.bin", "", "use this warren binary instead of building ./cmd/warren (to replay a seed against another build)")
)

const modulePath = "github.com/warren-zk/warren"

// long reports whether the long version was asked for.
func long() bool {
	return *flagLong || os.Getenv("WARREN_ROBUSTNESS") == "long"
}

// testSeed returns the seed of this run (the flag, or one from the clock) and prints it, with
// the command line that replays it.
func testSeed(t *testing.T) int64 {
	t.Helper()
	seed := *flagSeed
	if seed == 0 {
		seed = time.Now().UnixNano() & 0x7fffffffffff
	}
	mode := "short"
	if long() {
		mode = "long"
	}
	msg := fmt.Sprintf("robustness: %s: seed %d (%s); replay with: go test ./tests/robustness -run '^%s$' -robustness.seed=%d",
		t.Name(), seed, mode, t.Name(), seed)
	if long() {
		msg += " -robustness.long"
	}
	t.Log(msg)
	fmt.Fprintln(os.Stderr, msg)
	return seed
}

// newRand returns the generator of one part of a run (stream tells the parts apart, so the
// nemesis schedule does not change when a workload draws more numbers).
func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

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

// warrenBinary builds ./cmd/warren once per test binary run (from the module root found from
// the working directory) and returns its path.
func warrenBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if *flagBin != "" {
			binPath, buildErr = filepath.Abs(*flagBin)
			return
		}
		start := time.Now()
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		buildDir, err = os.MkdirTemp("", "warren-robustness-bin-")
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
		fmt.Fprintf(os.Stderr, "robustness: built %s in %v\n", out, time.Since(start).Round(time.Millisecond))
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
		if err == nil && bytes.Contains(b, []byte("module "+modulePath+"\n")) {
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
// them, and go.sum). go test caches a passing result keyed on the test binary and on the files
// the test opened; the server is built by a separate process, so without this a change to the
// server would not invalidate a cached PASS of this package.
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
