package crash

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/testutil/warrenbin"
)

var (
	flagSeed   = flag.Int64("crash.seed", 0, "seed of the workload and the kill times (0: pick one from the clock)")
	flagCycles = flag.Int("crash.cycles", 20, "kill/restart cycles of TestCrashRestart")
	flagRace   = flag.Bool("crash.race", false, "build the server binary with the race detector")
)

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
		binPath, buildDir, buildErr = warrenbin.Build(*flagRace, "warren-crash-bin-")
		if buildErr == nil {
			fmt.Fprintf(os.Stderr, "crash: built %s in %v\n", binPath, time.Since(start).Round(time.Millisecond))
		}
	})
	if buildErr != nil {
		t.Fatalf("cannot build the server: %v", buildErr)
	}
	return binPath
}
