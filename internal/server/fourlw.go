package server

// Four-letter words, with ZooKeeper 3.8.0's text layouts byte for byte
// (org.apache.zookeeper.server.command.*, ServerStats.toString,
// ServerCnxn.dumpConnectionInfo, ExpiryQueue.dump, WatchManager,
// ZooKeeperServer.dumpConf, Environment.list; see
// shared/reference/zk-protocol.md §20-21). Only the values differ where they
// are Warren's own: version, Go runtime in envi, ids, addresses, times.
// tests/fourlw compares every word with a real ZooKeeper 3.8.0.

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
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

// flwChunk is the size of the pieces ZooKeeper writes a four-letter word's
// answer in (NIOServerCnxn's SendBufferWriter behind an 8 KiB
// BufferedWriter). Each piece counts as one packet sent, in the server's
// and the connection's counters; an empty answer (hash) sends none.
const flwChunk = 8192

func (c *conn) fourLetter(word string) error {
	c.s.stats.packetsReceived.Add(1)
	c.stats.received.Add(1)
	c.fourLW = true
	c.stats.fourLW.Store(true)
	var out string
	allowed := c.s.cfg.Allow4LW(word)
	if !allowed {
		out = word + " is not executed because it is not in the whitelist.\n"
	} else {
		var err error
		if out, err = c.fourLetterAnswer(word); err != nil {
			return err
		}
	}
	if n := int64((len(out) + flwChunk - 1) / flwChunk); n > 0 {
		c.stats.sent.Add(n)
		c.s.stats.packetsSent.Add(n)
	}
	c.sendRaw([]byte(out))
	c.markCloseAfterFlush()
	if !allowed {
		return errClose{"4lw " + word + " not whitelisted", true}
	}
	return errClose{"4lw done", true}
}

// notServing is what ZooKeeper's commands print while the server does not
// serve clients (AbstractFourLetterCommand.ZK_NOT_SERVING).
const notServing = "This ZooKeeper instance is not currently serving requests"

func (c *conn) fourLetterAnswer(word string) (string, error) {
	s := c.s
	if !s.Serving() {
		// ruok, envi, gtmk and stmk answer anyway (so imok does not mean
		// "serving"); isro says null, hash has no newline.
		switch word {
		case "isro":
			return "null", nil
		case "hash":
			return notServing, nil
		case "ruok", "envi", "gtmk", "stmk":
		default:
			return notServing + "\n", nil
		}
	}
	switch word {
	case "ruok":
		return "imok", nil
	case "isro":
		return "rw", nil // Warren has no read-only mode
	case "gtmk":
		return strconv.FormatInt(s.traceMask.Load(), 10), nil
	case "stmk":
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return "", err
		}
		mask := int64(binary.BigEndian.Uint64(b[:]))
		s.traceMask.Store(mask)
		return strconv.FormatInt(mask, 10), nil
	case "srvr":
		return s.srvrText(false), nil
	case "stat":
		return s.srvrText(true), nil
	case "cons":
		return s.consText(), nil
	case "crst":
		s.forEachConn(func(x *conn) { x.stats.reset() })
		return "Connection stats reset.\n", nil
	case "srst":
		s.stats.reset()
		return "Server stats reset.\n", nil
	case "conf":
		return s.confText(), nil
	case "envi":
		return enviText(), nil
	case "dirs":
		return fmt.Sprintf("datadir_size: %d\nlogdir_size: %d\n", dirSize(s.cfg.DataDir), dirSize(s.cfg.DataLogDir)), nil
	case "mntr":
		return s.mntrText(), nil
	case "wchs":
		// WatchManager.toString of the data table, then println.
		st := s.watches.Stats()
		return fmt.Sprintf("%d connections watching %d paths\nTotal watches:%d\n", st.DataWatchers, st.DataPaths, st.DataWatches), nil
	case "wchc":
		return s.watchDump(false), nil
	case "wchp":
		return s.watchDump(true), nil
	case "dump":
		return s.dumpText(), nil
	case "hash":
		// ZooKeeper lists "<hex zxid>: <digest>" for every 128th zxid
		// (DataTree digestLog). Warren computes no tree digests, so the
		// list is empty, as on a ZooKeeper with digests disabled.
		return "", nil
	}
	return "", fmt.Errorf("unknown four-letter word %q", word)
}

// forEachConn calls fn for every connection, in accept order.
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

// javaDouble formats v as Java's Double.toString does: "0.0", "1.5",
// "369.3333", "1.0E7", "1.0E-4".
func javaDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(v); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(v, 'e', -1, 64) // "1e+07", "1.2345e-04"
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// round4 rounds v to 4 decimals the way ZooKeeper's AvgMinMaxCounter.getAvg
// does (new BigDecimal(v).setScale(4, HALF_UP): exact binary value, ties away
// from zero).
func round4(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	r := new(big.Rat).SetFloat64(v)
	neg := r.Sign() < 0
	r.Abs(r)
	r.Mul(r, big.NewRat(10000, 1))
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom()) // floor, r >= 0
	f, _ := new(big.Rat).SetFrac(q, big.NewInt(10000)).Float64()
	if neg {
		f = -f
	}
	return f
}

// avgLatency formats an average latency as ZooKeeper prints it.
func avgLatency(avg float64) string { return javaDouble(round4(avg)) }

func (s *Server) nodeCount() int {
	s.fsm.RLock()
	defer s.fsm.RUnlock()
	return s.fsm.Tree().Len() + 1 // ZooKeeper also counts the root stored under ""
}

// srvrText is StatCommand: srvr, or stat with the client list.
func (s *Server) srvrText(withClients bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Zookeeper version: %s\n", Version)
	if withClients {
		b.WriteString("Clients:\n")
		s.forEachConn(func(c *conn) { b.WriteString(c.connInfo(true)); b.WriteString("\n") })
		b.WriteString("\n")
	}
	// ServerStats.toString
	min, avg, max := s.stats.latency()
	fmt.Fprintf(&b, "Latency min/avg/max: %d/%s/%d\n", min, avgLatency(avg), max)
	fmt.Fprintf(&b, "Received: %d\n", s.stats.packetsReceived.Load())
	fmt.Fprintf(&b, "Sent: %d\n", s.stats.packetsSent.Load())
	fmt.Fprintf(&b, "Connections: %d\n", s.connCount())
	fmt.Fprintf(&b, "Outstanding: %d\n", s.outstanding())
	fmt.Fprintf(&b, "Zxid: 0x%x\n", uint64(s.fsm.LastZxid()))
	fmt.Fprintf(&b, "Mode: %s\n", s.serverState())
	fmt.Fprintf(&b, "Node count: %d\n", s.nodeCount())
	return b.String()
}

// serverState is ServerStats.getServerState: standalone, leader, follower
// or observer.
func (s *Server) serverState() string { return s.Mode() }

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

// interest is the NIO interest-ops set shown in brackets: 0 for a
// four-letter-word connection (ZooKeeper cancels its selection key), 1
// (OP_READ) otherwise.
func (c *conn) interest() int {
	if c.stats.fourLW.Load() {
		return 0
	}
	return 1
}

// connInfo is ServerCnxn.dumpConnectionInfo: the brief form (stat) stops
// after sent=; the full form (cons) adds the session's details.
func (c *conn) connInfo(brief bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, " /%s[%d](queued=%d,recved=%d,sent=%d", c.nc.RemoteAddr().String(), c.interest(),
		c.queued(), c.stats.received.Load(), c.stats.sent.Load())
	if sid := c.sessionID.Load(); !brief && sid != 0 {
		st := &c.stats
		st.mu.Lock()
		op := st.lastOp
		if op == "" {
			op = "null" // Java's null: no request answered since the connection was made
		}
		fmt.Fprintf(&b, ",sid=0x%x,lop=%s,est=%d,to=%d", uint64(sid), op, st.established.UnixMilli(), c.timeout.Load())
		if !st.noCxid {
			fmt.Fprintf(&b, ",lcxid=0x%x", uint32(st.lastCxid))
		}
		avg := int64(0)
		if st.countLat > 0 {
			avg = st.totalLat / st.countLat
		}
		fmt.Fprintf(&b, ",lzxid=0x%x,lresp=%d,llat=%d,minlat=%d,avglat=%d,maxlat=%d",
			uint64(st.lastZxid), monoMillis(st.lastResp), st.lastLat, st.minLat, avg, st.maxLat)
		st.mu.Unlock()
	}
	b.WriteString(")")
	return b.String()
}

var monoStart = time.Now()

// monoMillis is ZooKeeper's lresp: ms on the server's monotonic clock (here
// since the process started), 0 for never.
func monoMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Sub(monoStart).Milliseconds()
}

// consText is ConsCommand: one full line per connection, then an empty line.
func (s *Server) consText() string {
	var b strings.Builder
	s.forEachConn(func(c *conn) { b.WriteString(c.connInfo(false)); b.WriteString("\n") })
	b.WriteString("\n")
	return b.String()
}

// confText is ZooKeeperServer.dumpConf (standalone).
func (s *Server) confText() string {
	var b strings.Builder
	c := s.cfg
	fmt.Fprintf(&b, "clientPort=%d\n", s.clientPort())
	sp := c.SecureClientPort
	if sp == 0 {
		sp = -1
	}
	fmt.Fprintf(&b, "secureClientPort=%d\n", sp)
	fmt.Fprintf(&b, "dataDir=%s\n", filepath.Join(absPath(c.DataDir), "version-2"))
	fmt.Fprintf(&b, "dataDirSize=%d\n", dirSize(c.DataDir))
	fmt.Fprintf(&b, "dataLogDir=%s\n", filepath.Join(absPath(c.DataLogDir), "version-2"))
	fmt.Fprintf(&b, "dataLogSize=%d\n", dirSize(c.DataLogDir))
	fmt.Fprintf(&b, "tickTime=%d\n", c.TickTime)
	fmt.Fprintf(&b, "maxClientCnxns=%d\n", c.MaxClientCnxns)
	fmt.Fprintf(&b, "minSessionTimeout=%d\n", c.MinSessionTimeout)
	fmt.Fprintf(&b, "maxSessionTimeout=%d\n", c.MaxSessionTimeout)
	// Warren does not apply clientPortListenBacklog; -1 is "the system's
	// default", as in ZooKeeper.
	fmt.Fprintf(&b, "clientPortListenBacklog=%d\n", -1)
	fmt.Fprintf(&b, "serverId=%d\n", c.MyID)
	return b.String()
}

func (s *Server) clientPort() int {
	if s.ln != nil {
		a := s.ln.Addr().String()
		if i := strings.LastIndexByte(a, ':'); i >= 0 {
			if p, err := strconv.Atoi(a[i+1:]); err == nil {
				return p
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

// enviText is EnvCommand (Environment.list): the same keys in the same
// order. The java.* keys describe the Go runtime that plays the JVM's part;
// "<NA>" is what ZooKeeper prints for a value it cannot get.
func enviText() string {
	na := func(v string, err error) string {
		if err != nil || v == "" {
			return "<NA>"
		}
		return v
	}
	host := na(os.Hostname())
	wd := na(os.Getwd())
	// The JVM takes user.name and user.home from the password database.
	userName, home := "<NA>", na(os.UserHomeDir())
	if u, err := user.Current(); err == nil {
		userName = na(u.Username, nil)
		if u.HomeDir != "" {
			home = u.HomeDir
		}
	}
	exe := na(os.Executable())
	libPath := os.Getenv("LD_LIBRARY_PATH")
	if runtime.GOOS == "darwin" {
		libPath = os.Getenv("DYLD_LIBRARY_PATH")
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// Java's Runtime: totalMemory = heap committed, freeMemory = the part
	// of it not in use, maxMemory = the limit (Long.MAX_VALUE if none).
	total := ms.HeapSys - ms.HeapReleased
	free := uint64(0)
	if total > ms.HeapAlloc {
		free = total - ms.HeapAlloc
	}
	maxMem := uint64(debug.SetMemoryLimit(-1))
	const mb = 1 << 20
	var b strings.Builder
	b.WriteString("Environment:\n")
	for _, kv := range [][2]string{
		{"zookeeper.version", Version},
		{"host.name", host},
		{"java.version", runtime.Version()},
		{"java.vendor", "Warren (Go " + runtime.Compiler + ")"},
		{"java.home", na(runtime.GOROOT(), nil)},
		{"java.class.path", exe},
		{"java.library.path", na(libPath, nil)},
		{"java.io.tmpdir", os.TempDir()},
		{"java.compiler", "<NA>"},
		{"os.name", javaOSName()},
		{"os.arch", javaOSArch()},
		{"os.version", osVersion()},
		{"user.name", userName},
		{"user.home", home},
		{"user.dir", wd},
		{"os.memory.free", strconv.FormatUint(free/mb, 10) + "MB"},
		{"os.memory.max", strconv.FormatUint(maxMem/mb, 10) + "MB"},
		{"os.memory.total", strconv.FormatUint(total/mb, 10) + "MB"},
	} {
		b.WriteString(kv[0])
		b.WriteString("=")
		b.WriteString(kv[1])
		b.WriteString("\n")
	}
	return b.String()
}

// javaOSName is the JVM's os.name for GOOS.
func javaOSName() string {
	switch runtime.GOOS {
	case "linux":
		return "Linux"
	case "darwin":
		return "Mac OS X"
	case "windows":
		return "Windows"
	case "freebsd":
		return "FreeBSD"
	case "openbsd":
		return "OpenBSD"
	case "netbsd":
		return "NetBSD"
	case "solaris", "illumos":
		return "SunOS"
	}
	return runtime.GOOS
}

// javaOSArch is the JVM's os.arch for GOARCH.
func javaOSArch() string {
	switch runtime.GOARCH {
	case "arm64":
		return "aarch64"
	case "386":
		return "x86"
	}
	return runtime.GOARCH
}

// osVersion is the kernel release (the JVM's os.version on Unix).
func osVersion() string {
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		if v := strings.TrimSpace(string(b)); v != "" {
			return v
		}
	}
	return "<NA>"
}

// mntrText is MonitorCommand: ZooKeeperServer.dumpMonitorValues and the
// metrics provider's gauges, "zk_<key>\t<value>". The keys are the core set
// of a standalone ZooKeeper 3.8 in the order it prints them; integers print
// as integers, doubles as Java doubles. ZooKeeper then prints ~400
// ServerMetrics counters and summaries (zk_fsynctime, zk_avg_readlatency,
// ...); Warren does not measure those, so it leaves them out rather than
// print made-up numbers.
func (s *Server) mntrText() string {
	min, avg, max := s.stats.latency()
	s.fsm.RLock()
	tr := s.fsm.Tree()
	znodes := tr.Len() + 1 // the root is stored under "" and "/" in ZooKeeper
	eph := tr.EphemeralCount()
	size := tr.ApproximateDataSize()
	sessions := s.fsm.SessionCount()
	s.fsm.RUnlock()
	ws := s.watches.Stats()
	last, minResp, maxResp := s.stats.responseSizes()
	lines := []struct {
		k string
		v any
	}{
		{"version", Version},
		{"server_state", s.serverState()},
		{"ephemerals_count", eph},
		{"num_alive_connections", s.connCount()},
		{"avg_latency", avgLatency(avg)},
		{"outstanding_requests", s.outstanding()},
		{"znode_count", znodes},
		{"global_sessions", sessions},
		{"non_mtls_remote_conn_count", 0}, // counted by ZooKeeper's TLS (Netty) path only
		{"last_client_response_size", last},
		{"packets_sent", s.stats.packetsSent.Load()},
		{"packets_received", s.stats.packetsReceived.Load()},
		{"max_client_response_size", maxResp},
		{"connection_drop_probability", javaDouble(0)}, // no connection throttling
		{"watch_count", ws.Total},
		{"auth_failed_count", 0}, // TLS client-certificate failures; Warren has no TLS
		{"min_latency", min},
		{"max_file_descriptor_count", maxFDs()},
		{"approximate_data_size", size},
		{"open_file_descriptor_count", openFDs()},
		{"local_sessions", 0}, // Warren has no local sessions
		{"uptime", time.Since(s.started).Milliseconds()},
		{"max_latency", max},
		{"outstanding_tls_handshake", 0},
		{"min_client_response_size", minResp},
		{"non_mtls_local_conn_count", 0},
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "zk_%s\t%v\n", l.k, l.v)
	}
	return b.String()
}

// openFDs is the process's open descriptor count (-1 where unknown, as
// ZooKeeper's OSMXBean reports).
func openFDs() int {
	for _, dir := range []string{"/proc/self/fd", "/dev/fd"} {
		if ents, err := os.ReadDir(dir); err == nil {
			return len(ents) - 1 // not the descriptor ReadDir itself used
		}
	}
	return -1
}

// Limits of wchc and wchp. ZooKeeper prints the whole data watch table under
// its lock, which on a server with millions of watches takes seconds of CPU
// and hundreds of MB of output. Warren lists at most watchDumpEntries
// watches (one line each, plus a header line per session or path), and
// stops early once the paths listed add up to watchDumpBytes; the watch
// manager's lock is held only while those entries are collected. When
// something is left out, the last line before the final empty line says so
// (wchs still gives the totals).
const (
	watchDumpEntries = 50_000
	watchDumpBytes   = 4 << 20
)

// watchDumpLimits override the limits when non-zero (tests).
var watchDumpLimits struct{ entries, bytes atomic.Int64 }

func watchDumpLimit() (entries, bytes int) {
	entries, bytes = watchDumpEntries, watchDumpBytes
	if n := watchDumpLimits.entries.Load(); n > 0 {
		entries = int(n)
	}
	if n := watchDumpLimits.bytes.Load(); n > 0 {
		bytes = int(n)
	}
	return entries, bytes
}

// watchDump is wchp (byPath) or wchc: WatchManager.dumpWatches of the data
// table. wchp: each path, then "\t0x<session>" per watcher; wchc: each
// session, then "\t<path>" per path; then an empty line. Groups and lines
// are sorted (ZooKeeper's order is its hash maps').
func (s *Server) watchDump(byPath bool) string {
	ws, truncated := s.watches.DataWatches(watchDumpLimit())
	type entry struct {
		sid  uint64
		path string
	}
	es := make([]entry, 0, len(ws))
	for _, w := range ws {
		var sid uint64
		if c, ok := w.Watcher.(*conn); ok {
			sid = uint64(c.sessionID.Load())
		}
		es = append(es, entry{sid, w.Path})
	}
	if byPath {
		sort.Slice(es, func(i, j int) bool {
			return es[i].path < es[j].path || es[i].path == es[j].path && es[i].sid < es[j].sid
		})
	} else {
		sort.Slice(es, func(i, j int) bool {
			return es[i].sid < es[j].sid || es[i].sid == es[j].sid && es[i].path < es[j].path
		})
	}
	var b strings.Builder
	for i, e := range es {
		if byPath {
			if i == 0 || es[i-1].path != e.path {
				b.WriteString(e.path)
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "\t0x%x\n", e.sid)
		} else {
			if i == 0 || es[i-1].sid != e.sid {
				fmt.Fprintf(&b, "0x%x\n", e.sid)
			}
			b.WriteString("\t")
			b.WriteString(e.path)
			b.WriteString("\n")
		}
	}
	if truncated {
		fmt.Fprintf(&b, "[truncated: only %d watches listed; wchs gives the totals]\n", len(es))
	}
	b.WriteString("\n")
	return b.String()
}

// Connection expiry buckets, as in ZooKeeper's NIOServerCnxnFactory
// cnxnExpiryQueue: its interval is zookeeper.nio.sessionlessCnxnTimeout
// (10 s), which is also how long a connection without a session may stay
// silent (in Warren: the handshake deadline).
const (
	cnxnExpiryInterval = 10 * time.Second
	sessionlessTimeout = 10 * time.Second
)

// roundToNextInterval is ExpiryQueue.roundToNextInterval.
func roundToNextInterval(t time.Time, iv time.Duration) time.Time {
	ms, ivm := t.UnixMilli(), iv.Milliseconds()
	return time.UnixMilli((ms/ivm + 1) * ivm)
}

// expiryBucket is one bucket of an ExpiryQueue dump.
type expiryBucket struct {
	at  time.Time
	els []string
}

// dumpText is DumpCommand: the session tracker's expiry buckets, the
// ephemerals per session, and the connections' expiry buckets.
func (s *Server) dumpText() string {
	var b strings.Builder
	b.WriteString("SessionTracker dump:\n")
	// SessionTrackerImpl.dumpSessions: "Session " + ExpiryQueue.dump; the
	// tracker's deadlines are already on tick boundaries (its buckets).
	var sessions []expiryBucket
	ents := s.sessions.Entries() // sorted by deadline, then id
	for _, e := range ents {
		d := e.Deadline()
		if n := len(sessions); n == 0 || !sessions[n-1].at.Equal(d) {
			sessions = append(sessions, expiryBucket{at: d})
		}
		sessions[len(sessions)-1].els = append(sessions[len(sessions)-1].els, fmt.Sprintf("0x%x", uint64(e.ID)))
	}
	writeExpiry(&b, "Session ", sessions, len(ents))

	b.WriteString("ephemeral nodes dump:\n")
	s.fsm.RLock()
	tr := s.fsm.Tree()
	owners := tr.EphemeralSessions()
	fmt.Fprintf(&b, "Sessions with Ephemerals (%d):\n", len(owners))
	for _, o := range owners {
		fmt.Fprintf(&b, "0x%x:\n", uint64(o))
		for _, p := range tr.Ephemerals(o) {
			fmt.Fprintf(&b, "\t%s\n", p)
		}
	}
	s.fsm.RUnlock()

	b.WriteString("Connections dump:\n")
	// Every connection, with or without a session (NIOServerCnxn.toString),
	// in the bucket of the time it is closed if it stays silent: its
	// session's deadline, or the handshake deadline for a connection without
	// a session.
	type cx struct {
		at   time.Time
		line string
	}
	var cs []cx
	s.forEachConn(func(c *conn) {
		sid := c.sessionID.Load()
		at := c.stats.established.Add(sessionlessTimeout)
		if sid != 0 {
			if e := s.sessions.Get(sid); e != nil {
				at = e.Deadline()
			}
		}
		cs = append(cs, cx{roundToNextInterval(at, cnxnExpiryInterval),
			fmt.Sprintf("ip: /%s sessionId: 0x%x", c.nc.RemoteAddr().String(), uint64(sid))})
	})
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].at.Before(cs[j].at) })
	var conns []expiryBucket
	for _, c := range cs {
		if n := len(conns); n == 0 || !conns[n-1].at.Equal(c.at) {
			conns = append(conns, expiryBucket{at: c.at})
		}
		conns[len(conns)-1].els = append(conns[len(conns)-1].els, c.line)
	}
	writeExpiry(&b, "Connections ", conns, len(cs))
	return b.String()
}

// writeExpiry is ExpiryQueue.dump, after a prefix ("Session ",
// "Connections "): "Sets (<buckets>)/(<elements>):", then per bucket in
// time order "<n> expire at <Date>:" and a tab-indented line per element.
func writeExpiry(b *strings.Builder, prefix string, buckets []expiryBucket, elems int) {
	fmt.Fprintf(b, "%sSets (%d)/(%d):\n", prefix, len(buckets), elems)
	for _, bk := range buckets {
		fmt.Fprintf(b, "%d expire at %s:\n", len(bk.els), javaDate(bk.at))
		for _, e := range bk.els {
			b.WriteString("\t")
			b.WriteString(e)
			b.WriteString("\n")
		}
	}
}

// javaDate formats like java.util.Date.toString, in the local time zone as
// the JVM does: "Sat Nov 21 12:00:00 UTC 2026".
func javaDate(t time.Time) string {
	return t.Local().Format("Mon Jan 02 15:04:05 MST 2006")
}
