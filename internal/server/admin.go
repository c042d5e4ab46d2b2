package server

// The AdminServer (HTTP), the Prometheus metrics and the storage metrics
// (zk_fsynctime, zk_snapshottime, zk_dbinittime, lsnp), and the values they
// share with the four-letter words: every value srvr, stat, cons, conf,
// envi, dirs, dump, wchs, wchc, wchp and mntr print is computed here once,
// and fourlw.go only lays it out as text (internal/admin lays it out as
// JSON and as metrics).

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"

	"github.com/warren-zk/warren/internal/admin"
	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/snap"
	"github.com/warren-zk/warren/internal/wal"
)

// adminState is a server's AdminServer, metrics endpoint and the storage
// and raft observations behind them.
type adminState struct {
	up      atomic.Bool // Start finished: the Source may be read
	metrics *admin.Metrics
	http    []*admin.Listener // AdminServer, metrics
	admin   net.Addr
	prom    net.Addr
	once    sync.Once

	initialConfig string // the zoo.cfg as read at start (icfg)

	// mntr's summaries (ZooKeeper's ServerMetrics FSYNC_TIME, SNAPSHOT_TIME,
	// DB_INIT_TIME), in milliseconds; srst resets them.
	fsyncTime, snapshotTime, dbInitTime *admin.Summary
	fsyncSlow                           atomic.Int64 // fsyncs over fsync.warningthresholdms
	fsyncWarn                           time.Duration

	// Raft as seen by the log writer (raftnode's storage goroutine), read anywhere.
	commit        atomic.Uint64
	leader        atomic.Uint64
	leaderTerm    atomic.Uint64
	leaderChanges atomic.Uint64
	leaderSince   atomic.Int64 // unix nanos this server became leader

	propMu   sync.Mutex
	proposal admin.BufferStats // sizes of this leader's proposals

	// The snapshot loaded at start (lsnp before the first new one).
	startSnapZxid, startSnapTime atomic.Int64
}

func (a *adminState) init(cfg *config.Config) {
	a.fsyncTime = admin.NewSummary("fsynctime")
	a.snapshotTime = admin.NewSummary("snapshottime")
	a.dbInitTime = admin.NewSummary("dbinittime")
	a.proposal = admin.BufferStats{Last: -1, Min: -1, Max: -1}
	a.startSnapZxid.Store(-1)
	a.startSnapTime.Store(-1)
	// fsync.warningthresholdms (ZooKeeper's default 1000 ms).
	a.fsyncWarn = time.Second
	if v, err := strconv.ParseInt(cfg.Props["fsync.warningthresholdms"], 10, 64); err == nil && v >= 0 {
		a.fsyncWarn = time.Duration(v) * time.Millisecond
	}
}

// startAdmin starts the AdminServer and the metrics endpoint (first thing
// in Start, so /healthz answers while the data loads). The AdminServer runs
// if admin.enableServer (default true) or Options.AdminListener says so; if
// its port cannot be bound the server logs an error and goes on without it,
// as a ZooKeeper ensemble member does. The metrics endpoint runs if
// metricsProvider.className is ZooKeeper's PrometheusMetricsProvider,
// warren.metrics=true or Options.MetricsListener is set; failing to bind it
// fails Start, as ZooKeeper fails to start without its metrics provider.
func (s *Server) startAdmin() error {
	a := &s.adm
	cfg := s.cfg
	a.initialConfig = initialConfig(cfg)
	metricsOn := s.opts.MetricsListener != nil || admin.MetricsEnabled(cfg.MetricsProviderClassName, cfg.Props)
	if metricsOn {
		jvm, set := cfg.Props["metricsProvider.exportJvmInfo"]
		a.metrics = admin.NewMetrics(adminSource{s}, admin.MetricsOptions{Runtime: !set || javaTrue(jvm), Version: Version})
		ln := s.opts.MetricsListener
		if ln == nil {
			addr := net.JoinHostPort(cfg.MetricsHTTPHost, strconv.Itoa(cfg.MetricsHTTPPort))
			var err error
			if ln, err = net.Listen("tcp", addr); err != nil {
				return fmt.Errorf("metrics: listen on %s: %w", addr, err)
			}
		}
		a.http = append(a.http, admin.Serve(ln, a.metrics.Handler(), s.log))
		a.prom = ln.Addr()
		s.log.Info("serving Prometheus metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	}
	if ln := s.opts.AdminListener; ln != nil || cfg.AdminEnableServer {
		if ln == nil {
			addr := net.JoinHostPort(cfg.AdminServerAddress, strconv.Itoa(cfg.AdminServerPort))
			var err error
			if ln, err = net.Listen("tcp", addr); err != nil {
				s.log.Error("cannot start the AdminServer; going on without it (admin.enableServer=false turns it off)",
					"addr", addr, "err", err)
			}
		}
		if ln != nil {
			pprof := s.opts.Pprof || javaTrue(cfg.Props["warren.pprof"])
			h := admin.NewHandler(adminSource{s}, admin.Options{CommandURL: cfg.AdminCommandURL, Pprof: pprof})
			a.http = append(a.http, admin.Serve(ln, h, s.log))
			a.admin = ln.Addr()
			s.log.Info("AdminServer started", "addr", ln.Addr().String(), "commandURL", cfg.AdminCommandURL, "pprof", pprof)
		}
	}
	if len(a.http) > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			<-s.ctx.Done()
			a.closeHTTP()
		}()
	}
	return nil
}

func (a *adminState) closeHTTP() {
	a.once.Do(func() {
		for _, l := range a.http {
			l.Close()
		}
	})
}

// javaTrue is Boolean.parseBoolean.
func javaTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

// initialConfig is the zoo.cfg the server starts with, as read; a config
// built without a file (defaults, tests) gives its keys in line order.
func initialConfig(cfg *config.Config) string {
	if cfg.File != "" {
		if b, err := os.ReadFile(cfg.File); err == nil {
			return string(b)
		}
	}
	keys := make([]string, 0, len(cfg.Props))
	for k := range cfg.Props {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		li, lj := cfg.Lines[keys[i]], cfg.Lines[keys[j]]
		return li < lj || li == lj && keys[i] < keys[j]
	})
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, cfg.Props[k])
	}
	return b.String()
}

// AdminAddr returns the AdminServer's address, nil if it does not run.
func (s *Server) AdminAddr() net.Addr { return s.adm.admin }

// MetricsAddr returns the Prometheus endpoint's address, nil if it does not
// run.
func (s *Server) MetricsAddr() net.Addr { return s.adm.prom }

// Metrics returns the server's Prometheus metrics, nil if they are off.
func (s *Server) Metrics() *admin.Metrics { return s.adm.metrics }

// recovered records what loading the data at start took (zk_dbinittime)
// and which snapshot it started from (lsnp until a new one is written).
func (s *Server) recovered(took time.Duration) {
	a := &s.adm
	a.dbInitTime.Add(took.Milliseconds())
	a.metrics.ObserveDBInit(took)
	if s.lastSnapIndex == 0 {
		return
	}
	a.startSnapZxid.Store(s.fsm.LastZxid())
	if ms, err := snap.List(SnapDir(s.cfg.DataDir)); err == nil {
		for _, m := range ms {
			if m.Index == s.lastSnapIndex {
				if st, err := os.Stat(m.Path); err == nil {
					a.startSnapTime.Store(st.ModTime().Unix())
				}
			}
		}
	}
}

// snapshotTaken records the time a snapshot took (zk_snapshottime).
func (s *Server) snapshotTaken(took time.Duration) {
	s.adm.snapshotTime.Add(took.Milliseconds())
	s.adm.metrics.ObserveSnapshot(took)
}

// meteredWAL is the log as raft writes it, timed: each synced Save is one
// fdatasync (zk_fsynctime), and the HardStates and entries going by tell
// the commit index, leader changes and this leader's proposal sizes.
type meteredWAL struct {
	s *Server
	w *wal.WAL
}

func (m meteredWAL) Save(hs *raftpb.HardState, ents []*raftpb.Entry, mustSync bool) error {
	start := time.Now()
	if err := m.w.Save(hs, ents, mustSync); err != nil {
		return err
	}
	m.s.adm.saved(m.s, hs, ents, mustSync, time.Since(start))
	return nil
}

// saved runs on raftnode's storage goroutine after each Save.
func (a *adminState) saved(s *Server, hs *raftpb.HardState, ents []*raftpb.Entry, synced bool, took time.Duration) {
	if synced {
		a.fsyncTime.Add(took.Milliseconds())
		a.metrics.ObserveFsync(took, len(ents))
		if took > a.fsyncWarn {
			a.fsyncSlow.Add(1)
			s.log.Warn("fsync of the log took longer than fsync.warningthresholdms", "took", took, "entries", len(ents))
		}
	}
	if hs != nil && hs.Commit != nil {
		a.commit.Store(hs.GetCommit())
	}
	// A new leader appends an entry at once, which every member persists:
	// so each leadership (leader, term) shows up here.
	lead, term := s.node.Leader(), s.node.Term()
	if lead != 0 && (lead != a.leader.Load() || term != a.leaderTerm.Load()) {
		a.leader.Store(lead)
		a.leaderTerm.Store(term)
		a.leaderChanges.Add(1)
		if lead == uint64(s.id) {
			a.leaderSince.Store(time.Now().UnixNano())
			a.propMu.Lock()
			a.proposal = admin.BufferStats{Last: -1, Min: -1, Max: -1}
			a.propMu.Unlock()
		}
	}
	if s.ens != nil && lead == uint64(s.id) {
		a.propMu.Lock()
		for _, e := range ents {
			if n := int64(len(e.GetData())); e.GetType() == raftpb.EntryNormal && n > 0 {
				p := &a.proposal
				p.Last = n
				if p.Min < 0 || n < p.Min {
					p.Min = n
				}
				p.Max = max(p.Max, n)
			}
		}
		a.propMu.Unlock()
	}
}

// --- the values the four-letter words and the AdminServer share ---

// serverStats is ServerStats: srvr, stat, server_stats.
func (s *Server) serverStats() admin.ServerStats {
	min, avg, max := s.stats.latency()
	last, minResp, maxResp := s.stats.responseSizes()
	st := admin.ServerStats{
		Version:                Version,
		State:                  s.serverState(),
		MinLatency:             min,
		AvgLatency:             round4(avg),
		MaxLatency:             max,
		PacketsReceived:        s.stats.packetsReceived.Load(),
		PacketsSent:            s.stats.packetsSent.Load(),
		Connections:            s.connCount(),
		Outstanding:            s.outstanding(),
		LastZxid:               s.fsm.LastZxid(),
		NodeCount:              s.nodeCount(),
		Uptime:                 time.Since(s.started).Milliseconds(),
		FsyncThresholdExceeded: s.adm.fsyncSlow.Load(),
		ClientResponse:         admin.BufferStats{Last: last, Min: minResp, Max: maxResp},
	}
	if st.State == ModeLeader {
		s.adm.propMu.Lock()
		p := s.adm.proposal
		s.adm.propMu.Unlock()
		st.Proposal = &p
	}
	return st
}

// connection is one connection's cons line / connections entry.
func (c *conn) connection() admin.Connection {
	st := &c.stats
	_, secure := c.nc.(*tls.Conn)
	x := admin.Connection{
		RemoteAddr:  c.nc.RemoteAddr().String(),
		Secure:      secure,
		InterestOps: c.interest(),
		Queued:      c.queued(),
		Received:    st.received.Load(),
		Sent:        st.sent.Load(),
		SessionID:   c.sessionID.Load(),
		Established: st.established,
		Timeout:     int64(c.timeout.Load()),
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	x.LastOp = st.lastOp
	x.LastCxid = int64(st.lastCxid)
	if st.noCxid {
		x.LastCxid = -1
	}
	x.LastZxid = st.lastZxid
	x.LastResponse = monoMillis(st.lastResp)
	x.LastLatency, x.MinLatency, x.MaxLatency = st.lastLat, st.minLat, st.maxLat
	if st.countLat > 0 {
		x.AvgLatency = st.totalLat / st.countLat
	}
	return x
}

// connections lists every connection, in accept order.
func (s *Server) connections() []admin.Connection {
	var out []admin.Connection
	s.forEachConn(func(c *conn) { out = append(out, c.connection()) })
	return out
}

// conf is ZooKeeperServer.getConf: conf, configuration.
func (s *Server) conf() admin.Conf {
	c := s.cfg
	sp := c.SecureClientPort
	if sp == 0 {
		sp = -1
	}
	return admin.Conf{
		ClientPort:        s.clientPort(),
		SecureClientPort:  sp,
		DataDir:           filepath.Join(absPath(c.DataDir), "version-2"),
		DataDirSize:       dirSize(c.DataDir),
		DataLogDir:        filepath.Join(absPath(c.DataLogDir), "version-2"),
		DataLogSize:       dirSize(c.DataLogDir),
		TickTime:          c.TickTime,
		MaxClientCnxns:    c.MaxClientCnxns,
		MinSessionTimeout: c.MinSessionTimeout,
		MaxSessionTimeout: c.MaxSessionTimeout,
		// Warren does not apply clientPortListenBacklog; -1 is "the
		// system's default", as in ZooKeeper.
		ClientPortListenBacklog: -1,
		ServerID:                c.MyID,
	}
}

// dirSizes is dirs: the bytes under dataDir and dataLogDir.
func (s *Server) dirSizes() (dataDir, logDir int64) {
	return dirSize(s.cfg.DataDir), dirSize(s.cfg.DataLogDir)
}

// watchSummary is wchs: the data-watch table.
func (s *Server) watchSummary() admin.WatchSummary {
	st := s.watches.Stats()
	return admin.WatchSummary{Connections: st.DataWatchers, Paths: st.DataPaths, Watches: st.DataWatches}
}

// watchEntries is wchc (byPath false) and wchp: the data-watch table up to
// the dump limits, sorted by session then path, or by path then session.
func (s *Server) watchEntries(byPath bool) ([]admin.WatchEntry, bool) {
	ws, truncated := s.watches.DataWatches(watchDumpLimit())
	es := make([]admin.WatchEntry, 0, len(ws))
	for _, w := range ws {
		var sid int64
		if c, ok := w.Watcher.(*conn); ok {
			sid = c.sessionID.Load()
		}
		es = append(es, admin.WatchEntry{Session: sid, Path: w.Path})
	}
	if byPath {
		sort.Slice(es, func(i, j int) bool {
			return es[i].Path < es[j].Path || es[i].Path == es[j].Path && uint64(es[i].Session) < uint64(es[j].Session)
		})
	} else {
		sort.Slice(es, func(i, j int) bool {
			return uint64(es[i].Session) < uint64(es[j].Session) || es[i].Session == es[j].Session && es[i].Path < es[j].Path
		})
	}
	return es, truncated
}

// sessionDump is the sessions part of dump: the session tracker's expiry
// buckets (its deadlines are already on tick boundaries) and each session's
// ephemeral nodes.
func (s *Server) sessionDump() admin.Dump {
	var d admin.Dump
	for _, e := range s.sessions.Entries() { // sorted by deadline, then id
		at := e.Deadline()
		if n := len(d.Sessions); n == 0 || !d.Sessions[n-1].At.Equal(at) {
			d.Sessions = append(d.Sessions, admin.ExpiryBucket{At: at})
		}
		b := &d.Sessions[len(d.Sessions)-1]
		b.IDs = append(b.IDs, e.ID)
	}
	s.fsm.RLock()
	tr := s.fsm.Tree()
	for _, o := range tr.EphemeralSessions() {
		d.Ephemerals = append(d.Ephemerals, admin.SessionEphemerals{Session: o, Paths: tr.Ephemerals(o)})
	}
	s.fsm.RUnlock()
	return d
}

// Order of mntr's keys, ZooKeeper 3.8's (the hash order of its gauges,
// which depends on which are registered). peerState follows server_state
// in an ensemble; observers then print observer_master_id.
var (
	mntrCore = []string{"ephemerals_count", "num_alive_connections", "avg_latency", "outstanding_requests",
		"znode_count", "global_sessions", "non_mtls_remote_conn_count", "last_client_response_size",
		"packets_sent", "packets_received", "max_client_response_size", "connection_drop_probability",
		"watch_count", "auth_failed_count", "min_latency", "max_file_descriptor_count",
		"approximate_data_size", "open_file_descriptor_count", "local_sessions", "uptime", "max_latency",
		"outstanding_tls_handshake", "min_client_response_size", "non_mtls_local_conn_count"}
	mntrLeader = []string{"ephemerals_count", "num_alive_connections", "avg_latency", "min_proposal_size",
		"outstanding_requests", "znode_count", "global_sessions", "non_mtls_remote_conn_count",
		"last_client_response_size", "packets_sent", "packets_received", "max_proposal_size",
		"max_client_response_size", "synced_followers", "connection_drop_probability", "watch_count",
		"synced_non_voting_followers", "synced_observers", "auth_failed_count", "min_latency",
		"max_file_descriptor_count", "approximate_data_size", "open_file_descriptor_count",
		"last_proposal_size", "pending_syncs", "leader_uptime", "local_sessions", "uptime", "max_latency",
		"outstanding_tls_handshake", "learners", "min_client_response_size", "non_mtls_local_conn_count",
		"quorum_size"}
)

// monitor is mntr (MonitorCommand): ZooKeeperServer.dumpMonitorValues, the
// gauges (in ZooKeeper 3.8's order for the server's role), then the storage
// summaries. ZooKeeper then prints ~400 more ServerMetrics counters and
// summaries; Warren does not measure those, so it leaves them out rather
// than print made-up numbers.
func (s *Server) monitor() admin.Monitor {
	min, avg, max := s.stats.latency()
	s.fsm.RLock()
	tr := s.fsm.Tree()
	znodes := tr.Len() + 1 // the root is stored under "" and "/" in ZooKeeper
	eph := tr.EphemeralCount()
	size := tr.ApproximateDataSize()
	sessions := s.fsm.SessionCount()
	s.fsm.RUnlock()
	last, minResp, maxResp := s.stats.responseSizes()
	v := map[string]any{
		"ephemerals_count":            eph,
		"num_alive_connections":       s.connCount(),
		"avg_latency":                 round4(avg),
		"outstanding_requests":        s.outstanding(),
		"znode_count":                 znodes,
		"global_sessions":             sessions,
		"non_mtls_remote_conn_count":  0, // counted by ZooKeeper's TLS (Netty) path only
		"last_client_response_size":   last,
		"packets_sent":                s.stats.packetsSent.Load(),
		"packets_received":            s.stats.packetsReceived.Load(),
		"max_client_response_size":    maxResp,
		"connection_drop_probability": 0.0, // no connection throttling
		"watch_count":                 s.watches.Stats().Total,
		"auth_failed_count":           0, // TLS client-certificate failures; Warren has no TLS
		"min_latency":                 min,
		"max_file_descriptor_count":   maxFDs(),
		"approximate_data_size":       size,
		"open_file_descriptor_count":  openFDs(),
		"local_sessions":              0, // Warren has no local sessions
		"uptime":                      time.Since(s.started).Milliseconds(),
		"max_latency":                 max,
		"outstanding_tls_handshake":   0,
		"min_client_response_size":    minResp,
		"non_mtls_local_conn_count":   0,
	}
	state := s.serverState()
	m := admin.Monitor{Values: admin.Obj{{Key: "version", Value: Version}, {Key: "server_state", Value: state}}}
	order := mntrCore
	if s.ens != nil {
		m.Values = append(m.Values, admin.Field{Key: "peer_state", Value: s.peerState()})
		if state == ModeObserver {
			m.Values = append(m.Values, admin.Field{Key: "observer_master_id", Value: int64(s.node.Leader())})
		}
		v["quorum_size"] = len(s.ens.voters)
		order = append(append([]string(nil), mntrCore...), "quorum_size")
		if state == ModeLeader {
			s.leaderValues(v)
			order = mntrLeader
		}
	}
	for _, k := range order {
		m.Values = append(m.Values, admin.Field{Key: k, Value: v[k]})
	}
	m.Summaries = []*admin.Summary{s.adm.fsyncTime, s.adm.snapshotTime, s.adm.dbInitTime}
	return m
}

// peerState is QuorumPeer.getDetailedPeerState.
func (s *Server) peerState() string {
	if !s.Serving() {
		return "looking - election"
	}
	switch s.Mode() {
	case ModeLeader:
		return "leading - broadcast"
	case ModeObserver:
		return "observing - broadcast"
	}
	return "following - broadcast"
}

// leaderValues adds the leader's gauges: learners are the other members
// raft heard from recently, synced ones are those it replicates to
// (StateReplicate).
func (s *Server) leaderValues(v map[string]any) {
	var learners, followers, observers int
	st := s.node.Status()
	for id, pr := range st.Progress {
		if id == uint64(s.id) || !pr.RecentActive {
			continue
		}
		learners++
		if pr.State == tracker.StateReplicate {
			if pr.IsLearner {
				observers++
			} else {
				followers++
			}
		}
	}
	s.adm.propMu.Lock()
	p := s.adm.proposal
	s.adm.propMu.Unlock()
	uptime := int64(0)
	if since := s.adm.leaderSince.Load(); since > 0 {
		uptime = time.Since(time.Unix(0, since)).Milliseconds()
	}
	v["learners"] = learners
	v["synced_followers"] = followers
	v["synced_non_voting_followers"] = 0 // no reconfiguration in progress
	v["synced_observers"] = observers
	v["pending_syncs"] = 0 // sync is a raft ReadIndex, not a queued request
	v["leader_uptime"] = uptime
	v["last_proposal_size"], v["min_proposal_size"], v["max_proposal_size"] = p.Last, p.Min, p.Max
}

// quorum describes the ensemble (nil standalone).
func (s *Server) quorum() *admin.Quorum {
	if s.ens == nil {
		return nil
	}
	lead := int64(s.node.Leader())
	q := &admin.Quorum{
		MyID: s.id, IsLeader: s.Mode() == ModeLeader, Leader: lead, Voting: !s.ens.learner,
		ZabState: "election", LastZxid: s.fsm.LastZxid(),
		ClientAddress: net.JoinHostPort(cmpOr(s.cfg.ClientPortAddress, "0.0.0.0"), strconv.Itoa(s.clientPort())),
	}
	if s.Serving() {
		q.ZabState = "broadcast"
	}
	for _, m := range s.cfg.Servers {
		x := admin.Member{ID: m.ID, Host: m.Host, PeerPort: m.PeerPort, ElectionPort: m.ElectionPort,
			Observer: m.Role == config.Observer}
		if m.ClientPort != 0 {
			x.ClientAddr = net.JoinHostPort(cmpOr(m.ClientAddr, "0.0.0.0"), strconv.Itoa(m.ClientPort))
		}
		q.Members = append(q.Members, x)
	}
	if q.IsLeader {
		st := s.node.Status()
		for _, m := range q.Members {
			pr, ok := st.Progress[uint64(m.ID)]
			if !m.Observer || !ok {
				continue
			}
			q.Observers = append(q.Observers, admin.Observer{
				ID: m.ID, Addr: net.JoinHostPort(m.Host, strconv.Itoa(m.PeerPort)),
				Synced: pr.RecentActive && pr.State == tracker.StateReplicate, Pending: pr.Inflights.Count(),
			})
		}
	}
	return q
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// adminSource is the server as internal/admin sees it.
type adminSource struct{ s *Server }

var _ admin.Source = adminSource{}

func (a adminSource) Up() bool                                  { return a.s.adm.up.Load() && a.s.ctx.Err() == nil }
func (a adminSource) Serving() bool                             { return a.s.Serving() }
func (a adminSource) Monitor() admin.Monitor                    { return a.s.monitor() }
func (a adminSource) ServerStats() admin.ServerStats            { return a.s.serverStats() }
func (a adminSource) Connections() []admin.Connection           { return a.s.connections() }
func (a adminSource) Conf() admin.Conf                          { return a.s.conf() }
func (a adminSource) Environment() admin.Obj                    { return environment() }
func (a adminSource) Dirs() (int64, int64)                      { return a.s.dirSizes() }
func (a adminSource) Dump() admin.Dump                          { return a.s.sessionDump() }
func (a adminSource) WatchSummary() admin.WatchSummary          { return a.s.watchSummary() }
func (a adminSource) TraceMask() int64                          { return a.s.traceMask.Load() }
func (a adminSource) SetTraceMask(m int64)                      { a.s.traceMask.Store(m) }
func (a adminSource) ResetConnectionStats()                     { a.s.resetConnectionStats() }
func (a adminSource) ResetServerStats()                         { a.s.resetServerStats() }
func (a adminSource) Quorum() *admin.Quorum                     { return a.s.quorum() }
func (a adminSource) Watches(p bool) ([]admin.WatchEntry, bool) { return a.s.watchEntries(p) }

func (a adminSource) InitialConfiguration() string { return a.s.adm.initialConfig }

// LastSnapshot is lsnp: the newest snapshot written since start, else the
// one loaded at start.
func (a adminSource) LastSnapshot() (int64, int64) {
	if ms := a.s.lastSnapTime.Load(); ms != 0 {
		return a.s.lastSnapZxid.Load(), ms / 1000
	}
	return a.s.adm.startSnapZxid.Load(), a.s.adm.startSnapTime.Load()
}

func (a adminSource) Raft() admin.Raft {
	s := a.s
	return admin.Raft{
		Term: s.node.Term(), Commit: s.adm.commit.Load(), Applied: s.fsm.AppliedIndex(),
		Leader: s.node.Leader(), IsLeader: s.node.IsLeader(), LeaderChanges: s.adm.leaderChanges.Load(),
	}
}

// resetConnectionStats is crst.
func (s *Server) resetConnectionStats() { s.forEachConn(func(x *conn) { x.stats.reset() }) }

// resetServerStats is srst: ServerStats.reset, which in ZooKeeper also
// resets every ServerMetrics summary.
func (s *Server) resetServerStats() {
	s.stats.reset()
	for _, m := range []*admin.Summary{s.adm.fsyncTime, s.adm.snapshotTime, s.adm.dbInitTime} {
		m.Reset()
	}
}
