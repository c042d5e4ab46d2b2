package admin

import (
	"strings"
	"time"
)

// Source is the server that the AdminServer commands, the probes and the
// metrics read. The server computes each value once, in one place, for both
// its four-letter words and this package (internal/server/admin.go).
type Source interface {
	// Up reports that the server has started. Until then every command
	// answers "not currently serving", /readyz fails, the metrics hold only
	// the process's own, and no other method is called.
	Up() bool
	// Serving reports whether the server serves clients: it knows a leader
	// and has caught up with it (server.Serving).
	Serving() bool

	Monitor() Monitor
	ServerStats() ServerStats
	Connections() []Connection
	Conf() Conf
	Environment() Obj // envi's keys, string values
	Dirs() (dataDir, logDir int64)
	Dump() Dump
	WatchSummary() WatchSummary
	// Watches returns the data-watch table (what wchc and wchp list), sorted
	// by session then path (byPath false) or by path then session, and
	// whether it was cut short (the table is listed up to a bound).
	Watches(byPath bool) ([]WatchEntry, bool)
	// LastSnapshot returns the zxid of the newest snapshot written (or
	// loaded at start) and its time in seconds since the epoch; -1, -1 if
	// none.
	LastSnapshot() (zxid, unixSeconds int64)
	InitialConfiguration() string
	TraceMask() int64
	SetTraceMask(mask int64)
	ResetConnectionStats()
	ResetServerStats()
	// Quorum describes the ensemble; nil for a standalone server.
	Quorum() *Quorum
	Raft() Raft
}

// Monitor is what mntr prints: Values (without the zk_ prefix, in
// ZooKeeper's order), then each summary's five keys.
type Monitor struct {
	Values    Obj
	Summaries []*Summary
}

// Obj returns every key and value, summaries last.
func (m Monitor) Obj() Obj {
	o := append(Obj(nil), m.Values...)
	for _, s := range m.Summaries {
		o = append(o, s.Values()...)
	}
	return o
}

// Text is mntr's answer: "zk_<key>\t<value>\n" per key.
func (m Monitor) Text() string {
	var b strings.Builder
	for _, f := range m.Obj() {
		b.WriteString("zk_")
		b.WriteString(f.Key)
		b.WriteString("\t")
		b.WriteString(FormatValue(f.Value))
		b.WriteString("\n")
	}
	return b.String()
}

// BufferStats are ZooKeeper's BufferStats (sizes in bytes, -1 before the
// first).
type BufferStats struct{ Last, Min, Max int64 }

func (b BufferStats) obj() Obj {
	return Obj{{"last_buffer_size", b.Last}, {"min_buffer_size", b.Min}, {"max_buffer_size", b.Max}}
}

// ServerStats are ZooKeeper's ServerStats (srvr, stat, server_stats).
type ServerStats struct {
	Version                string
	ReadOnly               bool
	State                  string // standalone, leader, follower, observer
	MinLatency, MaxLatency int64  // ms
	AvgLatency             float64
	PacketsReceived        int64
	PacketsSent            int64
	Connections            int
	Outstanding            int
	LastZxid               int64
	NodeCount              int
	Uptime                 int64 // ms
	// FsyncThresholdExceeded counts log fsyncs slower than
	// fsync.warningthresholdms.
	FsyncThresholdExceeded int64
	ClientResponse         BufferStats
	Proposal               *BufferStats // leader only
}

// Connection is one client connection (ServerCnxn.getConnectionInfo and
// dumpConnectionInfo).
type Connection struct {
	RemoteAddr   string // "ip:port"
	Secure       bool   // came in on the TLS port (secureClientPort)
	InterestOps  int
	Queued       int
	Received     int64
	Sent         int64
	SessionID    int64  // 0: none
	LastOp       string // "": none yet (Java's null)
	Established  time.Time
	Timeout      int64
	LastCxid     int64 // -1: none since a reset
	LastZxid     int64
	LastResponse int64 // ms on the server's monotonic clock, 0: never
	LastLatency  int64
	MinLatency   int64
	AvgLatency   int64
	MaxLatency   int64
}

func (c Connection) obj(brief bool) Obj {
	o := Obj{
		{"remote_socket_address", c.RemoteAddr},
		{"interest_ops", c.InterestOps},
		{"outstanding_requests", c.Queued},
		{"packets_received", c.Received},
		{"packets_sent", c.Sent},
	}
	if brief {
		return o
	}
	var op any
	if c.LastOp != "" {
		op = c.LastOp
	}
	return append(o,
		Field{"session_id", c.SessionID},
		Field{"last_operation", op},
		Field{"established", c.Established.UnixMilli()},
		Field{"session_timeout", c.Timeout},
		Field{"last_cxid", c.LastCxid},
		Field{"last_zxid", c.LastZxid},
		Field{"last_response_time", c.LastResponse},
		Field{"last_latency", c.LastLatency},
		Field{"min_latency", c.MinLatency},
		Field{"avg_latency", c.AvgLatency},
		Field{"max_latency", c.MaxLatency},
	)
}

// Conf is ZooKeeperServer.dumpConf / getConf.
type Conf struct {
	ClientPort              int
	SecureClientPort        int // -1: none
	DataDir                 string
	DataDirSize             int64
	DataLogDir              string
	DataLogSize             int64
	TickTime                int
	MaxClientCnxns          int
	MinSessionTimeout       int
	MaxSessionTimeout       int
	ClientPortListenBacklog int
	ServerID                int64
}

// ExpiryBucket is one bucket of an ExpiryQueue: the sessions that expire
// at At unless they hear from their clients.
type ExpiryBucket struct {
	At  time.Time
	IDs []int64
}

// SessionEphemerals are the ephemeral nodes one session owns.
type SessionEphemerals struct {
	Session int64
	Paths   []string
}

// Dump is what dump reports about sessions (the connections part of the
// four-letter word has no JSON counterpart).
type Dump struct {
	Sessions   []ExpiryBucket // in time order
	Ephemerals []SessionEphemerals
}

// WatchSummary is wchs: the data-watch table's size.
type WatchSummary struct{ Connections, Paths, Watches int }

// WatchEntry is one data watch.
type WatchEntry struct {
	Session int64
	Path    string
}

// Quorum describes this server's ensemble.
type Quorum struct {
	MyID     int64
	IsLeader bool
	Leader   int64 // 0: none known
	Voting   bool  // a participant (observers do not vote)
	Members  []Member
	// ZabState is "broadcast" while the server follows a known leader,
	// "election" otherwise.
	ZabState string
	// Observers are the observers the leader replicates to (leader only).
	Observers []Observer
	// ClientAddress is this server's client listener, "host:port".
	ClientAddress string
	LastZxid      int64
}

// Member is one server.N line.
type Member struct {
	ID           int64
	Host         string
	PeerPort     int
	ElectionPort int
	ClientAddr   string // "host:port", "" if the line gives none
	Observer     bool
}

// Observer is an observer as the leader sees it.
type Observer struct {
	ID      int64
	Addr    string // its peer address from the server list
	Synced  bool   // caught up and heard from recently
	Pending int    // messages in flight to it
}

// Raft is the consensus state the metrics report.
type Raft struct {
	Term, Commit, Applied uint64
	Leader                uint64 // 0: none known
	IsLeader              bool
	LeaderChanges         uint64 // leaders seen since start (including the first)
}
