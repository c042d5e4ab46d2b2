package clients

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/testutil/deps"
)

// TestCurator compiles and runs a Java program using Apache Curator 5.4 (Debian
// libcurator-*-java) against Warren: creatingParentContainersIfNeeded (and the reaper removing
// the emptied containers), transactions with check, InterProcessMutex between two clients,
// LeaderLatch election and failover, CuratorCache (persistent recursive watches) and ephemerals.
// The program checks everything itself and exits non-zero on a failure. Two JVM launches: javac
// and java.
func TestCurator(t *testing.T) {
	t.Parallel()
	java := deps.Java(t)
	cp := deps.CuratorClasspath(t)
	javac := filepath.Join(filepath.Dir(java), "javac")
	if _, err := os.Stat(javac); err != nil {
		javac = "/usr/bin/javac"
		if _, err := os.Stat(javac); err != nil {
			deps.Missing(t, "default-jdk-headless", "no javac next to "+java+" or at /usr/bin/javac")
		}
	}
	srv := startServer(t, nil)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "CuratorCheck.java"), []byte(curatorProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "curator.log")
	logFlag, err := deps.Log4jConfig(dir, logFile)
	if err != nil {
		t.Fatal(err)
	}
	var jflags []string
	for _, f := range jvmFlags {
		jflags = append(jflags, "-J"+f)
	}
	mustRun(t, command{
		path:    javac,
		args:    append(jflags, "-proc:none", "-nowarn", "-cp", cp, "-d", dir, filepath.Join(dir, "CuratorCheck.java")),
		timeout: 90 * time.Second,
	})
	out, err := run(t, command{
		path:    java,
		args:    append(append([]string(nil), jvmFlags...), logFlag, "-cp", cp+string(os.PathListSeparator)+dir, "CuratorCheck", srv.Addr),
		timeout: 90 * time.Second,
	})
	if err != nil || !strings.HasSuffix(out, "ALL OK\n") || strings.Contains(out, "FAIL") {
		logText, _ := os.ReadFile(logFile)
		t.Fatalf("Curator program failed (%v):\n%s\n----- curator.log -----\n%s", err, out, tail(string(logText), 200))
	}
	t.Logf("Curator program output:\n%s", out)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

const curatorProgram = `// Written by tests/clients (TestCurator): Apache Curator against a Warren server. Exits non-zero on failure.
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

public class CuratorCheck {
    static final List<String> failures = new ArrayList<>();

    static void check(boolean ok, String what) {
        System.out.println((ok ? "ok: " : "FAIL: ") + what);
        if (!ok) failures.add(what);
    }

    static CuratorFramework client(String hosts) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder()
            .connectString(hosts).sessionTimeoutMs(10000).connectionTimeoutMs(10000)
            .retryPolicy(new RetryOneTime(200)).build();
        c.start();
        if (!c.blockUntilConnected(15, TimeUnit.SECONDS)) throw new IllegalStateException("not connected to " + hosts);
        return c;
    }

    public static void main(String[] args) throws Exception {
        String hosts = args[0];
        CuratorFramework c1 = client(hosts), c2 = client(hosts);

        // creatingParentContainersIfNeeded: parents are containers (createContainer, opcode 19).
        c1.create().creatingParentContainersIfNeeded().forPath("/cur/keep");
        c1.create().creatingParentContainersIfNeeded().forPath("/cur/containers/a/leaf", "x".getBytes(StandardCharsets.UTF_8));
        Stat parent = c2.checkExists().forPath("/cur/containers/a");
        // ZooKeeper reports ephemeralOwner 0 to clients for containers.
        check(parent != null && parent.getEphemeralOwner() == 0,
            "container parent exists, ephemeralOwner 0 (" + (parent == null ? "none" : Long.toHexString(parent.getEphemeralOwner())) + ")");
        check(new String(c2.getData().forPath("/cur/containers/a/leaf"), StandardCharsets.UTF_8).equals("x"), "leaf data");
        // Once the leaf goes, the reaper removes the emptied containers, level by level.
        c1.delete().forPath("/cur/containers/a/leaf");
        long reapBy = System.currentTimeMillis() + 15000;
        while (c2.checkExists().forPath("/cur/containers") != null && System.currentTimeMillis() < reapBy) Thread.sleep(50);
        check(c2.checkExists().forPath("/cur/containers") == null, "emptied container parents reaped");
        check(c2.checkExists().forPath("/cur") != null, "container /cur, which still has a child, kept");

        // Transactions (multi) with check.
        c1.create().forPath("/cur/txn", "t0".getBytes(StandardCharsets.UTF_8));
        Collection<CuratorTransactionResult> res = c1.transaction().forOperations(
            c1.transactionOp().check().withVersion(0).forPath("/cur/txn"),
            c1.transactionOp().create().forPath("/cur/txn/child", "c".getBytes(StandardCharsets.UTF_8)),
            c1.transactionOp().setData().forPath("/cur/txn", "t1".getBytes(StandardCharsets.UTF_8)));
        List<String> kinds = new ArrayList<>();
        for (CuratorTransactionResult r : res) kinds.add(r.getType() + " " + r.getForPath());
        check(kinds.equals(List.of("CHECK /cur/txn", "CREATE /cur/txn/child", "SET_DATA /cur/txn")), "transaction results " + kinds);
        check(c2.checkExists().forPath("/cur/txn/child") != null, "transaction created the child");
        check(c2.checkExists().forPath("/cur/txn").getVersion() == 1, "transaction set the data");
        try {
            c1.transaction().forOperations(
                c1.transactionOp().create().forPath("/cur/txn/never"),
                c1.transactionOp().check().withVersion(0).forPath("/cur/txn"));
            check(false, "failing transaction throws BadVersion");
        } catch (KeeperException.BadVersionException e) {
            check(true, "failing transaction throws BadVersion");
        }
        check(c2.checkExists().forPath("/cur/txn/never") == null, "failing transaction rolled back");

        // InterProcessMutex: mutual exclusion between two clients.
        InterProcessMutex m1 = new InterProcessMutex(c1, "/cur/mutex");
        InterProcessMutex m2 = new InterProcessMutex(c2, "/cur/mutex");
        check(m1.acquire(10, TimeUnit.SECONDS), "client 1 acquires the mutex");
        check(!m2.acquire(500, TimeUnit.MILLISECONDS), "client 2 cannot acquire while client 1 holds it");
        CountDownLatch got2 = new CountDownLatch(1), release2 = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try {
                // Curator's mutex is owned by the acquiring thread.
                if (m2.acquire(15, TimeUnit.SECONDS)) {
                    got2.countDown();
                    release2.await(15, TimeUnit.SECONDS);
                    m2.release();
                }
            } catch (Exception e) {
                e.printStackTrace();
            }
        });
        t.start();
        check(!got2.await(300, TimeUnit.MILLISECONDS), "client 2 still waiting");
        m1.release();
        check(got2.await(15, TimeUnit.SECONDS), "client 2 acquires after client 1 releases");
        release2.countDown();
        t.join();
        // Contended: both clients loop; never two holders at once.
        AtomicInteger inside = new AtomicInteger(), maxInside = new AtomicInteger(), rounds = new AtomicInteger();
        List<Thread> ths = new ArrayList<>();
        for (InterProcessMutex m : new InterProcessMutex[] {m1, m2}) {
            Thread th = new Thread(() -> {
                try {
                    for (int i = 0; i < 10; i++) {
                        if (!m.acquire(15, TimeUnit.SECONDS)) throw new IllegalStateException("acquire timed out");
                        int n = inside.incrementAndGet();
                        maxInside.accumulateAndGet(n, Math::max);
                        Thread.sleep(2);
                        inside.decrementAndGet();
                        rounds.incrementAndGet();
                        m.release();
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                }
            });
            th.start();
            ths.add(th);
        }
        for (Thread th : ths) th.join(60000);
        check(rounds.get() == 20 && maxInside.get() == 1, "contended mutex: rounds=" + rounds.get() + " maxInside=" + maxInside.get());

        // LeaderLatch: exactly one leader, failover when it closes.
        LeaderLatch l1 = new LeaderLatch(c1, "/cur/leader", "p1");
        LeaderLatch l2 = new LeaderLatch(c2, "/cur/leader", "p2");
        l1.start();
        l2.start();
        long deadline = System.currentTimeMillis() + 15000;
        while (!l1.hasLeadership() && !l2.hasLeadership() && System.currentTimeMillis() < deadline) Thread.sleep(20);
        Thread.sleep(300);
        check(l1.hasLeadership() ^ l2.hasLeadership(), "exactly one leader (p1=" + l1.hasLeadership() + ", p2=" + l2.hasLeadership() + ")");
        LeaderLatch leader = l1.hasLeadership() ? l1 : l2, other = leader == l1 ? l2 : l1;
        check(other.getLeader().getId().equals(leader.getId()), "follower sees the leader's id " + other.getLeader().getId());
        check(other.getParticipants().size() == 2, "two participants: " + other.getParticipants());
        leader.close();
        check(other.await(15, TimeUnit.SECONDS), "the other participant takes over");
        check(other.getParticipants().size() == 1, "one participant left: " + other.getParticipants());
        other.close();

        // CuratorCache (persistent recursive watch, addWatch): sees creates and changes below it.
        c1.create().forPath("/cur/cache");
        CountDownLatch created = new CountDownLatch(1), changed = new CountDownLatch(1);
        CuratorCache cache = CuratorCache.build(c2, "/cur/cache");
        cache.listenable().addListener(CuratorCacheListener.builder()
            .forCreates(n -> { if (n.getPath().equals("/cur/cache/a/b")) created.countDown(); })
            .forChanges((o, n) -> { if (n.getPath().equals("/cur/cache/a/b")) changed.countDown(); })
            .build());
        cache.start();
        c1.create().creatingParentsIfNeeded().forPath("/cur/cache/a/b", "1".getBytes(StandardCharsets.UTF_8));
        check(created.await(10, TimeUnit.SECONDS), "CuratorCache saw the create");
        c1.setData().forPath("/cur/cache/a/b", "2".getBytes(StandardCharsets.UTF_8));
        check(changed.await(10, TimeUnit.SECONDS), "CuratorCache saw the change");
        cache.close();

        // Ephemeral of a closed client disappears.
        c1.create().withMode(CreateMode.EPHEMERAL).forPath("/cur/eph");
        c1.close();
        check(c2.checkExists().forPath("/cur/eph") == null, "ephemeral removed after client 1 closed");
        c2.close();

        if (!failures.isEmpty()) {
            System.out.println(failures.size() + " FAILURES");
            System.exit(1);
        }
        System.out.println("ALL OK");
        System.exit(0);
    }
}
`
