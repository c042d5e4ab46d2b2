package fourlw

// The structural comparison of four-letter-word answers: each answer is
// turned into a canonical list of lines in which the values that
// legitimately differ between ZooKeeper and Warren (addresses, session ids,
// zxids, times, counters that depend on history, the version, paths of the
// data directory, the JVM's or Go's own details) are replaced by a
// placeholder naming their kind, and lines whose order ZooKeeper takes from a
// hash map are sorted. Every mask matches only a well-formed value, so a
// malformed value, a changed key, separator, tab, blank line or trailing
// newline survives canonicalization and shows up in the diff. Everything not
// masked (counts of nodes, watches, sessions, connections, configuration,
// paths of znodes, operation names, ...) must be equal too, which the
// scenarios make true by putting both servers in the same state.

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// mask replaces every match of re in a line by repl (regexp.ReplaceAllString).
type mask struct {
	re   *regexp.Regexp
	repl string
}

func m(re, repl string) mask { return mask{regexp.MustCompile(re), repl} }

const (
	versionRE = `\d+(?:\.\d+)+-[^,\s]+, built on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC`
	// java.util.Date.toString: "Sat Nov 21 12:06:20 UTC 2026".
	dateRE   = `(?:Sun|Mon|Tue|Wed|Thu|Fri|Sat) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{2} \d{2}:\d{2}:\d{2} [A-Za-z0-9+:-]+ \d{4}`
	dateFmt  = "Mon Jan 02 15:04:05 MST 2006"
	addrRE   = `/\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}`
	doubleRE = `-?\d+\.\d+(?:E-?\d+)?` // Java Double.toString
	sidRE    = `0x[1-9a-f][0-9a-f]*`   // a (non-zero) session id
)

var (
	srvrMasks = []mask{
		m(`^Zookeeper version: `+versionRE+`$`, "Zookeeper version: <VERSION>"),
		m(`^Latency min/avg/max: \d+/`+doubleRE+`/\d+$`, "Latency min/avg/max: <MS>/<DOUBLE>/<MS>"),
		m(`^Received: \d+$`, "Received: <N>"),
		m(`^Sent: \d+$`, "Sent: <N>"),
		m(`^Zxid: 0x[0-9a-f]+$`, "Zxid: <ZXID>"),
	}
	// Connection lines (stat: brief, cons: full). queued, recved, sent,
	// interest ops, lop, to and lcxid stay: the scenarios make them equal.
	connMasks = []mask{
		m(`^ `+addrRE+`\[`, " <ADDR>["),
		m(`,sid=`+sidRE+`,`, ",sid=<SID>,"),
		m(`,est=\d{13},`, ",est=<EPOCHMS>,"),
		m(`,lzxid=0x[0-9a-f]+,lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+\)$`,
			",lzxid=<ZXID>,lresp=<MS>,llat=<MS>,minlat=<MS>,avglat=<MS>,maxlat=<MS>)"),
	}
	confMasks = []mask{
		m(`^clientPort=\d+$`, "clientPort=<PORT>"),
		m(`^(dataDir|dataLogDir)=/\S*/version-2$`, "$1=<DIR>/version-2"),
		m(`^(dataDirSize|dataLogSize)=\d+$`, "$1=<BYTES>"),
	}
	// envi: os.name, os.arch, os.version and java.compiler stay (both
	// servers run on the same machine); the rest is the runtime's own.
	enviMasks = []mask{
		m(`^zookeeper\.version=`+versionRE+`$`, "zookeeper.version=<VERSION>"),
		m(`^(host\.name|java\.version|java\.vendor|java\.home|java\.class\.path|java\.library\.path|java\.io\.tmpdir|user\.name|user\.home|user\.dir)=\S.*$`, "$1=<VALUE>"),
		m(`^(os\.memory\.(?:free|max|total))=\d+MB$`, "$1=<N>MB"),
	}
	dirsMasks = []mask{m(`^(datadir_size|logdir_size): \d+$`, "$1: <BYTES>")}
	wchcMasks = []mask{m(`^`+sidRE+`$`, "<SID>")}
	wchpMasks = []mask{m(`^\t`+sidRE+`$`, "\t<SID>")}
	dumpMasks = []mask{
		m(`^\d+ expire at `+dateRE+`:$`, "<BUCKET>"),
		m(`^(Session|Connections) Sets \(\d+\)/`, "$1 Sets (<BUCKETS>)/"),
		m(`^\t`+sidRE+`$`, "\t<SID>"),
		m(`^`+sidRE+`:$`, "<SID>:"),
		m(`^\tip: `+addrRE+` sessionId: `, "\tip: <ADDR> sessionId: "),
		m(` sessionId: `+sidRE+`$`, " sessionId: <SID>"),
	}
)

// lines splits an answer at "\n", keeping a last "" when it ends with a
// newline, so the trailing-newline rule is compared too.
func lines(s string) []string { return strings.Split(s, "\n") }

func apply(ls []string, ms []mask) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		for _, mk := range ms {
			l = mk.re.ReplaceAllString(l, mk.repl)
		}
		out[i] = l
	}
	return out
}

// sortRange sorts ls[i:j] in place.
func sortRange(ls []string, i, j int) { sort.Strings(ls[i:j]) }

// sortGroups sorts the lines of each group (a header line and the
// tab-indented lines after it) and then the groups, within ls[i:j].
func sortGroups(ls []string, i, j int) {
	var groups [][]string
	for k := i; k < j; k++ {
		if strings.HasPrefix(ls[k], "\t") && len(groups) > 0 {
			groups[len(groups)-1] = append(groups[len(groups)-1], ls[k])
			continue
		}
		groups = append(groups, []string{ls[k]})
	}
	for _, g := range groups {
		sort.Strings(g[1:])
	}
	sort.Slice(groups, func(a, b int) bool { return strings.Join(groups[a], "\n") < strings.Join(groups[b], "\n") })
	k := i
	for _, g := range groups {
		k += copy(ls[k:], g)
	}
}

// canon returns the canonical lines of a four-letter word's answer. mntr has
// its own comparison (compareMntr).
func canon(word, out string) ([]string, error) {
	ls := lines(out)
	switch word {
	case "ruok", "isro", "gtmk", "stmk", "hash", "crst", "srst":
		return ls, nil
	case "srvr":
		return apply(ls, srvrMasks), nil
	case "stat":
		ls = apply(ls, append(srvrMasks, connMasks...))
		i := indexOf(ls, "Clients:")
		if i < 0 {
			return ls, fmt.Errorf("no Clients: line")
		}
		j := indexFrom(ls, "", i+1)
		if j < 0 {
			return ls, fmt.Errorf("no empty line after the clients")
		}
		sortRange(ls, i+1, j)
		return ls, nil
	case "cons":
		ls = apply(ls, connMasks)
		j := indexOf(ls, "")
		if j < 0 {
			return ls, fmt.Errorf("no empty line after the connections")
		}
		sortRange(ls, 0, j)
		return ls, nil
	case "conf":
		return apply(ls, confMasks), nil
	case "envi":
		return apply(ls, enviMasks), nil
	case "dirs":
		return apply(ls, dirsMasks), nil
	case "wchs":
		return ls, nil
	case "wchc", "wchp":
		ms := wchcMasks
		if word == "wchp" {
			ms = wchpMasks
		}
		ls = apply(ls, ms)
		j := len(ls)
		for j > 0 && ls[j-1] == "" {
			j--
		}
		sortGroups(ls, 0, j)
		return ls, nil
	case "dump":
		if err := checkDump(out); err != nil {
			return ls, err
		}
		ls = apply(ls, dumpMasks)
		// The bucketing of sessions and connections by expiry time is
		// time-dependent (and ZooKeeper keeps emptied buckets until they
		// expire): drop the bucket lines (checkDump verified them) and sort
		// each queue's elements.
		var kept []string
		for _, l := range ls {
			if l != "<BUCKET>" {
				kept = append(kept, l)
			}
		}
		ls = kept
		for _, sec := range [][2]string{
			{"Session Sets", "ephemeral nodes dump:"},
			{"Sessions with Ephemerals", "Connections dump:"},
			{"Connections Sets", ""},
		} {
			i := indexPrefix(ls, sec[0])
			if i < 0 {
				return ls, fmt.Errorf("no %q section", sec[0])
			}
			j := len(ls)
			if sec[1] != "" {
				if j = indexFrom(ls, sec[1], i+1); j < 0 {
					return ls, fmt.Errorf("no %q after %q", sec[1], sec[0])
				}
			} else {
				for j > i+1 && ls[j-1] == "" {
					j--
				}
			}
			if sec[0] == "Sessions with Ephemerals" {
				sortGroups(ls, i+1, j)
			} else {
				sortRange(ls, i+1, j)
			}
		}
		return ls, nil
	}
	return nil, fmt.Errorf("no canonical form for %q", word)
}

var (
	setsRE   = regexp.MustCompile(`^(Session|Connections) Sets \((\d+)\)/\((\d+)\):$`)
	bucketRE = regexp.MustCompile(`^(\d+) expire at (` + dateRE + `):$`)
)

// checkDump checks the two ExpiryQueue dumps of a dump answer on their own:
// "Sets (<buckets>)/(<elements>):" agrees with the bucket and element lines
// below it, each bucket's count with its lines, and buckets are in time order.
func checkDump(out string) error {
	ls := lines(out)
	for i := 0; i < len(ls); i++ {
		mm := setsRE.FindStringSubmatch(ls[i])
		if mm == nil {
			continue
		}
		var nb, ne int
		fmt.Sscan(mm[2], &nb)
		fmt.Sscan(mm[3], &ne)
		gotB, gotE := 0, 0
		var last time.Time
		j := i + 1
		for j < len(ls) {
			bm := bucketRE.FindStringSubmatch(ls[j])
			if bm == nil {
				break
			}
			gotB++
			var n int
			fmt.Sscan(bm[1], &n)
			at, err := time.Parse(dateFmt, bm[2])
			if err != nil {
				return fmt.Errorf("%s: bucket date %q: %v", mm[1], bm[2], err)
			}
			if at.Before(last) {
				return fmt.Errorf("%s: buckets not in time order: %q", mm[1], ls[j])
			}
			last = at
			k := j + 1
			for k < len(ls) && strings.HasPrefix(ls[k], "\t") {
				k++
			}
			if k-j-1 != n {
				return fmt.Errorf("%s: bucket %q has %d lines", mm[1], ls[j], k-j-1)
			}
			gotE += n
			j = k
		}
		if gotB != nb || gotE != ne {
			return fmt.Errorf("%q: found %d buckets and %d elements", ls[i], gotB, gotE)
		}
		i = j - 1
	}
	return nil
}

func indexOf(ls []string, s string) int { return indexFrom(ls, s, 0) }

func indexFrom(ls []string, s string, from int) int {
	for i := from; i < len(ls); i++ {
		if ls[i] == s {
			return i
		}
	}
	return -1
}

func indexPrefix(ls []string, p string) int {
	for i, l := range ls {
		if strings.HasPrefix(l, p) {
			return i
		}
	}
	return -1
}

// mntrLine is one "zk_<key>\t<value>" line.
type mntrLine struct{ key, value string }

var (
	mntrLineRE = regexp.MustCompile(`^zk_([a-z0-9_]+)\t(.*)$`)
	intRE      = regexp.MustCompile(`^-?\d+$`)
	doubleOnly = regexp.MustCompile(`^` + doubleRE + `$`)
)

// parseMntr parses an mntr answer: every line "zk_<key>\t<value>", each
// ended by "\n", no key twice.
func parseMntr(out string) ([]mntrLine, error) {
	if !strings.HasSuffix(out, "\n") {
		return nil, fmt.Errorf("mntr does not end with a newline")
	}
	var ls []mntrLine
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		mm := mntrLineRE.FindStringSubmatch(l)
		if mm == nil {
			return nil, fmt.Errorf("mntr line %q is not zk_<key>\\t<value>", l)
		}
		if seen[mm[1]] {
			return nil, fmt.Errorf("mntr key %q twice", mm[1])
		}
		seen[mm[1]] = true
		ls = append(ls, mntrLine{mm[1], mm[2]})
	}
	return ls, nil
}

// valueType classifies an mntr value as Java prints it.
func valueType(v string) string {
	switch {
	case intRE.MatchString(v):
		return "int"
	case doubleOnly.MatchString(v):
		return "double"
	}
	return "string"
}

// coreMntrKeys is the standalone core key set of reference §21.
var coreMntrKeys = []string{"version", "server_state", "avg_latency", "max_latency", "min_latency",
	"packets_received", "packets_sent", "num_alive_connections", "outstanding_requests", "uptime",
	"znode_count", "watch_count", "ephemerals_count", "approximate_data_size", "global_sessions",
	"local_sessions", "open_file_descriptor_count", "max_file_descriptor_count",
	"connection_drop_probability", "last_client_response_size", "max_client_response_size",
	"min_client_response_size", "outstanding_tls_handshake", "auth_failed_count",
	"non_mtls_remote_conn_count", "non_mtls_local_conn_count"}

// stateMntrKeys are the mntr values that the scenarios make equal on both
// servers.
var stateMntrKeys = []string{"server_state", "num_alive_connections", "outstanding_requests",
	"znode_count", "watch_count", "ephemerals_count", "approximate_data_size", "global_sessions",
	"local_sessions", "connection_drop_probability", "last_client_response_size",
	"max_client_response_size", "min_client_response_size", "outstanding_tls_handshake",
	"auth_failed_count", "non_mtls_remote_conn_count", "non_mtls_local_conn_count"}

// compareMntr compares Warren's mntr with ZooKeeper's and returns the
// differences: Warren must print every core key, no key ZooKeeper does not
// print, the keys in ZooKeeper's relative order, each value of the same type
// (integer, Java double, string), and the state-determined values equal.
func compareMntr(zkOut, wOut string) []string {
	var diffs []string
	zk, err := parseMntr(zkOut)
	if err != nil {
		return []string{"zookeeper: " + err.Error()}
	}
	w, err := parseMntr(wOut)
	if err != nil {
		return []string{"warren: " + err.Error()}
	}
	zkv, wv := map[string]string{}, map[string]string{}
	for _, l := range zk {
		zkv[l.key] = l.value
	}
	for _, l := range w {
		wv[l.key] = l.value
	}
	for _, k := range coreMntrKeys {
		if _, ok := zkv[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("zookeeper lacks core key zk_%s (is the oracle 3.8?)", k))
		}
		if _, ok := wv[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("warren lacks core key zk_%s", k))
		}
	}
	var zkOrder, wOrder []string
	for _, l := range zk {
		if _, ok := wv[l.key]; ok {
			zkOrder = append(zkOrder, l.key)
		}
	}
	for _, l := range w {
		zv, ok := zkv[l.key]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("warren prints zk_%s, which ZooKeeper does not", l.key))
			continue
		}
		wOrder = append(wOrder, l.key)
		if a, b := valueType(zv), valueType(l.value); a != b {
			diffs = append(diffs, fmt.Sprintf("zk_%s: zookeeper prints a %s (%q), warren a %s (%q)", l.key, a, zv, b, l.value))
		}
	}
	if strings.Join(zkOrder, ",") != strings.Join(wOrder, ",") {
		diffs = append(diffs, fmt.Sprintf("key order differs:\nzookeeper: %v\nwarren:    %v", zkOrder, wOrder))
	}
	if !regexp.MustCompile(`^` + versionRE + `$`).MatchString(wv["version"]) {
		diffs = append(diffs, fmt.Sprintf("warren zk_version %q has not the shape of %q", wv["version"], zkv["version"]))
	}
	for _, k := range stateMntrKeys {
		if zkv[k] != wv[k] {
			diffs = append(diffs, fmt.Sprintf("zk_%s: zookeeper %q, warren %q", k, zkv[k], wv[k]))
		}
	}
	return diffs
}
