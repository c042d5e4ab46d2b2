package server_test

// Golden tests of the four-letter words, Warren alone: each answer must
// match a template line by line. A template is the exact text, with
// placeholders for the values that vary from run to run ({INT}, {VERSION},
// {ADDR}, ...) and variables ({A}: session A's id, ...) for the values the
// test knows. tests/fourlw compares the same words with a real ZooKeeper.

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/server"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
)

var placeholders = map[string]string{
	"{INT}":     `-?\d+`,
	"{HEX}":     `[0-9a-f]+`,
	"{DOUBLE}":  `-?\d+\.\d+(?:E-?\d+)?`,
	"{VERSION}": `\d+(?:\.\d+)+-[^,\s]+, built on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC`,
	"{ADDR}":    `127\.0\.0\.1:\d+`,
	"{DATE}":    `(?:Sun|Mon|Tue|Wed|Thu|Fri|Sat) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{2} \d{2}:\d{2}:\d{2} \S+ \d{4}`,
	"{EPOCHMS}": `\d{13}`,
	"{ANY}":     `.+`,
}

var placeholderRE = regexp.MustCompile(`\{[A-Z0-9]+\}`)

// lineRE compiles one template line: literal text, placeholders, and vars
// (replaced by their literal value).
func lineRE(t *testing.T, tmpl string, vars map[string]string) *regexp.Regexp {
	t.Helper()
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, loc := range placeholderRE.FindAllStringIndex(tmpl, -1) {
		b.WriteString(regexp.QuoteMeta(tmpl[last:loc[0]]))
		name := tmpl[loc[0]:loc[1]]
		if re, ok := placeholders[name]; ok {
			b.WriteString("(?:" + re + ")")
		} else if v, ok := vars[name]; ok {
			b.WriteString(regexp.QuoteMeta(v))
		} else {
			t.Fatalf("template uses unknown %s", name)
		}
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(tmpl[last:]) + "$")
	return regexp.MustCompile(b.String())
}

// golden checks got against tmpl line by line ("\n"-separated, so the
// trailing newline counts as a last, empty line).
func golden(t *testing.T, what, got, tmpl string, vars map[string]string) {
	t.Helper()
	gl, tl := strings.Split(got, "\n"), strings.Split(tmpl, "\n")
	for i := 0; i < len(gl) || i < len(tl); i++ {
		switch {
		case i >= len(tl):
			t.Errorf("%s: extra line %d %q\n--- got ---\n%s", what, i+1, gl[i], got)
			return
		case i >= len(gl):
			t.Errorf("%s: missing line %d, want %q\n--- got ---\n%s", what, i+1, tl[i], got)
			return
		case !lineRE(t, tl[i], vars).MatchString(gl[i]):
			t.Errorf("%s: line %d is %q, want %q\n--- got ---\n%s", what, i+1, gl[i], tl[i], got)
			return
		}
	}
}

func ask4(t *testing.T, addr, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, cmd); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%q: %v", cmd[:4], err)
	}
	return string(b)
}

const srvrFresh = `Zookeeper version: {VERSION}
Latency min/avg/max: 0/0.0/0
Received: {INT}
Sent: {INT}
Connections: 1
Outstanding: 0
Zxid: 0x{HEX}
Mode: standalone
Node count: 5
`

const confTmpl = `clientPort={PORT}
secureClientPort=-1
dataDir={DATADIR}/version-2
dataDirSize={INT}
dataLogDir={DATADIR}/version-2
dataLogSize={INT}
tickTime=2000
maxClientCnxns=60
minSessionTimeout=4000
maxSessionTimeout=40000
clientPortListenBacklog=-1
serverId=0
`

const enviTmpl = `Environment:
zookeeper.version={VERSION}
host.name={ANY}
java.version={ANY}
java.vendor={ANY}
java.home={ANY}
java.class.path={ANY}
java.library.path={ANY}
java.io.tmpdir={ANY}
java.compiler=<NA>
os.name={ANY}
os.arch={ANY}
os.version={ANY}
user.name={ANY}
user.home={ANY}
user.dir={ANY}
os.memory.free={INT}MB
os.memory.max={INT}MB
os.memory.total={INT}MB
`

// mntrTmpl is the core key set in ZooKeeper 3.8's order, then the storage
// summaries (ServerMetrics' fsynctime, snapshottime, dbinittime, in the
// order ZooKeeper prints them); {ZNODES} etc. are the values the test
// expects.
const mntrTmpl = `zk_version	{VERSION}
zk_server_state	standalone
zk_ephemerals_count	{EPH}
zk_num_alive_connections	{CONNS}
zk_avg_latency	{DOUBLE}
zk_outstanding_requests	0
zk_znode_count	{ZNODES}
zk_global_sessions	{SESSIONS}
zk_non_mtls_remote_conn_count	0
zk_last_client_response_size	{LAST}
zk_packets_sent	{INT}
zk_packets_received	{INT}
zk_max_client_response_size	{MAX}
zk_connection_drop_probability	0.0
zk_watch_count	{WATCHES}
zk_auth_failed_count	0
zk_min_latency	{INT}
zk_max_file_descriptor_count	{INT}
zk_approximate_data_size	{SIZE}
zk_open_file_descriptor_count	{INT}
zk_local_sessions	0
zk_uptime	{INT}
zk_max_latency	{INT}
zk_outstanding_tls_handshake	0
zk_min_client_response_size	{MIN}
zk_non_mtls_local_conn_count	0
zk_avg_fsynctime	{DOUBLE}
zk_min_fsynctime	{INT}
zk_max_fsynctime	{INT}
zk_cnt_fsynctime	{INT}
zk_sum_fsynctime	{INT}
zk_avg_snapshottime	{DOUBLE}
zk_min_snapshottime	{INT}
zk_max_snapshottime	{INT}
zk_cnt_snapshottime	{INT}
zk_sum_snapshottime	{INT}
zk_avg_dbinittime	{DOUBLE}
zk_min_dbinittime	{INT}
zk_max_dbinittime	{INT}
zk_cnt_dbinittime	{INT}
zk_sum_dbinittime	{INT}
`

func TestFourLetterWordsGoldenFresh(t *testing.T) {
	s := warrentest.Start(t, nil)
	vars := map[string]string{
		"{PORT}": fmt.Sprint(s.Port), "{DATADIR}": mustAbs(t, s.Cfg.DataDir),
		"{EPH}": "0", "{CONNS}": "1", "{ZNODES}": "5", "{SESSIONS}": "0", "{WATCHES}": "0",
		"{SIZE}": "44", "{LAST}": "-1", "{MIN}": "-1", "{MAX}": "-1",
	}
	for _, c := range []struct{ word, tmpl string }{
		{"ruok", "imok"},
		{"isro", "rw"},
		{"gtmk", "306"},
		{"srvr", srvrFresh},
		{"stat", "Zookeeper version: {VERSION}\nClients:\n /{ADDR}[0](queued=0,recved=1,sent=0)\n\n" +
			strings.SplitN(srvrFresh, "\n", 2)[1]},
		{"cons", " /{ADDR}[0](queued=0,recved=1,sent=0)\n\n"},
		{"conf", confTmpl},
		{"envi", enviTmpl},
		{"dirs", "datadir_size: {INT}\nlogdir_size: {INT}\n"},
		{"mntr", mntrTmpl},
		{"wchs", "0 connections watching 0 paths\nTotal watches:0\n"},
		{"wchc", "\n"},
		{"wchp", "\n"},
		{"dump", "SessionTracker dump:\nSession Sets (0)/(0):\nephemeral nodes dump:\nSessions with Ephemerals (0):\n" +
			"Connections dump:\nConnections Sets (1)/(1):\n1 expire at {DATE}:\n\tip: /{ADDR} sessionId: 0x0\n"},
		{"hash", ""},
		{"crst", "Connection stats reset.\n"},
		{"srst", "Server stats reset.\n"},
	} {
		golden(t, c.word, ask4(t, s.Addr, c.word), c.tmpl, vars)
	}

	// stmk echoes the mask (as a signed long) and gtmk then reports it.
	for _, mask := range []uint64{0x1f, 1 << 63, ^uint64(0), 306} {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], mask)
		want := fmt.Sprint(int64(mask))
		golden(t, "stmk", ask4(t, s.Addr, "stmk"+string(b[:])), want, nil)
		golden(t, "gtmk", ask4(t, s.Addr, "gtmk"), want, nil)
	}
}

// TestFourLetterWordsPacketCounts checks srvr's counters: every
// four-letter word is a packet received, and its answer one packet sent per
// 8 KiB piece (none for an empty answer), as ZooKeeper counts them.
func TestFourLetterWordsPacketCounts(t *testing.T) {
	s := warrentest.Start(t, nil)
	ask4(t, s.Addr, "srst") // answer sent after the reset: Sent 1
	counts := func() string {
		out := ask4(t, s.Addr, "srvr")
		i := strings.Index(out, "Received:")
		j := strings.Index(out, "Connections:")
		return out[i:j]
	}
	if got := counts(); got != "Received: 1\nSent: 1\n" {
		t.Fatalf("after srst: %q", got)
	}
	ask4(t, s.Addr, "hash") // empty answer: nothing sent
	if got := counts(); got != "Received: 3\nSent: 2\n" {
		t.Fatalf("after hash: %q", got)
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// populated is a server in the state of tests/fourlw's populate: sessions
// A and B, /a, /a/b, A's ephemeral /e, data and child watches, and session
// C re-attached on a new socket.
type populated struct {
	s       *warrentest.Server
	a, b, c *raw
	vars    map[string]string
}

func populate(t *testing.T) *populated {
	s := warrentest.Start(t, nil)
	p := &populated{s: s, a: dial(t, s.Addr), b: dial(t, s.Addr)}
	p.a.connect(30000, 0, nil, false)
	p.b.connect(30000, 0, nil, false)
	must := func(r *raw, op proto.OpCode, req, resp proto.Record) {
		t.Helper()
		if err := r.call(op, req, resp); err != proto.ErrOK {
			t.Fatalf("%v: %v", op, err)
		}
	}
	must(p.a, proto.OpCreate, &proto.CreateRequest{Path: "/a", Data: []byte("hello"), Acl: open}, &proto.CreateResponse{})
	must(p.a, proto.OpCreate, &proto.CreateRequest{Path: "/a/b", Data: []byte("x"), Acl: open}, &proto.CreateResponse{})
	must(p.a, proto.OpCreate, &proto.CreateRequest{Path: "/e", Data: []byte("eph"), Acl: open, Flags: proto.ModeEphemeral}, &proto.CreateResponse{})
	must(p.b, proto.OpGetData, &proto.GetDataRequest{Path: "/a", Watch: true}, &proto.GetDataResponse{})
	must(p.b, proto.OpGetChildren, &proto.GetChildrenRequest{Path: "/a", Watch: true}, &proto.GetChildrenResponse{})
	must(p.a, proto.OpExists, &proto.ExistsRequest{Path: "/a/b", Watch: true}, &proto.ExistsResponse{})
	must(p.b, proto.OpExists, &proto.ExistsRequest{Path: "/a/b", Watch: true}, &proto.ExistsResponse{})
	first := dial(t, s.Addr)
	first.connect(30000, 0, nil, false)
	p.c = dial(t, s.Addr)
	p.c.connect(30000, first.sid, first.pw, false)
	first.expectClosed()
	p.vars = map[string]string{
		"{A}": fmt.Sprintf("%x", p.a.sid), "{B}": fmt.Sprintf("%x", p.b.sid), "{C}": fmt.Sprintf("%x", p.c.sid),
		"{AADDR}": p.a.c.LocalAddr().String(), "{BADDR}": p.b.c.LocalAddr().String(), "{CADDR}": p.c.c.LocalAddr().String(),
		"{EPH}": "1", "{CONNS}": "4", "{ZNODES}": "8", "{SESSIONS}": "3", "{WATCHES}": "4",
		// 44 + len("/a")+len("hello") + len("/a/b")+len("x") + len("/e")+len("eph")
		"{SIZE}": "61",
		// last: exists /a/b (16-byte header + 68-byte Stat); min: create /a
		// (header + "/a"); max: getData /a (header + "hello" + Stat).
		"{LAST}": "84", "{MIN}": "22", "{MAX}": "93",
	}
	if p.a.sid >= p.b.sid || p.b.sid >= p.c.sid {
		t.Fatalf("session ids not increasing: %x %x %x", p.a.sid, p.b.sid, p.c.sid)
	}
	return p
}

func TestFourLetterWordsGoldenPopulated(t *testing.T) {
	p := populate(t)
	addr, vars := p.s.Addr, p.vars
	clients := " /{AADDR}[1](queued=0,recved=5,sent=5)\n /{BADDR}[1](queued=0,recved=4,sent=4)\n" +
		" /{CADDR}[1](queued=0,recved=1,sent=1)\n /{ADDR}[0](queued=0,recved=1,sent=0)\n"
	srvrTail := "Latency min/avg/max: {INT}/{DOUBLE}/{INT}\nReceived: {INT}\nSent: {INT}\nConnections: 4\n" +
		"Outstanding: 0\nZxid: 0x{HEX}\nMode: standalone\nNode count: 8\n"
	lat := "lresp={INT},llat={INT},minlat={INT},avglat={INT},maxlat={INT})"
	for _, c := range []struct{ word, tmpl string }{
		{"srvr", "Zookeeper version: {VERSION}\n" + srvrTail},
		{"stat", "Zookeeper version: {VERSION}\nClients:\n" + clients + "\n" + srvrTail},
		{"cons", "" +
			" /{AADDR}[1](queued=0,recved=5,sent=5,sid=0x{A},lop=EXIS,est={EPOCHMS},to=30000,lcxid=0x4,lzxid=0x{HEX}," + lat + "\n" +
			" /{BADDR}[1](queued=0,recved=4,sent=4,sid=0x{B},lop=EXIS,est={EPOCHMS},to=30000,lcxid=0x3,lzxid=0x{HEX}," + lat + "\n" +
			// re-attached, nothing answered yet: ZooKeeper's initial field values
			" /{CADDR}[1](queued=0,recved=1,sent=1,sid=0x{C},lop=null,est={EPOCHMS},to=30000,lcxid=0x0,lzxid=0x0,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0)\n" +
			" /{ADDR}[0](queued=0,recved=1,sent=0)\n\n"},
		{"mntr", mntrTmpl},
		{"wchs", "2 connections watching 2 paths\nTotal watches:3\n"},
		{"wchc", "0x{A}\n\t/a/b\n0x{B}\n\t/a\n\t/a/b\n\n"},
		{"wchp", "/a\n\t0x{B}\n/a/b\n\t0x{A}\n\t0x{B}\n\n"},
		{"hash", ""},
	} {
		golden(t, c.word, ask4(t, addr, c.word), c.tmpl, vars)
	}
	checkDump(t, ask4(t, addr, "dump"), vars)

	// A session's first operation is its createSession ("SESS", cxid 0).
	d := dial(t, addr)
	d.connect(30000, 0, nil, false)
	vars["{D}"], vars["{DADDR}"] = fmt.Sprintf("%x", d.sid), d.c.LocalAddr().String()
	cons := ask4(t, addr, "cons")
	want := " /{DADDR}[1](queued=0,recved=1,sent=1,sid=0x{D},lop=SESS,est={EPOCHMS},to=30000,lcxid=0x0,lzxid=0x{HEX}," + lat
	if ls := strings.Split(cons, "\n"); len(ls) < 4 || !lineRE(t, want, vars).MatchString(ls[3]) {
		t.Errorf("new session's cons line: want %q\n%s", want, cons)
	}
	// Closing the session: the server replies, leaves its tables, then
	// closes the socket, so D is gone from the lists once the close is seen.
	if err := d.call(proto.OpCloseSession, nil, nil); err != proto.ErrOK {
		t.Fatal(err)
	}
	d.expectClosed()

	// crst: ServerCnxn.resetStats for every connection.
	golden(t, "crst", ask4(t, addr, "crst"), "Connection stats reset.\n", nil)
	reset := "lop=NA,est={EPOCHMS},to=30000,lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0)"
	golden(t, "cons after crst", ask4(t, addr, "cons"), ""+
		" /{AADDR}[1](queued=0,recved=0,sent=0,sid=0x{A},"+reset+"\n"+
		" /{BADDR}[1](queued=0,recved=0,sent=0,sid=0x{B},"+reset+"\n"+
		" /{CADDR}[1](queued=0,recved=0,sent=0,sid=0x{C},"+reset+"\n"+
		" /{ADDR}[0](queued=0,recved=1,sent=0)\n\n", vars)

	// srst: latency, packet counts and response sizes start again.
	golden(t, "srst", ask4(t, addr, "srst"), "Server stats reset.\n", nil)
	golden(t, "srvr after srst", ask4(t, addr, "srvr"), "Zookeeper version: {VERSION}\nLatency min/avg/max: 0/0.0/0\n"+
		"Received: 1\nSent: 1\nConnections: 4\nOutstanding: 0\nZxid: 0x{HEX}\nMode: standalone\nNode count: 8\n", vars)
	vars["{LAST}"], vars["{MIN}"], vars["{MAX}"] = "-1", "-1", "-1"
	golden(t, "mntr after srst", ask4(t, addr, "mntr"), mntrTmpl, vars)
}

var (
	dumpRE = regexp.MustCompile(`^SessionTracker dump:\nSession Sets \((\d+)\)/\((\d+)\):\n((?:\d+ expire at [^\n]+:\n(?:\t[^\n]*\n)*)*)` +
		`ephemeral nodes dump:\n(Sessions with Ephemerals \(\d+\):\n(?:[^\n]*\n)*)` +
		`Connections dump:\nConnections Sets \((\d+)\)/\((\d+)\):\n((?:\d+ expire at [^\n]+:\n(?:\t[^\n]*\n)*)*)$`)
	bucketRE = regexp.MustCompile(`^(\d+) expire at (` + placeholders["{DATE}"] + `):$`)
)

// checkDump checks dump: the sessions' and connections' expiry buckets
// (their number depends on timing) and the ephemerals.
func checkDump(t *testing.T, out string, vars map[string]string) {
	t.Helper()
	m := dumpRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("dump has not the layout of ZooKeeper's:\n%s", out)
	}
	golden(t, "dump ephemerals", m[4], "Sessions with Ephemerals (1):\n0x{A}:\n\t/e\n", vars)
	buckets := func(what, nb, ne, body string, elem func(string) string) []string {
		var els []string
		var last time.Time
		ls := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		buckets := 0
		for i := 0; i < len(ls) && body != ""; {
			bm := bucketRE.FindStringSubmatch(ls[i])
			if bm == nil {
				t.Fatalf("%s: bad bucket line %q in\n%s", what, ls[i], out)
			}
			at, err := time.ParseInLocation("Mon Jan 02 15:04:05 MST 2006", bm[2], time.Local)
			if err != nil || at.Before(last) {
				t.Fatalf("%s: bucket %q out of order or unparsable (%v)", what, ls[i], err)
			}
			last = at
			buckets++
			n := 0
			for i++; i < len(ls) && strings.HasPrefix(ls[i], "\t"); i++ {
				els = append(els, elem(ls[i]))
				n++
			}
			if fmt.Sprint(n) != bm[1] {
				t.Fatalf("%s: bucket %q has %d lines", what, bm[0], n)
			}
		}
		if fmt.Sprint(buckets) != nb || fmt.Sprint(len(els)) != ne {
			t.Fatalf("%s: Sets (%s)/(%s) but %d buckets, %d elements:\n%s", what, nb, ne, buckets, len(els), out)
		}
		sort.Strings(els)
		return els
	}
	sessions := buckets("sessions", m[1], m[2], m[3], func(l string) string { return l })
	want := []string{"\t0x" + vars["{A}"], "\t0x" + vars["{B}"], "\t0x" + vars["{C}"]}
	if strings.Join(sessions, ",") != strings.Join(want, ",") {
		t.Errorf("dump sessions %q, want %q", sessions, want)
	}
	conns := buckets("connections", m[5], m[6], m[7], func(l string) string { return l })
	wantConns := []string{
		"\tip: /" + vars["{AADDR}"] + " sessionId: 0x" + vars["{A}"],
		"\tip: /" + vars["{BADDR}"] + " sessionId: 0x" + vars["{B}"],
		"\tip: /" + vars["{CADDR}"] + " sessionId: 0x" + vars["{C}"],
	}
	if len(conns) != 4 {
		t.Fatalf("dump connections %q: want 4", conns)
	}
	var rest []string
	for _, c := range conns {
		if strings.HasSuffix(c, " sessionId: 0x0") {
			golden(t, "dump: the dump connection", c, "\tip: /{ADDR} sessionId: 0x0", nil)
			continue
		}
		rest = append(rest, c)
	}
	sort.Strings(wantConns)
	if strings.Join(rest, "\n") != strings.Join(wantConns, "\n") {
		t.Errorf("dump connections %q, want %q", rest, wantConns)
	}
}

// TestWatchDumpIsBounded lowers the wchc/wchp limits and checks the
// truncated answers.
func TestWatchDumpIsBounded(t *testing.T) {
	if e, b := server.WatchDumpLimits(); e != 50_000 || b != 4<<20 {
		t.Fatalf("default limits %d entries, %d bytes; the comment in fourlw.go says 50000 and 4 MiB", e, b)
	}
	s := warrentest.Start(t, nil)
	r := dial(t, s.Addr)
	r.connect(30000, 0, nil, false)
	for i := 1; i <= 5; i++ {
		p := fmt.Sprintf("/w%d", i)
		if err := r.call(proto.OpCreate, &proto.CreateRequest{Path: p, Acl: open}, &proto.CreateResponse{}); err != proto.ErrOK {
			t.Fatal(err)
		}
		if err := r.call(proto.OpExists, &proto.ExistsRequest{Path: p, Watch: true}, &proto.ExistsResponse{}); err != proto.ErrOK {
			t.Fatal(err)
		}
	}
	vars := map[string]string{"{S}": fmt.Sprintf("%x", r.sid)}
	// At the limit: everything, no note.
	restore := server.SetWatchDumpLimits(5, 0)
	defer restore()
	golden(t, "wchc", ask4(t, s.Addr, "wchc"), "0x{S}\n\t/w1\n\t/w2\n\t/w3\n\t/w4\n\t/w5\n\n", vars)
	// Over the entry limit.
	server.SetWatchDumpLimits(3, 0)
	note := "[truncated: only 3 watches listed; wchs gives the totals]"
	golden(t, "wchc", ask4(t, s.Addr, "wchc"), "0x{S}\n\t/w{INT}\n\t/w{INT}\n\t/w{INT}\n"+note+"\n\n", vars)
	golden(t, "wchp", ask4(t, s.Addr, "wchp"), "/w{INT}\n\t0x{S}\n/w{INT}\n\t0x{S}\n/w{INT}\n\t0x{S}\n"+note+"\n\n", vars)
	// Over the byte limit: paths of 3 bytes, 7 bytes allowed -> 3 listed.
	server.SetWatchDumpLimits(100, 7)
	golden(t, "wchp", ask4(t, s.Addr, "wchp"), "/w{INT}\n\t0x{S}\n/w{INT}\n\t0x{S}\n/w{INT}\n\t0x{S}\n"+note+"\n\n", vars)
	golden(t, "wchs", ask4(t, s.Addr, "wchs"), "1 connections watching 5 paths\nTotal watches:5\n", nil)
}

func TestJavaDouble(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0.0"}, {1, "1.0"}, {1.5, "1.5"}, {369.3333, "369.3333"}, {0.001, "0.001"},
		{9999999, "9999999.0"}, {1e7, "1.0E7"}, {12345678.5, "1.23456785E7"}, {0.0001, "1.0E-4"},
		{-2.5, "-2.5"},
	} {
		if got := server.JavaDouble(c.v); got != c.want {
			t.Errorf("JavaDouble(%v) = %q, want %q", c.v, got, c.want)
		}
	}
	// AvgMinMaxCounter.getAvg: BigDecimal(v).setScale(4, HALF_UP).
	for _, c := range []struct{ v, want float64 }{
		{1108.0 / 3, 369.3333}, {2.0 / 3, 0.6667}, {1.03125, 1.0313}, {1.00005, 1.0001},
		{1.00004999, 1}, {0.00005, 0.0001}, {-1.03125, -1.0313}, {7, 7},
	} {
		if got := server.Round4(c.v); got != c.want {
			t.Errorf("Round4(%v) = %v, want %v", c.v, got, c.want)
		}
	}
}

// TestVersionShape: tools parse the version string (kazoo: the leading
// dotted digits of envi's zookeeper.version; monitoring: srvr's first line).
func TestVersionShape(t *testing.T) {
	re := regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)-[^,\s]+, built on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$`)
	m := re.FindStringSubmatch(server.Version)
	if m == nil {
		t.Fatalf("Version %q is not <major>.<minor>.<micro>-<suffix>, built on yyyy-MM-dd HH:mm UTC", server.Version)
	}
	if _, err := time.Parse("2006-01-02 15:04", server.Version[strings.Index(server.Version, "built on ")+9:len(server.Version)-4]); err != nil {
		t.Errorf("build date of %q: %v", server.Version, err)
	}
}

// TestFourLetterWordsNotServing: while the server does not serve clients,
// the words that need the server answer ZooKeeper's ZK_NOT_SERVING line.
func TestFourLetterWordsNotServing(t *testing.T) {
	s := warrentest.Start(t, nil)
	s.SetServingForTest(false)
	defer s.SetServingForTest(true)
	const ns = "This ZooKeeper instance is not currently serving requests"
	for _, w := range []string{"conf", "cons", "crst", "dirs", "dump", "mntr", "srst", "srvr", "stat", "wchc", "wchp", "wchs"} {
		golden(t, w, ask4(t, s.Addr, w), ns+"\n", nil)
	}
	golden(t, "hash", ask4(t, s.Addr, "hash"), ns, nil)
	golden(t, "isro", ask4(t, s.Addr, "isro"), "null", nil)
	golden(t, "ruok", ask4(t, s.Addr, "ruok"), "imok", nil)
	golden(t, "gtmk", ask4(t, s.Addr, "gtmk"), "306", nil)
	golden(t, "envi", ask4(t, s.Addr, "envi"), enviTmpl, nil)
}
