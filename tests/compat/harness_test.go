package compat

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
	"github.com/warren-zk/warren/internal/testutil/zkoracle"
	"github.com/warren-zk/warren/tests/compat/rawzk"
)

// Credentials of the super user configured on both servers (§14.3: super:test).
const (
	superAuth   = "super:test"
	superDigest = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
)

var traceFlag = flag.Bool("compat.trace", false, "log every step of every scenario with both servers' answers")

// ioTimeout bounds every socket operation of the suite.
const ioTimeout = 5 * time.Second

// pair is one ZooKeeper and one Warren, configured alike.
type pair struct {
	zk *zkoracle.Server
	wr *warrentest.Server
}

// startPair starts both servers: super digest set, container/TTL reaper out of the way (so no
// background transaction disturbs the zxid sequence), extended types as asked.
func startPair(t *testing.T, extended bool) *pair {
	t.Helper()
	props := map[string]string{
		"zookeeper.DigestAuthenticationProvider.superDigest": superDigest,
		"znode.container.checkIntervalMs":                    "3600000",
	}
	if extended {
		props["zookeeper.extendedTypesEnabled"] = "true"
	}
	zk := zkoracle.Start(t, &zkoracle.Options{
		ExtraConfig: map[string]string{"forceSync": "no"},
		JVMProps:    props,
	})
	wr := warrentest.Start(t, &warrentest.Options{
		ContainerCheckInterval: time.Hour,
		Config: func(c *config.Config) {
			c.SuperDigest = superDigest
			c.ExtendedTypesEnabled = extended
		},
	})
	return &pair{zk: zk, wr: wr}
}

// ---------------------------------------------------------------------------------------------
// Normalisation

// norm maps the values that legitimately differ between two servers' runs to labels: zxids to
// z1, z2, … in the order they are first seen (with a separate check that both servers order
// them the same way), session ids to s1, s2, …, times to "T" after a plausibility check.
type norm struct {
	zx     map[int64]int
	zxVals []int64
	sess   map[int64]int
	start  time.Time
}

func newNorm() *norm {
	return &norm{zx: map[int64]int{}, sess: map[int64]int{}, start: time.Now()}
}

func (n *norm) zxid(v int64) string {
	if v == 0 || v == -1 {
		return strconv.FormatInt(v, 10)
	}
	if v < 0 {
		return fmt.Sprintf("raw:%d", v)
	}
	l, ok := n.zx[v]
	if !ok {
		n.zxVals = append(n.zxVals, v)
		l = len(n.zxVals)
		n.zx[v] = l
	}
	return "z" + strconv.Itoa(l)
}

// order returns the labels sorted by the zxid values they stand for; both servers must agree.
func (n *norm) order() string {
	idx := make([]int, len(n.zxVals))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return n.zxVals[idx[a]] < n.zxVals[idx[b]] })
	var b strings.Builder
	for i, k := range idx {
		if i > 0 {
			b.WriteByte('<')
		}
		fmt.Fprintf(&b, "z%d", k+1)
	}
	return b.String()
}

func (n *norm) sid(v int64) string {
	if v == 0 {
		return "0"
	}
	l, ok := n.sess[v]
	if !ok {
		l = len(n.sess) + 1
		n.sess[v] = l
	}
	return "s" + strconv.Itoa(l)
}

// time checks a ctime/mtime: zero stays zero, anything else must be a plausible wall clock
// value in ms from this run.
func (n *norm) time(v int64) string {
	if v == 0 {
		return "0"
	}
	lo := n.start.Add(-30 * time.Minute).UnixMilli()
	hi := time.Now().Add(2 * time.Minute).UnixMilli()
	if v < lo || v > hi {
		return fmt.Sprintf("T?(%d)", v)
	}
	return "T"
}

func (n *norm) stat(s proto.Stat) string {
	mt := n.time(s.Mtime)
	if s.Mtime < s.Ctime {
		mt += "(<ctime!)"
	}
	return fmt.Sprintf("{czxid=%s mzxid=%s ctime=%s mtime=%s version=%d cversion=%d aversion=%d owner=%s dataLength=%d numChildren=%d pzxid=%s}",
		n.zxid(s.Czxid), n.zxid(s.Mzxid), n.time(s.Ctime), mt, s.Version, s.Cversion, s.Aversion,
		n.sid(s.EphemeralOwner), s.DataLength, s.NumChildren, n.zxid(s.Pzxid))
}

func data(b []byte) string {
	if b == nil {
		return "null"
	}
	return strconv.Quote(string(b))
}

func acls(l []proto.ACL) string {
	parts := make([]string, len(l))
	for i, a := range l {
		parts[i] = fmt.Sprintf("%d:%s:%s", a.Perms, a.Id.Scheme, a.Id.Id)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func sortedStrings(l []string) string {
	c := slices.Clone(l)
	sort.Strings(c)
	return fmt.Sprintf("%q", c)
}

// decodeExact decodes body into r, requiring that every byte is used and that re-encoding gives
// the same bytes (so a null where the other server sends an empty value shows up).
func decodeExact(body []byte, r proto.Record) error {
	d := jute.NewDecoder(body)
	r.Decode(d)
	if d.Err() != nil {
		return fmt.Errorf("undecodable %T (%v): %x", r, d.Err(), body)
	}
	if d.Remaining() != 0 {
		return fmt.Errorf("%d trailing bytes after %T: %x", d.Remaining(), r, body)
	}
	e := jute.NewEncoder(nil)
	r.Encode(e)
	if !bytes.Equal(e.Bytes(), body) {
		return fmt.Errorf("non-canonical %T encoding (null vs empty?): %x", r, body)
	}
	return nil
}

// ---------------------------------------------------------------------------------------------
// Sides and connections

type sessInfo struct {
	sid  int64
	pw   []byte
	last int64 // highest zxid this session saw in a reply
}

type sconn struct {
	name   string
	sess   string // session name (several connections may carry one session)
	c      *rawzk.Conn
	xid    int32
	closed bool
}

// side is one server as the harness drives it.
type side struct {
	name  string
	zk    bool
	addr  string
	n     *norm
	conns map[string]*sconn
	sess  map[string]*sessInfo
	last  int64 // highest zxid seen on this server
}

func (s *side) seen(sess string, z int64) {
	if z <= 0 {
		return
	}
	if z > s.last {
		s.last = z
	}
	if si := s.sess[sess]; si != nil && z > si.last {
		si.last = z
	}
}

// ---------------------------------------------------------------------------------------------
// Steps

// sweepRes is what one open connection showed when pinged after a step.
type sweepRes struct {
	conn   string
	ping   *rawzk.Frame
	events []rawzk.Frame
	err    error
}

// result is one side's outcome of a step.
type result struct {
	lines []string // the action's own rendering
	txn   int64    // zxid of the transaction the step made (0: none), for notification zxids
	sweep []sweepRes
}

// action is one step of a scenario, run on each side.
type action interface {
	describe() string
	// run performs the step on s and renders its own outcome; txn is the step's transaction zxid
	// (raw) if it made one.
	run(h *H, s *side) (lines []string, txn int64)
}

// H drives one scenario on both servers in lock step.
type H struct {
	t       testing.TB
	sides   [2]*side // zookeeper, warren
	orderMu sync.Mutex
	order   []string // connection names, in creation order (the sweep order); under orderMu
	step    int
	history []string
	done    bool // the scenario ended on a difference; no more steps
	ended   bool // a known-difference step left the servers in different states
}

func newH(t testing.TB, p *pair) *H {
	h := &H{t: t}
	h.sides[0] = &side{name: "zookeeper", zk: true, addr: p.zk.Addr, n: newNorm(), conns: map[string]*sconn{}, sess: map[string]*sessInfo{}}
	h.sides[1] = &side{name: "warren", addr: p.wr.Addr, n: newNorm(), conns: map[string]*sconn{}, sess: map[string]*sessInfo{}}
	t.Cleanup(h.finish)
	return h
}

// runBoth runs f on both sides concurrently.
func (h *H) runBoth(f func(s *side)) {
	var wg sync.WaitGroup
	for _, s := range h.sides {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(s)
		}()
	}
	wg.Wait()
}

// exec runs one action on both sides, sweeps every open connection with a ping, renders both
// outcomes and returns them.
func (h *H) exec(a action) [2][]string {
	h.t.Helper()
	if h.done || h.ended {
		h.t.Fatalf("step %d (%s) after the scenario ended", h.step+1, a.describe())
	}
	h.step++
	var res [2]*result
	h.runBoth(func(s *side) {
		r := &result{}
		r.lines, r.txn = a.run(h, s)
		h.orderMu.Lock()
		order := slices.Clone(h.order)
		h.orderMu.Unlock()
		for _, name := range order {
			c := s.conns[name]
			if c == nil || c.closed {
				continue
			}
			f, evs, err := c.c.Ping()
			sr := sweepRes{conn: name, events: evs, err: err}
			if err == nil {
				sr.ping = &f
			} else if errors.Is(err, rawzk.ErrClosed) {
				c.closed = true
			}
			r.sweep = append(r.sweep, sr)
		}
		if s.zk {
			res[0] = r
		} else {
			res[1] = r
		}
	})
	var out [2][]string
	for i, s := range h.sides {
		r := res[i]
		lines := slices.Clone(r.lines)
		for _, sr := range r.sweep {
			for _, ev := range sr.events {
				lines = append(lines, sr.conn+": "+s.event(ev, r.txn))
			}
			switch {
			case sr.ping != nil:
				s.seen(s.conns[sr.conn].sess, sr.ping.Header.Zxid)
				lines = append(lines, sr.conn+": "+s.pingLine(*sr.ping))
			case errors.Is(sr.err, rawzk.ErrClosed):
				lines = append(lines, sr.conn+": closed")
			default:
				lines = append(lines, fmt.Sprintf("%s: ping failed: %v", sr.conn, sr.err))
			}
		}
		lines = append(lines, "zxid order: "+s.n.order())
		out[i] = lines
	}
	return out
}

// do runs an action and requires both servers to answer alike.
func (h *H) do(a action) {
	h.t.Helper()
	out := h.exec(a)
	if !slices.Equal(out[0], out[1]) {
		h.done = true
		h.t.Fatalf("step %d differs: %s\n%s", h.step, a.describe(), h.diff(out))
	}
	h.history = append(h.history, fmt.Sprintf("step %d: %s\n    %s", h.step, a.describe(), strings.Join(out[0], "\n    ")))
}

// known runs an action whose outcome differs by design (see knownDifferences): each server must
// produce exactly its expected lines. If the servers end up in different states, pass
// endsScenario so that no further step is compared.
func (h *H) known(id string, a action, wantZK, wantWarren []string, endsScenario bool) {
	h.t.Helper()
	kd := knownDifference(id)
	out := h.exec(a)
	// The last line is the zxid order, which depends on earlier scenarios: it is compared
	// between the servers (unless the step leaves them in different states), not spelled out.
	var order [2]string
	for i := range out {
		order[i] = out[i][len(out[i])-1]
		out[i] = out[i][:len(out[i])-1]
	}
	if !endsScenario && order[0] != order[1] {
		h.done = true
		h.t.Fatalf("step %d (known difference %q) %s: zxid order differs: zookeeper %s, warren %s", h.step, id, a.describe(), order[0], order[1])
	}
	if wantZK == nil && wantWarren == nil {
		// Recording aid: print the outcomes as Go literals to paste into the scenario.
		h.t.Errorf("step %d (known difference %q) %s: no expectation written; outcomes:\n[]string{\n%s}, []string{\n%s}",
			h.step, id, a.describe(), goLines(out[0]), goLines(out[1]))
		h.history = append(h.history, fmt.Sprintf("step %d (known difference %s, unrecorded): %s", h.step, id, a.describe()))
		return
	}
	for i, want := range [2][]string{wantZK, wantWarren} {
		if !slices.Equal(out[i], want) {
			h.done = true
			h.t.Fatalf("step %d (known difference %q: %s) %s: %s\n  got:\n    %s\n  want:\n    %s\n  (other server:\n    %s)",
				h.step, id, kd.Rationale, h.sides[i].name, a.describe(),
				strings.Join(out[i], "\n    "), strings.Join(want, "\n    "), strings.Join(out[1-i], "\n    "))
		}
	}
	kdUsed(id)
	h.history = append(h.history, fmt.Sprintf("step %d (known difference %s): %s", h.step, id, a.describe()))
	if endsScenario {
		h.ended = true
	}
}

func goLines(l []string) string {
	var b strings.Builder
	for _, s := range l {
		fmt.Fprintf(&b, "\t%s,\n", strconv.Quote(s))
	}
	return b.String()
}

func (h *H) diff(out [2][]string) string {
	var b strings.Builder
	n := max(len(out[0]), len(out[1]))
	for i := 0; i < n; i++ {
		var z, w string
		if i < len(out[0]) {
			z = out[0][i]
		}
		if i < len(out[1]) {
			w = out[1][i]
		}
		mark := "  "
		if z != w {
			mark = "!!"
		}
		fmt.Fprintf(&b, "%s zookeeper: %s\n%s warren:    %s\n", mark, z, mark, w)
	}
	if len(h.history) > 0 {
		b.WriteString("earlier steps:\n")
		from := max(0, len(h.history)-12)
		for _, l := range h.history[from:] {
			b.WriteString("  " + l + "\n")
		}
	}
	return b.String()
}

// event renders a notification. The zxid follows the first known difference: ZooKeeper 3.8.0
// sends -1; Warren (3.9) the zxid of the transaction that fired the watch (txn), or -1 for
// events without one (setWatches catch-up).
func (s *side) event(f rawzk.Frame, txn int64) string {
	ev, err := f.Event()
	if err != nil {
		return fmt.Sprintf("bad notification %+v %x: %v", f.Header, f.Body, err)
	}
	z := fmt.Sprintf("zxid=%d(unexpected)", f.Header.Zxid)
	switch {
	case s.zk && f.Header.Zxid == -1:
		z = "zxid=<notification>"
	case !s.zk && txn > 0 && f.Header.Zxid == txn:
		z = "zxid=<notification>"
		kdUsed("notification-zxid")
	case !s.zk && txn <= 0 && f.Header.Zxid == -1:
		z = "zxid=<notification>"
	}
	if f.Header.Err != 0 {
		z += fmt.Sprintf(" err=%d", f.Header.Err)
	}
	return fmt.Sprintf("event %s %q state=%d %s", eventName(ev.Type), ev.Path, ev.State, z)
}

func eventName(t int32) string {
	switch t {
	case proto.EventNodeCreated:
		return "NodeCreated"
	case proto.EventNodeDeleted:
		return "NodeDeleted"
	case proto.EventNodeDataChanged:
		return "NodeDataChanged"
	case proto.EventNodeChildrenChanged:
		return "NodeChildrenChanged"
	}
	return fmt.Sprintf("type(%d)", t)
}

func (s *side) pingLine(f rawzk.Frame) string {
	l := fmt.Sprintf("ping xid=%d zxid=%s err=%d", f.Header.Xid, s.n.zxid(f.Header.Zxid), f.Header.Err)
	if len(f.Body) > 0 {
		l += fmt.Sprintf(" body=%x", f.Body)
	}
	return l
}

// ---------------------------------------------------------------------------------------------
// Connect

type connectAct struct {
	name string // connection name; also the session name unless reattach is set
	// reattach names the session to reconnect; "" creates a new session.
	reattach string
	noRO     bool  // 44-byte form (no readOnly byte)
	timeout  int32 // requested ms; 0 means 30000
	badPW    bool  // flip the password
	unknown  bool  // a session id the server never issued
	// lastZxid: "" sends 0, "session" the session's last seen zxid, "ahead" the server's last
	// zxid + 1000.
	lastZxid string
	protoVer int32
	roFlag   bool   // readOnly = true in the request
	passwd   []byte // password for a new session (default 16 zero bytes)
	// then, if set, is sent in the same write as the ConnectRequest (pipelining).
	then []struct {
		op   proto.OpCode
		body proto.Record
	}
}

func (a *connectAct) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "connect %s", a.name)
	if a.reattach != "" {
		fmt.Fprintf(&b, " reattach=%s", a.reattach)
	}
	if a.noRO {
		b.WriteString(" (44-byte form, no readOnly)")
	}
	if a.timeout != 0 {
		fmt.Fprintf(&b, " timeout=%d", a.timeout)
	}
	if a.roFlag {
		b.WriteString(" readOnly=true")
	}
	if a.passwd != nil {
		fmt.Fprintf(&b, " passwd=%x", a.passwd)
	}
	if a.badPW {
		b.WriteString(" bad-password")
	}
	if a.unknown {
		b.WriteString(" unknown-session")
	}
	if a.lastZxid != "" {
		fmt.Fprintf(&b, " lastZxidSeen=%s", a.lastZxid)
	}
	for _, t := range a.then {
		fmt.Fprintf(&b, " +pipelined %v %+v", t.op, t.body)
	}
	return b.String()
}

func (a *connectAct) run(h *H, s *side) ([]string, int64) {
	to := a.timeout
	if to == 0 {
		to = 30000
	}
	o := rawzk.ConnectOptions{TimeoutMs: to, ReadOnlyByte: !a.noRO, ReadOnly: a.roFlag, ProtocolVersion: a.protoVer, Passwd: a.passwd}
	sessName := a.name
	if a.reattach != "" {
		sessName = a.reattach
		si := s.sess[a.reattach]
		if si == nil {
			return []string{"harness: no session " + a.reattach}, 0
		}
		o.SessionID, o.Passwd = si.sid, slices.Clone(si.pw)
		if a.badPW {
			o.Passwd[0] ^= 0xff
		}
	}
	if a.unknown {
		o.SessionID = 0x0123456789abcdef
		o.Passwd = make([]byte, 16)
	}
	switch a.lastZxid {
	case "session":
		if si := s.sess[sessName]; si != nil {
			o.LastZxidSeen = si.last
		}
	case "ahead":
		o.LastZxidSeen = s.last + 1000
	}
	c, err := rawzk.Dial(s.addr, ioTimeout)
	if err != nil {
		return []string{"dial failed: " + err.Error()}, 0
	}
	// A connection name may be reused (reconnect): the old connection stays in the sweep under
	// a new name until it is seen closed.
	if old := s.conns[a.name]; old != nil {
		s.conns[a.name+"~old"] = old
		old.name = a.name + "~old"
		h.addOrder(a.name + "~old")
	}
	sc := &sconn{name: a.name, sess: sessName, c: c}
	s.conns[a.name] = sc
	h.addOrder(a.name)
	payload := rawzk.ConnectRequestBytes(o)
	frame := append(be32(len(payload)), payload...)
	for _, t := range a.then {
		sc.xid++
		p := rawzk.RequestBytes(sc.xid, t.op, t.body)
		frame = append(frame, be32(len(p))...)
		frame = append(frame, p...)
	}
	if err := c.WriteRaw(frame); err != nil {
		return []string{"write failed: " + err.Error()}, 0
	}
	raw, err := c.ReadFrame()
	if err != nil {
		if errors.Is(err, rawzk.ErrClosed) {
			sc.closed = true
			return []string{a.name + ": closed without a ConnectResponse"}, 0
		}
		return []string{a.name + ": no ConnectResponse: " + err.Error()}, 0
	}
	var resp proto.ConnectResponse
	d := jute.NewDecoder(raw)
	resp.Decode(d)
	if d.Err() != nil {
		return []string{fmt.Sprintf("%s: bad ConnectResponse %x", a.name, raw)}, 0
	}
	pw := "nonzero"
	if bytes.Equal(resp.Passwd, make([]byte, len(resp.Passwd))) {
		pw = "zero"
	}
	lines := []string{fmt.Sprintf("%s: connected len=%d protocolVersion=%d timeOut=%d sessionId=%s passwd=%dB(%s) readOnly=%v/%v",
		a.name, len(raw), resp.ProtocolVersion, resp.TimeOut, s.n.sid(resp.SessionID), len(resp.Passwd), pw,
		resp.HasReadOnly, resp.ReadOnly)}
	if resp.SessionID != 0 {
		if si := s.sess[sessName]; si != nil && si.sid == resp.SessionID {
			si.pw = resp.Passwd
		} else {
			s.sess[sessName] = &sessInfo{sid: resp.SessionID, pw: resp.Passwd}
		}
	}
	for _, t := range a.then {
		f, evs, err := c.ReadReply()
		for _, ev := range evs {
			lines = append(lines, a.name+": "+s.event(ev, 0))
		}
		if err != nil {
			lines = append(lines, a.name+": "+replyErr(sc, err))
			break
		}
		s.seen(sessName, f.Header.Zxid)
		lines = append(lines, a.name+": "+s.reply(t.op, t.body, f, sc))
	}
	return lines, 0
}

func be32(n int) []byte {
	return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
}

func (h *H) addOrder(name string) {
	h.orderMu.Lock()
	defer h.orderMu.Unlock()
	if !slices.Contains(h.order, name) {
		h.order = append(h.order, name)
	}
}

func replyErr(c *sconn, err error) string {
	if errors.Is(err, rawzk.ErrClosed) {
		c.closed = true
		return "no reply: closed"
	}
	if errors.Is(err, rawzk.ErrTimeout) {
		return "no reply: timeout"
	}
	return "no reply: " + err.Error()
}

// ---------------------------------------------------------------------------------------------
// Requests

// writeOps make a transaction (their reply zxid is the zxid of the watch events they fire).
var writeOps = map[proto.OpCode]bool{
	proto.OpCreate: true, proto.OpCreate2: true, proto.OpCreateContainer: true, proto.OpCreateTTL: true,
	proto.OpDelete: true, proto.OpSetData: true, proto.OpSetACL: true, proto.OpMulti: true,
	proto.OpReconfig: true, proto.OpCloseSession: true, proto.OpDeleteContainer: true,
}

type reqAct struct {
	conn string
	xid  *int32 // explicit xid; nil means the connection's next
	op   proto.OpCode
	body proto.Record
	// bodyFn builds a side-specific body (zxids, session ids); it wins over body.
	bodyFn func(s *side) proto.Record
	desc   string
	// raw replaces the whole frame (length prefix included) with these bytes.
	raw []byte
	// readAll: read until the server closes (or the deadline) instead of reading a reply.
	readAll bool
	// more lists the opcodes of further replies to read after the first (pipelined raw frames).
	more []proto.OpCode
}

func (a *reqAct) describe() string {
	if a.desc != "" {
		return a.conn + ": " + a.desc
	}
	if a.raw != nil {
		return fmt.Sprintf("%s: raw bytes %x", a.conn, a.raw)
	}
	return fmt.Sprintf("%s: %v %s", a.conn, a.op, describeBody(a.body))
}

func describeBody(r proto.Record) string {
	switch b := r.(type) {
	case nil:
		return ""
	case rawzk.RawBody:
		return fmt.Sprintf("raw %x", []byte(b))
	case *proto.MultiRequest:
		var parts []string
		for _, op := range b.Ops {
			parts = append(parts, fmt.Sprintf("%v%+v", op.Type, op.Body))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case *proto.AuthPacket:
		return fmt.Sprintf("{%d %s %q}", b.Type, b.Scheme, b.Auth)
	}
	return fmt.Sprintf("%+v", r)
}

func (a *reqAct) run(h *H, s *side) ([]string, int64) {
	c := s.conns[a.conn]
	if c == nil || c.closed {
		return []string{a.conn + ": harness: connection not open"}, 0
	}
	body := a.body
	if a.bodyFn != nil {
		body = a.bodyFn(s)
	}
	var err error
	if a.raw != nil {
		err = c.c.WriteRaw(a.raw)
	} else {
		xid := c.xid + 1
		if a.xid != nil {
			xid = *a.xid
		} else {
			c.xid++
		}
		err = c.c.Send(xid, a.op, body)
	}
	if err != nil {
		if errors.Is(err, rawzk.ErrClosed) {
			c.closed = true
		}
		return []string{a.conn + ": write failed: " + err.Error()}, 0
	}
	if a.readAll {
		b, err := c.c.ReadAll()
		l := fmt.Sprintf("%s: server sent %d bytes", a.conn, len(b))
		switch {
		case err == nil || errors.Is(err, rawzk.ErrClosed):
			c.closed = true
			l += " then closed"
		default:
			l += " and kept the connection open (" + err.Error() + ")"
		}
		return []string{l}, 0
	}
	f, evs, err := c.c.ReadReply()
	// Events before the reply carry this step's transaction, whose zxid is known only once
	// the reply is in; they are rendered after it has been read.
	var lines []string
	if err != nil {
		for _, ev := range evs {
			lines = append(lines, a.conn+": "+s.event(ev, 0))
		}
		return append(lines, a.conn+": "+replyErr(c, err)), 0
	}
	var txn int64
	if writeOps[a.op] && a.raw == nil {
		txn = f.Header.Zxid
	}
	if closes(a.op, f.Header.Err) {
		// ZooKeeper queues the close right after the reply; give it time to happen before the
		// sweep's ping, which it would otherwise (rarely) still answer.
		time.Sleep(100 * time.Millisecond)
	}
	s.seen(c.sess, f.Header.Zxid)
	rl := a.conn + ": " + s.reply(a.op, body, f, c)
	for _, ev := range evs {
		lines = append(lines, a.conn+": "+s.event(ev, txn)+" (before the reply)")
	}
	lines = append(lines, rl)
	for _, op := range a.more {
		f, evs, err := c.c.ReadReply()
		for _, ev := range evs {
			lines = append(lines, a.conn+": "+s.event(ev, txn))
		}
		if err != nil {
			lines = append(lines, a.conn+": "+replyErr(c, err))
			break
		}
		s.seen(c.sess, f.Header.Zxid)
		lines = append(lines, a.conn+": "+s.reply(op, nil, f, c))
	}
	if a.op == proto.OpCloseSession && f.Header.Err == 0 {
		delete(s.sess, c.sess)
	}
	return lines, txn
}

// closes reports whether a reply announces that the server closes the connection.
func closes(op proto.OpCode, err int32) bool {
	switch proto.Err(err) {
	case proto.ErrUnimplemented, proto.ErrAuthFailed, proto.ErrSessionClosedRequireSASLAuth:
		return true
	}
	return op == proto.OpCloseSession
}

// reply renders a reply frame to a request of type op with body req.
func (s *side) reply(op proto.OpCode, req proto.Record, f rawzk.Frame, c *sconn) string {
	h := f.Header
	l := fmt.Sprintf("reply xid=%d zxid=%s err=%d", h.Xid, s.n.zxid(h.Zxid), h.Err)
	if h.Err != 0 {
		l += "(" + proto.Err(h.Err).Message() + ")"
		if len(f.Body) > 0 {
			l += fmt.Sprintf(" unexpected body %x", f.Body)
		}
		return l
	}
	return l + " " + s.body(op, req, f, c)
}

func (s *side) body(op proto.OpCode, req proto.Record, f rawzk.Frame, c *sconn) string {
	n := s.n
	dec := func(r proto.Record) error { return decodeExact(f.Body, r) }
	switch op {
	case proto.OpCreate:
		var r proto.CreateResponse
		if err := dec(&r); err != nil {
			return err.Error()
		}
		return fmt.Sprintf("Create{path=%q}", r.Path)
	case proto.OpCreate2, proto.OpCreateContainer, proto.OpCreateTTL:
		var r proto.Create2Response
		if err := dec(&r); err != nil {
			return err.Error()
		}
		return fmt.Sprintf("Create2{path=%q stat=%s}", r.Path, n.stat(r.Stat))
	case proto.OpExists, proto.OpSetData, proto.OpSetACL:
		var r proto.ExistsResponse // the three are a bare Stat
		if err := dec(&r); err != nil {
			return err.Error()
		}
		return "Stat" + n.stat(r.Stat)
	case proto.OpGetData, proto.OpReconfig:
		var r proto.GetDataResponse
		if err := dec(&r); err != nil {
			return err.Error()
		}
		return fmt.Sprintf("GetData{data=%s stat=%s}", data(r.Data), n.stat(r.Stat))
	case proto.OpGetACL:
		var r proto.GetACLResponse
		if err := dec(&r); err != nil {
			return err.Error()
		}
		return fmt.Sprintf("GetACL{acl=%s stat=%s}", acls(r.Acl), n.stat(r.Stat))
	case proto.OpGetChildren:
		var r proto.GetChildrenResponse
		if err := dec(&r); err != nil {
			return err.Error()
		}
		return "GetChildren{" + sortedStrings(r.Children) + "}"
	case proto.OpGetChildren2:
		var r proto.GetChildren2Response
		if err := dec(&r); err != nil {
			return err.Error()
		}
		return fmt.Sprintf("GetChildren2{%s stat=%s}", sortedStrings(r.Children), n.stat(r.Stat))
	case proto.OpSync:
		var r proto.SyncResponse
		if err := dec(&r); err != nil {
			return err.Error()
		}
		return fmt.Sprintf("Sync{path=%q}", r.Path)
	case proto.OpGetAllChildrenNumber:
		var r proto.GetAllChildrenNumberResponse
		if err := dec(&r); err != nil {
			return err.Error()
		}
		return fmt.Sprintf("GetAllChildrenNumber{%d}", r.TotalNumber)
	case proto.OpGetEphemerals:
		var r proto.GetEphemeralsResponse
		if err := dec(&r); err != nil {
			return err.Error()
		}
		return "GetEphemerals{" + sortedStrings(r.Ephemerals) + "}"
	case proto.OpAddWatch:
		var r proto.ErrorResponse
		if err := dec(&r); err != nil {
			return err.Error()
		}
		return fmt.Sprintf("AddWatch{%d}", r.Err)
	case proto.OpWhoAmI:
		var r proto.WhoAmIResponse
		if err := dec(&r); err != nil {
			return err.Error()
		}
		parts := make([]string, len(r.ClientInfo))
		for i, ci := range r.ClientInfo {
			parts[i] = ci.AuthScheme + ":" + ci.User
		}
		return "WhoAmI[" + strings.Join(parts, ", ") + "]"
	case proto.OpSASL:
		var r proto.SetSASLResponse
		if err := dec(&r); err != nil {
			return err.Error()
		}
		return fmt.Sprintf("SASL{%x}", r.Token)
	case proto.OpMulti, proto.OpMultiRead:
		return s.multi(req, f, c)
	}
	if len(f.Body) > 0 {
		return fmt.Sprintf("body=%x", f.Body)
	}
	return "(no body)"
}

// isContainerFlags reports whether a multi create op carries the container flag (then both
// versions turn it into a createContainer op).
func isContainerFlags(r proto.Record) bool {
	c, ok := r.(*proto.CreateRequest)
	return ok && c.Flags == proto.ModeContainer
}

// multi renders a multi/multiRead result list. create2 results follow the known difference
// "multi-create-ops": 3.8.0 answers type 1 (path only), Warren (3.9) type 15 with the new node's
// stat, which is checked here against the request and the reply.
func (s *side) multi(req proto.Record, f rawzk.Frame, c *sconn) string {
	var r proto.MultiResponse
	if err := decodeExact(f.Body, &r); err != nil {
		return err.Error()
	}
	var ops []proto.MultiOp
	if mr, ok := req.(*proto.MultiRequest); ok {
		ops = mr.Ops
	}
	n := s.n
	parts := make([]string, 0, len(r.Results))
	for i, res := range r.Results {
		var reqOp proto.OpCode = -100
		if i < len(ops) {
			reqOp = ops[i].Type
		}
		switch {
		case res.Type == proto.OpError:
			parts = append(parts, fmt.Sprintf("error(%d)", res.Err))
		case reqOp == proto.OpCreate2 && !isContainerFlags(ops[i].Body):
			parts = append(parts, s.multiCreate2(ops[i], res, f.Header.Zxid, c))
		default:
			switch b := res.Body.(type) {
			case *proto.CreateResponse:
				parts = append(parts, fmt.Sprintf("create{%q}", b.Path))
			case *proto.Create2Response:
				parts = append(parts, fmt.Sprintf("create2{%q %s}", b.Path, n.stat(b.Stat)))
			case *proto.SetDataResponse:
				parts = append(parts, "setData"+n.stat(b.Stat))
			case *proto.GetDataResponse:
				parts = append(parts, fmt.Sprintf("getData{%s %s}", data(b.Data), n.stat(b.Stat)))
			case *proto.GetChildrenResponse:
				parts = append(parts, "getChildren"+sortedStrings(b.Children))
			case nil:
				parts = append(parts, res.Type.String())
			default:
				parts = append(parts, fmt.Sprintf("%v%+v", res.Type, b))
			}
		}
	}
	return "Multi[" + strings.Join(parts, " ") + "]"
}

func (s *side) multiCreate2(op proto.MultiOp, res proto.MultiResult, zxid int64, c *sconn) string {
	var path string
	switch b := res.Body.(type) {
	case *proto.CreateResponse:
		if !s.zk || res.Type != proto.OpCreate {
			return fmt.Sprintf("unexpected %v result %+v to %v", res.Type, b, op.Type)
		}
		path = b.Path
	case *proto.Create2Response:
		if s.zk || res.Type != proto.OpCreate2 {
			return fmt.Sprintf("unexpected %v result %+v to %v", res.Type, b, op.Type)
		}
		var reqData []byte
		var flags int32
		switch rq := op.Body.(type) {
		case *proto.CreateRequest:
			reqData, flags = rq.Data, rq.Flags
		case *proto.CreateTTLRequest:
			reqData, flags = rq.Data, rq.Flags
		}
		st := b.Stat
		var owner int64
		if flags == proto.ModeEphemeral || flags == proto.ModeEphemeralSequential {
			owner = s.sess[c.sess].sid
		}
		if st.Czxid != zxid || st.Mzxid != zxid || st.Pzxid != zxid || st.Version != 0 || st.Cversion != 0 ||
			st.Aversion != 0 || st.NumChildren != 0 || st.DataLength != int32(len(reqData)) ||
			st.EphemeralOwner != owner || s.n.time(st.Ctime) != "T" || st.Mtime != st.Ctime {
			return fmt.Sprintf("create2 result with a wrong stat %+v (multi zxid %d)", st, zxid)
		}
		path = b.Path
	default:
		return fmt.Sprintf("unexpected %v result to %v", res.Type, op.Type)
	}
	kdUsed("multi-create-ops")
	return fmt.Sprintf("create2-in-multi{%q}", path)
}

// ---------------------------------------------------------------------------------------------
// Cleanup

// finish closes every session the scenario opened (so none expires later and disturbs the
// next scenario) and deletes everything it created, on both servers.
func (h *H) finish() {
	if *traceFlag {
		h.t.Logf("transcript:\n%s", strings.Join(h.history, "\n"))
	}
	var errs [2][]string
	h.runBoth(func(s *side) {
		var bad []string
		for name, si := range s.sess {
			var c *sconn
			for _, sc := range s.conns {
				if sc.sess == name && !sc.closed {
					c = sc
				}
			}
			if c == nil {
				rc, err := rawzk.Dial(s.addr, ioTimeout)
				if err != nil {
					bad = append(bad, err.Error())
					continue
				}
				resp, _, err := rc.Connect(rawzk.ConnectOptions{TimeoutMs: 30000, SessionID: si.sid, Passwd: si.pw, ReadOnlyByte: true})
				if err != nil || resp.SessionID == 0 {
					rc.Close()
					continue // already gone
				}
				c = &sconn{c: rc}
			}
			c.xid++
			if _, _, err := c.c.Call(c.xid, proto.OpCloseSession, nil); err != nil {
				bad = append(bad, fmt.Sprintf("closing session %s: %v", name, err))
			}
			c.c.Close()
		}
		for _, c := range s.conns {
			c.c.Close()
		}
		if err := cleanTree(s.addr); err != nil {
			bad = append(bad, err.Error())
		}
		if s.zk {
			errs[0] = bad
		} else {
			errs[1] = bad
		}
	})
	for i, e := range errs {
		if len(e) > 0 {
			h.t.Errorf("cleanup on %s: %s", h.sides[i].name, strings.Join(e, "; "))
		}
	}
}

// cleanTree deletes every node except /zookeeper, /zookeeper/quota and /zookeeper/config (their
// children go too), as the super user.
func cleanTree(addr string) error {
	c, err := rawzk.Dial(addr, ioTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, _, err := c.Connect(rawzk.ConnectOptions{TimeoutMs: 30000, ReadOnlyByte: true}); err != nil {
		return err
	}
	var xid int32
	call := func(op proto.OpCode, body proto.Record) (rawzk.Frame, error) {
		xid++
		f, _, err := c.Call(xid, op, body)
		return f, err
	}
	if f, err := call(proto.OpAuth, &proto.AuthPacket{Scheme: "digest", Auth: []byte(superAuth)}); err != nil || f.Header.Err != 0 {
		return fmt.Errorf("super auth: %v %+v", err, f.Header)
	}
	var walk func(p string) error
	walk = func(p string) error {
		f, err := call(proto.OpGetChildren, &proto.GetChildrenRequest{Path: p})
		if err != nil {
			return err
		}
		if f.Header.Err != 0 {
			return nil
		}
		var r proto.GetChildrenResponse
		if err := rawzk.Decode(f.Body, &r); err != nil {
			return err
		}
		for _, ch := range r.Children {
			cp := p + "/" + ch
			if p == "/" {
				cp = "/" + ch
			}
			if err := walk(cp); err != nil {
				return err
			}
			if cp == "/zookeeper" || cp == "/zookeeper/quota" || cp == "/zookeeper/config" {
				continue
			}
			f, err := call(proto.OpDelete, &proto.DeleteRequest{Path: cp, Version: -1})
			if err != nil {
				return err
			}
			if f.Header.Err != 0 && f.Header.Err != int32(proto.ErrNoNode) {
				return fmt.Errorf("delete %s: %d", cp, f.Header.Err)
			}
		}
		return nil
	}
	if err := walk("/"); err != nil {
		return err
	}
	_, err = call(proto.OpCloseSession, nil)
	return err
}
