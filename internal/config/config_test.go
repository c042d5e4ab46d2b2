package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// parse parses text as zoo.cfg; "$D" in text is replaced by dir.
func parse(t *testing.T, dir, text string) (*Config, []Problem) {
	t.Helper()
	return Parse(strings.NewReader(strings.ReplaceAll(text, "$D", dir)), "zoo.cfg")
}

func fatals(ps []Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		if p.Fatal {
			out = append(out, p)
		}
	}
	return out
}

func noProblems(t *testing.T, ps []Problem) {
	t.Helper()
	for _, p := range ps {
		t.Errorf("unexpected problem: %s (fatal %v)", p, p.Fatal)
	}
}

// dataDir makes a data directory, with a myid file holding myid unless it is "".
func dataDir(t *testing.T, myid string) string {
	t.Helper()
	d := t.TempDir()
	if myid != "" {
		if err := os.WriteFile(filepath.Join(d, "myid"), []byte(myid), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestDefault(t *testing.T) {
	c := Default()
	want := map[string]any{
		"TickTime": 2000, "DataDir": "warren-data", "DataLogDir": "warren-data",
		"ClientPort": 2181, "ClientPortAddress": "127.0.0.1", "MaxClientCnxns": 60,
		"MinSessionTimeout": 4000, "MaxSessionTimeout": 40000, "StandaloneEnabled": true,
		"SnapCount": 100000, "PreAllocSizeKB": 65536, "AutopurgeSnapRetainCount": 3,
		"GlobalOutstandingLimit": 1000, "AdminEnableServer": true, "AdminServerAddress": "127.0.0.1",
		"AdminServerPort": 8080, "AdminCommandURL": "/commands", "MetricsHTTPPort": 7000,
		"MetricsHTTPHost": "0.0.0.0", "MetricsProviderClassName": defaultMetricsProvider,
		"FourLetterWords": map[string]bool{"srvr": true}, "SkipACL": false, "MyID": int64(0),
	}
	v := reflect.ValueOf(c).Elem()
	for f, w := range want {
		if got := v.FieldByName(f).Interface(); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %v, want %v", f, got, w)
		}
	}
	if c.Distributed() || c.File != "" || c.Props["clientPort"] != "2181" {
		t.Errorf("Default: distributed %v, file %q, props %v", c.Distributed(), c.File, c.Props)
	}
}

func TestParseDefaults(t *testing.T) {
	c, ps := parse(t, "", "dataDir=/var/zk\n")
	noProblems(t, ps)
	if c.TickTime != 3000 || c.DataLogDir != "/var/zk" || c.ClientPort != 0 || c.ClientPortAddress != "" ||
		c.MinSessionTimeout != 6000 || c.MaxSessionTimeout != 60000 || c.MaxClientCnxns != 60 ||
		!c.StandaloneEnabled || c.ReconfigEnabled || c.PeerType != Participant || c.File != "zoo.cfg" ||
		c.AdminServerPort != 8080 || c.MetricsHTTPPort != 7000 || !reflect.DeepEqual(c.FourLetterWords, map[string]bool{"srvr": true}) {
		t.Errorf("defaults wrong: %+v", c)
	}
}

func TestKeys(t *testing.T) {
	all := map[string]bool{}
	for _, w := range knownWords {
		all[w] = true
	}
	tests := []struct {
		text string
		ok   func(c *Config) bool
	}{
		{"tickTime=2500", func(c *Config) bool {
			return c.TickTime == 2500 && c.MinSessionTimeout == 5000 && c.MaxSessionTimeout == 50000
		}},
		{"dataLogDir=/logs", func(c *Config) bool { return c.DataLogDir == "/logs" && c.DataDir == "/d" }},
		{"clientPort=2182", func(c *Config) bool { return c.ClientPort == 2182 }},
		{"clientPort=2182\nclientPortAddress=10.0.0.1", func(c *Config) bool { return c.ClientPortAddress == "10.0.0.1" }},
		{"secureClientPort=2281\nsecureClientPortAddress=::1", func(c *Config) bool {
			return c.SecureClientPort == 2281 && c.SecureClientPortAddress == "::1"
		}},
		{"maxClientCnxns=0", func(c *Config) bool { return c.MaxClientCnxns == 0 }},
		{"minSessionTimeout=1000\nmaxSessionTimeout=9000", func(c *Config) bool {
			return c.MinSessionTimeout == 1000 && c.MaxSessionTimeout == 9000
		}},
		{"minSessionTimeout=-1\nmaxSessionTimeout=-1", func(c *Config) bool {
			return c.MinSessionTimeout == 6000 && c.MaxSessionTimeout == 60000
		}},
		{"initLimit=10\nsyncLimit=5", func(c *Config) bool { return c.InitLimit == 10 && c.SyncLimit == 5 }},
		{"standaloneEnabled=TRUE\nreconfigEnabled=true", func(c *Config) bool { return c.StandaloneEnabled && c.ReconfigEnabled }},
		{"electionAlg=3", func(c *Config) bool { return true }},
		{"autopurge.snapRetainCount=5\nautopurge.purgeInterval=24", func(c *Config) bool {
			return c.AutopurgeSnapRetainCount == 5 && c.AutopurgePurgeInterval == 24
		}},
		{"snapCount=5000\npreAllocSize=1024", func(c *Config) bool { return c.SnapCount == 5000 && c.PreAllocSizeKB == 1024 }},
		{"4lw.commands.whitelist= stat, ruok ,,mntr", func(c *Config) bool {
			return reflect.DeepEqual(c.FourLetterWords, map[string]bool{"srvr": true, "stat": true, "ruok": true, "mntr": true})
		}},
		{"4lw.commands.whitelist=*", func(c *Config) bool { return reflect.DeepEqual(c.FourLetterWords, all) }},
		{"4lw.commands.whitelist=ruok, *", func(c *Config) bool { return reflect.DeepEqual(c.FourLetterWords, all) }},
		{"extendedTypesEnabled=True", func(c *Config) bool { return c.ExtendedTypesEnabled }},
		{"extendedTypesEnabled=yes", func(c *Config) bool { return !c.ExtendedTypesEnabled }},
		{"skipACL=yes", func(c *Config) bool { return c.SkipACL }},
		{"skipACL=no", func(c *Config) bool { return !c.SkipACL }},
		{"DigestAuthenticationProvider.superDigest=super:abc=", func(c *Config) bool { return c.SuperDigest == "super:abc=" }},
		{"globalOutstandingLimit=50\nmaxCnxns=100", func(c *Config) bool { return c.GlobalOutstandingLimit == 50 && c.MaxCnxns == 100 }},
		{"admin.enableServer=false\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=9090\nadmin.commandURL=/cmd", func(c *Config) bool {
			return !c.AdminEnableServer && c.AdminServerAddress == "127.0.0.1" && c.AdminServerPort == 9090 && c.AdminCommandURL == "/cmd"
		}},
		{"metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\nmetricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort=7001", func(c *Config) bool {
			return strings.HasSuffix(c.MetricsProviderClassName, "PrometheusMetricsProvider") && c.MetricsHTTPHost == "127.0.0.1" && c.MetricsHTTPPort == 7001
		}},
		{"peerType=participant", func(c *Config) bool { return c.PeerType == Participant }},
		// accepted silently, kept in Props
		{"ssl.keyStore.location=/k\nauthProvider.1=org.X\nforceSync=no\nsyncEnabled=true\nquorumListenOnAllIPs=false\njvm.pause.warn-threshold.ms=100\nclientPortListenBacklog=10\nversion=100000000",
			func(c *Config) bool {
				return c.Props["ssl.keyStore.location"] == "/k" && c.Lines["authProvider.1"] == 3
			}},
	}
	for _, tt := range tests {
		c, ps := parse(t, "", "dataDir=/d\n"+tt.text+"\n")
		if len(ps) > 0 || !tt.ok(c) {
			t.Errorf("%q: problems %v, config %+v", tt.text, ps, c)
		}
	}
}

func TestProperties(t *testing.T) {
	tests := []struct {
		name, text string
		props      map[string]string
		lines      map[string]int
	}{
		{"separators", "a=1\nb: 2\nc 3\nd\t=\t4\ne = = 5\nf\n", map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "= 5", "f": ""},
			map[string]int{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}},
		{"comments and blanks", "# c\n  ! c\n\n   \n  k = v  \n#k=x\n", map[string]string{"k": "v"}, map[string]int{"k": 5}},
		{"override", "k=1\nk=2\n", map[string]string{"k": "2"}, map[string]int{"k": 2}},
		{"continuation", "k=a\\\n    b\\\n  c\nn=1\n", map[string]string{"k": "abc", "n": "1"}, map[string]int{"k": 1, "n": 4}},
		{"even backslashes end the line", "k=a\\\\\nn=1\n", map[string]string{"k": `a\`, "n": "1"}, nil},
		{"continued line is not a comment", "k=a\\\n#b\n", map[string]string{"k": "a#b"}, nil},
		{"blank line ends continuation", "k=a\\\n\nn=1\n", map[string]string{"k": "a", "n": "1"}, map[string]int{"n": 3}},
		{"comment is not continued", "#x\\\nk=1\n", map[string]string{"k": "1"}, map[string]int{"k": 2}},
		{"backslash at EOF", "k=a\\", map[string]string{"k": "a"}, nil},
		{"escapes", `k=a\tb\nc\u0041\u00e9\\d\qe` + "\n", map[string]string{"k": "a\tb\ncAé\\dqe"}, nil},
		{"surrogate pair", `k=\ud83d\ude00` + "\n", map[string]string{"k": "😀"}, nil},
		{"escaped separators in key", `a\:b\=c\ d=v` + "\n", map[string]string{"a:b=c d": "v"}, nil},
		{"CRLF and CR", "a=1\r\nb=2\rc=3", map[string]string{"a": "1", "b": "2", "c": "3"}, map[string]int{"a": 1, "b": 2, "c": 3}},
		{"CRLF continuation", "a=1\\\r\n 2\r\nb=3", map[string]string{"a": "12", "b": "3"}, map[string]int{"b": 3}},
	}
	for _, tt := range tests {
		got := map[string]string{}
		lines := map[string]int{}
		for _, e := range readProperties(tt.text) {
			if e.err != "" {
				t.Errorf("%s: line %d: %s", tt.name, e.line, e.err)
			}
			got[e.key] = e.value
			lines[e.key] = e.line
		}
		if !reflect.DeepEqual(got, tt.props) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.props)
		}
		for k, l := range tt.lines {
			if lines[k] != l {
				t.Errorf("%s: %s on line %d, want %d", tt.name, k, lines[k], l)
			}
		}
	}
	// The same through Parse: Props and Lines.
	c, _ := parse(t, "", "dataDir=/d\n  tickTime : 2000 \nx=1\\\n  2\n")
	if c.Props["tickTime"] != "2000" || c.Lines["tickTime"] != 2 || c.Props["x"] != "12" || c.Lines["x"] != 3 || c.TickTime != 2000 {
		t.Errorf("props %v lines %v", c.Props, c.Lines)
	}
}

func TestServers(t *testing.T) {
	tests := []struct {
		value string
		want  Server
		err   string
	}{
		{value: "zk1:2888:3888", want: Server{Host: "zk1", PeerPort: 2888, ElectionPort: 3888}},
		{value: "zk1:2888:3888:participant", want: Server{Host: "zk1", PeerPort: 2888, ElectionPort: 3888}},
		{value: "zk1:2888:3888:Observer", want: Server{Host: "zk1", PeerPort: 2888, ElectionPort: 3888, Role: Observer}},
		{value: "zk1:2888:3888;2181", want: Server{Host: "zk1", PeerPort: 2888, ElectionPort: 3888, ClientPort: 2181}},
		{value: "zk1:2888:3888:observer;10.0.0.1:2181", want: Server{Host: "zk1", PeerPort: 2888, ElectionPort: 3888, Role: Observer, ClientAddr: "10.0.0.1", ClientPort: 2181}},
		{value: "[::1]:2888:3888", want: Server{Host: "::1", PeerPort: 2888, ElectionPort: 3888}},
		{value: "[fe80::1]:2888:3888:observer;[::1]:2181", want: Server{Host: "fe80::1", PeerPort: 2888, ElectionPort: 3888, Role: Observer, ClientAddr: "::1", ClientPort: 2181}},
		{value: "zk1:2888:3888;", want: Server{Host: "zk1", PeerPort: 2888, ElectionPort: 3888}},
		{value: "zk1:2888", err: "does not have the form"},
		{value: "zk1:2888:3888:observer:x", err: "does not have the form"},
		{value: "zk1:2888:3888;a;b", err: "does not have the form"},
		{value: "zk1:2888:3888;h:1:2", err: "does not have the form"},
		{value: "zk1:x:3888", err: `peer port "x" is not a number`},
		{value: "zk1:2888:70000", err: "election port 70000 is out of range"},
		{value: "zk1:2888:2888", err: "must be different"},
		{value: "zk1:2888:3888:leader", err: "unrecognised peer type"},
		{value: "zk1:2888:3888;x", err: `client port "x" is not a number`},
		{value: ":2888:3888", err: "empty host"},
		{value: "::1:2888:3888", err: "does not have the form"},
		{value: "[::1:2888:3888", err: "no matching"},
		{value: "[::1]2888:3888", err: "doesn't have a port"},
		{value: "a:1:2|b:1:2", err: "multiAddress.enabled"},
		{value: ";", err: "does not have the form"},
		{value: "a:1:2;:", err: "does not have the form"}, // found by FuzzParse
	}
	for _, tt := range tests {
		got, _, err := parseServer(0, tt.value, false)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%q: err %v, want %q", tt.value, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("%q: %v", tt.value, err)
		case tt.err == "" && got != tt.want:
			t.Errorf("%q: got %+v, want %+v", tt.value, got, tt.want)
		}
	}
	if s, warn, err := parseServer(1, "a:1:2|b:1:2", true); err != nil || warn == "" || s.Host != "a" {
		t.Errorf("multi address: %+v %q %v", s, warn, err)
	}

	// Through Parse: ids, lines and order.
	d := dataDir(t, "2")
	c, ps := parse(t, d, "dataDir=$D\ninitLimit=5\nsyncLimit=2\nserver.3=c:2888:3888\nserver.1=a:2888:3888\nserver.2=b:2888:3888:participant;2181\nserver.4=e:2888:3888:observer\n")
	noProblems(t, ps)
	want := []Server{
		{ID: 1, Host: "a", PeerPort: 2888, ElectionPort: 3888, Line: 5},
		{ID: 2, Host: "b", PeerPort: 2888, ElectionPort: 3888, ClientPort: 2181, Line: 6},
		{ID: 3, Host: "c", PeerPort: 2888, ElectionPort: 3888, Line: 4},
		{ID: 4, Host: "e", PeerPort: 2888, ElectionPort: 3888, Role: Observer, Line: 7},
	}
	if !reflect.DeepEqual(c.Servers, want) || c.MyID != 2 || !c.Distributed() || c.ClientPort != 2181 || c.ClientPortAddress != "" {
		t.Errorf("servers %+v myid %d client %s:%d", c.Servers, c.MyID, c.ClientPortAddress, c.ClientPort)
	}
}

const ensemble = "dataDir=$D\ninitLimit=5\nsyncLimit=2\nserver.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888:observer\n"

func TestMyID(t *testing.T) {
	tests := []struct {
		name, myid string
		id         int64
		role       Role
		fatal      string // substring of the fatal problem, "" for none
	}{
		{"plain", "1", 1, Participant, ""},
		{"newline", "2\n", 2, Participant, ""},
		{"crlf and blanks", " 1 \r\n", 1, Participant, ""},
		{"observer", "3\n", 3, Observer, ""},
		{"missing", "", 0, Participant, "myid is missing"},
		{"empty", "\n", 0, Participant, "is not a number"},
		{"not a number", "one\n", 0, Participant, `"one" is not a number`},
		{"not listed", "9\n", 9, Participant, "id 9 is not in the server list"},
	}
	for _, tt := range tests {
		d := dataDir(t, tt.myid)
		c, ps := parse(t, d, ensemble)
		fs := fatals(ps)
		if c.MyID != tt.id || c.PeerType != tt.role {
			t.Errorf("%s: myid %d role %v, want %d %v", tt.name, c.MyID, c.PeerType, tt.id, tt.role)
		}
		if tt.fatal == "" && len(fs) > 0 || tt.fatal != "" && (len(fs) != 1 || !strings.Contains(fs[0].String(), tt.fatal)) {
			t.Errorf("%s: fatal problems %v, want %q", tt.name, fs, tt.fatal)
		}
	}
	// A bad myid is read and fatal whenever servers are listed, as in ZooKeeper;
	// without servers it is not read at all.
	d := dataDir(t, "x")
	if c, ps := parse(t, d, "dataDir=$D\nserver.1=a:2888:3888\n"); !HasFatal(ps) || c.Distributed() {
		t.Errorf("single server with bad myid: %v", ps)
	}
	if c, ps := parse(t, d, "dataDir=$D\n"); HasFatal(ps) || c.MyID != 0 {
		t.Errorf("standalone with bad myid: %v", ps)
	}
	// A missing myid is fine when the config is not distributed.
	d = dataDir(t, "")
	if c, ps := parse(t, d, "dataDir=$D\nserver.1=a:2888:3888\n"); HasFatal(ps) || c.MyID != 0 {
		t.Errorf("single server without myid: %v", ps)
	}
}

func TestFatal(t *testing.T) {
	tests := []struct {
		text string
		line int
		key  string
		msg  string
	}{
		{"tickTime=2000\n", 0, "dataDir", "dataDir is not set"},
		{"dataDir=\n", 1, "dataDir", "not set"},
		{"dataDir=/d\ntickTime=abc\n", 2, "tickTime", `not a number "abc"`},
		{"dataDir=/d\ntickTime=0\n", 2, "tickTime", "must be positive"},
		{"dataDir=/d\ntickTime=-5\n", 2, "tickTime", "must be positive"},
		{"dataDir=/d\ntickTime=99999999999\n", 2, "tickTime", "out of range"},
		{"dataDir=/d\nclientPort=x\n", 2, "clientPort", "not a number"},
		{"dataDir=/d\nclientPort=65536\n", 2, "clientPort", "port out of range"},
		{"dataDir=/d\n\nclientPortAddress=1.2.3.4\n", 3, "clientPortAddress", "clientPort is not set"},
		{"dataDir=/d\nsecureClientPortAddress=1.2.3.4\n", 2, "secureClientPortAddress", "secureClientPort is not set"},
		{"dataDir=/d\nmaxClientCnxns=many\n", 2, "maxClientCnxns", "not a number"},
		{"dataDir=/d\nminSessionTimeout=9000\nmaxSessionTimeout=8000\n", 2, "minSessionTimeout", "must not be larger"},
		{"dataDir=/d\nmaxSessionTimeout=1000\n", 2, "maxSessionTimeout", "must not be larger"},
		{"dataDir=/d\ninitLimit=ten\n", 2, "initLimit", "not a number"},
		{"dataDir=/d\nelectionAlg=1\n", 2, "electionAlg", "only 3"},
		{"dataDir=/d\npeerType=leader\n", 2, "peerType", "unrecognised peer type"},
		{"dataDir=/d\nstandaloneEnabled=yes\n", 2, "standaloneEnabled", "choose 'true' or 'false'"},
		{"dataDir=/d\nsyncEnabled=1\n", 2, "syncEnabled", "choose"},
		{"dataDir=/d\nautopurge.purgeInterval=x\n", 2, "autopurge.purgeInterval", "not a number"},
		{"dataDir=/d\nmetricsProvider.httpPort=x\n", 2, "metricsProvider.httpPort", "not a number"},
		{"dataDir=/d\nk=\\u12\n", 2, "k", "malformed"},
		{"dataDir=/d\nversion=xyz\n", 2, "version", "hexadecimal"},
		{"dataDir=/d\nquorum.auth.serverRequireSasl=true\nquorum.auth.learnerRequireSasl=true\nquorum.auth.enableSasl=false\n", 2, "quorum.auth.serverRequireSasl", "cannot be enabled"},
		{"dataDir=/d\n# servers\nserver.1=a:2888\n", 3, "server.1", "does not have the form"},
		{"dataDir=/d\nserver.x=a:2888:3888\n", 2, "server.x", "not a number"},
		{"dataDir=/d\nserver.1=[::1]:2888:3888:participant;[::1]:x\n", 2, "server.1", "client port"},
		{"dataDir=/d\nserver.1=a:1:2|b:1:2\n", 2, "server.1", "multiAddress.enabled"},
		{"dataDir=/d\nserver.1=a:2888:3888:observer\n", 2, "server.1", "observers without participants"},
		{"dataDir=/d\nserver.1=a:2888:3888\nserver.2=b:2888:3888:observer\n", 3, "server.2", "observers without a quorum"},
		{"dataDir=/d\nstandaloneEnabled=false\n", 2, "standaloneEnabled", "no participant"},
		{"dataDir=/d\ndynamicConfigFile=/nonexistent/zoo.cfg.dynamic\n", 2, "dynamicConfigFile", "cannot read"},
	}
	for _, tt := range tests {
		_, ps := parse(t, "", tt.text)
		fs := fatals(ps)
		if len(fs) == 0 {
			t.Errorf("%q: no fatal problem (got %v)", tt.text, ps)
			continue
		}
		if p := fs[0]; p.Line != tt.line || p.Key != tt.key || !strings.Contains(p.Msg, tt.msg) || p.File != "zoo.cfg" {
			t.Errorf("%q: got %q (line %d key %q), want line %d key %q msg %q", tt.text, p, p.Line, p.Key, tt.line, tt.key, tt.msg)
		}
	}
}

func TestFatalDistributed(t *testing.T) {
	tests := []struct {
		text string
		line int
		key  string
		msg  string
	}{
		{"dataDir=$D\nsyncLimit=2\nserver.1=a:2888:3888\nserver.2=b:2888:3888\n", 0, "initLimit", "positive number of ticks"},
		{"dataDir=$D\ninitLimit=0\nsyncLimit=2\nserver.1=a:2888:3888\nserver.2=b:2888:3888\n", 2, "initLimit", "positive number of ticks"},
		{"dataDir=$D\ninitLimit=5\nserver.1=a:2888:3888\nserver.2=b:2888:3888\n", 0, "syncLimit", "positive number of ticks"},
		{"dataDir=$D\ninitLimit=5\nsyncLimit=2\nclientPort=2181\nserver.1=a:2888:3888;2182\nserver.2=b:2888:3888\n", 4, "clientPort", "differs from server.1's client address"},
		{"dataDir=$D\ninitLimit=5\nsyncLimit=2\nclientPort=2182\nclientPortAddress=1.2.3.4\nserver.1=a:2888:3888;2182\nserver.2=b:2888:3888\n", 4, "clientPort", "differs"},
	}
	for _, tt := range tests {
		d := dataDir(t, "1")
		_, ps := parse(t, d, tt.text)
		fs := fatals(ps)
		if len(fs) != 1 || fs[0].Line != tt.line || fs[0].Key != tt.key || !strings.Contains(fs[0].Msg, tt.msg) {
			t.Errorf("%q: got %v, want line %d key %q msg %q", tt.text, fs, tt.line, tt.key, tt.msg)
		}
	}
	// A matching static clientPort is fine, and the server line's address wins.
	d := dataDir(t, "1")
	c, ps := parse(t, d, "dataDir=$D\ninitLimit=5\nsyncLimit=2\nclientPort=2182\nserver.1=a:2888:3888;127.0.0.1:2182\nserver.2=b:2888:3888\n")
	if HasFatal(ps) || c.ClientPort != 2182 || c.ClientPortAddress != "127.0.0.1" {
		t.Errorf("client port from server line: %v %s:%d", ps, c.ClientPortAddress, c.ClientPort)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		text string
		line int
		key  string
		msg  string
		ok   func(c *Config) bool
		n    int // problems expected if not 1 (ours comes first)
	}{
		{"foo=bar", 2, "foo", "unknown key, ignored", func(c *Config) bool { return c.Props["foo"] == "bar" }, 0},
		{"zookeeper.snapCount=5", 2, "zookeeper.snapCount", "unknown key", nil, 0},
		{"jute.maxbuffer=100", 2, "jute.maxbuffer", "no effect", nil, 0},
		{"autopurge.snapRetainCount=1", 2, "autopurge.snapRetainCount", "using 3", func(c *Config) bool { return c.AutopurgeSnapRetainCount == 3 }, 0},
		{"4lw.commands.whitelist=ruok, nope", 2, "4lw.commands.whitelist", `"nope", ignored`, func(c *Config) bool { return c.FourLetterWords["ruok"] && !c.FourLetterWords["nope"] }, 0},
		{"snapCount=abc", 2, "snapCount", "using the default 100000", func(c *Config) bool { return c.SnapCount == 100000 }, 0},
		{"snapCount=1", 2, "snapCount", "using 2", func(c *Config) bool { return c.SnapCount == 2 }, 0},
		{"admin.serverPort=http", 2, "admin.serverPort", "using the default 8080", func(c *Config) bool { return c.AdminServerPort == 8080 }, 0},
		{"maxCnxns=-1", 2, "maxCnxns", "using 0", func(c *Config) bool { return c.MaxCnxns == 0 }, 0},
		{"skipACL=true", 2, "skipACL", `only "yes"`, func(c *Config) bool { return !c.SkipACL }, 0},
		{"metricsProvider.className=com.example.M", 2, "metricsProvider.className", "unknown metrics provider", nil, 0},
		{"peerType=observer", 2, "peerType", "does not match", func(c *Config) bool { return c.PeerType == Participant }, 0},
		{"server.1=a:2888:3888", 2, "server.1", "only one server", func(c *Config) bool { return !c.Distributed() && len(c.Servers) == 1 }, 0},
		{"group.1=1:2\nserver.1=a:2888:3888", 2, "group.1", "hierarchical", nil, 2},
		{"server.1=a:2888:3888\nserver.01=b:2888:3888", 3, "server.01", "also given on line 2", func(c *Config) bool { return len(c.Servers) == 1 && c.Servers[0].Host == "b" }, 2},
		{"multiAddress.enabled=true\nserver.1=a:1:2|b:1:2", 3, "server.1", "only the first", func(c *Config) bool { return c.Servers[0].Host == "a" }, 2},
	}
	for _, tt := range tests {
		c, ps := parse(t, "", "dataDir=/d\n"+tt.text+"\n")
		if tt.n == 0 {
			tt.n = 1
		}
		if HasFatal(ps) || len(ps) != tt.n || ps[0].Line != tt.line || ps[0].Key != tt.key || !strings.Contains(ps[0].Msg, tt.msg) {
			t.Errorf("%q: got %v, want one warning line %d key %q msg %q", tt.text, ps, tt.line, tt.key, tt.msg)
		}
		if tt.ok != nil && !tt.ok(c) {
			t.Errorf("%q: config %+v", tt.text, c)
		}
	}
	// Two or four voters are warned about, but valid.
	for _, text := range []string{
		"server.1=a:2888:3888\nserver.2=b:2888:3888\n",
		"server.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\nserver.4=d:2888:3888\n",
	} {
		_, ps := parse(t, dataDir(t, "1"), "dataDir=$D\ninitLimit=5\nsyncLimit=2\n"+text)
		if HasFatal(ps) || len(ps) != 1 || ps[0].Line != 4 {
			t.Errorf("%q: %v", text, ps)
		}
	}
}

func TestDynamicConfigFile(t *testing.T) {
	d := dataDir(t, "2")
	dyn := filepath.Join(d, "zoo.cfg.dynamic.100000000")
	write := func(s string) {
		if err := os.WriteFile(dyn, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("server.1=a:2888:3888;2181\nserver.2=b:2888:3888;2181\nserver.3=c:2888:3888;2181\n")
	cfg := "dataDir=$D\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile=" + dyn + "\n"
	c, ps := parse(t, d, cfg)
	noProblems(t, ps)
	if len(c.Servers) != 3 || c.MyID != 2 || c.ClientPort != 2181 || !c.Distributed() || c.Servers[1].Line != 2 {
		t.Errorf("dynamic: %+v", c)
	}
	_, ps = parse(t, d, cfg+"server.4=d:2888:3888\n")
	if fs := fatals(ps); len(fs) != 1 || fs[0].Line != 5 || fs[0].Key != "server.4" {
		t.Errorf("server in static file: %v", ps)
	}
	write("server.1=a:2888:3888\nserver.2=b:2888:3888\ntickTime=5\nserver.3=c:x:3888\n")
	_, ps = parse(t, d, cfg)
	fs := fatals(ps)
	if len(fs) != 2 || fs[0].File != dyn || fs[0].Line != 3 || fs[1].Line != 4 || fs[1].Key != "server.3" {
		t.Errorf("bad dynamic file: %v", ps)
	}
}

func TestFromArgs(t *testing.T) {
	c, ps := FromArgs([]string{"2181", "/data"})
	noProblems(t, ps)
	if c.ClientPort != 2181 || c.DataDir != "/data" || c.DataLogDir != "/data" || c.TickTime != 3000 ||
		c.MaxClientCnxns != 60 || c.MinSessionTimeout != 6000 || c.MaxSessionTimeout != 60000 || c.ClientPortAddress != "" {
		t.Errorf("FromArgs: %+v", c)
	}
	c, ps = FromArgs([]string{"2182", "/data", "1000", "10"})
	noProblems(t, ps)
	if c.ClientPort != 2182 || c.TickTime != 1000 || c.MaxClientCnxns != 10 || c.MaxSessionTimeout != 20000 || c.Props["tickTime"] != "1000" {
		t.Errorf("FromArgs: %+v", c)
	}
	for _, args := range [][]string{nil, {"2181"}, {"1", "2", "3", "4", "5"}, {"x", "/d"}, {"2181", "/d", "0"}, {"2181", "/d", "1", "y"}, {"2181", ""}} {
		if _, ps := FromArgs(args); !HasFatal(ps) {
			t.Errorf("FromArgs(%q): no fatal problem", args)
		}
	}
}

func TestDistributed(t *testing.T) {
	p := Server{Role: Participant}
	o := Server{Role: Observer}
	tests := []struct {
		servers    []Server
		standalone bool
		want       bool
	}{
		{nil, true, false},
		{nil, false, false},
		{[]Server{p}, true, false},
		{[]Server{p}, false, true},
		{[]Server{p, o}, true, false},
		{[]Server{p, p}, true, true},
		{[]Server{p, p, o}, true, true},
		{[]Server{o, o}, false, true},
	}
	for _, tt := range tests {
		c := &Config{Servers: tt.servers, StandaloneEnabled: tt.standalone}
		if got := c.Distributed(); got != tt.want {
			t.Errorf("%+v standalone=%v: %v, want %v", tt.servers, tt.standalone, got, tt.want)
		}
	}
}

func TestAllow4LW(t *testing.T) {
	c := Default()
	if !c.Allow4LW("srvr") || c.Allow4LW("ruok") || c.Allow4LW("xxxx") {
		t.Error("default whitelist")
	}
	c, _ = parse(t, "", "dataDir=/d\n4lw.commands.whitelist=ruok,stat\n")
	if !c.Allow4LW("srvr") || !c.Allow4LW("ruok") || !c.Allow4LW("stat") || c.Allow4LW("mntr") || c.Allow4LW("RUOK") {
		t.Error("ruok,stat whitelist")
	}
	c, _ = parse(t, "", "dataDir=/d\n4lw.commands.whitelist=*\n")
	for _, w := range knownWords {
		if !c.Allow4LW(w) {
			t.Errorf("* does not allow %s", w)
		}
	}
	if c.Allow4LW("xxxx") || (&Config{}).Allow4LW("ruok") || !(&Config{}).Allow4LW("srvr") {
		t.Error("unknown word or empty config")
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "zoo.cfg", Line: 12, Key: "tickTime", Msg: `not a number "abc"`, Fatal: true}, `zoo.cfg:12: tickTime: not a number "abc"`},
		{Problem{File: "zoo.cfg", Key: "dataDir", Msg: "dataDir is not set"}, "zoo.cfg: dataDir: dataDir is not set"},
		{Problem{Line: 3, Key: "k", Msg: "m"}, "line 3: k: m"},
		{Problem{Msg: "m"}, "m"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	_, ps := parse(t, "", "dataDir=/d\ntickTime=abc\n")
	if len(ps) != 1 || ps[0].String() != `zoo.cfg:2: tickTime: not a number "abc"` {
		t.Errorf("got %v", ps)
	}
}

func TestLoad(t *testing.T) {
	d := t.TempDir()
	path := filepath.Join(d, "zoo.cfg")
	if err := os.WriteFile(path, []byte("# sample\ntickTime=2000\ndataDir="+d+"\nclientPort=2181\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, ps := Load(path)
	noProblems(t, ps)
	if c.File != path || c.TickTime != 2000 || c.ClientPort != 2181 || c.DataDir != d {
		t.Errorf("Load: %+v", c)
	}
	c, ps = Load(filepath.Join(d, "missing.cfg"))
	if c == nil || !HasFatal(ps) || ps[0].File == "" {
		t.Errorf("Load missing: %v", ps)
	}
	if _, ps = Load(d); !HasFatal(ps) {
		t.Errorf("Load directory: %v", ps)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("tickTime=2000\ndataDir=/tmp/zk\nclientPort=2181\n"))
	f.Add([]byte("dataDir=/nonexistent\ninitLimit=5\nsyncLimit=2\nserver.1=[::1]:2888:3888:observer;[::1]:2181\nserver.2=h:1:2|g:1:2\n"))
	f.Add([]byte("k=\\u00e9\\\n  \\ud83d\\ude00\\\r\n#x\n!y\na\\:b c\\"))
	f.Add([]byte("4lw.commands.whitelist=*,ruok\nminSessionTimeout=-1\nstandaloneEnabled=false\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Keep fuzzing hermetic: no reading of files named by the input.
		data = bytes.ReplaceAll(data, []byte("dynamicConfigFile"), []byte("x"))
		c, ps := Parse(bytes.NewReader(data), "fuzz.cfg")
		if c == nil || c.Props == nil || c.FourLetterWords == nil {
			t.Fatal("incomplete config")
		}
		for _, p := range ps {
			_ = p.String()
		}
		if !HasFatal(ps) && (c.TickTime <= 0 || c.MinSessionTimeout > c.MaxSessionTimeout || c.DataDir == "") {
			t.Fatalf("invalid config accepted: %+v", c)
		}
	})
}
