package shell

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/testutil/syncbuf"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
	"github.com/warren-zk/warren/zk"
)

var update = flag.Bool("update", false, "rewrite the stored goldens in testdata/")

func zkConnect(timeout time.Duration) ConnectFunc {
	return func(ctx context.Context, server string, dialFailed func(error)) (Client, error) {
		c, err := zk.Connect(ctx, server, zk.WithSessionTimeout(timeout))
		if err != nil {
			return nil, err
		}
		return NewConnClient(c), nil
	}
}

var server struct {
	once sync.Once
	srv  *warrentest.Server
}

// testServer is one Warren server for the package's tests (each uses its
// own paths).
func testServer(t *testing.T) string {
	t.Helper()
	server.once.Do(func() {
		server.srv = warrentest.Start(&onceT{T: t}, &warrentest.Options{
			Config: func(c *config.Config) { c.ExtendedTypesEnabled = true },
		})
	})
	if server.srv == nil {
		t.Fatal("no test server")
	}
	return server.srv.Addr
}

// onceT lets the shared server outlive the test that started it: its
// cleanups run in TestMain.
type onceT struct {
	*testing.T
}

var cleanups []func()

func (o *onceT) Cleanup(f func()) { cleanups = append(cleanups, f) }
func (o *onceT) TempDir() string {
	dir, err := os.MkdirTemp("", "shelltest")
	if err != nil {
		o.T.Fatal(err)
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	return dir
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	os.Exit(code)
}

var normalizers = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?m)^([cmp]Zxid = 0x)[0-9a-f]+$`), "${1}Z"},
	{regexp.MustCompile(`(?m)^([cm]time = )[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ \d{4}$`), "${1}T"},
	{regexp.MustCompile(`(?m)^(ephemeralOwner = 0x)[1-9a-f][0-9a-f]*$`), "${1}S"},
}

func normalize(out, addr string) string {
	out = strings.ReplaceAll(out, addr, "ADDR")
	for _, n := range normalizers {
		out = n.re.ReplaceAllString(out, n.repl)
	}
	return out
}

func newShell(addr string, out io.Writer) *Shell {
	return New(Options{
		Server: addr, Timeout: 10 * time.Second, Connect: zkConnect(10 * time.Second),
		Stdout: out, Stderr: out, Location: time.UTC, Version: "test",
	})
}

var runs atomic.Int64

// runScript runs script in script mode and returns the normalised output
// (both streams) and the exit code. "$R" in script is a path prefix of its
// own (so that tests can run more than once against one server); the
// output has "$R" for it.
func runScript(t *testing.T, addr, script string) (string, int) {
	t.Helper()
	prefix := fmt.Sprintf("/run%d", runs.Add(1))
	c, err := zk.Connect(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(context.Background(), prefix, nil, zk.WorldACL(zk.PermAll), zk.ModePersistent)
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out syncbuf.Buffer
	sh := newShell(addr, &out)
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	code := sh.RunScript(strings.NewReader(strings.ReplaceAll(script, "$R", prefix)))
	return strings.ReplaceAll(normalize(out.String(), addr), prefix, "$R"), code
}

const chrome = "Connecting to ADDR\nWelcome to ZooKeeper!\nJLine support is disabled\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n"

const statZ = "cZxid = 0xZ\nctime = T\nmZxid = 0xZ\nmtime = T\npZxid = 0xZ\n"

// TestScripts runs scripts against a real server and checks every byte
// printed, in order (both streams together: errors go to stderr).
func TestScripts(t *testing.T) {
	t.Parallel()
	addr := testServer(t)
	for _, tc := range []struct {
		name, script, want string
		code               int
	}{{
		name: "crud",
		script: `create $R/crud
create $R/crud/a hello
create $R/crud/a again
get $R/crud/a
get -s $R/crud/a
set -s $R/crud/a bye
ls $R/crud
stat $R/crud/missing
delete -v 9 $R/crud/a
delete $R/crud/a
ls -s $R/crud
`,
		want: chrome + `Created $R/crud
Created $R/crud/a
Node already exists: $R/crud/a
hello
hello
` + statZ + `cversion = 0
dataVersion = 0
aclVersion = 0
ephemeralOwner = 0x0
dataLength = 5
numChildren = 0
` + statZ + `cversion = 0
dataVersion = 1
aclVersion = 0
ephemeralOwner = 0x0
dataLength = 3
numChildren = 0
[a]
Node does not exist: $R/crud/missing
version No is not valid : $R/crud/a
[]
` + statZ + `cversion = 2
dataVersion = 0
aclVersion = 0
ephemeralOwner = 0x0
dataLength = 0
numChildren = 0
`,
	}, {
		name: "watches fold like the Java client's",
		script: `create $R/w x
get -w $R/w
stat -w $R/w
addWatch $R/w
set $R/w y
create $R/w/c
delete $R/w/c
removewatches $R/w -d
removewatches $R/w
removewatches $R/w
create $R/w2
ls -w $R/w2
get -w $R/w2
delete $R/w2
stat -w $R/w/none
create $R/w/none
`,
		want: chrome + `Created $R/w
x
` + statZ + `cversion = 0
dataVersion = 0
aclVersion = 0
ephemeralOwner = 0x0
dataLength = 1
numChildren = 0

WATCHER::

WatchedEvent state:SyncConnected type:NodeDataChanged path:$R/w

WATCHER::

WatchedEvent state:SyncConnected type:NodeCreated path:$R/w/c
Created $R/w/c

WATCHER::

WatchedEvent state:SyncConnected type:NodeDeleted path:$R/w/c
KeeperErrorCode = No such watcher for $R/w

WATCHER::

WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:$R/w
KeeperErrorCode = No such watcher for $R/w
Created $R/w2
[]
null

WATCHER::

WatchedEvent state:SyncConnected type:NodeDeleted path:$R/w2
Node does not exist: $R/w/none

WATCHER::

WatchedEvent state:SyncConnected type:NodeCreated path:$R/w/none
Created $R/w/none
`,
	}, {
		name: "local commands and a closed session",
		script: `create $R/h
history
printwatches
printwatches off
printwatches
redo 0
redo 9
redo x
`,
		want: chrome + `Created $R/h
0 - create $R/h
1 - history
printwatches is on
printwatches is off
Node already exists: $R/h
Command index out of range
Exception in thread "main" java.lang.NumberFormatException: For input string: "x"
`,
		code: 1,
	}, {
		name: "close and connect",
		script: `close
ls /
history
connect ADDR
create $R/cc
quit
ls /
`,
		want: chrome + `
WATCHER::

WatchedEvent state:Closed type:None path:null
Not connected
0 - close
1 - ls /
2 - history
Not connected

WATCHER::

WatchedEvent state:SyncConnected type:None path:null
Created $R/cc

WATCHER::

WatchedEvent state:Closed type:None path:null
`,
	}, {
		name: "usage and unknown commands",
		script: `create $R/u x
get
ls -x /
nosuch
`,
		want: chrome + "Created $R/u\nget [-s] [-w] path\norg.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x\n" +
			usageText + "Command not found: Command not found nosuch\n",
		code: 127,
	}, {
		name:   "exit code of the last command",
		script: "get $R/nothing-here\n",
		want:   chrome + "Node does not exist: $R/nothing-here\n",
		code:   1,
	}, {
		name:   "quit exits with the previous status",
		script: "get $R/nothing-here\nquit\nls /\n",
		want:   chrome + "Node does not exist: $R/nothing-here\n\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n",
		code:   1,
	}, {
		name: "quota",
		script: `create $R/qt
create $R/qt/a 12345
setquota -n 1 $R/qt
listquota $R/qt
delquota -n $R/qt
listquota $R/qt
delquota $R/qt
listquota $R/qt
delquota $R/qt
`,
		want: chrome + `Created $R/qt
Created $R/qt/a
[Warning]: the count quota you create is less than the existing count:2
absolute path is /zookeeper/quota$R/qt/zookeeper_limits
Output quota for $R/qt count=1,bytes=-1=;byteHardLimit=-1;countHardLimit=-1
Output stat for $R/qt count=2,bytes=5
absolute path is /zookeeper/quota$R/qt/zookeeper_limits
Output quota for $R/qt count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=-1
Output stat for $R/qt count=2,bytes=5
absolute path is /zookeeper/quota$R/qt/zookeeper_limits
quota for $R/qt does not exist.
Quota does not exist for $R/qt
`,
	}, {
		name: "zkCli 3.9 flags",
		script: `create $R/b
set -b $R/b aGVsbG8=
get $R/b
get -b $R/b
get -x $R/b
addWatch -m persistent $R/b
addWatch $R/b
removewatches $R/b -p
removewatches $R/b -p
removewatches $R/b -r
`,
		want: chrome + `Created $R/b
hello
aGVsbG8=
         +-------------------------------------------------+
         |  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f |
+--------+-------------------------------------------------+----------------+
|00000000| 68 65 6c 6c 6f                                  |hello           |
+--------+-------------------------------------------------+----------------+

WATCHER::

WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:$R/b
KeeperErrorCode = No such watcher for $R/b

WATCHER::

WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:$R/b
`,
	}, {
		name:   "a refused addauth kills the session",
		script: "addauth nosuchscheme x\nls /\n",
		want:   chrome + "\nWATCHER::\n\nWatchedEvent state:AuthFailed type:None path:null\nNot connected\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, code := runScript(t, addr, strings.ReplaceAll(tc.script, "ADDR", addr))
			if got != tc.want || code != tc.code {
				t.Errorf("exit code %d (want %d), output:\n%s\n----- want -----\n%s", code, tc.code, got, tc.want)
			}
		})
	}
}

var usageText = func() string {
	var b strings.Builder
	b.WriteString("ZooKeeper -server host:port -client-configuration properties-file cmd args\n")
	for _, n := range CommandNames() {
		b.WriteString("\t" + n + " " + usageOptions[n] + "\n")
	}
	return b.String()
}()

// fakeTerminal is a LineReader fed from a list of lines; it records the
// prompts as a terminal would show them.
type fakeTerminal struct {
	out     io.Writer
	lines   []string
	history []string
}

func (f *fakeTerminal) Prompt(p string) (string, error) {
	io.WriteString(f.out, p)
	if len(f.lines) == 0 {
		return "", io.EOF
	}
	l := f.lines[0]
	f.lines = f.lines[1:]
	if l == "^C" {
		io.WriteString(f.out, "^C\n")
		return "", ErrAborted
	}
	io.WriteString(f.out, l+"\n")
	return l, nil
}

func (f *fakeTerminal) AppendHistory(l string) { f.history = append(f.history, l) }

// TestREPLChrome checks the interactive session's chrome (banner, prompts
// with the session state and command number) against a stored golden.
func TestREPLChrome(t *testing.T) {
	t.Parallel()
	addr := testServer(t)
	if c, err := zk.Connect(context.Background(), addr); err == nil { // for -count=N
		c.Delete(context.Background(), "/repl", -1)
		c.Close()
	}
	var out syncbuf.Buffer
	sh := newShell(addr, &out)
	sh.opts.WaitForConnection = true // a deterministic first prompt
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	ft := &fakeTerminal{out: &out, lines: []string{"create /repl x", "", "^C", "get /repl", "set -v x /repl y", "close", "ls /", "history"}}
	code := sh.RunInteractive(ft)
	got := normalize(out.String(), addr)
	golden := filepath.Join("testdata", "repl.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) || code != 0 {
		t.Errorf("exit code %d, output:\n%s\n----- want (%s) -----\n%s", code, got, golden, want)
	}
	if h := strings.Join(ft.history, "|"); h != "create /repl x|get /repl|set -v x /repl y|close|ls /|history" {
		t.Errorf("history %q", h)
	}
}

// TestCompleteZnodes completes paths from the server.
func TestCompleteZnodes(t *testing.T) {
	t.Parallel()
	addr := testServer(t)
	var out syncbuf.Buffer
	sh := newShell(addr, &out)
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	for _, l := range []string{"create /compl", "create /compl/alpha", "create /compl/alps", "create /compl/beta"} {
		sh.ExecuteLine(l)
	}
	for _, tc := range []struct {
		line, head, tail string
		want             []string
	}{
		{"ls /compl/al", "ls ", "", []string{"/compl/alpha", "/compl/alps"}},
		{"ls /compl/", "ls ", "", []string{"/compl/alpha", "/compl/alps", "/compl/beta"}},
		{"get /co", "get ", "", []string{"/compl"}},
		{"get /nope/x", "get ", "", nil},
	} {
		head, got, tail := sh.Complete(tc.line, len(tc.line))
		if head != tc.head || tail != tc.tail || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("Complete(%q) = %q %q %q, want %q %q", tc.line, head, got, tail, tc.head, tc.want)
		}
	}
}

// TestConnectionLoss: with no server, commands fail as zkCli's do, as soon
// as an attempt to connect fails.
func TestConnectionLoss(t *testing.T) {
	t.Parallel()
	var out syncbuf.Buffer
	refused := errors.New("connection refused")
	sh := New(Options{
		Server: "127.0.0.1:1", Timeout: 5 * time.Second, Stdout: &out, Stderr: &out, Version: "test",
		Connect: func(ctx context.Context, server string, dialFailed func(error)) (Client, error) {
			for {
				dialFailed(refused)
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(20 * time.Millisecond):
				}
			}
		},
	})
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code := sh.RunScript(strings.NewReader("version\nls /\ncreate /x\nsync /\nwhoami\nclose\nls /\n"))
	want := `Connecting to 127.0.0.1:1
Welcome to ZooKeeper!
JLine support is disabled
ZooKeeper CLI version: test
KeeperErrorCode = ConnectionLoss for /
KeeperErrorCode = ConnectionLoss for /x
Sync has failed. rc=-4
Auth scheme: User

WATCHER::

WatchedEvent state:Closed type:None path:null
Not connected
`
	if got := out.String(); got != want || code != 0 {
		t.Errorf("exit code %d, output:\n%s\n----- want -----\n%s", code, got, want)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("took %v: commands should fail at the first failed connection attempt", d)
	}

	// -waitforconnection: zkCli dies.
	out = syncbuf.Buffer{}
	sh = New(Options{
		Server: "127.0.0.1:1", Timeout: 200 * time.Millisecond, WaitForConnection: true, Stdout: &out, Stderr: &out,
		Connect: func(ctx context.Context, server string, dialFailed func(error)) (Client, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	})
	code, ok := sh.Exit(sh.Start())
	want = "Connecting to 127.0.0.1:1\n\nWATCHER::\n\nWatchedEvent state:Closed type:None path:null\n" +
		"Exception in thread \"main\" java.io.IOException: org.apache.zookeeper.KeeperException$ConnectionLossException: KeeperErrorCode = ConnectionLoss\n"
	if got := out.String(); !ok || code != 1 || got != want {
		t.Errorf("-waitforconnection: exit %d (%v), output:\n%s\n----- want -----\n%s", code, ok, got, want)
	}
}
