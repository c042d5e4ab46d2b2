package recipe_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/testutil/deps"
	"github.com/warren-zk/warren/zk"
	"github.com/warren-zk/warren/zk/recipe"
)

// The interoperability tests run a Curator (Java) or kazoo (Python)
// program against the same Warren server as a Go Mutex, on the same lock
// path, in three steps that both sides follow through marker nodes:
//
//  1. Go holds the lock: the other side cannot acquire it (it sees the Go
//     lock node); it queues, Go releases, and it gets the lock.
//  2. The other side holds the lock: Go's TryLock fails (Go sees its lock
//     node); the other side releases.
//  3. Both sides take the lock in loops; each holder creates the ephemeral
//     node /interop/holder while it holds the lock, so overlapping holders
//     would get NodeExists.
//
// The Curator program then also runs a Curator LeaderLatch against a Go
// LeaderLatch on one path: one leader at a time, in line order.

const interopRounds = 25

// jvmFlags make a short-lived JVM start fast and stay small.
var jvmFlags = []string{"-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx96m"}

func TestInteropCurator(t *testing.T) {
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
	dir := t.TempDir()
	src := filepath.Join(dir, "Interop.java")
	if err := os.WriteFile(src, []byte(curatorProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	var jflags []string
	for _, f := range jvmFlags {
		jflags = append(jflags, "-J"+f)
	}
	if out, err := runCmd(context.Background(), t, 90*time.Second, javac, append(jflags, "-proc:none", "-nowarn", "-cp", cp, "-d", dir, src)...); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	srv := startServer(t)
	interop(t, srv.Addr(), "/interop/lock", true, func(ctx context.Context, addr string) (string, error) {
		logFlag, err := deps.Log4jConfig(dir, filepath.Join(dir, "curator.log"))
		if err != nil {
			return "", err
		}
		args := append(append([]string(nil), jvmFlags...), logFlag, "-cp", cp+string(os.PathListSeparator)+dir,
			"Interop", addr, "/interop/lock", strconv.Itoa(interopRounds))
		return runCmd(ctx, t, 60*time.Second, java, args...)
	})
}

func TestInteropKazooLock(t *testing.T) {
	t.Parallel()
	python := deps.Python3Kazoo(t)
	script := filepath.Join(t.TempDir(), "interop.py")
	if err := os.WriteFile(script, []byte(kazooProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t)
	// A kazoo Lock object assumes its path stays once it has seen it: the
	// Mutexes must not make it a container, which the server would reap
	// whenever the lock is free (kazoo then fails with NoNodeError).
	interop(t, srv.Addr(), "/interop/lock", false, func(ctx context.Context, addr string) (string, error) {
		return runCmd(ctx, t, 60*time.Second, python, "-u", script, addr, "/interop/lock", strconv.Itoa(interopRounds))
	}, recipe.WithPersistentParents())
}

// runCmd runs a program to completion (killing it after timeout) and
// returns its combined output.
func runCmd(ctx context.Context, t *testing.T, timeout time.Duration, path string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("%s: %v (%v)", filepath.Base(path), time.Since(start).Round(time.Millisecond), err)
	return out.String(), err
}

// interop plays the Go side of the protocol while run plays the other.
func interop(t *testing.T, addr, lockPath string, latch bool, run func(ctx context.Context, addr string) (string, error),
	opts ...recipe.Option) {
	ctx := testCtx(t, 60*time.Second)
	cs := conns(t, addr, 3)
	c := cs[0]
	m := recipe.NewMutex(c, lockPath, append(opts, recipe.WithData([]byte("go")))...)
	waitNode := func(path string) {
		t.Helper()
		if !eventually(20*time.Second, func() bool {
			ok, _, err := c.Exists(ctx, path)
			return err == nil && ok
		}) {
			t.Errorf("%s never appeared", path)
			panic(errAbort)
		}
	}
	mark := func(path string) {
		t.Helper()
		if _, err := c.Create(ctx, path, nil, zk.WorldACL(zk.PermAll), zk.ModePersistent); err != nil {
			t.Errorf("create %s: %v", path, err)
			panic(errAbort)
		}
	}
	if _, err := c.Create(ctx, "/interop", nil, zk.WorldACL(zk.PermAll), zk.ModePersistent); err != nil {
		t.Fatal(err)
	}

	// The other side runs concurrently with the Go steps.
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	rctx, kill := context.WithCancel(context.Background())
	defer kill()
	go func() {
		out, err := run(rctx, addr)
		done <- result{out, err}
	}()
	var res *result
	wait := func() result {
		if res == nil {
			r := <-done
			res = &r
		}
		return *res
	}
	defer func() {
		if r := recover(); r != nil {
			if r != errAbort {
				panic(r)
			}
			kill()
			r := wait()
			t.Fatalf("other side (%v):\n%s", r.err, r.out)
		}
	}()

	// Step 1: Go holds; the other side waits in line behind it.
	if err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	mark("/interop/go-holds")
	waitNode("/interop/other-waiting")
	if !eventually(10*time.Second, func() bool {
		p, _ := m.Participants(ctx)
		return len(p) == 2
	}) {
		p, _ := m.Participants(ctx)
		t.Errorf("the other side's lock node is not a contender to Go: %v", p)
		panic(errAbort)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	// Step 2: the other side holds; Go cannot get the lock.
	waitNode("/interop/other-holds")
	if ok, err := recipe.NewMutex(cs[1], lockPath, opts...).TryLock(ctx); ok || err != nil {
		t.Errorf("Go's TryLock while the other side holds the lock: %v %v", ok, err)
	}
	mark("/interop/log")
	mark("/interop/go-checked")

	// Step 3: contention. Every holder appends its name to /interop/log;
	// Go starts once the other side is in its loop, so that they alternate
	// (the lock is fair).
	if !eventually(20*time.Second, func() bool {
		l, _ := c.Children(ctx, "/interop/log")
		return len(l) > 0
	}) {
		t.Error("the other side never took the lock in its loop")
		panic(errAbort)
	}
	var violations, rounds atomic.Int32
	var wg sync.WaitGroup
	for _, gc := range cs[1:] {
		gm := recipe.NewMutex(gc, lockPath, append(opts, recipe.WithData([]byte("go")))...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range interopRounds {
				if err := gm.Lock(ctx); err != nil {
					t.Error(err)
					return
				}
				_, err := gc.Create(ctx, "/interop/holder", []byte("go"), zk.WorldACL(zk.PermAll), zk.ModeEphemeral)
				if errors.Is(err, zk.ErrNodeExists) {
					violations.Add(1)
				} else if err != nil {
					t.Error(err)
				}
				gc.Create(ctx, "/interop/log/go-", nil, zk.WorldACL(zk.PermAll), zk.ModePersistentSequential)
				time.Sleep(2 * time.Millisecond)
				gc.Delete(ctx, "/interop/holder", -1)
				rounds.Add(1)
				if err := gm.Unlock(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if violations.Load() != 0 {
		t.Errorf("Go found the holder node of the other side %d times while holding the lock", violations.Load())
	}
	// Wait for the other side's rounds, then count the handoffs.
	if !eventually(30*time.Second, func() bool {
		l, _ := c.Children(ctx, "/interop/log")
		return len(l) == 3*interopRounds
	}) {
		t.Error("the other side did not finish its rounds")
		panic(errAbort)
	}
	log, _ := c.Children(ctx, "/interop/log")
	sort.Slice(log, func(i, j int) bool { return log[i][len(log[i])-10:] < log[j][len(log[j])-10:] })
	handoffs := 0
	for i := 1; i < len(log); i++ {
		if strings.HasPrefix(log[i], "go-") != strings.HasPrefix(log[i-1], "go-") {
			handoffs++
		}
	}
	t.Logf("lock handoffs between Go and the other side: %d", handoffs)
	if handoffs < 2 {
		t.Errorf("the two sides did not alternate: %v", log)
	}

	if latch {
		// Step 4 (Curator only): LeaderLatch.
		l := recipe.NewLeaderLatch(c, "/interop/latch", "go")
		if err := l.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Await(ctx); err != nil {
			t.Fatal(err)
		}
		mark("/interop/go-leads")
		waitNode("/interop/other-latched")
		if cands, err := l.Candidates(ctx); err != nil || len(cands) != 2 || cands[0].ID != "go" || cands[1].ID != "java" {
			t.Errorf("candidates with Curator in line: %+v %v", cands, err)
		}
		l.Close()
		waitNode("/interop/other-leads")
		l2 := recipe.NewLeaderLatch(c, "/interop/latch", "go2")
		if err := l2.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer l2.Close()
		time.Sleep(200 * time.Millisecond)
		if l2.IsLeader() {
			t.Error("Go leads while Curator's latch leads")
		}
		if who, ok, err := l2.Leader(ctx); err != nil || !ok || who.ID != "java" {
			t.Errorf("Go sees leader %+v %v %v, want java", who, ok, err)
		}
		mark("/interop/go-latch2")
		actx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if _, err := l2.Await(actx); err != nil {
			t.Errorf("Go never leads after Curator's latch closed: %v", err)
		}

		// Step 5 (Curator): RWMutex and InterProcessReadWriteLock. Go reads;
		// Curator reads too, but cannot write; it queues to write, which
		// holds back a later Go reader; Curator writes once Go stops
		// reading.
		rw := recipe.NewRWMutex(c, "/interop/rw")
		if err := rw.RLock(ctx); err != nil {
			t.Fatal(err)
		}
		mark("/interop/go-reads")
		waitNode("/interop/other-rw-checked")
		late := recipe.NewRWMutex(cs[1], "/interop/rw")
		if !eventually(10*time.Second, func() bool { p, _ := late.Participants(ctx); return len(p) == 2 }) {
			t.Error("Curator's write lock node is not a contender to Go")
			panic(errAbort)
		}
		short, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel2()
		if err := late.RLock(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Go read lock behind a waiting Curator writer: %v", err)
		}
		if err := rw.RUnlock(ctx); err != nil {
			t.Fatal(err)
		}
		waitNode("/interop/other-writes")
		short3, cancel3 := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel3()
		if err := late.RLock(short3); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Go read lock while Curator writes: %v", err)
		}
		mark("/interop/go-rw-checked")
		if err := late.RLock(ctx); err != nil {
			t.Errorf("Go read lock after Curator's write: %v", err)
		} else {
			late.RUnlock(ctx)
		}

		// Step 6 (Curator): Semaphore and InterProcessSemaphoreV2, two
		// leases: one each, then none left for either.
		sem := recipe.NewSemaphore(c, "/interop/sem", 2)
		lease, err := sem.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mark("/interop/go-lease")
		waitNode("/interop/other-lease")
		other := recipe.NewSemaphore(cs[1], "/interop/sem", 2)
		if l, err := other.TryAcquire(ctx); l != nil || err != nil {
			t.Errorf("a third lease of two: %v %v", l, err)
		}
		mark("/interop/go-sem-checked")
		if l, err := other.Acquire(ctx); err != nil {
			t.Errorf("Go lease after Curator returned its own: %v", err)
		} else {
			l.Release(ctx)
		}
		lease.Release(ctx)
	}

	r := wait()
	if r.err != nil || !strings.HasSuffix(r.out, "ALL OK\n") || strings.Contains(r.out, "FAIL") {
		t.Fatalf("other side failed (%v):\n%s", r.err, r.out)
	}
	t.Logf("other side:\n%s", r.out)
	t.Logf("Go rounds: %d", rounds.Load())
}

var errAbort = errors.New("abort")

const curatorProgram = `// Written by zk/recipe's TestInteropCurator: Curator's side of the protocol.
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.curator.retry.RetryOneTime;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

public class Interop {
    static void fail(String msg) {
        System.out.println("FAIL: " + msg);
        System.exit(1);
    }

    static void waitFor(CuratorFramework c, String path) throws Exception {
        long deadline = System.currentTimeMillis() + 20000;
        while (c.checkExists().forPath(path) == null) {
            if (System.currentTimeMillis() > deadline) fail("timed out waiting for " + path);
            Thread.sleep(10);
        }
    }

    public static void main(String[] args) throws Exception {
        String hosts = args[0], path = args[1];
        int rounds = Integer.parseInt(args[2]);
        CuratorFramework c = CuratorFrameworkFactory.builder()
            .connectString(hosts).sessionTimeoutMs(10000).connectionTimeoutMs(10000)
            .retryPolicy(new RetryOneTime(200)).build();
        c.start();
        if (!c.blockUntilConnected(15, TimeUnit.SECONDS)) fail("not connected");
        InterProcessMutex m = new InterProcessMutex(c, path);

        waitFor(c, "/interop/go-holds");
        if (m.acquire(300, TimeUnit.MILLISECONDS)) fail("Curator acquired the lock while Go holds it");
        System.out.println("ok: Curator excluded while Go holds the lock");
        c.create().forPath("/interop/other-waiting");
        if (!m.acquire(20, TimeUnit.SECONDS)) fail("Curator did not get the lock after Go released it");
        System.out.println("ok: Curator acquired after Go released");
        c.create().forPath("/interop/other-holds");
        waitFor(c, "/interop/go-checked");
        m.release();

        int violations = 0;
        for (int i = 0; i < rounds; i++) {
            if (!m.acquire(30, TimeUnit.SECONDS)) fail("acquire timed out in round " + i);
            try {
                c.create().withMode(CreateMode.EPHEMERAL).forPath("/interop/holder", "java".getBytes(StandardCharsets.UTF_8));
                c.create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("/interop/log/java-");
                Thread.sleep(2);
                c.delete().forPath("/interop/holder");
            } catch (KeeperException.NodeExistsException e) {
                violations++;
            }
            m.release();
        }
        if (violations > 0) fail(violations + " times the holder node existed while Curator held the lock");
        System.out.println("ok: " + rounds + " contended rounds, no overlap");

        waitFor(c, "/interop/go-leads");
        LeaderLatch l = new LeaderLatch(c, "/interop/latch", "java");
        l.start();
        Thread.sleep(300);
        if (l.hasLeadership()) fail("Curator's latch leads while Go's does");
        if (!l.getLeader().getId().equals("go")) fail("Curator sees leader " + l.getLeader().getId());
        if (l.getParticipants().size() != 2) fail("participants " + l.getParticipants());
        System.out.println("ok: Curator's latch waits behind Go's");
        c.create().forPath("/interop/other-latched");
        if (!l.await(20, TimeUnit.SECONDS)) fail("Curator's latch never leads after Go's closed");
        System.out.println("ok: Curator's latch leads after Go's closed");
        c.create().forPath("/interop/other-leads");
        waitFor(c, "/interop/go-latch2");
        if (!l.hasLeadership()) fail("Curator's latch lost the lead to a later Go latch");
        l.close();

        waitFor(c, "/interop/go-reads");
        InterProcessReadWriteLock rw = new InterProcessReadWriteLock(c, "/interop/rw");
        if (!rw.readLock().acquire(5, TimeUnit.SECONDS)) fail("Curator cannot read while Go reads");
        rw.readLock().release();
        if (rw.writeLock().acquire(300, TimeUnit.MILLISECONDS)) fail("Curator writes while Go reads");
        System.out.println("ok: Curator reads along with Go, cannot write");
        c.create().forPath("/interop/other-rw-checked");
        if (!rw.writeLock().acquire(20, TimeUnit.SECONDS)) fail("Curator cannot write after Go stopped reading");
        System.out.println("ok: Curator writes after Go stopped reading");
        c.create().forPath("/interop/other-writes");
        waitFor(c, "/interop/go-rw-checked");
        rw.writeLock().release();

        waitFor(c, "/interop/go-lease");
        InterProcessSemaphoreV2 sem = new InterProcessSemaphoreV2(c, "/interop/sem", 2);
        Lease lease = sem.acquire(5, TimeUnit.SECONDS);
        if (lease == null) fail("Curator gets no lease while Go holds one of two");
        if (sem.acquire(300, TimeUnit.MILLISECONDS) != null) fail("Curator got a third lease of two");
        System.out.println("ok: Curator's semaphore counts Go's lease");
        c.create().forPath("/interop/other-lease");
        waitFor(c, "/interop/go-sem-checked");
        sem.returnLease(lease);
        c.close();
        System.out.println("ALL OK");
        System.exit(0);
    }
}
`

const kazooProgram = `# Written by zk/recipe's TestInteropKazooLock: kazoo's side of the protocol.
import sys
import time

from kazoo.client import KazooClient
from kazoo.exceptions import LockTimeout, NodeExistsError
from kazoo.recipe.lock import Lock

hosts, path, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])

def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)

zk = KazooClient(hosts=hosts, timeout=10.0)
zk.start(timeout=15)

def wait_for(p):
    deadline = time.time() + 20
    while zk.exists(p) is None:
        if time.time() > deadline:
            fail("timed out waiting for " + p)
        time.sleep(0.01)

wait_for("/interop/go-holds")
# Without extra_lock_patterns kazoo only sees its own __lock__ nodes, and
# takes the lock although Go holds it (documented in recipe.Mutex).
plain = Lock(zk, path, "plain")
if not plain.acquire(timeout=2):
    fail("plain kazoo Lock did not ignore the Curator-layout node")
plain.release()
print("ok: kazoo without extra_lock_patterns ignores Curator-layout nodes")

lock = Lock(zk, path, "kazoo", extra_lock_patterns=["-lock-"])
try:
    lock.acquire(timeout=0.3)
    fail("kazoo acquired the lock while Go holds it")
except LockTimeout:
    print("ok: kazoo excluded while Go holds the lock")
zk.create("/interop/other-waiting")
if not lock.acquire(timeout=20):
    fail("kazoo did not get the lock after Go released it")
print("ok: kazoo acquired after Go released")
zk.create("/interop/other-holds")
wait_for("/interop/go-checked")
lock.release()

violations = 0
for i in range(rounds):
    if not lock.acquire(timeout=30):
        fail("acquire timed out in round %d" % i)
    try:
        zk.create("/interop/holder", b"python", ephemeral=True)
        zk.create("/interop/log/python-", sequence=True)
        time.sleep(0.002)
        zk.delete("/interop/holder")
    except NodeExistsError:
        violations += 1
    lock.release()
if violations:
    fail("%d times the holder node existed while kazoo held the lock" % violations)
print("ok: %d contended rounds, no overlap" % rounds)
zk.stop()
zk.close()
print("ALL OK")
`
