package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/testutil/deps"
	"github.com/warren-zk/warren/internal/testutil/syncbuf"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
	"github.com/warren-zk/warren/internal/testutil/zkoracle"
)

// The golden tests run the same script through Debian's zkCli.sh (the Java
// ZooKeeperMain, one JVM) and through `warren cli`, each in a path space of
// its own ($R) on the same server, and compare what they print on stdout
// and on stderr. Only what zkCli itself leaves open is normalised: zxids,
// times, session ids, the version, the stack trace of a crash, and the
// order of watch notifications (printed by zkCli's event thread) and of
// getEphemerals (a hash set's).

// goldenScript exercises every command and flag of zkCli 3.8, and most of
// their error paths. It ends with a closed session and a new one.
// No watch fires while printwatches is off: whether a notification is
// printed would depend on when each shell's event thread gets to it
// relative to the next "printwatches on" (a CI run saw zkCli print one that
// warren cli had suppressed).
const goldenScript = `version
create $R
create $R x
create $R/a adata
create $R/a/b bdata
create -s $R/s- sdata
create -e $R/e edata
create -s -e $R/es- esdata
create -c $R/c
create $R/c/x
create -t 600000 $R/t tdata
create -t 600000 -s $R/ts- tsdata
create $R/acl1 d world:anyone:cdrwa,foo:bar
create $R/acl2 d digest:x
create $R/acl3 d digest:x:cdrwa
create $R/acl4 d world:anyone:cdrwaxyz
create -c -s $R/bad
create -t abc $R/bad
create -t 100 -e $R/bad
create -t 0 $R/bad
create -t 100 -c $R/bad
create -e -s -e $R/es2-
create nopath
create $R/
create -s $R/
create $R/a//b
create $R/x` + "\U0001F600" + `
create $R/e/child
create $R/none/child
create
create $R/utf8 'héllo wörld'
create $R/bad-utf8 ab` + "\xff\xfe\xe2\x82" + `cd
get $R/utf8
get $R/bad-utf8
create $R/empty ''
get $R/empty
get $R/a
get -s $R/a
get $R/c
get $R/missing
get -s
get -z $R/a
get $R/a extra
get -s $R/a extra
get -- -s
stat $R/a
stat $R/missing
stat $R/a extra
set $R/a newdata
set -s $R/a newdata2
set -v 0 $R/a x
set -v 2 -s $R/a v3
set -v0 $R/a v4
set $R/a
set $R/missing x
set $R/a x -v 99
set $R/a x -v
ls $R
ls -s $R
ls -R $R
ls -sR $R/c
ls $R/missing
ls -R $R/missing
ls
ls -?
ls $R/a extra
ls - $R/a
getAllChildrenNumber $R
getAllChildrenNumber
getAllChildrenNumber $R/missing
getEphemerals $R
getEphemerals $R/zzz
getEphemerals
delete $R/a
delete -v 7 $R/a/b
delete -v 1 -v 2 $R/a/b
delete -v -- $R/a/b
delete $R/a/b 0
delete $R/missing
delete
deleteall $R/missing
deleteall $R/a -b abc
deleteall
create $R/d
create $R/d/1
create $R/d/1/2
create $R/d/3
deleteall $R/d -b 1
create $R/d2
create $R/d2/x
deleteall $R/d2
ls $R
getAcl $R
getAcl -s $R
getAcl $R/acl1
getAcl $R/acl4
getAcl $R/missing
getAcl
setAcl $R/acl1 world:anyone:r
setAcl -s $R/acl1 world:anyone:rw
setAcl -v 0 $R/acl1 world:anyone:cdrwa
setAcl $R/acl1 bad
setAcl $R/acl1
setAcl -R $R/d3 world:anyone:r
create $R/r
create $R/r/1
create $R/r/1/2
setAcl -R $R/r world:anyone:rw
getAcl $R/r/1/2
setAcl $R/r/1 world:anyone:r
setAcl -R $R/r world:anyone:cdrwa
set $R/acl1 x
create $R/acl1/x
getAcl $R/acl1
whoami
addauth
addauth digest bob:secret
whoami
create $R/sec s auth::cdrwa
getAcl $R/sec
setAcl -s $R/sec digest:bob:fyVmFCwVbTJYrznoSu1koqYEYF0=:cdrwa,world:anyone:r
getAcl $R/sec
sync $R
sync $R/missing
sync
sync nopath
create $R/w
addWatch $R/w
create $R/w/c
set $R/w/c x
delete $R/w/c
addWatch
addWatch -m foo $R/w
addWatch $R/w $R/x
addWatch -m persistent $R/pw
create $R/pw
set $R/pw z
removewatches $R/pw
removewatches $R/pw -a
removewatches $R/nowatch -d
removewatches
removewatches nopath
stat -w $R/none
create $R/none
get -w $R/none
stat -w $R/none
set $R/none y
ls -w $R/w
create $R/w/d
ls -w $R/w
get -w $R/w
removewatches $R/w -c
removewatches $R/w -d
ls -w $R/w
removewatches $R/w -c -l
ls -w -R $R/r
set $R/r wow
delete $R/r/1/2
sync $R
get $R/r
printwatches
printwatches off
get $R/none
set $R/none off
get $R/none
printwatches
printwatches on
create $R/q
create $R/q/a 12345
listquota $R/q
delquota $R/q
setquota $R/q
setquota -n 0 $R/q
setquota -n x $R/q
setquota -b -1 $R/q
setquota -n 5 /zookeeper/quota
setquota -n 5 $R/missing
setquota -n 5 -b 3 $R/q
setquota -n 1 $R/q
listquota $R/q
setquota -B 100 $R/q
listquota $R/q
create $R/q/b xy
set $R/q/a 1
listquota $R/q
setquota -n 5 $R/q/a
setquota -n 5 $R
delquota -n $R/q
listquota $R/q
delquota -n -b $R/q
delquota $R/q
listquota $R/q
delquota $R/q
config
config -c
config -s
config -w
config -x
reconfig
reconfig -add 1=a:1:2;3
reconfig -remove 1 -s
reconfig -v zz -add x
reconfig -file /nonexistent/x -add 1
reconfig -file /x -members 1
reconfig -file=x
reconfig -add
foo
history
redo 3
redo 999
redo
redo -1
'create' "$R/quoted" 'a b'
get $R/quoted
create $R/"x y"
ls $R
   
"
get -s $R/e
getEphemerals $R
close
ls /
history
connect
get $R/a/b
`

// jvmFlags make the short-lived JVM start fast and stay small.
var jvmFlags = []string{"-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx96m"}

// goldenZone is the time zone of both shells' dates: one with daylight time.
const goldenZone = "America/New_York"

var setZoneOnce sync.Once

// useGoldenZone makes runCLI print dates in goldenZone (call it before
// t.Parallel).
func useGoldenZone(t *testing.T) {
	t.Helper()
	loc, err := time.LoadLocation(goldenZone)
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	setZoneOnce.Do(func() { cliLocation = loc })
}

type run struct {
	stdout, stderr string
	code           int
}

// runZkCli runs zkCli.sh once with script on stdin (or args as a one-shot
// command).
func runZkCli(t *testing.T, zkCli, addr string, args []string, script string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, zkCli, append([]string{"-server", addr}, args...)...)
	cmd.Env = append(os.Environ(), "CLIENT_JVMFLAGS="+strings.Join(jvmFlags, " "), "TZ="+goldenZone, "LC_ALL=C.UTF-8")
	cmd.Stdin = strings.NewReader(script)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("zkCli.sh %s: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("zkCli.sh: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if ctx.Err() != nil {
		t.Fatalf("zkCli.sh timed out\n%s\n%s", stdout.String(), stderr.String())
	}
	return run{stdout.String(), stderr.String(), code}
}

// runWarren runs `warren cli` in-process the same way.
func runWarren(t *testing.T, addr string, args []string, script string) run {
	t.Helper()
	var stdout, stderr syncbuf.Buffer
	start := time.Now()
	code := runCLI(append([]string{"-server", addr}, args...), strings.NewReader(script), &stdout, &stderr)
	t.Logf("warren cli %s: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	return run{stdout.String(), stderr.String(), code}
}

var (
	zxidRE    = regexp.MustCompile(`(?m)^([cmp]Zxid = 0x)[0-9a-f]+$`)
	timeRE    = regexp.MustCompile(`(?m)^([cm]time = )[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d [A-Z]{3,4} (\d{4})$`)
	ownerRE   = regexp.MustCompile(`(?m)^(ephemeralOwner = 0x)[1-9a-f][0-9a-f]*$`)
	versionRE = regexp.MustCompile(`(?m)^ZooKeeper CLI version: .*$`)
	slf4jRE   = regexp.MustCompile(`SLF4J: [^\n]*\n`)
	watcherRE = regexp.MustCompile(`\nWATCHER::\n|\nWatchedEvent [^\n]*\n`)
	ephRE     = regexp.MustCompile(`(?m)^\[((/|\$R)[^\]]*)\]$`)
)

// normalize removes from a stream what zkCli leaves unspecified; the watch
// notifications are returned apart, sorted.
func normalize(out, prefix string) (string, []string) {
	out = strings.ReplaceAll(out, prefix, "$R")
	// SLF4J's complaints (no binding in Debian's classpath) come from
	// another thread, sometimes in the middle of a line.
	out = slf4jRE.ReplaceAllString(out, "")
	// A notification is printed by the event thread as "\nWATCHER::\n" and
	// "\nWatchedEvent ...\n" (printMessage: a newline, then the text), each
	// in one piece but possibly in the middle of a line the main thread is
	// printing (zkCli's ls has printed "[" and "d]" around them): they are
	// cut out where they fall, not line by line.
	var events []string
	out = watcherRE.ReplaceAllStringFunc(out, func(m string) string {
		if ev := strings.Trim(m, "\n"); ev != "WATCHER::" {
			events = append(events, ev)
		}
		return ""
	})
	var kept []string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "SLF4J: "), strings.HasPrefix(l, "\tat "),
			strings.HasPrefix(l, "Caused by: "), strings.HasPrefix(l, "\t... "):
			continue
		}
		kept = append(kept, l)
	}
	out = strings.Join(kept, "\n")
	out = zxidRE.ReplaceAllString(out, "${1}Z")
	out = timeRE.ReplaceAllStringFunc(out, func(s string) string {
		if strings.HasSuffix(s, " 1969") { // the epoch: compared as is
			return s
		}
		return timeRE.ReplaceAllString(s, "${1}<date>")
	})
	out = ownerRE.ReplaceAllString(out, "${1}<session>")
	out = versionRE.ReplaceAllString(out, "ZooKeeper CLI version: <version>")
	out = ephRE.ReplaceAllStringFunc(out, func(s string) string {
		items := strings.Split(s[1:len(s)-1], ", ")
		sort.Strings(items)
		return "[" + strings.Join(items, ", ") + "]"
	})
	sort.Strings(events)
	return out, events
}

// compare fails t where the two runs differ after normalisation. With
// anyConnect, whether the connection's notification came is not compared:
// a command that does not need the server may end zkCli before it comes.
func compare(t *testing.T, java, warren run, javaPrefix, warrenPrefix string, anyConnect bool) {
	t.Helper()
	jOut, jEv := normalize(java.stdout, javaPrefix)
	wOut, wEv := normalize(warren.stdout, warrenPrefix)
	if anyConnect {
		drop := func(evs []string) []string {
			return slices.DeleteFunc(evs, func(e string) bool { return strings.HasSuffix(e, "type:None path:null") })
		}
		jEv, wEv = drop(jEv), drop(wEv)
	}
	jErr, _ := normalize(java.stderr, javaPrefix)
	wErr, _ := normalize(warren.stderr, warrenPrefix)
	if java.code != warren.code {
		t.Errorf("exit code: zkCli %d, warren cli %d", java.code, warren.code)
	}
	for _, d := range []struct{ what, j, w string }{
		{"stdout", jOut, wOut},
		{"stderr", jErr, wErr},
		{"watch notifications", strings.Join(jEv, "\n"), strings.Join(wEv, "\n")},
	} {
		if d.j != d.w {
			t.Errorf("%s differs:\n%s", d.what, lineDiff(d.j, d.w))
		}
	}
	if t.Failed() {
		t.Logf("----- zkCli stdout -----\n%s\n----- zkCli stderr -----\n%s", java.stdout, java.stderr)
		t.Logf("----- warren cli stdout -----\n%s\n----- warren cli stderr -----\n%s", warren.stdout, warren.stderr)
	}
}

// lineDiff shows the first lines where a and b differ, with context.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	var sb strings.Builder
	from := max(0, i-3)
	fmt.Fprintf(&sb, "first difference at line %d\n--- zkCli\n", i+1)
	for _, l := range al[from:min(len(al), i+5)] {
		sb.WriteString("  " + l + "\n")
	}
	sb.WriteString("--- warren cli\n")
	for _, l := range bl[from:min(len(bl), i+5)] {
		sb.WriteString("  " + l + "\n")
	}
	return sb.String()
}

// goldenAgainst runs the golden script through both shells against addr.
func goldenAgainst(t *testing.T, zkCli, addr string) {
	var java, warren run
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		java = runZkCli(t, zkCli, addr, nil, strings.ReplaceAll(goldenScript, "$R", "/zkcli"))
	}()
	warren = runWarren(t, addr, nil, strings.ReplaceAll(goldenScript, "$R", "/warrn"))
	wg.Wait()
	compare(t, java, warren, "/zkcli", "/warrn", false)
}

// TestCLIMatchesZkCli compares warren cli with zkCli on a Warren server.
func TestCLIMatchesZkCli(t *testing.T) {
	useGoldenZone(t)
	t.Parallel()
	zkCli := deps.ZkCli(t)
	srv := warrentest.Start(t, &warrentest.Options{Config: func(c *config.Config) { c.ExtendedTypesEnabled = true }})
	goldenAgainst(t, zkCli, srv.Addr)
}

// TestCLIMatchesZkCliOnZooKeeper compares them on Apache ZooKeeper 3.8:
// the same comparison, without Warren's server in the way.
func TestCLIMatchesZkCliOnZooKeeper(t *testing.T) {
	useGoldenZone(t)
	t.Parallel()
	zkCli := deps.ZkCli(t)
	srv := zkoracle.Start(t, &zkoracle.Options{ExtraConfig: map[string]string{"extendedTypesEnabled": "true"}})
	goldenAgainst(t, zkCli, srv.Addr)
}

// TestCLIOneShot compares a command given as arguments: output, stream and
// exit code (zkCli: 0, 1 on error, 127 for an unknown command).
func TestCLIOneShot(t *testing.T) {
	useGoldenZone(t)
	t.Parallel()
	zkCli := deps.ZkCli(t)
	srv := warrentest.Start(t, &warrentest.Options{Config: func(c *config.Config) { c.ExtendedTypesEnabled = true }})
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"get missing", []string{"get", "/missing-$R"}, 1},
		{"create", []string{"create", "/oneshot-$R", "some data"}, 0},
		{"unknown command", []string{"nosuch", "x"}, 127},
		{"usage", []string{"ls"}, 1},
		{"bad option", []string{"get", "-z", "/"}, 1},
		{"crash", []string{"set", "-v", "abc", "/", "x"}, 1},
		{"history", []string{"history"}, 0},
		{"ls", []string{"ls", "/zookeeper"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sub := func(p string) []string {
				out := make([]string, len(tc.args))
				for i, a := range tc.args {
					out[i] = strings.ReplaceAll(a, "$R", p)
				}
				return out
			}
			java := runZkCli(t, zkCli, srv.Addr, sub("zkcli"), "")
			warren := runWarren(t, srv.Addr, sub("warrn"), "")
			if warren.code != tc.code {
				t.Errorf("warren cli exit code %d, want %d", warren.code, tc.code)
			}
			compare(t, java, warren, "zkcli", "warrn", true)
		})
	}
}

// TestCLIScriptMode: standard input that is not a terminal is read as a
// script, without prompts, and the exit code is the last command's.
func TestCLIScriptMode(t *testing.T) {
	t.Parallel()
	srv := warrentest.Start(t, nil)
	r := runWarren(t, srv.Addr, nil, "create /s hello\nget /s\nls /\nget /nope\n")
	wantOut := "Connecting to " + srv.Addr + "\nWelcome to ZooKeeper!\nJLine support is disabled\n\nWATCHER::\n\n" +
		"WatchedEvent state:SyncConnected type:None path:null\nhello\n[s, zookeeper]\n"
	wantErr := "Created /s\nNode does not exist: /nope\n"
	if r.stdout != wantOut || r.stderr != wantErr || r.code != 1 {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	// quit ends the script with the status of the command before it.
	r = runWarren(t, srv.Addr, nil, "ls /\nquit\nget /nope\n")
	if r.code != 0 || strings.Contains(r.stderr, "nope") {
		t.Errorf("quit: exit %d, stderr %q", r.code, r.stderr)
	}
	// A chroot.
	r = runWarren(t, srv.Addr+"/s", []string{"create", "/inner", "x"}, "")
	if r.code != 0 || r.stderr != "Created /inner\n" {
		t.Errorf("chroot: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestCLIFlags covers the command line itself.
func TestCLIFlags(t *testing.T) {
	t.Parallel()
	srv := warrentest.Start(t, nil)
	dir := t.TempDir()
	props := filepath.Join(dir, "client.properties")
	if err := os.WriteFile(props, []byte("# client\nzookeeper.sasl.client=false\njute.maxbuffer=1048576\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string // substrings
	}{
		{"help", []string{"-h"}, 0, "usage: warren cli", ""},
		{"timeout", []string{"-server", srv.Addr, "-timeout", "abc", "ls", "/"}, 1, "Connecting to",
			"Exception in thread \"main\" java.lang.NumberFormatException: For input string: \"abc\""},
		{"client configuration", []string{"-server", srv.Addr, "-client-configuration", props, "-r", "-waitforconnection", "ls", "/"}, 0,
			"[zookeeper]", "ignoring client configuration property zookeeper.sasl.client"},
		{"missing client configuration", []string{"-client-configuration", filepath.Join(dir, "nope"), "ls", "/"}, 2, "",
			"ConfigException: Error processing"},
		{"unknown options are ignored", []string{"-server", srv.Addr, "-foo", "ls", "/"}, 0, "[zookeeper]", ""},
		{"wait for a dead server", []string{"-server", "127.0.0.1:1", "-timeout", "300", "-waitforconnection", "ls", "/"}, 1,
			"state:Closed", "KeeperErrorCode = ConnectionLoss"},
		{"dead server", []string{"-server", "127.0.0.1:1", "-timeout", "3000", "ls", "/"}, 1, "", "KeeperErrorCode = ConnectionLoss for /\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr syncbuf.Buffer
			code := runCLI(tc.args, strings.NewReader(""), &stdout, &stderr)
			if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
		})
	}
	// A missing option value is reported, and the default kept.
	var stderr syncbuf.Buffer
	if o := parseCLIArgs([]string{"-server"}, &stderr); o.server != "localhost:2181" || stderr.String() != "Error: no argument found for option -server\n" {
		t.Errorf("parseCLIArgs(-server) = %+v, %q", o, stderr.String())
	}
	if o := parseCLIArgs([]string{"-r", "get", "-s", "/x"}, &stderr); !o.readOnly || strings.Join(o.command, " ") != "get -s /x" {
		t.Errorf("parseCLIArgs = %+v", o)
	}
}

// Notifications are cut out of zkCli's output wherever the event thread
// printed them, also in the middle of a line.
func TestNormalizeNotifications(t *testing.T) {
	for _, tc := range []struct {
		name, raw, out string
		events         []string
	}{
		{"between lines", "a\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\nb\n",
			"a\nb\n", []string{"WatchedEvent state:SyncConnected type:None path:null"}},
		{"inside a line (seen in CI)", "null\n\nWATCHER::\n[\nWatchedEvent state:SyncConnected type:NodeCreated path:/p/w/d\n" +
			"\nWATCHER::\n\nWatchedEvent state:SyncConnected type:NodeChildrenChanged path:/p/w\nd]\nnext\n",
			"null\n[d]\nnext\n", []string{"WatchedEvent state:SyncConnected type:NodeChildrenChanged path:$R/w",
				"WatchedEvent state:SyncConnected type:NodeCreated path:$R/w/d"}},
	} {
		out, events := normalize(tc.raw, "/p")
		if out != tc.out || !slices.Equal(events, tc.events) {
			t.Errorf("%s: normalize = %q, %q; want %q, %q", tc.name, out, events, tc.out, tc.events)
		}
	}
}
