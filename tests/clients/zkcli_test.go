package clients

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/testutil/deps"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
)

// zkCliScript is fed to one zkCli session on stdin (one JVM for everything). zkCli runs the
// commands one after another; each waits for its reply.
const zkCliScript = `version
create /cli top
create /cli/p pdata
create -s /cli/s- seqdata
create -e /cli/e edata
create -s -e /cli/es- x
create -c /cli/cont
create /cli/cont/child
create -t 600000 /cli/ttl t
create /cli/p dup
create /cli/nope/x
get /cli/p
get -s /cli/p
set /cli/p pdata2
set -s /cli/p pdata3
set -v 0 /cli/p x
get /cli/missing
stat /cli/e
stat /cli/cont
ls /cli
ls -s /cli
ls -R /cli
getAllChildrenNumber /cli
getEphemerals /cli
delete -v 5 /cli/p
delete /cli/cont
delete /cli/p
create /cli/dir
create /cli/dir/a
create /cli/dir/a/b
create /cli/dir/c
deleteall /cli/dir
ls /cli
getAcl /cli
setAcl /cli/ttl world:anyone:r
getAcl /cli/ttl
set /cli/ttl nope
create /cli/ttl/x
setAcl /cli/ttl world:anyone:cdrwa
whoami
addauth digest bob:secret
whoami
create /cli/sec s auth::cdrwa
getAcl /cli/sec
setAcl -s /cli/sec digest:bob:fyVmFCwVbTJYrznoSu1koqYEYF0=:cdrwa,world:anyone:r
getAcl /cli/sec
sync /cli
create /cli/w
addWatch /cli/w
create /cli/w/c
set /cli/w/c x
delete /cli/w/c
stat -w /cli/none
create /cli/none
get -w /cli/none
set /cli/none y
ls -w /cli/w
create /cli/w/d
ls -w /cli/w
removewatches /cli/w -c
addWatch -m PERSISTENT /cli/pw
create /cli/pw
set /cli/pw z
create /cli/q
create /cli/q/a 12345
setquota -n 1 /cli/q
listquota /cli/q
create /cli/q/b xy
set /cli/q/a 1
listquota /cli/q
delete /cli/q/b
listquota /cli/q
delquota /cli/q
listquota /cli/q
config
getEphemerals
close
`

// TestZkCli runs Debian's zkCli.sh (the Java ZooKeeperMain) against Warren in one session (one
// JVM) and checks what it prints. The expected text is what the same script prints against
// Apache ZooKeeper 3.8.0 (Debian's zookeeper package), zxids, times and session ids aside.
func TestZkCli(t *testing.T) {
	t.Parallel()
	zkCli := deps.ZkCli(t)
	// The default (one minute) reaper period, so that the container emptied by the script stays
	// for the rest of it.
	srv := warrentest.Start(t, &warrentest.Options{Config: func(c *config.Config) { c.ExtendedTypesEnabled = true }})
	out := mustRun(t, command{
		path:    zkCli,
		args:    []string{"-server", srv.Addr},
		env:     []string{"CLIENT_JVMFLAGS=" + strings.Join(jvmFlags, " ")},
		stdin:   zkCliScript,
		timeout: 90 * time.Second,
	})
	stat := func(lines ...string) string { return strings.Join(lines, "\n") + "\n" }
	expectInOrder(t, out, []string{
		"ZooKeeper CLI version: 3.",
		"Created /cli\n",
		"Created /cli/p\n",
		"Created /cli/s-0000000001\n",
		"Created /cli/e\n",
		"Created /cli/es-0000000003\n",
		"Created /cli/cont\n",
		"Created /cli/cont/child\n",
		"Created /cli/ttl\n",
		"Node already exists: /cli/p\n",
		"Node does not exist: /cli/nope/x\n",
		// get, get -s
		"pdata\npdata\ncZxid = 0x",
		stat("cversion = 0", "dataVersion = 0", "aclVersion = 0", "ephemeralOwner = 0x0", "dataLength = 5", "numChildren = 0"),
		// set -s prints the new stat
		stat("cversion = 0", "dataVersion = 2", "aclVersion = 0", "ephemeralOwner = 0x0", "dataLength = 6", "numChildren = 0"),
		"version No is not valid : /cli/p\n",
		"Node does not exist: /cli/missing\n",
		// stat /cli/e, stat /cli/cont
		"ephemeralOwner = 0x1",
		stat("cversion = 1", "dataVersion = 0", "aclVersion = 0", "ephemeralOwner = 0x0", "dataLength = 0", "numChildren = 1"),
		"[cont, e, es-0000000003, p, s-0000000001, ttl]\n",
		"[cont, e, es-0000000003, p, s-0000000001, ttl]\n",
		stat("cversion = 6", "dataVersion = 0", "aclVersion = 0", "ephemeralOwner = 0x0", "dataLength = 3", "numChildren = 6"),
		"/cli\n/cli/cont\n/cli/e\n/cli/es-0000000003\n/cli/p\n/cli/s-0000000001\n/cli/ttl\n/cli/cont/child\n",
		"7\n",
		"]\n", // getEphemerals, checked below
		"version No is not valid : /cli/p\n",
		"Node not empty: /cli/cont\n",
		"Created /cli/dir\n", "Created /cli/dir/a\n", "Created /cli/dir/a/b\n", "Created /cli/dir/c\n",
		"[cont, e, es-0000000003, s-0000000001, ttl]\n",
		"'world,'anyone\n: cdrwa\n",
		"'world,'anyone\n: r\n",
		"Insufficient permission : /cli/ttl\n",
		"Insufficient permission : /cli/ttl/x\n",
		"Insufficient permission : /cli/ttl\n",
		"Auth scheme: User\nip: 127.0.0.1\n",
		"Auth scheme: User\n", // then digest: bob and ip, in any order (checked below)
		"Created /cli/sec\n",
		"'digest,'bob:fyVmFCwVbTJYrznoSu1koqYEYF0=\n: cdrwa\n",
		stat("cversion = 0", "dataVersion = 0", "aclVersion = 1", "ephemeralOwner = 0x0", "dataLength = 1", "numChildren = 0"),
		"'digest,'bob:fyVmFCwVbTJYrznoSu1koqYEYF0=\n: cdrwa\n'world,'anyone\n: r\n",
		"Sync is OK\n",
		"Created /cli/w\n",
		"Created /cli/w/c\n",
		"Node does not exist: /cli/none\n",
		"Created /cli/none\n",
		"null\n", // get -w /cli/none: null data
		"[]\n",
		"Created /cli/w/d\n",
		"[d]\n",
		"Created /cli/pw\n",
		"Created /cli/q\n", "Created /cli/q/a\n",
		// setquota: the server filled in the stats node with the subtree's usage.
		"[Warning]: the count quota you create is less than the existing count:2\n",
		"absolute path is /zookeeper/quota/cli/q/zookeeper_limits\n" +
			"Output quota for /cli/q count=1,bytes=-1=;byteHardLimit=-1;countHardLimit=-1\n" +
			"Output stat for /cli/q count=2,bytes=5\n",
		"Created /cli/q/b\n",
		"Output stat for /cli/q count=3,bytes=3\n",
		"Output stat for /cli/q count=2,bytes=1\n",
		"absolute path is /zookeeper/quota/cli/q/zookeeper_limits\nquota for /cli/q does not exist.\n",
	})
	for _, re := range []string{
		// stat /cli/e: owned by this session (standalone ids carry server id 1 in the top byte).
		`ephemeralOwner = 0x1[0-9a-f]{14}\ndataLength = 5\nnumChildren = 0\n`,
		// whoami after addauth.
		`Auth scheme: User\n(digest: bob\nip: 127\.0\.0\.1|ip: 127\.0\.0\.1\ndigest: bob)\n`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %q", re)
		}
	}
	// getEphemerals /cli and getEphemerals: in an unspecified order (ZooKeeper returns a hash
	// set's).
	if n := len(regexp.MustCompile(`\n\[(/cli/e, /cli/es-0000000003|/cli/es-0000000003, /cli/e)\]\n`).FindAllString(out, -1)); n != 2 {
		t.Errorf("%d getEphemerals outputs with /cli/e and /cli/es-0000000003, want 2", n)
	}
	// Watch notifications come from zkCli's event thread, interleaved anywhere.
	for _, ev := range []string{
		"type:NodeCreated path:/cli/w/c", // addWatch (persistent recursive) on /cli/w
		"type:NodeDataChanged path:/cli/w/c",
		"type:NodeDeleted path:/cli/w/c",
		"type:NodeCreated path:/cli/w/d",
		"type:NodeCreated path:/cli/none", // stat -w on a missing node
		"type:NodeDataChanged path:/cli/none",
		"type:NodeChildrenChanged path:/cli/w", // ls -w
		"type:ChildWatchRemoved path:/cli/w",   // removewatches
		"type:NodeCreated path:/cli/pw",        // addWatch -m PERSISTENT
		"type:NodeDataChanged path:/cli/pw",
	} {
		if n := strings.Count(out, "WatchedEvent state:SyncConnected "+ev+"\n"); n != 1 {
			t.Errorf("%d notifications %q, want 1", n, ev)
		}
	}
	if t.Failed() {
		t.Logf("----- zkCli output -----\n%s", out)
	}

	// zkCli's session is closed: its ephemerals are gone, the rest stays.
	c := connectZK(t, srv.Addr, 10*time.Second)
	kids := must1[[]string](t)(childrenOf(c, "/cli"))
	if want := []string{"cont", "none", "pw", "q", "s-0000000001", "sec", "ttl", "w"}; !equalStrings(kids, want) {
		t.Errorf("children of /cli after zkCli closed its session = %v, want %v", kids, want)
	}
	// /cli/sec: bob's digest may do everything, anyone may read.
	if data, _, err := c.Get("/cli/sec"); err != nil || string(data) != "s" {
		t.Errorf("get /cli/sec without auth: %q, %v", data, err)
	}
	if _, err := c.Set("/cli/sec", nil, -1); err != zk.ErrNoAuth {
		t.Errorf("set /cli/sec without auth: %v, want NoAuth", err)
	}
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}
