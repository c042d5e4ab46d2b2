package robustness

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/testutil/warrenbin"
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

// warrenBinary builds ./cmd/warren once per test binary run and returns its path.
func warrenBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if *flagBin != "" {
			binPath, buildErr = filepath.Abs(*flagBin)
			return
		}
		start := time.Now()
		binPath, buildDir, buildErr = warrenbin.Build(*flagRace, "warren-robustness-bin-")
		if buildErr == nil {
			fmt.Fprintf(os.Stderr, "robustness: built %s in %v\n", binPath, time.Since(start).Round(time.Millisecond))
		}
	})
	if buildErr != nil {
		t.Fatalf("cannot build the server: %v", buildErr)
	}
	return binPath
}
