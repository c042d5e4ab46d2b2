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

	"github.com/warren-zk/warren/internal/admin"
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
		s.resetConnectionStats()
		return "Connection stats reset.\n", nil
	case "srst":
		s.resetServerStats()
		return "Server stats reset.\n", nil
	case "conf":
		return s.confText(), nil
	case "envi":
		return enviText(), nil
	case "dirs":
		data, log := s.dirSizes()
		return fmt.Sprintf("datadir_size: %d\nlogdir_size: %d\n", data, log), nil
	case "mntr":
		return s.monitor().Text(), nil
	case "wchs":
		// WatchManager.toString of the data table, then println.
		st := s.watchSummary()
		return fmt.Sprintf("%d connections watching %d paths\nTotal watches:%d\n", st.Connections, st.Paths, st.Watches), nil
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

// javaDouble and round4 format doubles as ZooKeeper prints them; the
// AdminServer's JSON uses the same functions.
var (
	javaDouble = admin.JavaDouble
	round4     = admin.Round4
)

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
		for _, c := range s.connections() {
			b.WriteString(connLine(c, true))
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	// ServerStats.toString
	st := s.serverStats()
	fmt.Fprintf(&b, "Latency min/avg/max: %d/%s/%d\n", st.MinLatency, javaDouble(st.AvgLatency), st.MaxLatency)
	fmt.Fprintf(&b, "Received: %d\n", st.PacketsReceived)
	fmt.Fprintf(&b, "Sent: %d\n", st.PacketsSent)
	fmt.Fprintf(&b, "Connections: %d\n", st.Connections)
	fmt.Fprintf(&b, "Outstanding: %d\n", st.Outstanding)
	fmt.Fprintf(&b, "Zxid: 0x%x\n", uint64(st.LastZxid))
	fmt.Fprintf(&b, "Mode: %s\n", st.State)
	fmt.Fprintf(&b, "Node count: %d\n", st.NodeCount)
	if p := st.Proposal; p != nil { // the leader
		fmt.Fprintf(&b, "Proposal sizes last/min/max: %d/%d/%d\n", p.Last, p.Min, p.Max)
	}
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

// connLine is ServerCnxn.dumpConnectionInfo: the brief form (stat) stops
// after sent=; the full form (cons) adds the session's details.
func connLine(x admin.Connection, brief bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, " /%s[%d](queued=%d,recved=%d,sent=%d", x.RemoteAddr, x.InterestOps, x.Queued, x.Received, x.Sent)
	if !brief && x.SessionID != 0 {
		op := x.LastOp
		if op == "" {
			op = "null" // Java's null: no request answered since the connection was made
		}
		fmt.Fprintf(&b, ",sid=0x%x,lop=%s,est=%d,to=%d", uint64(x.SessionID), op, x.Established.UnixMilli(), x.Timeout)
		if x.LastCxid >= 0 {
			fmt.Fprintf(&b, ",lcxid=0x%x", x.LastCxid)
		}
		fmt.Fprintf(&b, ",lzxid=0x%x,lresp=%d,llat=%d,minlat=%d,avglat=%d,maxlat=%d",
			uint64(x.LastZxid), x.LastResponse, x.LastLatency, x.MinLatency, x.AvgLatency, x.MaxLatency)
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
	for _, c := range s.connections() {
		b.WriteString(connLine(c, false))
		b.WriteString("\n")
	}
	b.WriteString("\n")
	return b.String()
}

// confText is ZooKeeperServer.dumpConf (standalone).
func (s *Server) confText() string {
	var b strings.Builder
	c := s.conf()
	fmt.Fprintf(&b, "clientPort=%d\n", c.ClientPort)
	fmt.Fprintf(&b, "secureClientPort=%d\n", c.SecureClientPort)
	fmt.Fprintf(&b, "dataDir=%s\n", c.DataDir)
	fmt.Fprintf(&b, "dataDirSize=%d\n", c.DataDirSize)
	fmt.Fprintf(&b, "dataLogDir=%s\n", c.DataLogDir)
	fmt.Fprintf(&b, "dataLogSize=%d\n", c.DataLogSize)
	fmt.Fprintf(&b, "tickTime=%d\n", c.TickTime)
	fmt.Fprintf(&b, "maxClientCnxns=%d\n", c.MaxClientCnxns)
	fmt.Fprintf(&b, "minSessionTimeout=%d\n", c.MinSessionTimeout)
	fmt.Fprintf(&b, "maxSessionTimeout=%d\n", c.MaxSessionTimeout)
	fmt.Fprintf(&b, "clientPortListenBacklog=%d\n", c.ClientPortListenBacklog)
	fmt.Fprintf(&b, "serverId=%d\n", c.ServerID)
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

// enviText is EnvCommand: "Environment:", then key=value lines.
func enviText() string {
	var b strings.Builder
	b.WriteString("Environment:\n")
	for _, kv := range environment() {
		b.WriteString(kv.Key)
		b.WriteString("=")
		b.WriteString(kv.Value.(string))
		b.WriteString("\n")
	}
	return b.String()
}

// environment is Environment.list: the same keys in the same order. The
// java.* keys describe the Go runtime that plays the JVM's part; "<NA>" is
// what ZooKeeper prints for a value it cannot get.
func environment() admin.Obj {
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
	var env admin.Obj
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
		env = append(env, admin.Field{Key: kv[0], Value: kv[1]})
	}
	return env
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
	es, truncated := s.watchEntries(byPath)
	var b strings.Builder
	for i, e := range es {
		if byPath {
			if i == 0 || es[i-1].Path != e.Path {
				b.WriteString(e.Path)
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "\t0x%x\n", uint64(e.Session))
		} else {
			if i == 0 || es[i-1].Session != e.Session {
				fmt.Fprintf(&b, "0x%x\n", uint64(e.Session))
			}
			b.WriteString("\t")
			b.WriteString(e.Path)
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
	// SessionTrackerImpl.dumpSessions: "Session " + ExpiryQueue.dump.
	d := s.sessionDump()
	var sessions []expiryBucket
	n := 0
	for _, bk := range d.Sessions {
		x := expiryBucket{at: bk.At}
		for _, id := range bk.IDs {
			x.els = append(x.els, fmt.Sprintf("0x%x", uint64(id)))
		}
		sessions = append(sessions, x)
		n += len(bk.IDs)
	}
	writeExpiry(&b, "Session ", sessions, n)

	b.WriteString("ephemeral nodes dump:\n")
	fmt.Fprintf(&b, "Sessions with Ephemerals (%d):\n", len(d.Ephemerals))
	for _, e := range d.Ephemerals {
		fmt.Fprintf(&b, "0x%x:\n", uint64(e.Session))
		for _, p := range e.Paths {
			fmt.Fprintf(&b, "\t%s\n", p)
		}
	}

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
