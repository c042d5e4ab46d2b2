package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/warren-zk/warren/internal/admin"
	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/server"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
)

var httpClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// jsonObject is a decoded JSON object that remembers its key order.
type jsonObject struct {
	keys   []string
	values map[string]json.RawMessage
}

func decodeObject(t *testing.T, b []byte) jsonObject {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	o := jsonObject{values: map[string]json.RawMessage{}}
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object (%v): %s", err, b)
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("bad JSON: %v: %s", err, b)
		}
		k := tok.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			t.Fatalf("bad JSON: %v: %s", err, b)
		}
		o.keys = append(o.keys, k)
		o.values[k] = v
	}
	return o
}

// kind is a JSON value's type: "int", "double", "string", "bool", "null",
// "array", "object".
func kind(v json.RawMessage) string {
	s := strings.TrimSpace(string(v))
	switch {
	case s == "null":
		return "null"
	case s == "true" || s == "false":
		return "bool"
	case strings.HasPrefix(s, `"`):
		return "string"
	case strings.HasPrefix(s, "["):
		return "array"
	case strings.HasPrefix(s, "{"):
		return "object"
	case strings.ContainsAny(s, ".E"):
		return "double"
	}
	return "int"
}

func adminCmd(t *testing.T, s *server.Server, name string) jsonObject {
	t.Helper()
	code, body := httpGet(t, "http://"+s.AdminAddr().String()+"/commands/"+name)
	if code != 200 {
		t.Fatalf("%s: HTTP %d: %s", name, code, body)
	}
	return decodeObject(t, []byte(body))
}

// spec is the key list (in order, "command" and "error" included) and the
// JSON types of a command's response.
type spec map[string]string

func checkShape(t *testing.T, what string, o jsonObject, keys []string, types spec) {
	t.Helper()
	if strings.Join(o.keys, ",") != strings.Join(keys, ",") {
		t.Errorf("%s: keys\n got %v\nwant %v", what, o.keys, keys)
	}
	for k, want := range types {
		if got := kind(o.values[k]); got != want {
			t.Errorf("%s: %s is a %s (%s), want a %s", what, k, got, o.values[k], want)
		}
	}
}

func withCE(keys ...string) []string { return append(keys, "command", "error") }

func TestAdminServerCommands(t *testing.T) {
	s := warrentest.Start(t, nil)
	if s.AdminAddr() == nil {
		t.Fatal("no AdminServer")
	}
	r := dial(t, s.Addr)
	cr := r.connect(30000, 0, nil, true)
	if code := r.call(proto.OpCreate, &proto.CreateRequest{Path: "/a", Data: []byte("hello"), Acl: open}, nil); code != 0 {
		t.Fatal(code)
	}
	if code := r.call(proto.OpCreate, &proto.CreateRequest{Path: "/a/e1", Acl: open, Flags: proto.ModeEphemeral}, nil); code != 0 {
		t.Fatal(code)
	}
	r.call(proto.OpGetData, &proto.GetDataRequest{Path: "/a", Watch: true}, &proto.GetDataResponse{})
	r.call(proto.OpExists, &proto.ExistsRequest{Path: "/a/e1", Watch: true}, &proto.ExistsResponse{})
	sid := strconv.FormatInt(cr.SessionID, 10)

	connKeys := []string{"remote_socket_address", "interest_ops", "outstanding_requests", "packets_received", "packets_sent",
		"session_id", "last_operation", "established", "session_timeout", "last_cxid", "last_zxid",
		"last_response_time", "last_latency", "min_latency", "avg_latency", "max_latency"}
	statsKeys := []string{"packets_sent", "packets_received", "fsync_threshold_exceed_count", "client_response_stats",
		"data_dir_size", "log_dir_size", "provider_null", "server_state", "last_processed_zxid", "outstanding_requests",
		"avg_latency", "max_latency", "min_latency", "num_alive_client_connections", "auth_failed_count",
		"non_mtlsremote_conn_count", "non_mtlslocal_conn_count", "uptime"}
	bufKeys := []string{"last_buffer_size", "min_buffer_size", "max_buffer_size"}
	for _, c := range []struct {
		names []string
		keys  []string
		types spec
		check func(o jsonObject)
	}{
		{[]string{"configuration", "conf", "config"}, withCE("client_port", "data_dir", "data_log_dir", "tick_time", "max_client_cnxns",
			"min_session_timeout", "max_session_timeout", "server_id", "client_port_listen_backlog"),
			spec{"client_port": "int", "data_dir": "string", "tick_time": "int", "server_id": "int", "error": "null"},
			func(o jsonObject) {
				if string(o.values["client_port"]) != strconv.Itoa(s.Port) {
					t.Errorf("client_port %s", o.values["client_port"])
				}
			}},
		{[]string{"connections", "cons"}, withCE("connections", "secure_connections"), spec{"connections": "array"},
			func(o jsonObject) {
				var cs []json.RawMessage
				json.Unmarshal(o.values["connections"], &cs)
				if len(cs) != 1 {
					t.Fatalf("connections: %s", o.values["connections"])
				}
				c := decodeObject(t, cs[0])
				checkShape(t, "connection", c, connKeys, spec{"remote_socket_address": "string", "session_id": "int",
					"last_operation": "string", "established": "int", "last_cxid": "int"})
				if string(c.values["session_id"]) != sid || string(c.values["last_operation"]) != `"EXIS"` {
					t.Errorf("connection: %v", c.values)
				}
			}},
		{[]string{"dirs"}, withCE("datadir_size", "logdir_size"), spec{"datadir_size": "int", "logdir_size": "int"}, nil},
		{[]string{"dump"}, withCE("expiry_time_to_session_ids", "session_id_to_ephemeral_paths"), nil,
			func(o jsonObject) {
				eph := decodeObject(t, o.values["session_id_to_ephemeral_paths"])
				if strings.Join(eph.keys, ",") != sid || string(eph.values[sid]) != `[ "/a/e1" ]` {
					t.Errorf("ephemerals: %s", o.values["session_id_to_ephemeral_paths"])
				}
				exp := decodeObject(t, o.values["expiry_time_to_session_ids"])
				if len(exp.keys) != 1 || string(exp.values[exp.keys[0]]) != "[ "+sid+" ]" {
					t.Errorf("expiry: %s", o.values["expiry_time_to_session_ids"])
				}
			}},
		{[]string{"environment", "env", "envi"}, withCE("zookeeper.version", "host.name", "java.version", "java.vendor",
			"java.home", "java.class.path", "java.library.path", "java.io.tmpdir", "java.compiler", "os.name", "os.arch",
			"os.version", "user.name", "user.home", "user.dir", "os.memory.free", "os.memory.max", "os.memory.total"),
			spec{"zookeeper.version": "string", "os.memory.max": "string"}, nil},
		{[]string{"get_trace_mask", "gtmk"}, withCE("tracemask"), spec{"tracemask": "int"}, nil},
		{[]string{"hash"}, withCE("digests"), spec{"digests": "array"}, nil},
		{[]string{"initial_configuration", "icfg"}, withCE("initial_configuration"), spec{"initial_configuration": "string"}, nil},
		{[]string{"is_read_only", "isro"}, withCE("read_only"), spec{"read_only": "bool"}, nil},
		{[]string{"last_snapshot", "lsnp"}, withCE("zxid", "timestamp"), spec{"zxid": "string", "timestamp": "int"},
			func(o jsonObject) {
				if string(o.values["zxid"]) != `"100000000"` {
					t.Errorf("lsnp: the initial snapshot's zxid is %s", o.values["zxid"])
				}
			}},
		{[]string{"leader", "lead"}, []string{"error", "command"}, spec{"error": "string"}, nil},
		{[]string{"observer_connection_stat_reset", "orst"}, withCE(), nil, nil},
		{[]string{"observers", "obsr"}, withCE("synced_observers", "observers"), spec{"synced_observers": "int", "observers": "array"}, nil},
		{[]string{"ruok"}, withCE(), spec{"error": "null"}, nil},
		{[]string{"server_stats", "srvr"}, withCE("version", "read_only", "server_stats", "client_response", "node_count"),
			spec{"version": "string", "read_only": "bool", "server_stats": "object", "node_count": "int"},
			func(o jsonObject) {
				st := decodeObject(t, o.values["server_stats"])
				checkShape(t, "server_stats", st, statsKeys, spec{"avg_latency": "double", "server_state": "string",
					"provider_null": "bool", "client_response_stats": "object", "last_processed_zxid": "int"})
				checkShape(t, "client_response", decodeObject(t, o.values["client_response"]), bufKeys, nil)
				if string(o.values["node_count"]) != "7" {
					t.Errorf("node_count %s", o.values["node_count"])
				}
			}},
		{[]string{"stats", "stat"}, withCE("version", "read_only", "server_stats", "client_response", "node_count",
			"connections", "secure_connections"), nil,
			func(o jsonObject) {
				var cs []json.RawMessage
				json.Unmarshal(o.values["connections"], &cs)
				if len(cs) != 1 {
					t.Fatalf("connections: %s", o.values["connections"])
				}
				checkShape(t, "brief connection", decodeObject(t, cs[0]), connKeys[:5], nil)
			}},
		{[]string{"voting_view"}, withCE("current_config"), spec{"current_config": "object"}, nil},
		{[]string{"watch_summary", "wchs"}, withCE("num_connections", "num_paths", "num_total_watches"), nil,
			func(o jsonObject) {
				if got := string(o.values["num_connections"]) + " " + string(o.values["num_paths"]) + " " + string(o.values["num_total_watches"]); got != "1 2 2" {
					t.Errorf("watch_summary %s", got)
				}
			}},
		{[]string{"watches", "wchc"}, withCE("session_id_to_watched_paths"), nil,
			func(o jsonObject) {
				w := decodeObject(t, o.values["session_id_to_watched_paths"])
				if string(w.values[sid]) != `[ "/a", "/a/e1" ]` {
					t.Errorf("watches %s", o.values["session_id_to_watched_paths"])
				}
			}},
		{[]string{"watches_by_path", "wchp"}, withCE("path_to_session_ids"), nil,
			func(o jsonObject) {
				w := decodeObject(t, o.values["path_to_session_ids"])
				if strings.Join(w.keys, ",") != "/a,/a/e1" || string(w.values["/a"]) != "[ "+sid+" ]" {
					t.Errorf("watches_by_path %s", o.values["path_to_session_ids"])
				}
			}},
		{[]string{"zabstate"}, withCE("voting", "zabstate"), spec{"voting": "bool", "zabstate": "string"}, nil},
		// Resets last: they change what the others print.
		{[]string{"connection_stat_reset", "crst"}, withCE(), nil, nil},
		{[]string{"stat_reset", "srst"}, withCE(), nil, nil},
	} {
		for i, name := range c.names {
			o := adminCmd(t, s.Server, name)
			checkShape(t, name, o, c.keys, c.types)
			if got := string(o.values["command"]); got != `"`+c.names[0]+`"` {
				t.Errorf("%s: command %s, want %q", name, got, c.names[0])
			}
			if c.check != nil && i == 0 {
				c.check(o)
			}
		}
	}
	// The command list links to every primary name.
	code, body := httpGet(t, "http://"+s.AdminAddr().String()+"/commands")
	if code != 200 || strings.Count(body, "<br/>") != len(admin.PrimaryNames()) || !strings.Contains(body, `<a href="/commands/monitor">monitor</a>`) {
		t.Errorf("command list: %d %s", code, body)
	}
}

// monitorJSON returns the monitor command's numeric values as numbers and
// its keys in order.
func monitorJSON(t *testing.T, s *server.Server) ([]string, map[string]float64, jsonObject) {
	t.Helper()
	o := adminCmd(t, s, "monitor")
	vals := map[string]float64{}
	var keys []string
	for _, k := range o.keys {
		if k == "command" || k == "error" {
			continue
		}
		keys = append(keys, k)
		if f, err := strconv.ParseFloat(string(o.values[k]), 64); err == nil {
			vals[k] = f
		}
	}
	return keys, vals, o
}

// The monitor command and mntr print the same keys in the same order, with
// the same values where nothing can change between the two (the
// four-letter word counts itself as a connection and a packet).
func TestAdminMonitorMatchesMntr(t *testing.T) {
	s := warrentest.Start(t, nil)
	r := dial(t, s.Addr)
	r.connect(30000, 0, nil, true)
	r.call(proto.OpCreate, &proto.CreateRequest{Path: "/x", Data: []byte("12345"), Acl: open}, nil)
	keys, vals, o := monitorJSON(t, s.Server)
	text := ask4(t, s.Addr, "mntr")
	var tkeys []string
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		k, v, _ := strings.Cut(strings.TrimPrefix(line, "zk_"), "\t")
		tkeys = append(tkeys, k)
		switch k {
		case "uptime", "open_file_descriptor_count", "packets_received", "packets_sent", "num_alive_connections":
			continue
		}
		if got := strings.Trim(string(o.values[k]), `"`); got != v {
			t.Errorf("%s: monitor %s, mntr %s", k, got, v)
		}
	}
	if strings.Join(keys, ",") != strings.Join(tkeys, ",") {
		t.Errorf("keys differ:\nmonitor %v\nmntr    %v", keys, tkeys)
	}
	if vals["cnt_fsynctime"] < 2 || vals["cnt_dbinittime"] != 1 {
		t.Errorf("storage summaries: fsynctime count %v, dbinittime count %v", vals["cnt_fsynctime"], vals["cnt_dbinittime"])
	}
	// srvr's numbers are the server_stats ones.
	st := decodeObject(t, adminCmd(t, s.Server, "srvr").values["server_stats"])
	srvr := ask4(t, s.Addr, "srvr")
	if want := "Zxid: 0x" + strconv.FormatInt(mustInt(t, st.values["last_processed_zxid"]), 16) + "\n"; !strings.Contains(srvr, want) {
		t.Errorf("srvr %q lacks %q", srvr, want)
	}
}

func mustInt(t *testing.T, v json.RawMessage) int64 {
	t.Helper()
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		t.Fatalf("not an integer: %s", v)
	}
	return n
}

func scrape(t *testing.T, s *server.Server) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := httpGet(t, "http://"+s.MetricsAddr().String()+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	return mfs
}

func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, typ dto.MetricType) *dto.Metric {
	t.Helper()
	mf := mfs[name]
	if mf == nil {
		t.Fatalf("no metric %s", name)
	}
	if mf.GetType() != typ || len(mf.Metric) != 1 {
		t.Fatalf("%s: type %v with %d series, want one %v", name, mf.GetType(), len(mf.Metric), typ)
	}
	return mf.Metric[0]
}

func TestPrometheusMetricsMatchMntr(t *testing.T) {
	s := warrentest.Start(t, &warrentest.Options{Config: func(c *config.Config) {
		// Enabled by Warren's key, on a port picked at run time.
		c.Props["warren.metrics"] = "true"
		c.MetricsHTTPHost, c.MetricsHTTPPort = "127.0.0.1", 0
		c.SnapCount = 4 // snapshots every few writes
	}})
	r := dial(t, s.Addr)
	r.connect(30000, 0, nil, true)
	for i := 0; i < 12; i++ {
		r.call(proto.OpCreate, &proto.CreateRequest{Path: fmt.Sprintf("/m%d", i), Data: []byte("x"), Acl: open}, nil)
	}
	r.call(proto.OpCreate, &proto.CreateRequest{Path: "/eph", Acl: open, Flags: proto.ModeEphemeral}, nil)
	r.call(proto.OpGetData, &proto.GetDataRequest{Path: "/m1", Watch: true}, &proto.GetDataResponse{})

	// A snapshot has been written (in the background) ...
	for deadline := time.Now().Add(20 * time.Second); ; {
		if _, v, _ := monitorJSON(t, s.Server); v["cnt_snapshottime"] >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no snapshot written")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// ... and the scrape comes between two identical monitor answers, so
	// nothing (another snapshot finishing) changed in between.
	var (
		mfs  map[string]*dto.MetricFamily
		keys []string
		vals map[string]float64
	)
	for try := 0; ; try++ {
		_, before, _ := monitorJSON(t, s.Server)
		mfs = scrape(t, s.Server)
		keys, vals, _ = monitorJSON(t, s.Server)
		if before["cnt_snapshottime"] == vals["cnt_snapshottime"] && before["cnt_fsynctime"] == vals["cnt_fsynctime"] {
			break
		}
		if try == 20 {
			t.Fatal("the server does not settle")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, k := range keys {
		v, numeric := vals[k]
		if strings.HasPrefix(k, "avg_") || strings.HasPrefix(k, "min_") && strings.HasSuffix(k, "time") ||
			strings.HasPrefix(k, "max_") && strings.HasSuffix(k, "time") || strings.HasPrefix(k, "cnt_") || strings.HasPrefix(k, "sum_") {
			if k != "avg_latency" && k != "min_latency" && k != "max_latency" {
				continue // summary parts: below
			}
		}
		if !numeric {
			continue
		}
		got := value(t, mfs, k, dto.MetricType_GAUGE).GetGauge().GetValue()
		switch k {
		case "uptime", "open_file_descriptor_count":
			continue
		}
		if got != v {
			t.Errorf("gauge %s = %v, mntr says %v", k, got, v)
		}
	}
	for _, name := range []string{"znode_count", "watch_count", "ephemerals_count", "approximate_data_size",
		"num_alive_connections", "outstanding_requests", "avg_latency", "max_latency", "min_latency",
		"packets_received", "packets_sent", "global_sessions"} {
		value(t, mfs, name, dto.MetricType_GAUGE)
	}
	if got := value(t, mfs, "znode_count", dto.MetricType_GAUGE).GetGauge().GetValue(); got != 5+13 {
		t.Errorf("znode_count %v", got)
	}
	for _, name := range []string{"fsynctime", "snapshottime", "dbinittime"} {
		sm := value(t, mfs, name, dto.MetricType_SUMMARY).GetSummary()
		if float64(sm.GetSampleCount()) != vals["cnt_"+name] || sm.GetSampleSum() != vals["sum_"+name] {
			t.Errorf("%s: count %d sum %v; mntr cnt %v sum %v", name, sm.GetSampleCount(), sm.GetSampleSum(), vals["cnt_"+name], vals["sum_"+name])
		}
		if len(sm.GetQuantile()) != 1 || sm.GetQuantile()[0].GetQuantile() != 0.5 {
			t.Errorf("%s: quantiles %v, want ZooKeeper's 0.5", name, sm.GetQuantile())
		}
	}
	if vals["cnt_snapshottime"] < 1 || vals["cnt_fsynctime"] < 14 {
		t.Errorf("snapshots %v, fsyncs %v", vals["cnt_snapshottime"], vals["cnt_fsynctime"])
	}
	fs := value(t, mfs, "warren_wal_fsync_duration_seconds", dto.MetricType_HISTOGRAM).GetHistogram()
	if float64(fs.GetSampleCount()) != vals["cnt_fsynctime"] {
		t.Errorf("fsync histogram count %d, mntr %v", fs.GetSampleCount(), vals["cnt_fsynctime"])
	}
	batch := value(t, mfs, "warren_wal_fsync_batch_entries", dto.MetricType_HISTOGRAM).GetHistogram()
	if batch.GetSampleCount() != fs.GetSampleCount() || batch.GetSampleSum() < 14 {
		t.Errorf("batch histogram: %d batches, %v entries", batch.GetSampleCount(), batch.GetSampleSum())
	}
	if n := value(t, mfs, "warren_snapshot_duration_seconds", dto.MetricType_HISTOGRAM).GetHistogram().GetSampleCount(); float64(n) != vals["cnt_snapshottime"] {
		t.Errorf("snapshot histogram count %d", n)
	}
	g := func(name string) float64 { return value(t, mfs, name, dto.MetricType_GAUGE).GetGauge().GetValue() }
	applied, commit := g("warren_raft_applied_index"), g("warren_raft_commit_index")
	if applied < 15 || commit < applied || g("warren_raft_apply_lag_entries") != commit-applied ||
		g("warren_raft_term") < 1 || g("warren_raft_is_leader") != 1 || g("warren_raft_has_leader") != 1 || g("warren_serving") != 1 {
		t.Errorf("raft: applied %v commit %v lag %v term %v leader %v/%v serving %v", applied, commit,
			g("warren_raft_apply_lag_entries"), g("warren_raft_term"), g("warren_raft_is_leader"), g("warren_raft_has_leader"), g("warren_serving"))
	}
	if c := value(t, mfs, "warren_raft_leader_changes_seen_total", dto.MetricType_COUNTER).GetCounter().GetValue(); c != 1 {
		t.Errorf("leader changes %v", c)
	}
	for _, name := range []string{"go_goroutines", "process_open_fds"} {
		if mfs[name] == nil {
			t.Errorf("no %s (metricsProvider.exportJvmInfo defaults to true)", name)
		}
	}

	// lsnp names the newest snapshot.
	ls := adminCmd(t, s.Server, "lsnp")
	zxid, err := strconv.ParseUint(strings.Trim(string(ls.values["zxid"]), `"`), 16, 64)
	last := mustInt(t, decodeObject(t, adminCmd(t, s.Server, "srvr").values["server_stats"]).values["last_processed_zxid"])
	if err != nil || zxid <= 0x100000000 || zxid > uint64(last) {
		t.Errorf("lsnp zxid %s, last zxid 0x%x", ls.values["zxid"], last)
	}
	if ts := mustInt(t, ls.values["timestamp"]); math.Abs(float64(time.Now().Unix()-ts)) > 60 {
		t.Errorf("lsnp timestamp %d", ts)
	}

	// srst resets mntr's summaries but not Prometheus's (as in ZooKeeper).
	ask4(t, s.Addr, "srst")
	_, after, _ := monitorJSON(t, s.Server)
	if after["cnt_fsynctime"] != 0 || after["cnt_dbinittime"] != 0 {
		t.Errorf("after srst: fsynctime count %v, dbinittime count %v", after["cnt_fsynctime"], after["cnt_dbinittime"])
	}
	if n := value(t, scrape(t, s.Server), "dbinittime", dto.MetricType_SUMMARY).GetSummary().GetSampleCount(); n != 1 {
		t.Errorf("Prometheus dbinittime count after srst: %d", n)
	}
}

// startWith starts a standalone server built by hand, with options
// warrentest does not pass.
func startWith(t *testing.T, edit func(*config.Config), opts server.Options) (*server.Server, error) {
	t.Helper()
	cfg := config.Default()
	dir := t.TempDir()
	cfg.DataDir, cfg.DataLogDir = dir, dir
	cfg.ClientPortAddress, cfg.ClientPort = "127.0.0.1", 0
	cfg.AdminServerAddress, cfg.AdminServerPort = "127.0.0.1", 0
	if edit != nil {
		edit(cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Listener = ln
	opts.Logger = slog.New(slog.DiscardHandler)
	s := server.New(cfg, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		ln.Close()
		return nil, err
	}
	t.Cleanup(s.Stop)
	return s, nil
}

func TestPprofOnlyWithFlag(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*config.Config)
		opts server.Options
		want int
	}{
		{"default", nil, server.Options{}, 404},
		{"zoo.cfg warren.pprof=true", func(c *config.Config) { c.Props["warren.pprof"] = "true" }, server.Options{}, 200},
		{"Options.Pprof", nil, server.Options{Pprof: true}, 200},
	} {
		s, err := startWith(t, c.edit, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if code, _ := httpGet(t, "http://"+s.AdminAddr().String()+"/debug/pprof/"); code != c.want {
			t.Errorf("%s: /debug/pprof/ answers %d, want %d", c.name, code, c.want)
		}
		if code, _ := httpGet(t, "http://"+s.AdminAddr().String()+"/debug/pprof/cmdline"); code != c.want {
			t.Errorf("%s: /debug/pprof/cmdline answers %d, want %d", c.name, code, c.want)
		}
	}
}

func TestAdminListenersFromOptions(t *testing.T) {
	al, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Listeners passed in are used even when the zoo.cfg turns both off.
	s, err := startWith(t, func(c *config.Config) { c.AdminEnableServer = false }, server.Options{AdminListener: al, MetricsListener: ml})
	if err != nil {
		t.Fatal(err)
	}
	if s.AdminAddr().String() != al.Addr().String() || s.MetricsAddr().String() != ml.Addr().String() {
		t.Fatalf("addresses %v %v", s.AdminAddr(), s.MetricsAddr())
	}
	if code, body := httpGet(t, "http://"+al.Addr().String()+"/commands/ruok"); code != 200 || !strings.Contains(body, `"error" : null`) {
		t.Errorf("ruok: %d %s", code, body)
	}
	if code, _ := httpGet(t, "http://"+ml.Addr().String()+"/metrics"); code != 200 {
		t.Errorf("/metrics: %d", code)
	}
	s.Stop()
	// Stop closes both.
	for _, a := range []net.Addr{al.Addr(), ml.Addr()} {
		if c, err := net.DialTimeout("tcp", a.String(), time.Second); err == nil {
			c.Close()
			t.Errorf("%v still accepts after Stop", a)
		}
	}

	// Off by default, with zoo.cfg's metricsProvider.className it is on.
	s2, err := startWith(t, func(c *config.Config) { c.AdminEnableServer = false }, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s2.AdminAddr() != nil || s2.MetricsAddr() != nil || s2.Metrics() != nil {
		t.Errorf("admin.enableServer=false and no metrics provider: %v %v", s2.AdminAddr(), s2.MetricsAddr())
	}
	s3, err := startWith(t, func(c *config.Config) {
		c.MetricsProviderClassName = admin.PrometheusProvider
		c.MetricsHTTPHost, c.MetricsHTTPPort = "127.0.0.1", 0
		c.Props["metricsProvider.exportJvmInfo"] = "false"
	}, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s3.MetricsAddr() == nil {
		t.Fatal("PrometheusMetricsProvider did not start the metrics endpoint")
	}
	if mfs := scrape(t, s3); mfs["znode_count"] == nil || mfs["go_goroutines"] != nil {
		t.Errorf("exportJvmInfo=false: znode_count %v, go_goroutines %v", mfs["znode_count"] != nil, mfs["go_goroutines"] != nil)
	}
}

// A taken AdminServer port is logged and the server runs on; a taken
// metrics port fails the start, as in ZooKeeper.
func TestTakenPorts(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	s, err := startWith(t, func(c *config.Config) { c.AdminServerPort = port }, server.Options{})
	if err != nil {
		t.Fatalf("a taken AdminServer port stopped the server: %v", err)
	}
	if s.AdminAddr() != nil {
		t.Errorf("AdminAddr %v", s.AdminAddr())
	}
	_, err = startWith(t, func(c *config.Config) {
		c.Props["warren.metrics"] = "true"
		c.MetricsHTTPHost, c.MetricsHTTPPort = "127.0.0.1", port
	}, server.Options{})
	if err == nil || !strings.Contains(err.Error(), "metrics") {
		t.Errorf("a taken metrics port: %v", err)
	}
}

func TestReadyzAndNotServing(t *testing.T) {
	s := warrentest.Start(t, nil)
	base := "http://" + s.AdminAddr().String()
	probe := func() (int, int) {
		h, _ := httpGet(t, base+"/healthz")
		r, _ := httpGet(t, base+"/readyz")
		return h, r
	}
	if h, r := probe(); h != 200 || r != 200 {
		t.Fatalf("serving: healthz %d readyz %d", h, r)
	}
	s.SetServingForTest(false)
	if h, r := probe(); h != 200 || r != 503 {
		t.Errorf("not serving: healthz %d readyz %d", h, r)
	}
	if o := adminCmd(t, s.Server, "stat"); string(o.values["error"]) != `"`+admin.NotServing+`"` || string(o.values["command"]) != `"stat"` {
		t.Errorf("stat while not serving: %v", o.values)
	}
	if o := adminCmd(t, s.Server, "monitor"); string(o.values["error"]) != "null" || string(o.values["server_state"]) != `"standalone"` {
		t.Errorf("monitor while not serving: %v", o.values)
	}
	s.SetServingForTest(true)
	if h, r := probe(); h != 200 || r != 200 {
		t.Errorf("serving again: healthz %d readyz %d", h, r)
	}
}

// An ensemble member is ready only while it has a leader.
func TestReadyzFollowsTheLeader(t *testing.T) {
	e := warrentest.StartEnsemble(t, 3, 0, &warrentest.Options{Config: func(c *config.Config) {
		c.TickTime = 100 // a member stops serving 0.5 s (syncLimit) after losing the leader
	}})
	for _, m := range e.Members {
		if code, _ := httpGet(t, "http://"+m.Server.AdminAddr().String()+"/readyz"); code != 200 {
			t.Fatalf("member %d not ready: %d", m.ID, code)
		}
		if q := adminCmd(t, m.Server, "zabstate"); string(q.values["zabstate"]) != `"broadcast"` {
			t.Errorf("member %d zabstate %s", m.ID, q.values["zabstate"])
		}
	}
	leader := e.Leader()
	// The leader's own numbers: its learners, and the sizes of what it
	// proposed (srvr's last line, as ZooKeeper's leader prints it).
	r := dial(t, e.Members[leader].Addr)
	r.connect(30000, 0, nil, true)
	if code := r.call(proto.OpCreate, &proto.CreateRequest{Path: "/p", Data: make([]byte, 100), Acl: open}, nil); code != 0 {
		t.Fatal(code)
	}
	if srvr := ask4(t, e.Members[leader].Addr, "srvr"); !regexp.MustCompile(`\nNode count: 6\nProposal sizes last/min/max: (\d+)/(\d+)/(\d+)\n$`).MatchString(srvr) {
		t.Errorf("leader's srvr:\n%s", srvr)
	}
	if srvr := ask4(t, e.Members[(leader+1)%3].Addr, "srvr"); strings.Contains(srvr, "Proposal") {
		t.Errorf("follower's srvr:\n%s", srvr)
	}
	_, lv, _ := monitorJSON(t, e.Members[leader].Server)
	if lv["quorum_size"] != 3 || lv["learners"] != 2 || lv["synced_followers"] != 2 || lv["max_proposal_size"] < 100 || lv["leader_uptime"] <= 0 {
		t.Errorf("leader's monitor: quorum_size %v learners %v synced_followers %v max_proposal_size %v leader_uptime %v",
			lv["quorum_size"], lv["learners"], lv["synced_followers"], lv["max_proposal_size"], lv["leader_uptime"])
	}
	survivor := (leader + 1) % 3
	other := (leader + 2) % 3
	s := e.Members[survivor].Server
	base := "http://" + s.AdminAddr().String()
	e.Stop(leader)
	e.Stop(other)
	waitStatus(t, base+"/readyz", 503, 20*time.Second, "without a leader")
	if code, _ := httpGet(t, base+"/healthz"); code != 200 {
		t.Errorf("healthz %d without a leader", code)
	}
	if o := adminCmd(t, s, "srvr"); string(o.values["error"]) != `"`+admin.NotServing+`"` {
		t.Errorf("srvr without a leader: %v", o.values)
	}
	mon := adminCmd(t, s, "monitor")
	if string(mon.values["peer_state"]) != `"looking - election"` || string(mon.values["error"]) != "null" {
		t.Errorf("monitor without a leader: peer_state %s error %s", mon.values["peer_state"], mon.values["error"])
	}
	if q := adminCmd(t, s, "zabstate"); string(q.values["zabstate"]) != `"election"` {
		t.Errorf("zabstate without a leader: %s", q.values["zabstate"])
	}
	// A second member comes back: a leader again, ready again.
	e.Start(other)
	waitStatus(t, base+"/readyz", 200, 30*time.Second, "once a quorum is back")
}

// waitStatus waits until url answers with HTTP status want.
func waitStatus(t *testing.T, url string, want int, within time.Duration, why string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, _ := httpGet(t, url)
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answers %d, not %d, %s", url, code, want, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
