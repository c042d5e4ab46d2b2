package robustness

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/warren-zk/warren/zk"
)

// outcome is what a client learned about an operation.
type outcome int8

const (
	outOK      outcome = iota // a success reply arrived
	outFail                   // a definite failure reply (BadVersion, NoNode, NodeExists): no effect
	outUnknown                // ConnectionLoss, a timeout, an expired or closed session: may or may not have happened
)

func (o outcome) String() string {
	return [...]string{"ok", "fail", "unknown"}[o]
}

// regKind is the kind of a register operation.
type regKind int8

const (
	regRead  regKind = iota // a quorum read: getData, then multi{check(version)} that succeeded
	regWrite                // setData(version -1)
	regCAS                  // setData(version n)
)

func (k regKind) String() string { return [...]string{"read", "write", "cas"}[k] }

// regOp is one operation on a register key, for the linearizability checker. Times are
// nanoseconds since the run started; ret is +inf (maxTime) when the outcome is unknown.
type regOp struct {
	client  int
	session string
	key     string
	kind    regKind
	value   string // write/cas: the value written; read: the value read
	expect  int32  // cas: the expected version
	version int32  // ok write/cas: the version it produced; read: the version read
	out     outcome
	call    int64
	ret     int64
}

const maxTime = int64(1) << 62

func (o regOp) String() string {
	ret := fmt.Sprint(o.ret)
	if o.ret >= maxTime {
		ret = "inf"
	}
	switch o.kind {
	case regRead:
		return fmt.Sprintf("[%d,%s] c%d %s read %s -> %q v%d", o.call, ret, o.client, o.key, o.out, o.value, o.version)
	case regWrite:
		return fmt.Sprintf("[%d,%s] c%d %s write %q -> %s v%d", o.call, ret, o.client, o.key, o.value, o.out, o.version)
	}
	return fmt.Sprintf("[%d,%s] c%d %s cas(v%d) %q -> %s v%d", o.call, ret, o.client, o.key, o.expect, o.value, o.out, o.version)
}

// readObs is one thing a session learned about a register key, in session order: a read's
// data and Stat, or its own acknowledged write's Stat.
type readObs struct {
	session string
	key     string
	version int32
	value   string
	mzxid   int64
	write   bool // the session's own acknowledged write, not a read
	at      int64
}

// createOp is a create (persistent, sequential or ephemeral).
type createOp struct {
	session string
	sid     int64
	path    string // the requested path (the prefix of a sequential name)
	name    string // the created path (ok)
	seq     bool
	eph     bool
	out     outcome
	call    int64
	ret     int64
}

// setOp is a setData in the watched subtree (at most one per node, version 0).
type setOp struct {
	path string
	out  outcome
}

// fate is how an ephemeral-holding session ended.
type fate int8

const (
	fateAlive     fate = iota // still open when the workload stopped
	fateClosed                // closed by the client (closeSession sent if connected)
	fateAbandoned             // the client went silent: the server must expire it
	fateExpired               // the server expired it while the client was still using it
)

func (f fate) String() string { return [...]string{"alive", "closed", "abandoned", "expired"}[f] }

// ephSession is a session that created ephemeral nodes.
type ephSession struct {
	name    string
	sid     int64
	timeout int64 // ms granted
	fate    fate
	keeper  bool // a long-timeout session that holds its ephemerals to the end
	opened  int64
	endedAt int64
	creates []createOp
}

// sessionExpiry records that a long-timeout session (a worker's, whose client kept
// reconnecting) was found expired.
type sessionExpiry struct {
	name            string
	sid             int64
	timeout         int64 // ms granted
	opened, noticed int64 // ns since the run started
}

// watchEvent is a notification a watcher received.
type watchEvent struct {
	typ  zk.EventType
	path string
	zxid int64 // the notification header's zxid (-1 from ZooKeeper 3.8; unknown (0) through the zk package)
}

func (e watchEvent) key() eventKey { return eventKey{e.typ, e.path} }

type eventKey struct {
	typ  zk.EventType
	path string
}

func (k eventKey) String() string { return fmt.Sprintf("%s %s", k.typ, k.path) }

// pingMark records that a ping reply carrying zxid arrived after the first n events of a
// segment: the server had applied everything up to zxid, so every event up to it must be
// among those n (events and replies leave a connection in one ordered stream).
type pingMark struct {
	zxid int64
	n    int
}

// watchSegment is what one watcher received on one stable connection.
type watchSegment struct {
	server   string
	regZxid  int64 // the addWatch reply's zxid (raw watchers), or -1 when unknown
	events   []watchEvent
	pings    []pingMark
	end      string
	from, to time.Time // wall clock: registration (or connection) and end
}

// watchStream is one watcher connection (a raw connection, or a zk.Conn across its
// reconnects) and its segments.
type watchStream struct {
	name     string
	raw      bool
	segments []*watchSegment
}

// history is everything a run recorded. Workers append under mu.
type history struct {
	mu        sync.Mutex
	reg       []regOp
	obs       []readObs
	attempted map[string]map[string]bool // key -> every value some op tried to write ("init" too)
	creates   []createOp
	sets      []setOp
	ephs      []*ephSession
	watches   []*watchStream
	expiries  []sessionExpiry
	ops       int64 // every operation the workload issued
}

func newHistory() *history {
	return &history{attempted: map[string]map[string]bool{}}
}

func (h *history) attempt(key, value string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.attempted[key]
	if m == nil {
		m = map[string]bool{}
		h.attempted[key] = m
	}
	m[value] = true
}

func (h *history) addReg(o regOp) {
	h.mu.Lock()
	h.reg = append(h.reg, o)
	h.mu.Unlock()
}

func (h *history) addObs(o readObs) {
	h.mu.Lock()
	h.obs = append(h.obs, o)
	h.mu.Unlock()
}

func (h *history) addCreate(o createOp) {
	h.mu.Lock()
	h.creates = append(h.creates, o)
	h.mu.Unlock()
}

func (h *history) addSet(o setOp) {
	h.mu.Lock()
	h.sets = append(h.sets, o)
	h.mu.Unlock()
}

func (h *history) addEph(s *ephSession) {
	h.mu.Lock()
	h.ephs = append(h.ephs, s)
	h.mu.Unlock()
}

func (h *history) addWatch(s *watchStream) {
	h.mu.Lock()
	h.watches = append(h.watches, s)
	h.mu.Unlock()
}

func (h *history) addExpiry(e sessionExpiry) {
	h.mu.Lock()
	h.expiries = append(h.expiries, e)
	h.mu.Unlock()
}

func (h *history) countOp() {
	h.mu.Lock()
	h.ops++
	h.mu.Unlock()
}

// znode is a node of a dumped tree.
type znode struct {
	data string
	stat zk.Stat
}

// tree is a whole data tree as one server serves it: path -> node.
type tree map[string]znode

func (t tree) paths() []string {
	out := make([]string, 0, len(t))
	for p := range t {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// children returns the paths of the direct children of p, sorted.
func (t tree) children(p string) []string {
	prefix := p + "/"
	if p == "/" {
		prefix = "/"
	}
	var out []string
	for q := range t {
		if q != p && strings.HasPrefix(q, prefix) && !strings.Contains(q[len(prefix):], "/") {
			out = append(out, q)
		}
	}
	sort.Strings(out)
	return out
}

// violations collects what the checkers found (bounded, with a count of the rest).
type violations struct {
	mu    sync.Mutex
	list  []string
	extra map[string]int
	known map[string][]string // label of a known issue -> what matched it
}

// addKnown records something a check found that matches a known issue (see knownIssues).
func (v *violations) addKnown(label, format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.known == nil {
		v.known = map[string][]string{}
	}
	v.known[label] = append(v.known[label], fmt.Sprintf(format, args...))
}

const maxPerChecker = 12

func (v *violations) add(checker, format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for _, s := range v.list {
		if strings.HasPrefix(s, checker+": ") {
			n++
		}
	}
	if n >= maxPerChecker {
		if v.extra == nil {
			v.extra = map[string]int{}
		}
		v.extra[checker]++
		return
	}
	v.list = append(v.list, checker+": "+fmt.Sprintf(format, args...))
}

func (v *violations) empty() bool { return len(v.list) == 0 }

func (v *violations) String() string {
	var b strings.Builder
	for _, s := range v.list {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	keys := make([]string, 0, len(v.extra))
	for k := range v.extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: ... and %d more\n", k, v.extra[k])
	}
	return b.String()
}

// has reports whether some violation of checker was recorded.
func (v *violations) has(checker string) bool {
	for _, s := range v.list {
		if strings.HasPrefix(s, checker+": ") {
			return true
		}
	}
	return v.extra[checker] > 0
}
