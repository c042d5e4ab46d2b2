package clients

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/testutil/deps"
)

// TestKazoo runs a Python program using kazoo (Debian python3-kazoo) against Warren: CRUD,
// transactions, DataWatch/ChildrenWatch, Lock, Election, Counter, digest auth, ephemerals and
// four-letter words. The program checks everything itself and exits non-zero on a failure.
func TestKazoo(t *testing.T) {
	t.Parallel()
	python := deps.Python3Kazoo(t)
	srv := startServer(t, nil)
	script := filepath.Join(t.TempDir(), "kazoo_check.py")
	if err := os.WriteFile(script, []byte(kazooScript), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, command{path: python, args: []string{"-u", script, srv.Addr}, timeout: 90 * time.Second})
	if !strings.HasSuffix(out, "ALL OK\n") || strings.Contains(out, "FAIL") {
		t.Fatalf("kazoo program did not finish cleanly:\n%s", out)
	}
	t.Logf("kazoo program output:\n%s", out)
}

const kazooScript = `# Written by tests/clients (TestKazoo): kazoo against a Warren server. Exits non-zero on failure.
import logging
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import (BadVersionError, LockTimeout, NoAuthError, NodeExistsError, NotEmptyError,
                              RuntimeInconsistency)
from kazoo.recipe.lock import Lock
from kazoo.recipe.counter import Counter
from kazoo.recipe.election import Election
from kazoo.security import make_digest_acl

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
hosts = sys.argv[1]
failures = []

def check(cond, msg):
    if cond:
        print("ok:", msg)
    else:
        print("FAIL:", msg)
        failures.append(msg)

def client():
    c = KazooClient(hosts=hosts, timeout=10.0)
    c.start(timeout=10)
    return c

a = client()
b = client()

# basic CRUD
a.create("/kz", b"v0")
data, st = a.get("/kz")
check(data == b"v0" and st.version == 0, "get after create: %r v%d" % (data, st.version))
st = a.set("/kz", b"v1", version=0)
check(st.version == 1, "set bumps version: %d" % st.version)
try:
    a.set("/kz", b"v2", version=0)
    check(False, "set with stale version raises BadVersionError")
except BadVersionError:
    check(True, "set with stale version raises BadVersionError")
try:
    a.create("/kz", b"x")
    check(False, "duplicate create raises NodeExistsError")
except NodeExistsError:
    check(True, "duplicate create raises NodeExistsError")
a.ensure_path("/kz/deep/er/path")
check(b.exists("/kz/deep/er/path") is not None, "ensure_path created nested nodes")
p = a.create("/kz/seq-", b"", sequence=True, ephemeral=True)
check(p.startswith("/kz/seq-") and len(p) == len("/kz/seq-") + 10, "sequential ephemeral name %s" % p)
check(sorted(b.get_children("/kz")) == sorted(["deep", p.rsplit("/", 1)[1]]), "children %r" % b.get_children("/kz"))
try:
    a.delete("/kz/deep")
    check(False, "delete non-empty raises NotEmptyError")
except NotEmptyError:
    check(True, "delete non-empty raises NotEmptyError")
a.delete("/kz/deep", recursive=True)
check(a.exists("/kz/deep") is None, "recursive delete")

# transaction with failing check
t = a.transaction()
t.check("/kz", 99)
t.create("/kz/txn-should-not-exist", b"")
res = t.commit()
check(len(res) == 2 and isinstance(res[0], BadVersionError) and isinstance(res[1], RuntimeInconsistency)
      and a.exists("/kz/txn-should-not-exist") is None, "failed transaction rolled back: %r" % (res,))
t = a.transaction()
t.check("/kz", 1)
t.create("/kz/txn", b"t")
t.set_data("/kz", b"v2")
res = t.commit()
check(res[1] == "/kz/txn" and a.get("/kz")[0] == b"v2", "transaction committed: %r" % (res,))

# DataWatch fires on b when a changes the data
seen = []
ev = threading.Event()
def watcher(data, stat, event=None):
    seen.append(data)
    if data == b"watched":
        ev.set()
b.DataWatch("/kz", watcher)
a.set("/kz", b"watched")
check(ev.wait(10), "DataWatch fired: %r" % seen)

# ChildrenWatch
kids = []
cev = threading.Event()
def cw(children):
    kids.append(sorted(children))
    if "new-child" in children:
        cev.set()
b.ChildrenWatch("/kz", cw)
a.create("/kz/new-child")
check(cev.wait(10), "ChildrenWatch fired: %r" % kids)

# Lock: a holds it, b cannot get it; after release b can.
la = Lock(a, "/kz-lock", "client-a")
lb = Lock(b, "/kz-lock", "client-b")
check(la.acquire(timeout=10), "a acquired lock")
try:
    lb.acquire(timeout=1)
    check(False, "b excluded while a holds lock")
except LockTimeout:
    check(True, "b excluded while a holds lock")
check(lb.contenders() == ["client-a"], "lock contenders %r" % lb.contenders())
got = threading.Event()
def take():
    try:
        if lb.acquire(timeout=10):
            got.set()
    except LockTimeout:
        pass
th = threading.Thread(target=take)
th.start()
time.sleep(0.3)
check(not got.is_set(), "b still waiting")
la.release()
th.join(15)
check(got.is_set(), "b acquired lock after a released")
lb.release()

# Election: exactly one leader at a time, failover on leave.
leaders = []
active = [0]
maxactive = [0]
stop = {"a": threading.Event(), "b": threading.Event()}
lk = threading.Lock()
def lead(name):
    with lk:
        leaders.append(name)
        active[0] += 1
        maxactive[0] = max(maxactive[0], active[0])
    stop[name].wait(20)
    with lk:
        active[0] -= 1
ea = Election(a, "/kz-election", "a")
eb = Election(b, "/kz-election", "b")
ta = threading.Thread(target=ea.run, args=(lead, "a"))
ta.start()
deadline = time.time() + 10
while not leaders and time.time() < deadline:
    time.sleep(0.05)
tb = threading.Thread(target=eb.run, args=(lead, "b"))
tb.start()
time.sleep(0.5)
check(leaders == ["a"], "a leads alone: %r" % leaders)
check(sorted(eb.contenders()) == ["a", "b"], "election contenders %r" % eb.contenders())
stop["a"].set()
ta.join(10)
deadline = time.time() + 10
while len(leaders) < 2 and time.time() < deadline:
    time.sleep(0.05)
check(leaders == ["a", "b"], "b took over: %r" % leaders)
stop["b"].set()
tb.join(10)
check(maxactive[0] == 1, "never two leaders at once")

# Counter (versioned set with retries)
ca, cb = Counter(a, "/kz/counter"), Counter(b, "/kz/counter")
for i in range(5):
    ca += 1
    cb += 2
check(ca.value == 15 and cb.value == 15, "counter %d %d" % (ca.value, cb.value))

# digest auth and ACLs
bob = KazooClient(hosts=hosts, timeout=10.0, auth_data=[("digest", "bob:secret")])
bob.start(timeout=10)
bob.create("/kz/bob", b"private", acl=[make_digest_acl("bob", "secret", all=True)])
check(bob.get("/kz/bob")[0] == b"private", "owner reads its node")
try:
    a.get("/kz/bob")
    check(False, "others get NoAuthError")
except NoAuthError:
    check(True, "others get NoAuthError")
acl, _ = bob.get_acls("/kz/bob")
check(len(acl) == 1 and acl[0].id.scheme == "digest" and acl[0].id.id == "bob:fyVmFCwVbTJYrznoSu1koqYEYF0=", "acl %r" % (acl,))
a.add_auth("digest", "bob:secret")
check(a.get("/kz/bob")[0] == b"private", "add_auth grants access")
bob.stop(); bob.close()

# ephemerals gone after close; four-letter words
eph = a.create("/kz/eph", b"", ephemeral=True)
a.stop(); a.close()
check(b.exists(eph) is None, "ephemeral removed when its session closed")
check(b.command(b"ruok") == "imok", "ruok")
v = b.server_version()
check(len(v) >= 3 and v[0] == 3, "server_version %r" % (v,))
b.delete("/kz/txn")
b.stop(); b.close()

if failures:
    print("%d FAILURES" % len(failures))
    sys.exit(1)
print("ALL OK")
`
