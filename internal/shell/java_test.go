package shell

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/warren-zk/warren/zk"
)

func TestSplitLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"ls /", []string{"ls", "/"}},
		{"  ls   /a  ", []string{"ls", "/a"}},
		{"create /a 'hello world'", []string{"create", "/a", "hello world"}},
		{`create /a "x y" 'z'`, []string{"create", "/a", "x y", "z"}},
		{`'create' "/q" 'a b'`, []string{"create", "/q", "a b"}},
		{`create /a/"x y"`, []string{"create", `/a/"x`, `y"`}},
		{`create /a "unterminated`, []string{"create", "/a", "unterminated"}},
		{`"`, nil},
		{`""`, []string{""}},
		{"   ", []string{" "}}, // zkCli's regex keeps the last blank
		{"a\x0bb", []string{"a", "b"}},
		{"get\t/x", []string{"get", "/x"}},
	} {
		if got := SplitLine(tc.line); !cmp.Equal(got, tc.want) {
			t.Errorf("SplitLine(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestParseOpts(t *testing.T) {
	create := flags("e s c t:")
	set := flags("s v: b")
	for _, tc := range []struct {
		set     *optSet
		args    string
		want    string // args|opt=values… or the error
		wantErr bool
	}{
		{create, "create -e -s /a data", "create /a data|e= s=", false},
		{create, "create -es /a", "create /a|e= s=", false},
		{create, "create -t 100 /a", "create /a|t=100", false},
		{create, "create -t100 /a", "create /a|t=100", false},
		{create, "create -t=5 /a", "create /a|t=5", false},
		{create, "create /a -t 5 data", "create /a data|t=5", false},
		{create, "create -t -s /a", "org.apache.commons.cli.MissingArgumentException: Missing argument for option: t", true},
		{create, "create /a -t", "org.apache.commons.cli.MissingArgumentException: Missing argument for option: t", true},
		{create, "create -x /a", "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x", true},
		{create, "create -sx /a", "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -sx", true},
		{create, "create --s /a", "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: --s", true},
		{create, "create -s=1 /a", "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -s=1", true},
		{create, "create -- -s", "create -s|", false},
		{create, "create - /a", "create - /a|", false},
		{set, "set -v -1 /a x", "set /a x|v=-1", false},
		{set, "set -v 1 -v 2 /a x", "set /a x|v=1,2", false},
		{set, "set -v -- /a x", "org.apache.commons.cli.MissingArgumentException: Missing argument for option: v", true},
		{set, "set -sv5 /a x", "set /a x|s= v=5", false},
		{setQuotaOpts, "setquota /a", "org.apache.commons.cli.MissingOptionException: Missing required option: [-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]", true},
		{setQuotaOpts, "setquota -n 1 -b 2 /a", "org.apache.commons.cli.AlreadySelectedException: The option 'b' was specified but an option from this group has already been selected: 'n'", true},
		{setQuotaOpts, "setquota -n 1 -n 2 /a", "setquota /a|n=1,2", false},
		{reconfigOpts, "reconfig -file f -s", "reconfig|s= file=f", false},
		{reconfigOpts, "reconfig -file=x", "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -file=x", true},
		{reconfigOpts, "reconfig -add", "org.apache.commons.cli.MissingArgumentException: Missing argument for option: add", true},
	} {
		cl, err := parseOpts(tc.set, strings.Fields(tc.args))
		var got string
		if err != nil {
			got = err.Error()
		} else {
			var opts []string
			for _, o := range tc.set.opts {
				if v, ok := cl.values[o.name]; ok {
					opts = append(opts, o.name+"="+strings.Join(v, ","))
				}
			}
			got = strings.Join(cl.args, " ") + "|" + strings.Join(opts, " ")
		}
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("parse %q = %q (err %v), want %q", tc.args, got, err, tc.want)
		}
	}
}

func TestValidatePath(t *testing.T) {
	for path, want := range map[string]string{
		"/":             "",
		"/a/b":          "",
		"/a/.b":         "",
		"":              "Path length must be > 0",
		"a":             "Path must start with / character",
		"/a/":           "Path must not end with / character",
		"/a//b":         `Invalid path string "/a//b" caused by empty node name specified @3`,
		"/a/./b":        `Invalid path string "/a/./b" caused by relative paths not allowed @3`,
		"/a/..":         `Invalid path string "/a/.." caused by relative paths not allowed @4`,
		"/a\x01":        "Invalid path string \"/a\x01\" caused by invalid character @2",
		"/ab\U0001F600": "Invalid path string \"/ab\U0001F600\" caused by invalid character @3",
		"/\u00e9\u00e8": "",
	} {
		got := ""
		if err := ValidatePath(path); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("ValidatePath(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestJavaNumbers(t *testing.T) {
	for _, tc := range []struct {
		s    string
		bits int
		want string
	}{
		{"12", 32, "12"}, {"+12", 32, "12"}, {"-1", 32, "-1"},
		{"abc", 32, `java.lang.NumberFormatException: For input string: "abc"`},
		{"1.5", 32, `java.lang.NumberFormatException: For input string: "1.5"`},
		{"", 32, `java.lang.NumberFormatException: For input string: ""`},
		{"2147483648", 32, `java.lang.NumberFormatException: For input string: "2147483648"`},
		{"2147483648", 64, "2147483648"},
		{"1_0", 32, `java.lang.NumberFormatException: For input string: "1_0"`},
	} {
		v, err := parseJavaInt(tc.s, 10, tc.bits)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = itoa(v)
		}
		if got != tc.want {
			t.Errorf("parseJavaInt(%q, %d) = %q, want %q", tc.s, tc.bits, got, tc.want)
		}
	}
	for s, want := range map[string]string{
		"3": "3", "0x10": "16", "#10": "16", "010": "8", "-5": "-5",
		"abc": `java.lang.NumberFormatException: For input string: "abc"`,
		"0xZ": `java.lang.NumberFormatException: For input string: "Z" under radix 16`,
		"":    "java.lang.NumberFormatException: Zero length string",
	} {
		v, err := javaDecode(s)
		got := itoa(v)
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("javaDecode(%q) = %q, want %q", s, got, want)
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestJavaString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          "plain",
		"\xff":           "\ufffd",
		"a\xe2\x82b":     "a\ufffdb", // a truncated 3-byte sequence is one maximal subpart
		"\xe2\x82":       "\ufffd",
		"\xf0\x9f\x98":   "\ufffd",
		"\xc0\xaf":       "\ufffd\ufffd",
		"\xed\xa0\x80":   "\ufffd\ufffd\ufffd", // a surrogate is not UTF-8
		"ok\u00e9\xfe!":  "ok\u00e9\ufffd!",
		"\U0001F600\x80": "\U0001F600\ufffd",
	} {
		if got := JavaString([]byte(in)); got != want {
			t.Errorf("JavaString(%q) = %q, want %q", in, got, want)
		}
	}
}

// The expected dates are what OpenJDK 17's Date.toString prints.
func TestJavaDate(t *testing.T) {
	for _, tc := range []struct {
		zone string
		ms   int64
		want string
	}{
		{"UTC", 0, "Thu Jan 01 00:00:00 UTC 1970"},
		{"America/New_York", 0, "Wed Dec 31 19:00:00 EST 1969"},
		{"America/New_York", 1783000000000, "Thu Jul 02 09:46:40 EDT 2026"},
		{"Asia/Dubai", 1783000000000, "Thu Jul 02 17:46:40 GST 2026"},
		{"Asia/Kolkata", 1783000000000, "Thu Jul 02 19:16:40 IST 2026"},
		{"Europe/Berlin", 0, "Thu Jan 01 01:00:00 CET 1970"},
		{"America/Sao_Paulo", 1783000000000, "Thu Jul 02 10:46:40 BRT 2026"},
		{"Australia/Lord_Howe", 1767225600000, "Thu Jan 01 11:00:00 LHDT 2026"},
		{"Asia/Kathmandu", 1767225600000, "Thu Jan 01 05:45:00 NPT 2026"},
		{"America/St_Johns", 1783000000000, "Thu Jul 02 11:16:40 NDT 2026"},
		{"Etc/GMT-3", 0, "Thu Jan 01 03:00:00 GMT+03:00 1970"},
	} {
		loc, err := time.LoadLocation(tc.zone)
		if err != nil {
			t.Skipf("no time zone database: %v", err)
		}
		if got := javaDate(tc.ms, loc, tc.zone); got != tc.want {
			t.Errorf("javaDate(%d, %s) = %q, want %q", tc.ms, tc.zone, got, tc.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	st := zk.Stat{Czxid: 0x100000002, Mzxid: 0x100000003, Pzxid: 0x100000004, Ctime: 0, Mtime: 1000,
		Version: 2, Cversion: 3, Aversion: 4, EphemeralOwner: -1, DataLength: 5, NumChildren: 6}
	want := `cZxid = 0x100000002
ctime = Thu Jan 01 00:00:00 UTC 1970
mZxid = 0x100000003
mtime = Thu Jan 01 00:00:01 UTC 1970
pZxid = 0x100000004
cversion = 3
dataVersion = 2
aclVersion = 4
ephemeralOwner = 0xffffffffffffffff
dataLength = 5
numChildren = 6
`
	if got := formatStat(st, time.UTC, "UTC"); got != want {
		t.Errorf("formatStat:\n%s\nwant\n%s", got, want)
	}
	for a, want := range map[zk.ACL]string{
		{Scheme: "world", ID: "anyone", Perms: zk.PermAll}:                         "'world,'anyone\n: cdrwa\n",
		{Scheme: "digest", ID: "bob:x=", Perms: zk.PermRead | zk.PermWrite}:        "'digest,'bob:x=\n: rw\n",
		{Scheme: "ip", ID: "10.0.0.0/8,%}\n", Perms: zk.PermAdmin | zk.PermCreate}: "'ip,'10.0.0.0/8%2C%25%7D%0A\n: ca\n",
	} {
		if got := formatACL(a); got != want {
			t.Errorf("formatACL(%+v) = %q, want %q", a, got, want)
		}
	}
	var warnings []string
	acl := parseACL("world:anyone:cdrwa,foo:bar,digest:bob:hash=:rwz,ip:1.2.3.4:", func(s string) { warnings = append(warnings, s) })
	wantACL := []zk.ACL{
		{Scheme: "world", ID: "anyone", Perms: zk.PermAll},
		{Scheme: "digest", ID: "bob:hash=", Perms: zk.PermRead | zk.PermWrite},
		{Scheme: "ip", ID: "1.2.3.4", Perms: 0},
	}
	if !cmp.Equal(acl, wantACL) || !cmp.Equal(warnings, []string{"foo:bar does not have the form scheme:id:perm", "Unknown perm type: z"}) {
		t.Errorf("parseACL = %+v, %q", acl, warnings)
	}
}

func TestStatsTrack(t *testing.T) {
	for in, want := range map[string]string{
		"count=0,bytes=0": "count=0,bytes=0",
		"count=1,bytes=-1=;byteHardLimit=-1;countHardLimit=5": "count=1,bytes=-1=;byteHardLimit=-1;countHardLimit=5",
		"countHardLimit=3":      "count=-1,bytes=-1=;countHardLimit=3",
		"":                      "count=-1,bytes=-1",
		"bytes=7;;count=9,,x=1": "count=9,bytes=7=;x=1",
	} {
		st, err := parseStatsTrack(in)
		if err != nil {
			t.Errorf("parseStatsTrack(%q): %v", in, err)
			continue
		}
		if got := st.String(); got != want {
			t.Errorf("StatsTrack(%q) = %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"count", "count=2,bytes="} { // Java: ArrayIndexOutOfBoundsException
		if _, err := parseStatsTrack(bad); err == nil {
			t.Errorf("parseStatsTrack(%q) succeeded", bad)
		}
	}
}

func TestHexDump(t *testing.T) {
	want := `         +-------------------------------------------------+
         |  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f |
+--------+-------------------------------------------------+----------------+
|00000000| 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66 |0123456789abcdef|
|00000010| 00 7f 41 0a                                     |..A.            |
+--------+-------------------------------------------------+----------------+`
	if got := hexDump([]byte("0123456789abcdef\x00\x7fA\n")); got != want {
		t.Errorf("hexDump:\n%s\nwant\n%s", got, want)
	}
	if got := hexDump(nil); got != "" {
		t.Errorf("hexDump(nil) = %q", got)
	}
}

func TestClientConfigString(t *testing.T) {
	for in, want := range map[string]string{
		"": " ",
		"server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=100000000":            "100000000 0.0.0.0:2181",
		"server.1=a:1:2;2181\nserver.2=b:1:2;c:2182\nserver.3=d:1:2\nversion=1":               "1 c:2182,0.0.0.0:2181,", // Java's Properties order
		"server.3=x:1:2;3\nserver.1=x:1:2;1\nserver.2=x:1:2;2\nserver.10=x:1:2;10\nversion=5": "5 0.0.0.0:10,0.0.0.0:2,0.0.0.0:1,0.0.0.0:3",
	} {
		if got := clientConfigString(in); got != want {
			t.Errorf("clientConfigString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCompleteCommands(t *testing.T) {
	s := New(Options{})
	head, got, tail := s.Complete("get", 3)
	if head != "" || tail != "" || !cmp.Equal(got, []string{"get ", "getAcl ", "getAllChildrenNumber ", "getEphemerals "}) {
		t.Errorf("Complete(get) = %q %q %q", head, got, tail)
	}
	head, got, _ = s.Complete("ls -s ", 6)
	if head != "ls -s " || len(got) != len(CommandNames()) {
		t.Errorf("Complete(ls -s ) = %q, %d candidates", head, len(got))
	}
	names := CommandNames()
	if names[0] != "addWatch" || names[1] != "addauth" || names[len(names)-1] != "whoami" {
		t.Errorf("CommandNames() = %q", names)
	}
}
