package admin

import (
	"net"
	"net/url"
	"sort"
	"strconv"
)

// NotServing is the error a command gets while the server does not serve
// clients (ZooKeeper's Commands.runCommand).
const NotServing = "This ZooKeeper instance is not currently serving requests"

// command is one AdminServer command (org.apache.zookeeper.server.admin.Commands).
type command struct {
	names []string // primary name first, then the aliases
	// serverRequired commands answer NotServing while the server is not
	// serving (CommandBase.isServerRequired).
	serverRequired bool
	run            func(src Source, args url.Values) Obj
}

var commands = []*command{
	{[]string{"connection_stat_reset", "crst"}, true, func(src Source, _ url.Values) Obj {
		src.ResetConnectionStats()
		return nil
	}},
	{[]string{"configuration", "conf", "config"}, true, func(src Source, _ url.Values) Obj {
		c := src.Conf()
		return Obj{
			{"client_port", c.ClientPort},
			{"data_dir", c.DataDir},
			{"data_log_dir", c.DataLogDir},
			{"tick_time", c.TickTime},
			{"max_client_cnxns", c.MaxClientCnxns},
			{"min_session_timeout", c.MinSessionTimeout},
			{"max_session_timeout", c.MaxSessionTimeout},
			{"server_id", c.ServerID},
			{"client_port_listen_backlog", c.ClientPortListenBacklog},
		}
	}},
	{[]string{"connections", "cons"}, true, func(src Source, _ url.Values) Obj {
		plain, secure := connections(src, false)
		return Obj{{"connections", plain}, {"secure_connections", secure}}
	}},
	{[]string{"dirs"}, true, func(src Source, _ url.Values) Obj {
		d, l := src.Dirs()
		return Obj{{"datadir_size", d}, {"logdir_size", l}}
	}},
	{[]string{"dump"}, true, func(src Source, _ url.Values) Obj {
		d := src.Dump()
		expiry := Obj{}
		for _, b := range d.Sessions {
			expiry = append(expiry, Field{strconv.FormatInt(b.At.UnixMilli(), 10), append([]int64{}, b.IDs...)})
		}
		eph := Obj{}
		for _, e := range d.Ephemerals {
			eph = append(eph, Field{strconv.FormatInt(e.Session, 10), append([]string{}, e.Paths...)})
		}
		return Obj{{"expiry_time_to_session_ids", expiry}, {"session_id_to_ephemeral_paths", eph}}
	}},
	{[]string{"environment", "env", "envi"}, false, func(src Source, _ url.Values) Obj {
		return src.Environment()
	}},
	{[]string{"get_trace_mask", "gtmk"}, false, func(src Source, _ url.Values) Obj {
		return Obj{{"tracemask", src.TraceMask()}}
	}},
	// Warren computes no tree digests (the hash four-letter word is empty
	// too, as on a ZooKeeper with digest.enabled=false).
	{[]string{"hash"}, true, func(Source, url.Values) Obj {
		return Obj{{"digests", []Obj{}}}
	}},
	{[]string{"initial_configuration", "icfg"}, true, func(src Source, _ url.Values) Obj {
		return Obj{{"initial_configuration", src.InitialConfiguration()}}
	}},
	{[]string{"is_read_only", "isro"}, true, func(Source, url.Values) Obj {
		return Obj{{"read_only", false}} // Warren has no read-only mode
	}},
	{[]string{"last_snapshot", "lsnp"}, true, func(src Source, _ url.Values) Obj {
		zxid, ts := src.LastSnapshot()
		return Obj{{"zxid", strconv.FormatUint(uint64(zxid), 16)}, {"timestamp", ts}}
	}},
	{[]string{"leader", "lead"}, true, func(src Source, _ url.Values) Obj {
		q := src.Quorum()
		if q == nil {
			return Obj{{"error", "server is not initialized"}}
		}
		id, ip := int64(-1), ""
		if m := q.member(q.Leader); m != nil {
			id, ip = m.ID, m.Host
		}
		return Obj{{"is_leader", q.IsLeader}, {"leader_id", id}, {"leader_ip", ip}}
	}},
	{[]string{"monitor", "mntr"}, false, func(src Source, _ url.Values) Obj {
		return src.Monitor().Obj()
	}},
	// Warren's observers are raft learners fed by the leader alone: there
	// are no observer connections to a follower to reset.
	{[]string{"observer_connection_stat_reset", "orst"}, true, func(Source, url.Values) Obj {
		return nil
	}},
	{[]string{"observers", "obsr"}, true, func(src Source, _ url.Values) Obj {
		synced, list := 0, []Obj{}
		if q := src.Quorum(); q != nil && q.IsLeader {
			for _, o := range q.Observers {
				if o.Synced {
					synced++
				}
				list = append(list, Obj{
					{"remote_socket_address", "/" + o.Addr},
					{"sid", o.ID},
					{"queued_packets", o.Pending},
				})
			}
		}
		return Obj{{"synced_observers", synced}, {"observers", list}}
	}},
	{[]string{"ruok"}, true, func(Source, url.Values) Obj { return nil }},
	{[]string{"server_stats", "srvr"}, true, func(src Source, _ url.Values) Obj {
		return serverStats(src)
	}},
	{[]string{"set_trace_mask", "stmk"}, false, func(src Source, args url.Values) Obj {
		if !args.Has("traceMask") {
			return Obj{{"error", "setTraceMask requires long traceMask argument"}}
		}
		v := args.Get("traceMask")
		mask, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return Obj{{"error", "setTraceMask requires long traceMask argument, got " + v}}
		}
		src.SetTraceMask(mask)
		return Obj{{"tracemask", mask}}
	}},
	{[]string{"stat_reset", "srst"}, true, func(src Source, _ url.Values) Obj {
		src.ResetServerStats()
		return nil
	}},
	{[]string{"stats", "stat"}, true, func(src Source, _ url.Values) Obj {
		plain, secure := connections(src, true)
		return append(serverStats(src), Field{"connections", plain}, Field{"secure_connections", secure})
	}},
	{[]string{"voting_view"}, true, func(src Source, _ url.Values) Obj {
		view := Obj{}
		if q := src.Quorum(); q != nil {
			for _, m := range q.Members {
				if m.Observer {
					continue
				}
				client := m.ClientAddr
				if m.ID == q.MyID {
					client = q.ClientAddress
				}
				view = append(view, Field{strconv.FormatInt(m.ID, 10), Obj{
					{"server_addresses", []string{hostPort(m.Host, m.PeerPort)}},
					{"election_addresses", []string{hostPort(m.Host, m.ElectionPort)}},
					{"client_address", client},
					{"learner_type", "participant"},
				}})
			}
		}
		return Obj{{"current_config", view}}
	}},
	{[]string{"watch_summary", "wchs"}, true, func(src Source, _ url.Values) Obj {
		w := src.WatchSummary()
		return Obj{{"num_connections", w.Connections}, {"num_paths", w.Paths}, {"num_total_watches", w.Watches}}
	}},
	{[]string{"watches", "wchc"}, true, func(src Source, _ url.Values) Obj {
		es, truncated := src.Watches(false)
		m := Obj{}
		for i, e := range es {
			if i == 0 || es[i-1].Session != e.Session {
				m = append(m, Field{strconv.FormatInt(e.Session, 10), []string{}})
			}
			last := &m[len(m)-1]
			last.Value = append(last.Value.([]string), e.Path)
		}
		return withTruncated(Obj{{"session_id_to_watched_paths", m}}, truncated)
	}},
	{[]string{"watches_by_path", "wchp"}, true, func(src Source, _ url.Values) Obj {
		es, truncated := src.Watches(true)
		m := Obj{}
		for i, e := range es {
			if i == 0 || es[i-1].Path != e.Path {
				m = append(m, Field{e.Path, []int64{}})
			}
			last := &m[len(m)-1]
			last.Value = append(last.Value.([]int64), e.Session)
		}
		return withTruncated(Obj{{"path_to_session_ids", m}}, truncated)
	}},
	{[]string{"zabstate"}, false, func(src Source, _ url.Values) Obj {
		q := src.Quorum()
		if q == nil {
			return Obj{{"voting", false}, {"zabstate", ""}}
		}
		var quorum, election string
		if m := q.member(q.MyID); m != nil {
			quorum, election = hostPort(m.Host, m.PeerPort), hostPort(m.Host, m.ElectionPort)
		}
		return Obj{
			{"myid", q.MyID},
			{"is_leader", q.IsLeader},
			{"quorum_address", multipleAddresses(quorum)},
			{"election_address", multipleAddresses(election)},
			{"client_address", q.ClientAddress},
			{"voting", q.Voting},
			{"last_zxid", "0x" + strconv.FormatUint(uint64(q.LastZxid), 16)},
			{"zab_epoch", q.LastZxid >> 32},
			{"zab_counter", q.LastZxid & 0xFFFFFFFF},
			{"zabstate", q.ZabState},
		}
	}},
}

// byName finds a command by any of its names.
var byName = func() map[string]*command {
	m := map[string]*command{}
	for _, c := range commands {
		for _, n := range c.names {
			m[n] = c
		}
	}
	return m
}()

// PrimaryNames returns the commands' primary names, sorted (the list
// GET <commandURL> links to).
func PrimaryNames() []string {
	var ns []string
	for _, c := range commands {
		ns = append(ns, c.names[0])
	}
	sort.Strings(ns)
	return ns
}

// Names returns every command name, aliases included, sorted.
func Names() []string {
	var ns []string
	for n := range byName {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Run runs the command called name (a primary name or an alias) and returns
// its response as ZooKeeper's CommandResponse.toMap builds it: the command's
// own keys, then "command" (the primary name) and "error" (null, or the
// command's error in the place the command put it). An unknown name, or a
// command that needs a serving server while it does not serve, gives just
// "command" (the name as asked) and "error".
func Run(src Source, name string, args url.Values) Obj {
	c := byName[name]
	switch {
	case c == nil:
		return respond(name, "Unknown command: "+name, nil)
	case !src.Up() || c.serverRequired && !src.Serving():
		return respond(name, NotServing, nil)
	}
	return respond(c.names[0], nil, c.run(src, args))
}

func respond(command string, err any, data Obj) Obj {
	m := append(Obj(nil), data...)
	m.Put("command", command)
	m.Put("error", err)
	for _, f := range data {
		m.Put(f.Key, f.Value)
	}
	return m
}

// connections lists the client port's connections and the TLS port's (as
// ZooKeeper lists its two connection factories').
func connections(src Source, brief bool) (plain, secure []Obj) {
	plain, secure = []Obj{}, []Obj{}
	for _, c := range src.Connections() {
		if c.Secure {
			secure = append(secure, c.obj(brief))
		} else {
			plain = append(plain, c.obj(brief))
		}
	}
	return plain, secure
}

// serverStats is SrvrCommand's response, with ServerStats's bean
// properties in the order Jackson writes them.
func serverStats(src Source) Obj {
	st := src.ServerStats()
	dataSize, logSize := src.Dirs()
	o := Obj{
		{"version", st.Version},
		{"read_only", st.ReadOnly},
		{"server_stats", Obj{
			{"packets_sent", st.PacketsSent},
			{"packets_received", st.PacketsReceived},
			{"fsync_threshold_exceed_count", st.FsyncThresholdExceeded},
			{"client_response_stats", st.ClientResponse.obj()},
			{"data_dir_size", dataSize},
			{"log_dir_size", logSize},
			{"provider_null", false},
			{"server_state", st.State},
			{"last_processed_zxid", st.LastZxid},
			{"outstanding_requests", st.Outstanding},
			{"avg_latency", st.AvgLatency},
			{"max_latency", st.MaxLatency},
			{"min_latency", st.MinLatency},
			{"num_alive_client_connections", st.Connections},
			{"auth_failed_count", 0},
			{"non_mtlsremote_conn_count", 0},
			{"non_mtlslocal_conn_count", 0},
			{"uptime", st.Uptime},
		}},
		{"client_response", st.ClientResponse.obj()},
	}
	if st.Proposal != nil {
		o = append(o, Field{"proposal_stats", st.Proposal.obj()})
	}
	return append(o, Field{"node_count", st.NodeCount})
}

// withTruncated adds "truncated": true when a watch listing was cut short
// (ZooKeeper lists the whole table; Warren bounds it as wchc/wchp do).
func withTruncated(o Obj, truncated bool) Obj {
	if truncated {
		o = append(o, Field{"truncated", true})
	}
	return o
}

func (q *Quorum) member(id int64) *Member {
	for i := range q.Members {
		if q.Members[i].ID == id {
			return &q.Members[i]
		}
	}
	return nil
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// multipleAddresses is how Jackson writes ZooKeeper's MultipleAddresses
// bean for one address (zabstate's quorum_address and election_address).
func multipleAddresses(addr string) Obj {
	if addr == "" {
		return Obj{{"empty", true}}
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return Obj{
		{"empty", false},
		{"all_addresses", []string{addr}},
		{"all_reachable_addresses", []string{addr}},
		{"one", addr},
		{"reachable_address", addr},
		{"wildcard_addresses", []string{hostPort("0.0.0.0", p)}},
		{"all_ports", []int64{int64(p)}},
		{"all_host_strings", []string{host}},
		{"all_reachable_addresses_or_all", []string{addr}},
		{"reachable_or_one", addr},
	}
}
