package crash

import (
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/testutil/walfault"
)

// TestTornTail kills the server in the middle of a workload, damages the end of the last WAL
// segment as an unfinished batch would, and checks that the server repairs it (saying so in its
// log), keeps every acknowledged write and keeps working.
func TestTornTail(t *testing.T) {
	h := newHarness(t, 2, "preAllocSize=256")
	cycle := 0
	for _, tt := range walfault.TornTails {
		cycle++
		var what string
		for attempt := 0; ; attempt++ {
			h.runAndKill(cycle, time.Duration(150+h.rng.IntN(250))*time.Millisecond)
			var err error
			what, err = walfault.WriteTornTail(h.srv.dataDir, h.rng, tt, 512, false)
			if err == nil {
				break
			}
			if attempt == 3 {
				h.fatalf("%s: %v", tt.Name, err)
			}
			// The segment is nearly full: restart, write some more, try again.
			h.restartAndCheck(cycle, false)
			cycle++
		}
		_, res := h.restartAndCheck(cycle, false)
		log := h.srv.logSince()
		if !strings.Contains(log, "torn tail") {
			h.rep.failf("%s (%s): the server started but logged no torn-tail line; its log:\n%s", tt.Name, what, lastLines(log, 20))
		}
		t.Logf("torn tail %q: %s; repaired, %d acknowledged nodes verified", tt.Name, what, res.nodes)
	}
	// One more crash on the repaired log, without damage.
	cycle++
	h.runAndKill(cycle, 300*time.Millisecond)
	h.restartAndCheck(cycle, false)
	h.finish(cycle)
}
