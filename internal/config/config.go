package config

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Problem is one finding about a config file, with the 1-based line it came
// from (0 if none).
type Problem struct {
	Line  int
	Key   string
	Msg   string
	Fatal bool
	File  string // the file it is about, if known (the config, myid or dynamic file)
}

// String formats p as "file:line: key: msg", leaving out the parts not known.
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	case p.File != "":
		b.WriteString(p.File + ": ")
	case p.Line > 0:
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// HasFatal reports whether any of ps is fatal.
func HasFatal(ps []Problem) bool {
	for _, p := range ps {
		if p.Fatal {
			return true
		}
	}
	return false
}

// Config is a parsed zoo.cfg. Numbers are as ZooKeeper keeps them: times in
// milliseconds unless noted, limits in ticks.
type Config struct {
	File string // path it came from ("" for defaults/args form)

	TickTime            int    // ms, ZooKeeper default 3000
	DataDir, DataLogDir string // DataLogDir defaults to DataDir

	ClientPort              int    // 0 = none
	ClientPortAddress       string // "" = all interfaces
	SecureClientPort        int    // 0 = none
	SecureClientPortAddress string
	MaxClientCnxns          int // per source IP, 0 = unlimited

	// Resolved values: 2× and 20× TickTime when unset or -1.
	MinSessionTimeout, MaxSessionTimeout int

	InitLimit, SyncLimit int      // ticks
	MyID                 int64    // from dataDir/myid when servers are listed; 0 otherwise
	Servers              []Server // sorted by ID
	PeerType             Role     // as the server list says for MyID
	StandaloneEnabled    bool
	ReconfigEnabled      bool

	SnapCount                int
	PreAllocSizeKB           int
	AutopurgeSnapRetainCount int // at least 3
	AutopurgePurgeInterval   int // hours, 0 = off

	FourLetterWords        map[string]bool // whitelisted words; srvr always
	ExtendedTypesEnabled   bool
	SkipACL                bool   // skipACL=yes
	SuperDigest            string // DigestAuthenticationProvider.superDigest
	GlobalOutstandingLimit int
	MaxCnxns               int // 0 = unlimited

	AdminEnableServer  bool
	AdminServerAddress string
	AdminServerPort    int
	AdminCommandURL    string

	MetricsProviderClassName string
	MetricsHTTPHost          string
	MetricsHTTPPort          int

	Props map[string]string // every key=value as read (trimmed)
	Lines map[string]int    // key -> line number
}

// knownWords are the four letter words ZooKeeper knows, sorted.
var knownWords = []string{"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro",
	"mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs"}

const defaultMetricsProvider = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider"

var knownMetricsProviders = map[string]bool{
	defaultMetricsProvider:                                              true,
	"org.apache.zookeeper.metrics.impl.NullMetricsProvider":             true,
	"org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider": true,
}

// defaults is ZooKeeper's configuration before any key is read; session
// timeouts are still unresolved (-1).
func defaults() *Config {
	return &Config{
		TickTime:                 3000,
		MaxClientCnxns:           60,
		MinSessionTimeout:        -1,
		MaxSessionTimeout:        -1,
		StandaloneEnabled:        true,
		SnapCount:                100000,
		PreAllocSizeKB:           65536,
		AutopurgeSnapRetainCount: 3,
		FourLetterWords:          map[string]bool{"srvr": true},
		GlobalOutstandingLimit:   1000,
		AdminEnableServer:        true,
		AdminServerAddress:       "0.0.0.0",
		AdminServerPort:          8080,
		AdminCommandURL:          "/commands",
		MetricsProviderClassName: defaultMetricsProvider,
		MetricsHTTPHost:          "0.0.0.0",
		MetricsHTTPPort:          7000,
		Props:                    map[string]string{},
		Lines:                    map[string]int{},
	}
}

func (c *Config) resolveSessionTimeouts() {
	if c.MinSessionTimeout == -1 {
		c.MinSessionTimeout = 2 * c.TickTime
	}
	if c.MaxSessionTimeout == -1 {
		c.MaxSessionTimeout = 20 * c.TickTime
	}
}

// Default is the configuration of `warren server` without arguments: a
// standalone server on 127.0.0.1:2181 with its data in ./warren-data and
// zoo_sample.cfg's tickTime of 2000; everything else is ZooKeeper's default.
func Default() *Config {
	c := defaults()
	c.TickTime, c.DataDir, c.DataLogDir = 2000, "warren-data", "warren-data"
	c.ClientPort, c.ClientPortAddress = 2181, "127.0.0.1"
	// The embedded default serves loopback only, the AdminServer included
	// (a zoo.cfg gets ZooKeeper's 0.0.0.0).
	c.AdminServerAddress = "127.0.0.1"
	c.Props["tickTime"] = "2000"
	c.Props["dataDir"] = c.DataDir
	c.Props["clientPort"] = "2181"
	c.Props["clientPortAddress"] = c.ClientPortAddress
	c.resolveSessionTimeouts()
	return c
}

// Load reads and parses the zoo.cfg at path.
func Load(path string) (*Config, []Problem) {
	f, err := os.Open(path)
	if err != nil {
		c := defaults()
		c.File = path
		c.resolveSessionTimeouts()
		return c, []Problem{{Msg: err.Error(), Fatal: true, File: path}}
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse parses a zoo.cfg read from r; file names it in problems. It reads
// dataDir/myid when servers are listed and the file named by
// dynamicConfigFile when set. It always returns a Config (with as much as
// could be read) and never panics; the config is usable only if
// !HasFatal(problems).
func Parse(r io.Reader, file string) (*Config, []Problem) {
	c := defaults()
	c.File = file
	p := &parser{file: file}
	data, err := io.ReadAll(r)
	if err != nil {
		p.fatalf(0, "", "cannot read: %v", err)
	}
	for _, e := range readProperties(string(data)) {
		if e.err != "" {
			p.fatalf(e.line, e.key, "%s", e.err)
			continue
		}
		c.Props[e.key] = e.value
		c.Lines[e.key] = e.line
	}
	keys := make([]string, 0, len(c.Props))
	for k := range c.Props {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return c.Lines[keys[i]] < c.Lines[keys[j]] })
	for _, k := range keys {
		p.set(c, k, c.Props[k], c.Lines[k])
	}
	p.finish(c)
	return c, p.probs
}

// FromArgs parses ZooKeeperServerMain's command line form:
// port dataDir [tickTime [maxClientCnxns]].
func FromArgs(args []string) (*Config, []Problem) {
	c := defaults()
	p := &parser{}
	if len(args) < 2 || len(args) > 4 {
		p.fatalf(0, "", "invalid number of arguments %q; want port dataDir [tickTime [maxClientCnxns]]", args)
		c.resolveSessionTimeouts()
		return c, p.probs
	}
	for i, k := range []string{"clientPort", "dataDir", "tickTime", "maxClientCnxns"}[:len(args)] {
		c.Props[k] = args[i]
		p.set(c, k, args[i], 0)
	}
	p.finish(c)
	return c, p.probs
}

// Distributed reports whether c describes an ensemble member, by
// ZooKeeper's rule: servers are listed and either standaloneEnabled is false
// or at least two of them vote.
func (c *Config) Distributed() bool {
	voters := 0
	for _, s := range c.Servers {
		if s.Role == Participant {
			voters++
		}
	}
	return len(c.Servers) > 0 && (!c.StandaloneEnabled || voters >= 2)
}

// Allow4LW reports whether the four letter word cmd is whitelisted. srvr is
// always allowed, as in ZooKeeper.
func (c *Config) Allow4LW(cmd string) bool {
	return cmd == "srvr" || c.FourLetterWords[cmd]
}
