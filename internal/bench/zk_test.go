package bench

import (
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/testutil/zkoracle"
)

// TestAgainstZooKeeper runs workloads against Apache ZooKeeper 3.8: the
// client is a ZooKeeper client, not a Warren-only one.
func TestAgainstZooKeeper(t *testing.T) {
	t.Parallel()
	zk := zkoracle.Start(t, &zkoracle.Options{ExtraConfig: map[string]string{"maxClientCnxns": "0"}})
	for _, cfg := range []Config{
		{Workload: "create", Ops: 200, Sessions: 4},
		{Workload: "get", Duration: 200 * time.Millisecond, Sessions: 4, Keys: 50, Outstanding: 4},
		{Workload: "multi", Ops: 20, Sessions: 2, MultiOps: 5},
		{Workload: "watch", Ops: 10, Sessions: 3},
	} {
		t.Run(cfg.Workload, func(t *testing.T) {
			res := checkRun(t, zk.Addr, cfg)
			t.Logf("ZooKeeper %s: %d ops, %.0f ops/s, p99 %v", cfg.Workload, res.Ops, res.OpsPerSec, res.P99)
		})
	}
}
