package admin

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fake is a Source with fixed values.
type fake struct {
	up, serving atomic.Bool
	quorum      *Quorum
	mask        atomic.Int64
	resets      atomic.Int32
}

func newFake() *fake {
	f := &fake{}
	f.up.Store(true)
	f.serving.Store(true)
	f.mask.Store(306)
	return f
}

func (f *fake) Up() bool      { return f.up.Load() }
func (f *fake) Serving() bool { return f.serving.Load() }
func (f *fake) Monitor() Monitor {
	s := NewSummary("fsynctime")
	s.Add(1)
	s.Add(2)
	s.Add(2)
	return Monitor{Values: Obj{{"version", "v"}, {"server_state", "standalone"}, {"znode_count", 5}, {"avg_latency", 0.5}}, Summaries: []*Summary{s}}
}
func (f *fake) ServerStats() ServerStats {
	return ServerStats{Version: "v", State: "standalone", ClientResponse: BufferStats{-1, -1, -1}, NodeCount: 5}
}
func (f *fake) Connections() []Connection {
	return []Connection{{
		RemoteAddr: "127.0.0.1:47966", InterestOps: 1, Received: 6, Sent: 6, SessionID: 72057756214493184,
		LastOp: "EXIS", Established: time.UnixMilli(1795264659558), Timeout: 10000, LastCxid: 5, LastZxid: 3,
		LastResponse: 2489072, LastLatency: 1, MinLatency: 0, AvgLatency: 3, MaxLatency: 11,
	}}
}
func (f *fake) Conf() Conf                   { return Conf{ClientPort: 2181, SecureClientPort: -1} }
func (f *fake) Environment() Obj             { return Obj{{"zookeeper.version", "v"}} }
func (f *fake) Dirs() (int64, int64)         { return 457, 457 }
func (f *fake) Dump() Dump                   { return Dump{} }
func (f *fake) WatchSummary() WatchSummary   { return WatchSummary{1, 2, 2} }
func (f *fake) LastSnapshot() (int64, int64) { return 0, 1795264645 }
func (f *fake) InitialConfiguration() string { return "tickTime=2000\n" }
func (f *fake) TraceMask() int64             { return f.mask.Load() }
func (f *fake) SetTraceMask(m int64)         { f.mask.Store(m) }
func (f *fake) ResetConnectionStats()        { f.resets.Add(1) }
func (f *fake) ResetServerStats()            { f.resets.Add(1) }
func (f *fake) Quorum() *Quorum              { return f.quorum }
func (f *fake) Raft() Raft {
	return Raft{Term: 1, Commit: 3, Applied: 2, Leader: 1, IsLeader: true, LeaderChanges: 1}
}
func (f *fake) Watches(byPath bool) ([]WatchEntry, bool) {
	es := []WatchEntry{{72057756214493184, "/a"}, {72057756214493184, "/a/e1"}}
	if byPath {
		return es, false
	}
	return es, false
}

func run(t *testing.T, src Source, name string, args url.Values) string {
	t.Helper()
	b, err := Run(src, name, args).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The answers below are ZooKeeper 3.8.0's, byte for byte (captured from its
// AdminServer with the same values).
func TestResponsesAreZooKeepersBytes(t *testing.T) {
	f := newFake()
	for _, c := range []struct {
		name string
		args url.Values
		want string
	}{
		{"connections", nil, `{
  "connections" : [ {
    "remote_socket_address" : "127.0.0.1:47966",
    "interest_ops" : 1,
    "outstanding_requests" : 0,
    "packets_received" : 6,
    "packets_sent" : 6,
    "session_id" : 72057756214493184,
    "last_operation" : "EXIS",
    "established" : 1795264659558,
    "session_timeout" : 10000,
    "last_cxid" : 5,
    "last_zxid" : 3,
    "last_response_time" : 2489072,
    "last_latency" : 1,
    "min_latency" : 0,
    "avg_latency" : 3,
    "max_latency" : 11
  } ],
  "secure_connections" : [ ],
  "command" : "connections",
  "error" : null
}`},
		{"crst", nil, "{\n  \"command\" : \"connection_stat_reset\",\n  \"error\" : null\n}"},
		{"nope", nil, "{\n  \"command\" : \"nope\",\n  \"error\" : \"Unknown command: nope\"\n}"},
		{"leader", nil, "{\n  \"error\" : \"server is not initialized\",\n  \"command\" : \"leader\"\n}"},
		{"set_trace_mask", nil, "{\n  \"error\" : \"setTraceMask requires long traceMask argument\",\n  \"command\" : \"set_trace_mask\"\n}"},
		{"stmk", url.Values{"traceMask": {"abc"}}, "{\n  \"error\" : \"setTraceMask requires long traceMask argument, got abc\",\n  \"command\" : \"set_trace_mask\"\n}"},
		{"lsnp", nil, "{\n  \"zxid\" : \"0\",\n  \"timestamp\" : 1795264645,\n  \"command\" : \"last_snapshot\",\n  \"error\" : null\n}"},
		{"wchp", nil, `{
  "path_to_session_ids" : {
    "/a" : [ 72057756214493184 ],
    "/a/e1" : [ 72057756214493184 ]
  },
  "command" : "watches_by_path",
  "error" : null
}`},
		{"wchc", nil, `{
  "session_id_to_watched_paths" : {
    "72057756214493184" : [ "/a", "/a/e1" ]
  },
  "command" : "watches",
  "error" : null
}`},
		{"zabstate", nil, "{\n  \"voting\" : false,\n  \"zabstate\" : \"\",\n  \"command\" : \"zabstate\",\n  \"error\" : null\n}"},
		{"dump", nil, "{\n  \"expiry_time_to_session_ids\" : { },\n  \"session_id_to_ephemeral_paths\" : { },\n  \"command\" : \"dump\",\n  \"error\" : null\n}"},
	} {
		if got := run(t, f, c.name, c.args); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	if f.resets.Load() != 1 {
		t.Errorf("crst reset %d times", f.resets.Load())
	}
	if got := run(t, f, "stmk", url.Values{"traceMask": {"1234"}}); !strings.Contains(got, `"tracemask" : 1234`) || f.mask.Load() != 1234 {
		t.Errorf("set_trace_mask: %s (mask %d)", got, f.mask.Load())
	}
	// mntr's summaries: avg rounded to 4 decimals, as Java prints it.
	got := run(t, f, "mntr", nil)
	for _, want := range []string{`"avg_latency" : 0.5,`, `"avg_fsynctime" : 1.6667,`, `"min_fsynctime" : 1,`,
		`"max_fsynctime" : 2,`, `"cnt_fsynctime" : 3,`, `"sum_fsynctime" : 5,`} {
		if !strings.Contains(got, want) {
			t.Errorf("monitor lacks %s:\n%s", want, got)
		}
	}
}

func TestNotServing(t *testing.T) {
	f := newFake()
	f.serving.Store(false)
	// Commands that need a running server answer with the name as asked.
	want := "{\n  \"command\" : \"stat\",\n  \"error\" : \"" + NotServing + "\"\n}"
	if got := run(t, f, "stat", nil); got != want {
		t.Errorf("stat: %s", got)
	}
	// The others answer anyway.
	for _, n := range []string{"envi", "gtmk", "mntr", "zabstate", "stmk"} {
		if got := run(t, f, n, nil); strings.Contains(got, NotServing) {
			t.Errorf("%s while not serving: %s", n, got)
		}
	}
	// Before the server has started, nothing runs.
	f.up.Store(false)
	if got := run(t, f, "mntr", nil); !strings.Contains(got, NotServing) {
		t.Errorf("mntr before start: %s", got)
	}
}

func get(t *testing.T, h http.Handler, method, path string) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Result().Header, string(b)
}

func TestHTTP(t *testing.T) {
	f := newFake()
	h := NewHandler(f, Options{CommandURL: "/cmd/"})
	code, hdr, body := get(t, h, "GET", "/cmd")
	if code != 200 || !strings.HasPrefix(body, "<a href=\"/cmd/configuration\">configuration</a>\n<br/>\n<a href=\"/cmd/connection_stat_reset\">") {
		t.Fatalf("list: %d %q", code, body)
	}
	if n := strings.Count(body, "<br/>\n"); n != len(PrimaryNames()) {
		t.Errorf("list has %d entries, want %d", n, len(PrimaryNames()))
	}
	if _, _, b2 := get(t, h, "GET", "/cmd/"); b2 != body {
		t.Errorf("GET /cmd/ differs from GET /cmd")
	}
	code, hdr, body = get(t, h, "GET", "/cmd/ruok")
	if code != 200 || hdr.Get("Content-Type") != "application/json" || body != "{\n  \"command\" : \"ruok\",\n  \"error\" : null\n}" {
		t.Errorf("ruok: %d %q %q", code, hdr.Get("Content-Type"), body)
	}
	if code, _, body = get(t, h, "GET", "/cmd/stmk?traceMask=7"); code != 200 || !strings.Contains(body, `"tracemask" : 7`) {
		t.Errorf("stmk with argument: %d %s", code, body)
	}
	if code, _, body = get(t, h, "GET", "/cmd/nope"); code != 200 || !strings.Contains(body, "Unknown command: nope") {
		t.Errorf("unknown: %d %s", code, body)
	}
	if code, _, _ = get(t, h, "POST", "/cmd/ruok"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", code)
	}
	if code, _, _ = get(t, h, "GET", "/elsewhere"); code != 404 {
		t.Errorf("GET /elsewhere: %d", code)
	}

	// Probes: healthz while the process runs, readyz only while serving.
	probe := func(path string) int { c, _, _ := get(t, h, "GET", path); return c }
	for _, st := range []struct {
		up, serving     bool
		healthz, readyz int
	}{{false, false, 200, 503}, {true, false, 200, 503}, {true, true, 200, 200}, {true, false, 200, 503}} {
		f.up.Store(st.up)
		f.serving.Store(st.serving)
		if h, r := probe("/healthz"), probe("/readyz"); h != st.healthz || r != st.readyz {
			t.Errorf("up=%v serving=%v: healthz %d readyz %d, want %d %d", st.up, st.serving, h, r, st.healthz, st.readyz)
		}
	}

	// pprof only when asked for.
	if code := probe("/debug/pprof/"); code != 404 {
		t.Errorf("pprof without the flag: %d", code)
	}
	hp := NewHandler(f, Options{Pprof: true})
	if code, _, body := get(t, hp, "GET", "/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("pprof with the flag: %d", code)
	}
	if code, _, _ := get(t, hp, "GET", "/commands/ruok"); code != 200 {
		t.Errorf("default command URL: %d", code)
	}
}

func TestSummary(t *testing.T) {
	s := NewSummary("x")
	if got := s.Values(); FormatValue(got[0].Value) != "0.0" || got[1].Value != int64(0) || got[2].Value != int64(0) {
		t.Errorf("empty: %v", got)
	}
	for _, v := range []int64{3, 1, 4, 1, 5} {
		s.Add(v)
	}
	want := "avg_x=2.8 min_x=1 max_x=5 cnt_x=5 sum_x=14"
	var got []string
	for _, f := range s.Values() {
		got = append(got, f.Key+"="+FormatValue(f.Value))
	}
	if strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
	s.Reset()
	if s.Values()[3].Value != int64(0) {
		t.Errorf("after reset: %v", s.Values())
	}
}

func TestJSONStrings(t *testing.T) {
	b, err := Obj{{"s", "a\"b\\c\n\t\x01/<é"}, {"f", 1e7}, {"e", []any{}}, {"o", Obj{}}}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"s\" : \"a\\\"b\\\\c\\n\\t\\u0001/<é\",\n  \"f\" : 1.0E7,\n  \"e\" : [ ],\n  \"o\" : { }\n}"
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
	if _, err := (Obj{{"x", struct{}{}}}).MarshalJSON(); err == nil {
		t.Error("an unknown type was written")
	}
}
