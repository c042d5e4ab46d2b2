package robustness

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-zk/warren/internal/testutil/deps"
)

// clusterOptions are the knobs a run chooses (from its seed) for a cluster.
type clusterOptions struct {
	voters, observers int
	tickTime          int // ms, 100..200
	snapCount         int
	maxSessionMs      int
}

func (o clusterOptions) commonConfig(m *member) []string {
	return []string{
		"# Written by tests/robustness: every peer address but this member's own is a fault-injecting proxy.",
		fmt.Sprintf("tickTime=%d", o.tickTime),
		"initLimit=10",
		"syncLimit=5",
		"dataDir=" + m.dataDir,
		"clientPortAddress=127.0.0.1",
		fmt.Sprintf("clientPort=%d", m.clientPort),
		"4lw.commands.whitelist=*",
		"admin.enableServer=false",
		fmt.Sprintf("snapCount=%d", o.snapCount),
		"preAllocSize=1024",
		fmt.Sprintf("minSessionTimeout=%d", 2*o.tickTime),
		fmt.Sprintf("maxSessionTimeout=%d", o.maxSessionMs),
		"maxClientCnxns=0",
	}
}

func writeConfig(m *member, lines []string) error {
	return os.WriteFile(m.cfgPath, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// --- Warren ---

type warrenCluster struct {
	*base
	bin string
}

func newWarrenCluster(t *testing.T, o clusterOptions, seed int64) (*warrenCluster, error) {
	bin := warrenBinary(t)
	b, err := newBase(t, "warren", o.voters, o.observers, 1, seed)
	if err != nil {
		return nil, err
	}
	c := &warrenCluster{base: b, bin: bin}
	for i, m := range b.members {
		lines := o.commonConfig(m)
		if m.observer {
			lines = append(lines, "peerType=observer")
		}
		lines = append(lines, b.serverLines(i, func(*member) string { return "" })...)
		if err := writeConfig(m, lines); err != nil {
			b.stop()
			return nil, err
		}
	}
	return c, nil
}

func (c *warrenCluster) kind() string { return "warren" }

// localPaths: none, Warren replicates /zookeeper/config like everything else.
func (c *warrenCluster) localPaths() []string { return nil }

func (c *warrenCluster) start(i int) error {
	m := c.members[i]
	return m.spawn([]string{c.bin, "server", "-log-level", "info", m.cfgPath}, nil)
}

func (c *warrenCluster) damageWAL(i int, rng *rand.Rand) (string, error) {
	return damageWALTail(c.members[i].dataDir, rng)
}

// --- Apache ZooKeeper 3.8 (the control) ---

type zkCluster struct {
	*base
	java, cp string
}

const zkMainClass = "org.apache.zookeeper.server.quorum.QuorumPeerMain"

func newZKCluster(t *testing.T, o clusterOptions, seed int64) (*zkCluster, error) {
	java := deps.Java(t)
	cp := deps.ZooKeeperClasspath(t)
	b, err := newBase(t, "zookeeper", o.voters, o.observers, 2, seed)
	if err != nil {
		return nil, err
	}
	c := &zkCluster{base: b, java: java, cp: cp}
	for i, m := range b.members {
		lines := o.commonConfig(m)
		lines = append(lines, "standaloneEnabled=false", "reconfigEnabled=false")
		if m.observer {
			lines = append(lines, "peerType=observer")
		}
		lines = append(lines, b.serverLines(i, func(*member) string { return "" })...)
		if err := writeConfig(m, lines); err != nil {
			b.stop()
			return nil, err
		}
	}
	return c, nil
}

func (c *zkCluster) kind() string { return "zookeeper" }

// localPaths: ZooKeeper sets /zookeeper/config from each server's own view of the static
// configuration (here every member's lists its proxies), not through a transaction.
func (c *zkCluster) localPaths() []string { return []string{"/zookeeper/config"} }

func (c *zkCluster) start(i int) error {
	m := c.members[i]
	logFile := filepath.Join(m.dir, "zookeeper.log")
	log4j, err := deps.Log4jConfig(m.dir, logFile)
	if err != nil {
		return err
	}
	argv := []string{c.java,
		"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
		"-XX:-UsePerfData",
		"-Djava.net.preferIPv4Stack=true",
		"-Duser.timezone=UTC", // its log's timestamps are parsed (serverEvents)
		"-Dzookeeper.log.dir=" + m.dir,
		"-Dzookeeper.jmx.log4j.disable=true",
		log4j,
		"-cp", c.cp, zkMainClass, m.cfgPath,
	}
	return m.spawn(argv, nil)
}

func (c *zkCluster) logTail(i, n int) string {
	return (&member{logPath: filepath.Join(c.members[i].dir, "zookeeper.log")}).logTail(n) + "\n--- stdout/stderr ---\n" + c.members[i].logTail(10)
}

// damageWAL is not done to ZooKeeper: its transaction log has another format and its own
// recovery rules; the control runs the nemeses that make sense for it.
func (c *zkCluster) damageWAL(int, *rand.Rand) (string, error) { return "", nil }
