package server

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/warren-zk/warren/internal/watch"
)

var fourLetterWords = []string{"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash",
	"isro", "mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs"}

// fourLetterWord reports whether the first four bytes of a connection are a
// known four-letter word (they can never be a legal frame length).
func fourLetterWord(b [4]byte) (string, bool) {
	w := string(b[:])
	for _, k := range fourLetterWords {
		if k == w {
			return w, true
		}
	}
	return "", false
}

func (c *conn) fourLetter(word string) error {
	c.s.stats.packetsReceived.Add(1)
	c.stats.received.Add(1)
	c.fourLW = true
	if !c.s.cfg.Allow4LW(word) {
		c.sendRaw([]byte(word + " is not executed because it is not in the whitelist.\n"))
		c.markCloseAfterFlush()
		return errClose{"4lw " + word + " not whitelisted", true}
	}
	var out string
	switch word {
	case "ruok":
		out = "imok"
	case "isro":
		out = "rw"
	case "gtmk":
		out = strconv.FormatInt(c.s.traceMask.Load(), 10)
	case "stmk":
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return err
		}
		c.s.traceMask.Store(int64(binary.BigEndian.Uint64(b[:])))
		out = strconv.FormatInt(c.s.traceMask.Load(), 10)
	case "srvr":
		out = c.s.srvrText(false, c)
	case "stat":
		out = c.s.srvrText(true, c)
	case "cons":
		out = c.s.consText(c)
	case "crst":
		c.s.forEachConn(func(x *conn) { x.stats.reset() })
		out = "Connection stats reset.\n"
	case "srst":
		c.s.stats.reset()
		out = "Server stats reset.\n"
	case "conf":
		out = c.s.confText()
	case "envi":
		out = c.s.enviText()
	case "dirs":
		out = fmt.Sprintf("datadir_size: %d\nlogdir_size: %d\n", dirSize(c.s.cfg.DataDir), dirSize(c.s.cfg.DataLogDir))
	case "mntr":
		out = c.s.mntrText()
	case "wchs":
		st := c.s.watches.Stats()
		out = fmt.Sprintf("%d connections watching %d paths\nTotal watches:%d\n", st.DataWatchers, st.DataPaths, st.DataWatches)
	case "wchc":
		out = c.s.wchcText()
	case "wchp":
		out = c.s.wchpText()
	case "dump":
		out = c.s.dumpText()
	case "hash":
		out = ""
	}
	c.sendRaw([]byte(out))
	c.markCloseAfterFlush()
	return errClose{"4lw done", true}
}

func (s *Server) forEachConn(fn func(*conn)) {
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	sort.Slice(cs, func(i, j int) bool { return cs[i].id < cs[j].id })
	for _, c := range cs {
		fn(c)
	}
}

// javaDouble formats like Java's Double.toString for the small values 4lw
// prints: "0.0", "1.5", "0.3333" (rounded to 4 decimals as ZooKeeper does).
func javaDouble(v float64) string {
	s := strconv.FormatFloat(v, 'f', 4, 64)
	s = strings.TrimRight(s, "0")
	if strings.HasSuffix(s, ".") {
		s += "0"
	}
	return s
}

func (s *Server) nodeCount() int {
	s.fsm.RLock()
	defer s.fsm.RUnlock()
	return s.fsm.Tree().Len() + 1 // ZooKeeper also counts the root stored under ""
}

func (s *Server) srvrText(withClients bool, self *conn) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Zookeeper version: %s\n", Version)
	if withClients {
		b.WriteString("Clients:\n")
		s.forEachConn(func(c *conn) { b.WriteString(c.brief()); b.WriteString("\n") })
		b.WriteString("\n")
	}
	min, avg, max := s.stats.latency()
	fmt.Fprintf(&b, "Latency min/avg/max: %d/%s/%d\n", min, javaDouble(avg), max)
	fmt.Fprintf(&b, "Received: %d\n", s.stats.packetsReceived.Load())
	fmt.Fprintf(&b, "Sent: %d\n", s.stats.packetsSent.Load())
	fmt.Fprintf(&b, "Connections: %d\n", s.connCount())
	fmt.Fprintf(&b, "Outstanding: %d\n", s.outstanding())
	fmt.Fprintf(&b, "Zxid: 0x%x\n", s.fsm.LastZxid())
	fmt.Fprintf(&b, "Mode: standalone\n")
	fmt.Fprintf(&b, "Node count: %d\n", s.nodeCount())
	return b.String()
}

func (s *Server) connCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) outstanding() int {
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	return len(s.pending)
}

func (c *conn) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

func (c *conn) interest() int {
	if c.fourLW {
		return 0
	}
	return 1
}

// brief is the connection line of stat.
func (c *conn) brief() string {
	return fmt.Sprintf(" /%s[%d](queued=%d,recved=%d,sent=%d)", c.nc.RemoteAddr().String(), c.interest(),
		c.queued(), c.stats.received.Load(), c.stats.sent.Load())
}

// full is the connection line of cons.
func (c *conn) full() string {
	var b strings.Builder
	fmt.Fprintf(&b, " /%s[%d](queued=%d,recved=%d,sent=%d", c.nc.RemoteAddr().String(), c.interest(),
		c.queued(), c.stats.received.Load(), c.stats.sent.Load())
	if sid := c.sessionID.Load(); sid != 0 {
		st := &c.stats
		st.mu.Lock()
		fmt.Fprintf(&b, ",sid=0x%x,lop=%s,est=%d,to=%d", sid, orNA(st.lastOp), st.established.UnixMilli(), c.timeout.Load())
		if st.hasCxid {
			fmt.Fprintf(&b, ",lcxid=0x%x", st.lastCxid)
		}
		avg := 0.0
		if st.countLat > 0 {
			avg = float64(st.totalLat) / float64(st.countLat)
		}
		fmt.Fprintf(&b, ",lzxid=0x%x,lresp=%d,llat=%d,minlat=%d,avglat=%d,maxlat=%d",
			st.lastZxid, monoMillis(st.lastResp), st.lastLat, st.minLat, int64(avg), st.maxLat)
		st.mu.Unlock()
	}
	b.WriteString(")")
	return b.String()
}

func orNA(s string) string {
	if s == "" {
		return "NA"
	}
	return s
}

var monoStart = time.Now()

func monoMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Sub(monoStart).Milliseconds()
}

func (s *Server) consText(self *conn) string {
	var b strings.Builder
	s.forEachConn(func(c *conn) { b.WriteString(c.full()); b.WriteString("\n") })
	b.WriteString("\n")
	return b.String()
}

func (s *Server) confText() string {
	var b strings.Builder
	c := s.cfg
	fmt.Fprintf(&b, "clientPort=%d\n", s.clientPort())
	sp := c.SecureClientPort
	if sp == 0 {
		sp = -1
	}
	fmt.Fprintf(&b, "secureClientPort=%d\n", sp)
	dataDir := filepath.Join(absPath(c.DataDir), "version-2")
	logDir := filepath.Join(absPath(c.DataLogDir), "version-2")
	fmt.Fprintf(&b, "dataDir=%s\n", dataDir)
	fmt.Fprintf(&b, "dataDirSize=%d\n", dirSize(c.DataDir))
	fmt.Fprintf(&b, "dataLogDir=%s\n", logDir)
	fmt.Fprintf(&b, "dataLogSize=%d\n", dirSize(c.DataLogDir))
	fmt.Fprintf(&b, "tickTime=%d\n", c.TickTime)
	fmt.Fprintf(&b, "maxClientCnxns=%d\n", c.MaxClientCnxns)
	fmt.Fprintf(&b, "minSessionTimeout=%d\n", c.MinSessionTimeout)
	fmt.Fprintf(&b, "maxSessionTimeout=%d\n", c.MaxSessionTimeout)
	fmt.Fprintf(&b, "clientPortListenBacklog=%d\n", -1)
	fmt.Fprintf(&b, "serverId=%d\n", c.MyID)
	return b.String()
}

func (s *Server) clientPort() int {
	if s.ln != nil {
		if a, ok := s.ln.Addr().(interface{ String() string }); ok {
			if i := strings.LastIndexByte(a.String(), ':'); i >= 0 {
				if p, err := strconv.Atoi(a.String()[i+1:]); err == nil {
					return p
				}
			}
		}
	}
	return s.cfg.ClientPort
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

func (s *Server) enviText() string {
	host, _ := os.Hostname()
	wd, _ := os.Getwd()
	home, _ := os.UserHomeDir()
	user := os.Getenv("USER")
	exe, _ := os.Executable()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var b strings.Builder
	b.WriteString("Environment:\n")
	kv := [][2]string{
		{"zookeeper.version", Version},
		{"host.name", host},
		{"java.version", runtime.Version()},
		{"java.vendor", "Warren (Go)"},
		{"java.home", runtime.GOROOT()},
		{"java.class.path", exe},
		{"java.library.path", ""},
		{"java.io.tmpdir", os.TempDir()},
		{"java.compiler", "<NA>"},
		{"os.name", runtime.GOOS},
		{"os.arch", runtime.GOARCH},
		{"os.version", ""},
		{"user.name", user},
		{"user.home", home},
		{"user.dir", wd},
		{"os.memory.free", fmt.Sprintf("%dMB", (ms.HeapSys-ms.HeapAlloc)>>20)},
		{"os.memory.max", fmt.Sprintf("%dMB", ms.Sys>>20)},
		{"os.memory.total", fmt.Sprintf("%dMB", ms.HeapSys>>20)},
	}
	for _, p := range kv {
		fmt.Fprintf(&b, "%s=%s\n", p[0], p[1])
	}
	return b.String()
}

func (s *Server) mntrText() string {
	min, avg, max := s.stats.latency()
	s.fsm.RLock()
	tr := s.fsm.Tree()
	znodes := tr.Len() + 1
	eph := tr.EphemeralCount()
	size := tr.ApproximateDataSize()
	sessions := s.fsm.SessionCount()
	s.fsm.RUnlock()
	ws := s.watches.Stats()
	lines := []struct {
		k string
		v any
	}{
		{"version", Version},
		{"server_state", "standalone"},
		{"avg_latency", javaDouble(avg)},
		{"max_latency", max},
		{"min_latency", min},
		{"packets_received", s.stats.packetsReceived.Load()},
		{"packets_sent", s.stats.packetsSent.Load()},
		{"num_alive_connections", s.connCount()},
		{"outstanding_requests", s.outstanding()},
		{"uptime", time.Since(s.started).Milliseconds()},
		{"znode_count", znodes},
		{"watch_count", ws.Total},
		{"ephemerals_count", eph},
		{"approximate_data_size", size + 0},
		{"global_sessions", sessions},
		{"local_sessions", 0},
		{"open_file_descriptor_count", openFDs()},
		{"max_file_descriptor_count", maxFDs()},
		{"connection_drop_probability", "0.0"},
		{"last_client_response_size", -1},
		{"max_client_response_size", -1},
		{"min_client_response_size", -1},
		{"outstanding_tls_handshake", 0},
		{"auth_failed_count", 0},
		{"non_mtls_remote_conn_count", 0},
		{"non_mtls_local_conn_count", 0},
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "zk_%s\t%v\n", l.k, l.v)
	}
	return b.String()
}

func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

func maxFDs() int64 {
	b, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Max open files") {
			f := strings.Fields(line)
			if len(f) >= 4 {
				if n, err := strconv.ParseInt(f[3], 10, 64); err == nil {
					return n
				}
			}
		}
	}
	return -1
}

func (s *Server) wchcText() string {
	var b strings.Builder
	s.forEachConn(func(c *conn) {
		paths := s.watches.PathsOf(c)
		if len(paths) == 0 {
			return
		}
		fmt.Fprintf(&b, "0x%x\n", c.sessionID.Load())
		for _, p := range paths {
			fmt.Fprintf(&b, "\t%s\n", p)
		}
	})
	b.WriteString("\n")
	return b.String()
}

func (s *Server) wchpText() string {
	byPath := s.watches.ByPath(func(w watch.Watcher) int64 {
		if c, ok := w.(*conn); ok {
			return c.sessionID.Load()
		}
		return 0
	})
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&b, "%s\n", p)
		for _, id := range byPath[p] {
			fmt.Fprintf(&b, "\t0x%x\n", id)
		}
	}
	b.WriteString("\n")
	return b.String()
}

func (s *Server) dumpText() string {
	var b strings.Builder
	ss := s.sessions.Entries()
	buckets := map[int64][]int64{}
	var order []int64
	for _, e := range ss {
		bk := e.Deadline().UnixNano()
		if _, ok := buckets[bk]; !ok {
			order = append(order, bk)
		}
		buckets[bk] = append(buckets[bk], e.ID)
	}
	b.WriteString("SessionTracker dump:\n")
	fmt.Fprintf(&b, "Session Sets (%d)/(%d):\n", len(order), len(ss))
	for _, bk := range order {
		fmt.Fprintf(&b, "%d expire at %s:\n", len(buckets[bk]), javaDate(time.Unix(0, bk)))
		for _, id := range buckets[bk] {
			fmt.Fprintf(&b, "\t0x%x\n", id)
		}
	}
	s.fsm.RLock()
	tr := s.fsm.Tree()
	owners := tr.EphemeralSessions()
	b.WriteString("ephemeral nodes dump:\n")
	fmt.Fprintf(&b, "Sessions with Ephemerals (%d):\n", len(owners))
	for _, o := range owners {
		fmt.Fprintf(&b, "0x%x:\n", o)
		for _, p := range tr.Ephemerals(o) {
			fmt.Fprintf(&b, "\t%s\n", p)
		}
	}
	s.fsm.RUnlock()
	b.WriteString("Connections dump:\n")
	var lines []string
	s.forEachConn(func(c *conn) {
		if sid := c.sessionID.Load(); sid != 0 {
			lines = append(lines, fmt.Sprintf("\tip: /%s sessionId: 0x%x", c.nc.RemoteAddr().String(), sid))
		}
	})
	fmt.Fprintf(&b, "Connections Sets (%d)/(%d):\n", min(len(lines), 1), len(lines))
	if len(lines) > 0 {
		fmt.Fprintf(&b, "%d expire at %s:\n", len(lines), javaDate(time.Now()))
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// javaDate formats like java.util.Date.toString: "Sat Nov 21 12:00:00 UTC 2026".
func javaDate(t time.Time) string {
	return t.UTC().Format("Mon Jan 02 15:04:05 MST 2006")
}
