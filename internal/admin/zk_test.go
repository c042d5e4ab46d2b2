package admin_test

// Differential checks of the AdminServer against Apache ZooKeeper 3.8:
// live against a standalone ZooKeeper (zkoracle) doing the same things, and
// against the answers of a ZooKeeper ensemble saved in testdata/zk38 (see
// its README) for a Warren ensemble. Compared: each command's keys (every
// level; the members of arrays merged; maps keyed by ids, paths or times
// as "*") and the JSON type of each value, and some answers byte for byte.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/warren-zk/warren/internal/admin"
	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/testutil/deps"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
	"github.com/warren-zk/warren/internal/testutil/zkoracle"
)

var client = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func fetch(t *testing.T, url string) string {
	t.Helper()
	var lastErr error
	for try := 0; try < 50; try++ {
		resp, err := client.Get(url)
		if err == nil {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == 200 {
				return string(b)
			}
			lastErr = fmt.Errorf("HTTP %d (%v): %s", resp.StatusCode, err, b)
		} else {
			lastErr = err
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, lastErr)
	return ""
}

// dynamicKeys are the members whose own keys are data (ids, times, paths).
var dynamicKeys = map[string]bool{"expiry_time_to_session_ids": true, "session_id_to_ephemeral_paths": true,
	"session_id_to_watched_paths": true, "path_to_session_ids": true, "current_config": true}

// shape flattens a JSON answer into "path: type" lines, sorted.
func shape(t *testing.T, body string) map[string]string {
	t.Helper()
	var v any
	d := json.NewDecoder(strings.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	out := map[string]string{}
	var walk func(prefix string, v any, dynamic bool)
	walk = func(prefix string, v any, dynamic bool) {
		switch x := v.(type) {
		case map[string]any:
			out[prefix] = "object"
			for k, e := range x {
				name := k
				if dynamic {
					name = "*"
				}
				walk(prefix+"."+name, e, dynamicKeys[k])
			}
		case []any:
			out[prefix] = "array"
			for _, e := range x {
				walk(prefix+"[]", e, false)
			}
		case json.Number:
			if strings.ContainsAny(string(x), ".eE") {
				out[prefix] = "double"
			} else {
				out[prefix] = "int"
			}
		case string:
			out[prefix] = "string"
		case bool:
			out[prefix] = "bool"
		case nil:
			out[prefix] = "null"
		}
	}
	walk("", v, false)
	return out
}

// diffShapes lists what differs between ZooKeeper's and Warren's shapes.
func diffShapes(zkShape, wShape map[string]string) []string {
	var diffs []string
	for k, zt := range zkShape {
		wt, ok := wShape[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("warren lacks %s (%s)", k, zt))
		case wt != zt && !(zt == "null" || wt == "null"):
			diffs = append(diffs, fmt.Sprintf("%s: zookeeper %s, warren %s", k, zt, wt))
		}
	}
	for k, wt := range wShape {
		if _, ok := zkShape[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("warren has %s (%s), zookeeper does not", k, wt))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// topKeys returns a JSON object's keys in order.
func topKeys(t *testing.T, body string) []string {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(body))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", body)
	}
	var keys []string
	for d.More() {
		tok, _ := d.Token()
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// compareMonitor checks that Warren prints only keys ZooKeeper prints, in
// ZooKeeper's relative order and with the same types, and every one of
// must (ZooKeeper's other ~400 ServerMetrics are left out on purpose).
func compareMonitor(t *testing.T, what, zkBody, wBody string, must []string) {
	t.Helper()
	zs, ws := shape(t, zkBody), shape(t, wBody)
	for k, wt := range ws {
		if zt, ok := zs[k]; !ok {
			t.Errorf("%s: warren has %s, zookeeper does not", what, k)
		} else if zt != wt {
			t.Errorf("%s: %s: zookeeper %s, warren %s", what, k, zt, wt)
		}
	}
	for _, k := range must {
		if _, ok := ws["."+k]; !ok {
			t.Errorf("%s: warren lacks %s", what, k)
		}
	}
	wk := topKeys(t, wBody)
	var zk []string
	for _, k := range topKeys(t, zkBody) {
		if slices.Contains(wk, k) {
			zk = append(zk, k)
		}
	}
	if strings.Join(zk, ",") != strings.Join(wk, ",") {
		t.Errorf("%s: key order differs:\nzookeeper %v\nwarren    %v", what, zk, wk)
	}
}

var coreMonitor = []string{"version", "server_state", "ephemerals_count", "num_alive_connections", "avg_latency",
	"outstanding_requests", "znode_count", "global_sessions", "non_mtls_remote_conn_count", "last_client_response_size",
	"packets_sent", "packets_received", "max_client_response_size", "connection_drop_probability", "watch_count",
	"auth_failed_count", "min_latency", "max_file_descriptor_count", "approximate_data_size",
	"open_file_descriptor_count", "local_sessions", "uptime", "max_latency", "outstanding_tls_handshake",
	"min_client_response_size", "non_mtls_local_conn_count",
	"avg_fsynctime", "min_fsynctime", "max_fsynctime", "cnt_fsynctime", "sum_fsynctime",
	"avg_snapshottime", "min_snapshottime", "max_snapshottime", "cnt_snapshottime", "sum_snapshottime",
	"avg_dbinittime", "min_dbinittime", "max_dbinittime", "cnt_dbinittime", "sum_dbinittime"}

// Where Warren's answers differ in shape from ZooKeeper's, on purpose (see
// the package documentation).
var knownShapeDiffs = map[string][]string{
	// Warren's observers are raft learners: no LearnerHandler details.
	"observers": {"warren lacks .observers[].established (int)", "warren lacks .observers[].last_zxid (int)",
		"warren lacks .observers[].packets_received (int)", "warren lacks .observers[].packets_sent (int)",
		"warren lacks .observers[].queued_packets_size (int)", "warren lacks .observers[].requests (int)"},
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// servletAPI is the jar Jetty needs and the Debian zookeeper package's
// classpath lacks (without it ZooKeeper logs "Unable to load jetty, not
// starting JettyAdminServer").
const servletAPI = "/usr/share/java/servlet-api.jar"

func TestAdminServerMatchesZooKeeper(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	if _, err := os.Stat(servletAPI); err != nil {
		deps.Missing(t, "libservlet-api-java", servletAPI+" not found: ZooKeeper's AdminServer cannot start")
	}
	adminPort := freePort(t)
	z := zkoracle.Start(t, &zkoracle.Options{
		ExtraConfig: map[string]string{"admin.enableServer": "true", "admin.serverAddress": "127.0.0.1",
			"admin.serverPort": strconv.Itoa(adminPort)},
		JVMArgs: []string{"-Xbootclasspath/a:" + servletAPI},
	})
	w := warrentest.Start(t, nil)
	zkBase := "http://127.0.0.1:" + strconv.Itoa(adminPort) + "/commands"
	wBase := "http://" + w.AdminAddr().String() + "/commands"

	// The same session, ephemeral node and watches on both.
	for _, addr := range []string{z.Addr, w.Addr} {
		c, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(quiet{}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		deadline := time.Now().Add(10 * time.Second)
		for c.State() != zk.StateHasSession && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := c.Create("/a", []byte("hello"), 0, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Create("/a/e1", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := c.GetW("/a"); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := c.ExistsW("/a/e1"); err != nil {
			t.Fatal(err)
		}
	}

	// The command lists: Warren has all of ZooKeeper's but system_properties.
	zkList, wList := fetch(t, zkBase), fetch(t, wBase)
	var missing []string
	for _, l := range strings.Split(zkList, "\n") {
		if strings.HasPrefix(l, "<a ") && !strings.Contains(wList, l) {
			missing = append(missing, l)
		}
	}
	if len(missing) != 1 || !strings.Contains(missing[0], "system_properties") {
		t.Errorf("commands ZooKeeper lists and Warren does not: %v", missing)
	}
	for _, l := range strings.Split(wList, "\n") {
		if l != "" && !strings.Contains(zkList, l) {
			t.Errorf("Warren lists %q, ZooKeeper does not", l)
		}
	}

	// Answers that must be the same bytes.
	for _, name := range []string{"ruok", "is_read_only", "get_trace_mask", "leader", "voting_view", "zabstate",
		"observers", "observer_connection_stat_reset", "nope", "set_trace_mask", "stmk?traceMask=x"} {
		if zb, wb := fetch(t, zkBase+"/"+name), fetch(t, wBase+"/"+name); zb != wb {
			t.Errorf("%s:\nzookeeper %s\nwarren    %s", name, zb, wb)
		}
	}

	for _, name := range admin.PrimaryNames() {
		if strings.HasSuffix(name, "reset") {
			continue // below, last
		}
		zb, wb := fetch(t, zkBase+"/"+name), fetch(t, wBase+"/"+name)
		if name == "monitor" {
			compareMonitor(t, name, zb, wb, coreMonitor)
			continue
		}
		if name == "hash" && strings.Contains(zb, "digest") {
			// ZooKeeper keeps a digest of every 128th transaction; Warren
			// computes none, so it lists none.
			zb = strings.Replace(zb, zb[strings.Index(zb, "["):strings.Index(zb, "]")+1], "[ ]", 1)
		}
		if d := diffShapes(shape(t, zb), shape(t, wb)); len(d) > 0 && !slices.Equal(d, knownShapeDiffs[name]) {
			t.Errorf("%s differs:\n  %s\nzookeeper: %s\nwarren: %s", name, strings.Join(d, "\n  "), zb, wb)
		}
		// Same keys in the same order at the top.
		if zk, wk := topKeys(t, zb), topKeys(t, wb); !slices.Equal(zk, wk) {
			t.Errorf("%s: top-level keys\nzookeeper %v\nwarren    %v", name, zk, wk)
		}
	}
	for _, name := range []string{"connection_stat_reset", "stat_reset", "crst", "srst"} {
		if zb, wb := fetch(t, zkBase+"/"+name), fetch(t, wBase+"/"+name); zb != wb {
			t.Errorf("%s:\nzookeeper %s\nwarren    %s", name, zb, wb)
		}
	}
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// A Warren ensemble's answers have the shapes of a ZooKeeper ensemble's
// (testdata/zk38), member by member.
func TestAdminServerMatchesZooKeeperEnsemble(t *testing.T) {
	e := warrentest.StartEnsemble(t, 3, 1, &warrentest.Options{Config: func(c *config.Config) {
		c.FourLetterWords = map[string]bool{"mntr": true, "srvr": true}
	}})
	leader := e.Leader()
	roles := map[string]int{"leader": leader, "follower": (leader + 1) % 3, "observer": 3}
	for role, i := range roles {
		dir := filepath.Join("testdata", "zk38", role)
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no answers in %s: %v", dir, err)
		}
		base := "http://" + e.Members[i].Server.AdminAddr().String() + "/commands/"
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".json")
			zb, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			wb := fetch(t, base+name)
			what := role + " " + name
			if name == "monitor" {
				must := append([]string{"peer_state", "quorum_size"}, coreMonitor...)
				switch role {
				case "leader":
					must = append(must, "learners", "synced_followers", "synced_non_voting_followers", "synced_observers",
						"pending_syncs", "leader_uptime", "last_proposal_size", "min_proposal_size", "max_proposal_size")
				case "observer":
					must = append(must, "observer_master_id")
				}
				compareMonitor(t, what, string(zb), wb, must)
				continue
			}
			if d := diffShapes(shape(t, string(zb)), shape(t, wb)); len(d) > 0 && !slices.Equal(d, knownShapeDiffs[name]) {
				t.Errorf("%s differs:\n  %s\nzookeeper: %s\nwarren: %s", what, strings.Join(d, "\n  "), zb, wb)
			}
			if zk, wk := topKeys(t, string(zb)), topKeys(t, wb); !slices.Equal(zk, wk) {
				t.Errorf("%s: top-level keys\nzookeeper %v\nwarren    %v", what, zk, wk)
			}
		}
		// mntr over the four-letter word: the same keys as the monitor
		// command, so the same comparison holds.
		zm, err := os.ReadFile(filepath.Join(dir, "mntr.txt"))
		if err != nil {
			t.Fatal(err)
		}
		wm := fourLetter(t, e.Members[i].Addr, "mntr")
		if d := compareMntrKeys(string(zm), wm); d != "" {
			t.Errorf("%s mntr: %s", role, d)
		}
	}
}

func fourLetter(t *testing.T, addr, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, cmd)
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// compareMntrKeys checks that Warren's mntr keys are ZooKeeper's, in
// ZooKeeper's relative order.
func compareMntrKeys(zkOut, wOut string) string {
	keys := func(s string) []string {
		var ks []string
		for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
			k, _, _ := strings.Cut(l, "\t")
			ks = append(ks, k)
		}
		return ks
	}
	zk, w := keys(zkOut), keys(wOut)
	var zkOrder []string
	for _, k := range zk {
		if slices.Contains(w, k) {
			zkOrder = append(zkOrder, k)
		}
	}
	if !slices.Equal(zkOrder, w) {
		var extra []string
		for _, k := range w {
			if !slices.Contains(zk, k) {
				extra = append(extra, k)
			}
		}
		return fmt.Sprintf("order or keys differ (warren only: %v):\nzookeeper %v\nwarren    %v", extra, zkOrder, w)
	}
	return ""
}
