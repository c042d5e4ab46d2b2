package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// parser collects problems while a Config is filled in.
type parser struct {
	file   string
	probs  []Problem
	quorum []entry // server.N, group.N, weight.N from the main file
}

func (p *parser) add(fatal bool, line int, key, format string, args ...any) {
	p.probs = append(p.probs, Problem{Line: line, Key: key, Msg: fmt.Sprintf(format, args...), Fatal: fatal, File: p.file})
}

func (p *parser) fatalf(line int, key, format string, args ...any) {
	p.add(true, line, key, format, args...)
}

func (p *parser) warnf(line int, key, format string, args ...any) {
	p.add(false, line, key, format, args...)
}

// num parses a Java int; a bad one is fatal and leaves def.
func (p *parser) num(line int, key, v string, def int) int {
	n, err := strconv.ParseInt(v, 10, 32)
	if errors.Is(err, strconv.ErrRange) {
		p.fatalf(line, key, "number out of range %q", v)
		return def
	}
	if err != nil {
		p.fatalf(line, key, "not a number %q", v)
		return def
	}
	return int(n)
}

func (p *parser) port(line int, key, v string) int {
	n := p.num(line, key, v, 0)
	if n < 0 || n > 65535 {
		p.fatalf(line, key, "port out of range %d", n)
		return 0
	}
	return n
}

// lenient parses a JVM-property number as ZooKeeper does: a bad value is
// ignored (with a warning here) and def used.
func (p *parser) lenient(line int, key, v string, def int) int {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		p.warnf(line, key, "not a number %q, using the default %d", v, def)
		return def
	}
	return int(n)
}

// strictBool is QuorumPeerConfig.parseBoolean: only true/false, any case.
func (p *parser) strictBool(line int, key, v string, def bool) bool {
	switch strings.ToLower(v) {
	case "true":
		return true
	case "false":
		return false
	}
	p.fatalf(line, key, "invalid option %q; choose 'true' or 'false'", v)
	return def
}

// javaBool is Boolean.parseBoolean, used for JVM properties.
func javaBool(v string) bool { return strings.EqualFold(v, "true") }

// Kinds of keys QuorumPeerConfig parses itself that Config has no field for:
// their values are checked (as ZooKeeper would) and kept in Props.
const (
	kindString = iota + 1
	kindBool
	kindInt
	kindLong
)

var directKeys = map[string]int{
	"localSessionsEnabled": kindBool, "localSessionsUpgradingEnabled": kindBool,
	"quorumListenOnAllIPs": kindBool, "syncEnabled": kindBool, "sslQuorum": kindBool,
	"portUnification": kindBool, "sslQuorumReloadCertFiles": kindBool,
	"quorum.auth.enableSasl": kindBool, "quorum.auth.serverRequireSasl": kindBool,
	"quorum.auth.learnerRequireSasl": kindBool, "jvm.pause.monitor": kindBool,
	"multiAddress.enabled": kindBool, "multiAddress.reachabilityCheckEnabled": kindBool,
	"observerMasterPort": kindInt, "clientPortListenBacklog": kindInt,
	"connectToLearnerMasterLimit": kindInt, "quorum.cnxn.threads.size": kindInt,
	"multiAddress.reachabilityCheckTimeoutMs": kindInt,
	"jvm.pause.info-threshold.ms":             kindLong, "jvm.pause.warn-threshold.ms": kindLong,
	"jvm.pause.sleep.time.ms":              kindLong,
	"quorum.auth.learner.saslLoginContext": kindString, "quorum.auth.server.saslLoginContext": kindString,
	"quorum.auth.kerberos.servicePrincipal": kindString, "oraclePath": kindString,
	"dynamicConfigFile": kindString,
}

// ZooKeeper turns every other key into the JVM property zookeeper.<key>.
// These are the ones some part of ZooKeeper reads; they are accepted
// silently even when Warren does not use them.
var jvmKeys = map[string]bool{
	"emulate353TTLNodes": true, "snapSizeLimitInKb": true, "txnLogSizeLimitInKb": true,
	"commitLogCount": true, "forceSync": true, "fsync.warningthresholdms": true,
	"maxResponseCacheSize": true, "maxGetChildrenResponseCacheSize": true, "enforceQuota": true,
	"serverCnxnFactory": true, "largeRequestMaxBytes": true, "largeRequestThreshold": true,
	"throttled_op_wait_time": true, "leaderServes": true, "cnxTimeout": true,
	"sessionRequireClientSASLAuth": true, "allowSaslFailedClients": true, "superUser": true,
	"client.portUnification": true, "watchManagerName": true, "flushDelay": true,
	"maxWriteQueuePollTime": true, "maxBatchSize": true, "requestStaleLatencyCheck": true,
	"requestStaleConnectionCheck": true, "electionPortBindRetry": true, "tcpKeepAlive": true,
	"clientTcpKeepAlive": true, "closeSessionTxn.enabled": true, "ensembleAuthName": true,
	"requireClientAuthScheme": true, "ipReachableTimeout": true,
}

var jvmPrefixes = []string{
	"admin.", "ssl.", "authProvider.", "metricsProvider.", "jvm.pause.", "quorum.auth.",
	"multiAddress.", "connection_throttle_", "request_throttle_", "nio.", "netty.",
	"commitProcessor.", "fastleader.", "kerberos.", "DigestAuthenticationProvider.",
	"X509AuthenticationProvider.", "enforce.auth.", "snapshot.", "digest.", "audit.",
	"learner.", "leader.", "follower.", "observer.", "messageTracker.", "sasl.",
	"SASLAuthenticationProvider.", "warren.",
}

func knownJVMKey(k string) bool {
	if jvmKeys[k] {
		return true
	}
	for _, pre := range jvmPrefixes {
		if strings.HasPrefix(k, pre) {
			return true
		}
	}
	return false
}

func isQuorumKey(k string) bool {
	return strings.HasPrefix(k, "server.") || strings.HasPrefix(k, "group.") || strings.HasPrefix(k, "weight.")
}

// set applies one key. Keys are applied in line order.
func (p *parser) set(c *Config, k, v string, line int) {
	switch k {
	case "dataDir":
		c.DataDir = v
	case "dataLogDir":
		c.DataLogDir = v
	case "clientPort":
		c.ClientPort = p.port(line, k, v)
	case "clientPortAddress":
		c.ClientPortAddress = v
	case "secureClientPort":
		c.SecureClientPort = p.port(line, k, v)
	case "secureClientPortAddress":
		c.SecureClientPortAddress = v
	case "tickTime":
		c.TickTime = p.num(line, k, v, c.TickTime)
	case "maxClientCnxns":
		c.MaxClientCnxns = p.num(line, k, v, c.MaxClientCnxns)
	case "minSessionTimeout":
		c.MinSessionTimeout = p.num(line, k, v, c.MinSessionTimeout)
	case "maxSessionTimeout":
		c.MaxSessionTimeout = p.num(line, k, v, c.MaxSessionTimeout)
	case "initLimit":
		c.InitLimit = p.num(line, k, v, c.InitLimit)
	case "syncLimit":
		c.SyncLimit = p.num(line, k, v, c.SyncLimit)
	case "electionAlg":
		if n, err := strconv.ParseInt(v, 10, 32); err != nil || n != 3 {
			p.fatalf(line, k, "invalid electionAlg value %q; only 3 is supported", v)
		}
	case "peerType":
		switch strings.ToLower(v) {
		case "participant":
			c.PeerType = Participant
		case "observer":
			c.PeerType = Observer
		default:
			p.fatalf(line, k, "unrecognised peer type %q", v)
		}
	case "standaloneEnabled":
		c.StandaloneEnabled = p.strictBool(line, k, v, c.StandaloneEnabled)
	case "reconfigEnabled":
		c.ReconfigEnabled = p.strictBool(line, k, v, c.ReconfigEnabled)
	case "autopurge.snapRetainCount":
		c.AutopurgeSnapRetainCount = p.num(line, k, v, c.AutopurgeSnapRetainCount)
		if c.AutopurgeSnapRetainCount < 3 {
			p.warnf(line, k, "%d is below the minimum, using 3", c.AutopurgeSnapRetainCount)
			c.AutopurgeSnapRetainCount = 3
		}
	case "autopurge.purgeInterval":
		c.AutopurgePurgeInterval = p.num(line, k, v, c.AutopurgePurgeInterval)
	case "metricsProvider.className":
		c.MetricsProviderClassName = v
		if !knownMetricsProviders[v] {
			p.warnf(line, k, "unknown metrics provider %q, ignored", v)
		}
	case "metricsProvider.httpHost":
		c.MetricsHTTPHost = v
	case "metricsProvider.httpPort":
		c.MetricsHTTPPort = p.port(line, k, v)
	case "version": // written by ZooKeeper into dynamic configs, hexadecimal
		if _, err := strconv.ParseUint(v, 16, 64); err != nil {
			p.fatalf(line, k, "not a hexadecimal number %q", v)
		}

	// JVM properties (zookeeper.<key>), lenient as ZooKeeper reads them.
	case "4lw.commands.whitelist":
		c.FourLetterWords = p.words(line, k, v)
	case "extendedTypesEnabled":
		c.ExtendedTypesEnabled = javaBool(v)
	case "skipACL":
		c.SkipACL = v == "yes"
		if v != "yes" && v != "no" {
			p.warnf(line, k, "only \"yes\" disables ACL checks; %q leaves them on", v)
		}
	case "DigestAuthenticationProvider.superDigest":
		c.SuperDigest = v
	case "snapCount":
		c.SnapCount = p.lenient(line, k, v, 100000)
		if c.SnapCount < 2 {
			p.warnf(line, k, "%d is below the minimum, using 2", c.SnapCount)
			c.SnapCount = 2
		}
	case "preAllocSize":
		c.PreAllocSizeKB = p.lenient(line, k, v, 65536)
	case "globalOutstandingLimit":
		c.GlobalOutstandingLimit = p.lenient(line, k, v, 1000)
	case "maxCnxns":
		c.MaxCnxns = p.lenient(line, k, v, 0)
		if c.MaxCnxns < 0 {
			p.warnf(line, k, "negative, using 0 (unlimited)")
			c.MaxCnxns = 0
		}
	case "admin.enableServer":
		c.AdminEnableServer = javaBool(v)
	case "admin.serverAddress":
		c.AdminServerAddress = v
	case "admin.serverPort":
		c.AdminServerPort = p.lenient(line, k, v, 8080)
	case "admin.commandURL":
		c.AdminCommandURL = v
	case "jute.maxbuffer", "readonlymode.enabled":
		p.warnf(line, k, "has no effect in zoo.cfg (ZooKeeper reads it only as a JVM system property), ignored")
	default:
		switch kind := directKeys[k]; {
		case kind == kindBool:
			p.strictBool(line, k, v, false)
		case kind == kindInt:
			p.num(line, k, v, 0)
		case kind == kindLong:
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				p.fatalf(line, k, "not a number %q", v)
			}
		case kind == kindString || knownJVMKey(k):
		case isQuorumKey(k):
			p.quorum = append(p.quorum, entry{key: k, value: v, line: line})
		default:
			p.warnf(line, k, "unknown key, ignored")
		}
	}
}

// words parses 4lw.commands.whitelist as FourLetterCommands does.
func (p *parser) words(line int, k, v string) map[string]bool {
	m := map[string]bool{"srvr": true}
	for _, w := range strings.Split(v, ",") {
		w = javaTrim(w)
		if w == "*" {
			for _, w := range knownWords {
				m[w] = true
			}
			break
		}
		if w == "" {
			continue
		}
		if i := sort.SearchStrings(knownWords, w); i == len(knownWords) || knownWords[i] != w {
			p.warnf(line, k, "unknown four letter word %q, ignored", w)
			continue
		}
		m[w] = true
	}
	return m
}

// finish applies the checks and derived values of
// QuorumPeerConfig.parseProperties once every key is read.
func (p *parser) finish(c *Config) {
	line := func(k string) int { return c.Lines[k] }
	if c.DataDir == "" {
		p.fatalf(line("dataDir"), "dataDir", "dataDir is not set")
	}
	if c.DataLogDir == "" {
		c.DataLogDir = c.DataDir
	}
	if _, ok := c.Props["clientPortAddress"]; ok && c.ClientPort == 0 {
		p.fatalf(line("clientPortAddress"), "clientPortAddress", "clientPortAddress is set but clientPort is not set")
	}
	if _, ok := c.Props["secureClientPortAddress"]; ok && c.SecureClientPort == 0 {
		p.fatalf(line("secureClientPortAddress"), "secureClientPortAddress", "secureClientPortAddress is set but secureClientPort is not set")
	}
	if c.TickTime <= 0 {
		p.fatalf(line("tickTime"), "tickTime", "must be positive, not %d", c.TickTime)
	}
	c.resolveSessionTimeouts()
	if c.MinSessionTimeout > c.MaxSessionTimeout {
		k := "minSessionTimeout"
		if _, ok := c.Props[k]; !ok {
			k = "maxSessionTimeout"
		}
		p.fatalf(line(k), k, "minSessionTimeout (%d) must not be larger than maxSessionTimeout (%d)", c.MinSessionTimeout, c.MaxSessionTimeout)
	}
	enabled := func(k string) bool { return strings.EqualFold(c.Props[k], "true") }
	const sasl, server, learner = "quorum.auth.enableSasl", "quorum.auth.serverRequireSasl", "quorum.auth.learnerRequireSasl"
	if !enabled(sasl) && enabled(server) {
		p.fatalf(line(server), server, "%s is disabled, so %s cannot be enabled", sasl, server)
	}
	if !enabled(sasl) && enabled(learner) {
		p.fatalf(line(learner), learner, "%s is disabled, so %s cannot be enabled", sasl, learner)
	}
	if !enabled(learner) && enabled(server) {
		p.fatalf(line(server), server, "%s is disabled, so %s cannot be enabled", learner, server)
	}
	p.finishQuorum(c)
}

// finishQuorum reads the server list (from the file or dynamicConfigFile),
// checks it, and reads myid, as QuorumPeerConfig.setupQuorumPeerConfig does.
func (p *parser) finishQuorum(c *Config) {
	line := func(k string) int { return c.Lines[k] }
	q, entries := p, p.quorum
	if dyn, ok := c.Props["dynamicConfigFile"]; ok {
		for _, e := range entries {
			p.fatalf(e.line, e.key, "must be in the separate dynamic config file when dynamicConfigFile is set")
		}
		q, entries = p.readDynamic(dyn, line("dynamicConfigFile"))
		defer func() { p.probs = append(p.probs, q.probs...) }()
	}
	multiAddr := strings.EqualFold(c.Props["multiAddress.enabled"], "true")
	hierarchical := false
	byID := map[int64]Server{}
	for _, e := range entries {
		if !strings.HasPrefix(e.key, "server.") {
			if !hierarchical {
				q.warnf(e.line, e.key, "hierarchical quorums (group./weight.) are not supported; a majority of all participants is used")
				hierarchical = true
			}
			continue
		}
		id, err := strconv.ParseInt(e.key[len("server."):], 10, 64)
		if err != nil {
			q.fatalf(e.line, e.key, "server id %q is not a number", e.key[len("server."):])
			continue
		}
		s, warn, err := parseServer(id, e.value, multiAddr)
		if err != nil {
			q.fatalf(e.line, e.key, "%v", err)
			continue
		}
		if warn != "" {
			q.warnf(e.line, e.key, "%s", warn)
		}
		if old, dup := byID[id]; dup {
			q.warnf(e.line, e.key, "server id %d is also given on line %d; this line wins", id, old.Line)
		}
		s.Line = e.line
		byID[id] = s
	}
	c.Servers = nil
	var voters, observers []Server
	for _, s := range byID {
		c.Servers = append(c.Servers, s)
	}
	sort.Slice(c.Servers, func(i, j int) bool { return c.Servers[i].ID < c.Servers[j].ID })
	for _, s := range c.Servers {
		if s.Role == Participant {
			voters = append(voters, s)
		} else {
			observers = append(observers, s)
		}
	}
	skey := func(s Server) string { return "server." + strconv.FormatInt(s.ID, 10) }
	switch {
	case len(voters) == 0:
		if !c.StandaloneEnabled {
			p.fatalf(line("standaloneEnabled"), "standaloneEnabled", "standaloneEnabled is false but no participant servers are listed")
		}
		if len(observers) > 0 {
			q.fatalf(observers[0].Line, skey(observers[0]), "observers without participants is an invalid configuration")
		}
	case len(voters) == 1 && c.StandaloneEnabled:
		q.warnf(voters[0].Line, skey(voters[0]), "only one server listed; it runs standalone (standaloneEnabled is true)")
		if len(observers) > 0 {
			q.fatalf(observers[0].Line, skey(observers[0]), "observers without a quorum is an invalid configuration")
		}
	case len(voters) <= 2:
		q.warnf(voters[0].Line, skey(voters[0]), "no server failure will be tolerated; you need at least 3 servers")
	case len(voters)%2 == 0:
		q.warnf(voters[0].Line, skey(voters[0]), "non-optimal configuration, consider an odd number of servers")
	}

	var me *Server
	if len(c.Servers) > 0 && c.DataDir != "" {
		id, exists, found := p.readMyID(filepath.Join(c.DataDir, "myid"))
		if found {
			c.MyID = id
			for i := range c.Servers {
				if c.Servers[i].ID == id {
					me = &c.Servers[i]
				}
			}
		}
		if c.Distributed() {
			const msg = "must be set to a positive number of ticks in a distributed configuration"
			if c.InitLimit <= 0 {
				p.fatalf(line("initLimit"), "initLimit", msg)
			}
			if c.SyncLimit <= 0 {
				p.fatalf(line("syncLimit"), "syncLimit", msg)
			}
			switch {
			case !exists:
				p.fatalf(0, "myid", "%s is missing; a distributed configuration needs it", filepath.Join(c.DataDir, "myid"))
			case found && me == nil:
				p.fatalf(0, "myid", "this server's id %d is not in the server list", id)
			}
		}
	}
	if me != nil && me.ClientPort != 0 {
		// setupClientPort: the server line's client address wins, but must
		// agree with clientPort/clientPortAddress when those are set.
		wild := func(a string) bool { return a == "" || a == "0.0.0.0" || a == "::" || a == "[::]" }
		if c.ClientPort != 0 && (c.ClientPort != me.ClientPort ||
			!wild(c.ClientPortAddress) && c.ClientPortAddress != me.ClientAddr) {
			p.fatalf(line("clientPort"), "clientPort", "client address %s differs from %s's client address %s",
				joinHostPort(c.ClientPortAddress, c.ClientPort), skey(*me), joinHostPort(me.ClientAddr, me.ClientPort))
		}
		c.ClientPort, c.ClientPortAddress = me.ClientPort, me.ClientAddr
	}
	role := Participant
	if me != nil {
		role = me.Role
	}
	if role != c.PeerType {
		p.warnf(line("peerType"), "peerType", "peerType %s does not match the server list (%s); using the server list", c.PeerType, role)
		c.PeerType = role
	}
}

func joinHostPort(host string, port int) string {
	if host == "" {
		host = "0.0.0.0"
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// readMyID reads dataDir/myid as QuorumPeerConfig.setupMyId does: only a
// regular file counts; an unreadable or non-numeric one is fatal (and
// reported here). It reports whether the file exists and the id if valid.
func (p *parser) readMyID(path string) (id int64, exists, ok bool) {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false, false
	}
	f, err := os.Open(path)
	if err == nil {
		defer f.Close()
		var b []byte
		b, err = io.ReadAll(io.LimitReader(f, 4096))
		if err == nil {
			first, _, _ := strings.Cut(strings.ReplaceAll(string(b), "\r", "\n"), "\n")
			if id, err = strconv.ParseInt(strings.TrimSpace(first), 10, 64); err == nil {
				return id, true, true
			}
			err = fmt.Errorf("server id %q is not a number", first)
		}
	}
	p.probs = append(p.probs, Problem{Key: "myid", Msg: err.Error(), Fatal: true, File: path})
	return 0, true, false
}

// readDynamic reads dynamicConfigFile: only server./group./weight. keys are
// allowed there. Problems found in it name that file.
func (p *parser) readDynamic(path string, line int) (*parser, []entry) {
	q := &parser{file: path}
	fi, err := os.Stat(path)
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	var data []byte
	if err == nil {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		p.fatalf(line, "dynamicConfigFile", "cannot read %s: %v", path, err)
		return q, nil
	}
	last := map[string]entry{}
	for _, e := range readProperties(string(data)) {
		switch {
		case e.err != "":
			q.fatalf(e.line, e.key, "%s", e.err)
		case e.key == "version":
			q.fatalf(e.line, e.key, "a dynamic config file must not contain version")
		case isQuorumKey(e.key):
			last[e.key] = e
		default:
			q.fatalf(e.line, e.key, "unrecognised parameter in a dynamic config file")
		}
	}
	entries := make([]entry, 0, len(last))
	for _, e := range last {
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].line < entries[j].line })
	return q, entries
}
