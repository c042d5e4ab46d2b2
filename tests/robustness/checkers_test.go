package robustness

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/warren-zk/warren/zk"
)

// Checker names, as violations are prefixed.
const (
	ckLinear     = "linearizable"
	ckSession    = "sequential-consistency"
	ckLost       = "lost-write"
	ckReplicas   = "replicas-identical"
	ckSequential = "sequential-names"
	ckEphemeral  = "ephemerals"
	ckWatch      = "watch-events"
	ckExpiry     = "session-expiry"
)

// --- linearizability of writes, CAS and quorum reads (porcupine, one register per key) ---

type regState struct {
	value   string
	version int32
}

type regInput struct {
	kind   regKind
	value  string
	expect int32
}

type regOutput struct {
	out     outcome
	value   string
	version int32
}

// registerModel is a ZooKeeper node's (data, version) under setData(version) and reads. An
// operation whose outcome is unknown may have happened: it has an open end (return +inf), so
// the checker may linearize it anywhere after its call, including after everything else
// (which is the same as not having happened).
var registerModel = porcupine.Model{
	Init: func() interface{} { return regState{value: "init"} },
	Step: func(st, in, out interface{}) (bool, interface{}) {
		s, i, o := st.(regState), in.(regInput), out.(regOutput)
		next := regState{value: i.value, version: s.version + 1}
		switch i.kind {
		case regRead:
			return o.out == outOK && o.value == s.value && o.version == s.version, s
		case regWrite:
			switch o.out {
			case outOK:
				return o.version == s.version+1, next
			case outFail:
				return true, s
			}
			return true, next
		case regCAS:
			switch o.out {
			case outOK:
				return s.version == i.expect && o.version == i.expect+1, next
			case outFail:
				return s.version != i.expect, s
			}
			if s.version == i.expect {
				return true, next
			}
			return true, s
		}
		return false, s
	},
	DescribeOperation: func(in, out interface{}) string {
		i, o := in.(regInput), out.(regOutput)
		switch i.kind {
		case regRead:
			return fmt.Sprintf("read -> %q v%d", o.value, o.version)
		case regWrite:
			return fmt.Sprintf("write(%q) -> %s v%d", i.value, o.out, o.version)
		}
		return fmt.Sprintf("cas(v%d, %q) -> %s v%d", i.expect, i.value, o.out, o.version)
	},
	DescribeState: func(st interface{}) string {
		s := st.(regState)
		return fmt.Sprintf("%q v%d", s.value, s.version)
	},
}

// linStats says how much the linearizability checker looked at.
type linStats struct {
	keys, ops, unknown int
	happened, dropped  int // unknown outcomes settled by resolveUnknown
}

// resolveUnknown uses what clients saw to settle operations whose outcome the client did not
// learn, before porcupine sees them (an op left unknown may be linearized anywhere after its
// call, and each one multiplies porcupine's search). Versions of a key are produced one by
// one, each by exactly one write, and every write carries a unique value; final is the key's
// version once everything has stopped. So:
//   - an unknown write or CAS whose value some read (or the final state) showed at version n
//     happened, and produced version n: it becomes ok with version n (its return stays +inf);
//   - otherwise it can only have produced a version nobody saw (a gap): one after every
//     version acknowledged or read before it was called, no later than final, and for a CAS
//     with expected version e exactly e+1. An unknown op with no such gap did not happen: it is
//     left out.
//
// Everything else stays unknown. known maps (key, version) to the value seen.
func resolveUnknown(ops []regOp, known map[keyVersion]string, final map[string]int32) (out []regOp, happened, dropped int) {
	byValue := map[string]map[string]int32{}
	for kv, val := range known {
		m := byValue[kv.key]
		if m == nil {
			m = map[string]int32{}
			byValue[kv.key] = m
		}
		m[val] = kv.version
	}
	// Per key: versions completed (ok ops) sorted by return time, with a running maximum,
	// to find the highest version known to exist when an op was called.
	type done struct {
		ret int64
		max int32
	}
	completed := map[string][]done{}
	for _, o := range ops {
		if o.out == outOK && o.ret < maxTime {
			completed[o.key] = append(completed[o.key], done{ret: o.ret, max: o.version})
		}
	}
	for _, c := range completed {
		sort.Slice(c, func(i, j int) bool { return c[i].ret < c[j].ret })
		for i := 1; i < len(c); i++ {
			c[i].max = max(c[i].max, c[i-1].max)
		}
	}
	lowerBound := func(key string, call int64) int32 {
		c := completed[key]
		i := sort.Search(len(c), func(i int) bool { return c[i].ret >= call })
		if i == 0 {
			return 0
		}
		return c[i-1].max
	}
	hasGap := func(key string, from, to int32) bool { // some version in [from, to] unseen
		for ver := from; ver <= to; ver++ {
			if _, ok := known[keyVersion{key, ver}]; !ok {
				return true
			}
		}
		return false
	}
	for _, o := range ops {
		if o.out == outUnknown && o.kind != regRead {
			if ver, ok := byValue[o.key][o.value]; ok && ver > 0 {
				o.out, o.version = outOK, ver
				o.ret = maxTime
				happened++
			} else if f, ok := final[o.key]; ok {
				lb := lowerBound(o.key, o.call)
				possible := hasGap(o.key, lb+1, f)
				if o.kind == regCAS {
					possible = o.expect+1 > lb && o.expect+1 <= f && hasGap(o.key, o.expect+1, o.expect+1)
				}
				if !possible {
					dropped++
					continue
				}
			}
		}
		out = append(out, o)
	}
	return out, happened, dropped
}

// checkLinearizable checks the register history of every key with porcupine. On a violation
// (or when porcupine cannot decide within timeout) it records it and, when dir is set, writes
// the key's history and porcupine's visualization there.
func checkLinearizable(ops []regOp, timeout time.Duration, dir string, v *violations) linStats {
	byKey := map[string][]porcupine.Operation{}
	var st linStats
	for _, o := range ops {
		ret := o.ret
		if o.out == outUnknown || o.ret >= maxTime {
			ret = maxTime
		}
		if o.out == outUnknown {
			st.unknown++
		}
		byKey[o.key] = append(byKey[o.key], porcupine.Operation{
			ClientId: o.client, Call: o.call, Return: ret,
			Input:  regInput{kind: o.kind, value: o.value, expect: o.expect},
			Output: regOutput{out: o.out, value: o.value, version: o.version},
		})
		st.ops++
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	st.keys = len(keys)
	for _, k := range keys {
		h := byKey[k]
		sort.SliceStable(h, func(i, j int) bool { return h[i].Call < h[j].Call })
		res, info := porcupine.CheckOperationsVerbose(registerModel, h, timeout)
		if res == porcupine.Ok {
			continue
		}
		where := ""
		if f := writeReport(dir, "history-"+strings.NewReplacer("/", "_").Replace(k)+".txt", describeOps(h, len(h))); f != "" {
			where += "; history: " + f
		}
		if dir != "" {
			f := filepath.Join(dir, "porcupine-"+strings.NewReplacer("/", "_").Replace(k)+".html")
			if err := porcupine.VisualizePath(registerModel, info, f); err == nil {
				where += "; visualization: " + f
			}
		}
		if res == porcupine.Illegal {
			v.add(ckLinear, "key %s: the %d operations on it are not linearizable%s\n%s", k, len(h), where, describeOps(h, 40))
		} else {
			v.add(ckLinear, "key %s: porcupine could not decide within %v (%d operations)%s", k, timeout, len(h), where)
		}
	}
	return st
}

func describeOps(h []porcupine.Operation, limit int) string {
	var b strings.Builder
	for i, o := range h {
		if i == limit {
			fmt.Fprintf(&b, "    ... %d more\n", len(h)-i)
			break
		}
		ret := strconv.FormatInt(o.Return, 10)
		if o.Return >= maxTime {
			ret = "inf"
		}
		fmt.Fprintf(&b, "    c%d [%d, %s] %s\n", o.ClientId, o.Call, ret, registerModel.DescribeOperation(o.Input, o.Output))
	}
	return b.String()
}

// --- per-session sequential consistency of plain reads ---

type keyVersion struct {
	key     string
	version int32
}

// checkSessions checks what each session observed of the register keys (reads and its own
// acknowledged writes, in session order), with the final state as one more observation:
//   - value validity: one (value, mzxid) per (key, version), version 0 is "init", and every
//     value is one some operation tried to write;
//   - monotonic reads and read-your-writes: per key, the version never decreases in a session;
//   - single system image: once a session has seen zxid Z, a read of key k may not return
//     version n when version n+1 of k has a zxid <= Z.
func checkSessions(obs []readObs, final []readObs, attempted map[string]map[string]bool, v *violations) int {
	known := map[keyVersion]readObs{}
	all := append(append([]readObs(nil), obs...), final...)
	for _, o := range all {
		kv := keyVersion{o.key, o.version}
		if p, ok := known[kv]; ok {
			if p.value != o.value || p.mzxid != o.mzxid {
				v.add(ckSession, "%s version %d seen as %q (mzxid 0x%x, by %s) and as %q (mzxid 0x%x, by %s)",
					o.key, o.version, p.value, p.mzxid, p.session, o.value, o.mzxid, o.session)
			}
		} else {
			known[kv] = o
		}
		if o.version == 0 && o.value != "init" {
			v.add(ckSession, "%s version 0 has value %q (by %s), not its initial value", o.key, o.value, o.session)
		} else if !attempted[o.key][o.value] {
			v.add(ckSession, "%s version %d has value %q (by %s), which nobody wrote", o.key, o.version, o.value, o.session)
		}
	}
	bySession := map[string][]readObs{}
	var order []string
	for _, o := range obs {
		if _, ok := bySession[o.session]; !ok {
			order = append(order, o.session)
		}
		bySession[o.session] = append(bySession[o.session], o)
	}
	for _, s := range order {
		maxV := map[string]readObs{}
		var z int64
		var zFrom readObs
		for _, o := range bySession[s] {
			if p, ok := maxV[o.key]; ok && o.version < p.version {
				what := "read"
				if p.write {
					what = "own write"
				}
				v.add(ckSession, "session %s: %s at v%d after its %s of v%d (non-monotonic)", s, o.key, o.version, what, p.version)
			}
			if !o.write {
				if n, ok := known[keyVersion{o.key, o.version + 1}]; ok && n.mzxid <= z {
					v.add(ckSession, "session %s: stale read of %s v%d (t=%d) after it had seen zxid 0x%x (%s v%d), but v%d has zxid 0x%x",
						s, o.key, o.version, o.at, z, zFrom.key, zFrom.version, o.version+1, n.mzxid)
				}
			}
			if p, ok := maxV[o.key]; !ok || o.version >= p.version {
				maxV[o.key] = o
			}
			if o.mzxid > z {
				z, zFrom = o.mzxid, o
			}
		}
	}
	return len(obs)
}

// --- no acknowledged write lost ---

// checkLost checks the final tree against what clients were told: every register key ends at
// or past every version a client wrote or saw; every acknowledged create exists (ephemerals
// are the ephemeral checker's); every acknowledged setData of the watched subtree is there.
func checkLost(h *history, final tree, v *violations) int {
	n := 0
	maxV := map[string]int32{}
	why := map[string]string{}
	note := func(key string, ver int32, w string) {
		if p, ok := maxV[key]; !ok || ver > p {
			maxV[key], why[key] = ver, w
		}
	}
	for _, o := range h.reg {
		if o.out == outOK && o.kind != regRead {
			note(o.key, o.version, fmt.Sprintf("acknowledged %s by %s", o.kind, o.session))
		}
	}
	for _, o := range h.obs {
		note(o.key, o.version, "seen by "+o.session)
	}
	keys := make([]string, 0, len(maxV))
	for k := range maxV {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n++
		nd, ok := final[k]
		if !ok {
			v.add(ckLost, "register %s is gone (it reached v%d, %s)", k, maxV[k], why[k])
			continue
		}
		if nd.stat.Version < maxV[k] {
			v.add(ckLost, "register %s ends at v%d but reached v%d (%s): a write was rolled back", k, nd.stat.Version, maxV[k], why[k])
		}
	}
	for _, c := range h.creates {
		if c.out != outOK || c.eph {
			continue
		}
		n++
		if _, ok := final[c.name]; !ok {
			v.add(ckLost, "acknowledged create of %s (by %s) is gone", c.name, c.session)
		}
	}
	for _, s := range h.sets {
		if s.out != outOK {
			continue
		}
		n++
		if nd, ok := final[s.path]; !ok || nd.stat.Version < 1 {
			v.add(ckLost, "acknowledged setData of %s is gone (final version %d, exists %v)", s.path, nd.stat.Version, ok)
		}
	}
	return n
}

// --- all replicas identical ---

// diffTrees returns the differences between two dumped trees (at most max lines).
func diffTrees(a, b tree, max int) []string {
	var out []string
	add := func(format string, args ...any) {
		if len(out) < max {
			out = append(out, fmt.Sprintf(format, args...))
		} else if len(out) == max {
			out = append(out, "...")
		}
	}
	for _, p := range a.paths() {
		x := a[p]
		y, ok := b[p]
		if !ok {
			add("%s only in the first (%s)", p, describeNode(x))
			continue
		}
		if x.data != y.data {
			add("%s: data %q vs %q", p, trunc(x.data), trunc(y.data))
		}
		if x.stat != y.stat {
			add("%s: stat %s vs %s", p, statDiff(x.stat, y.stat), statDiff(y.stat, x.stat))
		}
	}
	for _, p := range b.paths() {
		if _, ok := a[p]; !ok {
			add("%s only in the second (%s)", p, describeNode(b[p]))
		}
	}
	return out
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func describeNode(n znode) string {
	return fmt.Sprintf("data %q, czxid 0x%x, version %d, owner 0x%x", trunc(n.data), n.stat.Czxid, n.stat.Version, n.stat.EphemeralOwner)
}

// statDiff names the fields of a that differ from b.
func statDiff(a, b zk.Stat) string {
	var f []string
	if a.Czxid != b.Czxid {
		f = append(f, fmt.Sprintf("czxid=0x%x", a.Czxid))
	}
	if a.Mzxid != b.Mzxid {
		f = append(f, fmt.Sprintf("mzxid=0x%x", a.Mzxid))
	}
	if a.Ctime != b.Ctime {
		f = append(f, fmt.Sprintf("ctime=%d", a.Ctime))
	}
	if a.Mtime != b.Mtime {
		f = append(f, fmt.Sprintf("mtime=%d", a.Mtime))
	}
	if a.Version != b.Version {
		f = append(f, fmt.Sprintf("version=%d", a.Version))
	}
	if a.Cversion != b.Cversion {
		f = append(f, fmt.Sprintf("cversion=%d", a.Cversion))
	}
	if a.Aversion != b.Aversion {
		f = append(f, fmt.Sprintf("aversion=%d", a.Aversion))
	}
	if a.EphemeralOwner != b.EphemeralOwner {
		f = append(f, fmt.Sprintf("ephemeralOwner=0x%x", a.EphemeralOwner))
	}
	if a.DataLength != b.DataLength {
		f = append(f, fmt.Sprintf("dataLength=%d", a.DataLength))
	}
	if a.NumChildren != b.NumChildren {
		f = append(f, fmt.Sprintf("numChildren=%d", a.NumChildren))
	}
	if a.Pzxid != b.Pzxid {
		f = append(f, fmt.Sprintf("pzxid=0x%x", a.Pzxid))
	}
	return "{" + strings.Join(f, " ") + "}"
}

// checkReplicas compares every member's tree with the first's. known, if not nil, names a
// known behaviour that explains a difference ("" if none does).
func checkReplicas(names []string, trees []tree, known func(a, b tree) string, v *violations) {
	for i := 1; i < len(trees); i++ {
		d := diffTrees(trees[0], trees[i], 20)
		if len(d) == 0 {
			continue
		}
		if known != nil {
			if label := known(trees[0], trees[i]); label != "" {
				v.addKnown(label, "%s and %s differ:\n    %s", names[0], names[i], strings.Join(d, "\n    "))
				continue
			}
		}
		v.add(ckReplicas, "%s and %s differ:\n    %s", names[0], names[i], strings.Join(d, "\n    "))
	}
}

// zkStaleEpochTxns recognises a ZooKeeper 3.8.0 divergence: the two trees hold exactly the
// same paths, and every node that differs was created in different epochs on the two members
// (a member kept transactions of an epoch the others replaced, as a leader cut off with
// proposals in flight can after it rejoins; ZooKeeper's follower sync has known bugs of this
// family, e.g. ZOOKEEPER-2846 and ZOOKEEPER-5094). Anything else is not explained.
func zkStaleEpochTxns(a, b tree) string {
	if len(a) != len(b) {
		return ""
	}
	differ := 0
	for p, x := range a {
		y, ok := b[p]
		if !ok {
			return ""
		}
		if x == y {
			continue
		}
		if x.stat.Czxid>>32 == y.stat.Czxid>>32 {
			return ""
		}
		differ++
	}
	if differ == 0 {
		return ""
	}
	return "zookeeper-stale-epoch-txns"
}

// --- sequential names unique and increasing ---

// seqNumber parses the 10-digit counter ZooKeeper appends to a sequential name.
func seqNumber(name, prefix string) (int64, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || len(rest) != 10 {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	return n, err == nil
}

// checkSequential checks acknowledged sequential creates: each name is the requested prefix
// and a 10-digit counter, no two creates got the same name, and the counters follow real
// time (a create that started after another one was acknowledged got a larger counter). The
// final tree holds no more sequential children than were attempted.
func checkSequential(creates []createOp, final tree, v *violations) int {
	type seqOp struct {
		c createOp
		n int64
	}
	byPrefix := map[string][]seqOp{}
	attempts := map[string]int{}
	for _, c := range creates {
		if !c.seq {
			continue
		}
		attempts[c.path]++
		if c.out != outOK {
			continue
		}
		n, ok := seqNumber(c.name, c.path)
		if !ok {
			v.add(ckSequential, "create of %s (by %s) returned %q, not the prefix and a 10-digit counter", c.path, c.session, c.name)
			continue
		}
		byPrefix[c.path] = append(byPrefix[c.path], seqOp{c, n})
	}
	checked := 0
	prefixes := make([]string, 0, len(byPrefix))
	for p := range byPrefix {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, prefix := range prefixes {
		ops := byPrefix[prefix]
		checked += len(ops)
		seen := map[string]createOp{}
		for _, o := range ops {
			if p, ok := seen[o.c.name]; ok {
				v.add(ckSequential, "%s was returned twice: to %s [%d,%d] and to %s [%d,%d]", o.c.name,
					p.session, p.call, p.ret, o.c.session, o.c.call, o.c.ret)
			}
			seen[o.c.name] = o.c
		}
		// Real-time order: sweep the creates by call time, with every create that returned
		// before that call.
		byCall := append([]seqOp(nil), ops...)
		sort.Slice(byCall, func(i, j int) bool { return byCall[i].c.call < byCall[j].c.call })
		byRet := append([]seqOp(nil), ops...)
		sort.Slice(byRet, func(i, j int) bool { return byRet[i].c.ret < byRet[j].c.ret })
		j := 0
		best := seqOp{n: -1}
		for _, b := range byCall {
			for j < len(byRet) && byRet[j].c.ret < b.c.call {
				if byRet[j].n > best.n {
					best = byRet[j]
				}
				j++
			}
			if best.n >= b.n {
				v.add(ckSequential, "%s (by %s, called at %d) is not after %s (by %s, acknowledged at %d)",
					b.c.name, b.c.session, b.c.call, best.c.name, best.c.session, best.c.ret)
			}
		}
	}
	// Children of a sequential parent in the final tree: no more than were attempted.
	if final != nil {
		for prefix, n := range attempts {
			parent := path.Dir(prefix)
			base := path.Base(prefix)
			have := 0
			for _, c := range final.children(parent) {
				if strings.HasPrefix(path.Base(c), base) {
					have++
				}
			}
			if have > n {
				v.add(ckSequential, "%s has %d children named %s*, but only %d creates were attempted", parent, have, base, n)
			}
		}
	}
	return checked
}

// --- ephemerals ---

// checkEphemeralsAlive checks, on every replica's tree of the ephemeral directory while some
// sessions are still alive: every acknowledged ephemeral of a live session is there and owned
// by it, and no ephemeral belongs to a session that ended more than its timeout (plus grace)
// before `now`.
func checkEphemeralsAlive(names []string, trees []tree, dir string, sessions []*ephSession, now int64, grace time.Duration, v *violations) int {
	bySID := map[int64]*ephSession{}
	for _, s := range sessions {
		bySID[s.sid] = s
	}
	n := 0
	for i, t := range trees {
		for _, s := range sessions {
			if s.fate != fateAlive {
				continue
			}
			for _, c := range s.creates {
				if c.out != outOK {
					continue
				}
				n++
				nd, ok := t[c.name]
				switch {
				case !ok:
					v.add(ckEphemeral, "%s: %s of live session %s (0x%x) is missing", names[i], c.name, s.name, s.sid)
				case nd.stat.EphemeralOwner != s.sid:
					v.add(ckEphemeral, "%s: %s is owned by 0x%x, not by live session %s (0x%x)", names[i], c.name, nd.stat.EphemeralOwner, s.name, s.sid)
				}
			}
		}
		for _, p := range t.children(dir) {
			nd := t[p]
			s := bySID[nd.stat.EphemeralOwner]
			switch {
			case nd.stat.EphemeralOwner == 0:
				v.add(ckEphemeral, "%s: %s is not ephemeral", names[i], p)
			case s == nil:
				v.add(ckEphemeral, "%s: %s is owned by 0x%x, a session the workload never had", names[i], p, nd.stat.EphemeralOwner)
			case s.fate != fateAlive && now-s.endedAt > (time.Duration(s.timeout)*time.Millisecond+grace).Nanoseconds():
				v.add(ckEphemeral, "%s: %s of session %s (0x%x, %s %.1fs earlier, timeout %dms) still exists",
					names[i], p, s.name, s.sid, s.fate, float64(now-s.endedAt)/1e9, s.timeout)
			}
		}
	}
	return n
}

// checkExpiries reports every long-timeout session that expired. Its client kept
// reconnecting (it detects a dead connection after 2/3 of the timeout and moves to another
// server at once), every nemesis leaves a majority that serves or gets one back, and a new
// leader gives every session a full timeout before expiring any: no server can have gone a
// whole timeout without hearing from such a session. explain names a known cause from the
// servers' logs ("" if none); an expiry whose cause is in known is recorded as that known
// issue instead of a violation.
func checkExpiries(exp []sessionExpiry, explain func(sid int64) (cause, detail string), known map[string]string, v *violations) {
	for _, e := range exp {
		msg := fmt.Sprintf("session %s (timeout %dms, opened at t=%.2fs) was expired by the ensemble; noticed by the workload at t=%.2fs",
			e.name, e.timeout, float64(e.opened)/1e9, float64(e.noticed)/1e9)
		cause, detail := "", ""
		if explain != nil {
			cause, detail = explain(e.sid)
		}
		if label, ok := known[cause]; ok && cause != "" {
			v.addKnown(label, "%s: %s", msg, detail)
			continue
		}
		if detail != "" {
			msg += " (" + cause + ": " + detail + ")"
		}
		v.add(ckExpiry, "%s", msg)
	}
}

// checkEphemeralsGone checks, once every session has ended and its timeout has passed, that
// no replica still has an ephemeral node anywhere.
func checkEphemeralsGone(names []string, trees []tree, sessions []*ephSession, v *violations) {
	bySID := map[int64]*ephSession{}
	for _, s := range sessions {
		bySID[s.sid] = s
	}
	for i, t := range trees {
		for _, p := range t.paths() {
			if o := t[p].stat.EphemeralOwner; o != 0 {
				who := "unknown session"
				if s := bySID[o]; s != nil {
					who = fmt.Sprintf("session %s, %s", s.name, s.fate)
				}
				v.add(ckEphemeral, "%s: %s of ended session 0x%x (%s) still exists after every session ended", names[i], p, o, who)
			}
		}
	}
}

// --- watch events ---

// watchTruth derives every event of the watched subtree from the final tree: its nodes are
// never deleted and each is set at most once (setData version 0), so NodeCreated(p) happened
// at czxid(p) and NodeDataChanged(p) at mzxid(p) when version(p) is 1.
func watchTruth(final tree, root string, v *violations) map[eventKey]int64 {
	truth := map[eventKey]int64{}
	for p, n := range final {
		if p != root && !strings.HasPrefix(p, root+"/") {
			continue
		}
		truth[eventKey{zk.EventNodeCreated, p}] = n.stat.Czxid
		switch {
		case n.stat.Version == 1:
			truth[eventKey{zk.EventNodeDataChanged, p}] = n.stat.Mzxid
		case n.stat.Version > 1:
			v.add(ckWatch, "%s was set %d times, but the workload sets each node at most once (version 0)", p, n.stat.Version)
		}
	}
	return truth
}

// checkWatches checks every watcher connection against the truth (event -> zxid):
//   - every event is a committed change (no phantoms), and a header zxid, when the server
//     sends one (Warren, ZooKeeper 3.9), is that change's zxid;
//   - per connection, across reconnects: no event twice, zxids strictly increasing;
//   - per stable connection (segment): no event older than the registration (raw watchers
//     know it from the addWatch reply), and no gap: a raw watcher must have received every
//     change after the registration up to each ping reply's zxid before that reply; a zk.Conn
//     watcher every change between the first and last event of the segment.
//
// explain, if set, may name a known cause for a segment's gaps ("" if none); gaps with a cause
// in known are recorded as that known issue instead of violations.
func checkWatches(streams []*watchStream, truth map[eventKey]int64, explain func(seg *watchSegment) (cause, detail string), known map[string]string, v *violations) (events int) {
	type te struct {
		k eventKey
		z int64
	}
	sorted := make([]te, 0, len(truth))
	for k, z := range truth {
		sorted = append(sorted, te{k, z})
	}
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].z != sorted[j].z {
			return sorted[i].z < sorted[j].z
		}
		return sorted[i].k.String() < sorted[j].k.String()
	})
	// first index in sorted with zxid > z
	after := func(z int64) int { return sort.Search(len(sorted), func(i int) bool { return sorted[i].z > z }) }
	for _, s := range streams {
		seen := map[eventKey]string{}
		var prev int64
		var prevEv watchEvent
		for si, seg := range s.segments {
			where := fmt.Sprintf("%s segment %d (%s)", s.name, si, seg.server)
			missed := func(format string, args ...any) {
				if explain != nil {
					if cause, detail := explain(seg); known[cause] != "" {
						v.addKnown(known[cause], "%s: %s (%s)", where, fmt.Sprintf(format, args...), detail)
						return
					}
				}
				v.add(ckWatch, "%s: %s", where, fmt.Sprintf(format, args...))
			}
			zs := make([]int64, len(seg.events))
			for i, ev := range seg.events {
				events++
				zs[i] = -1
				k := ev.key()
				z, ok := truth[k]
				if !ok {
					v.add(ckWatch, "%s: event %d %s matches no committed change (phantom)", where, i, k)
					continue
				}
				zs[i] = z
				if ev.zxid > 0 && ev.zxid != z {
					v.add(ckWatch, "%s: event %d %s carries zxid 0x%x, but that change has zxid 0x%x", where, i, k, ev.zxid, z)
				}
				if w, dup := seen[k]; dup {
					v.add(ckWatch, "%s: event %d %s delivered twice on this connection (first in %s)", where, i, k, w)
					continue
				}
				seen[k] = fmt.Sprintf("segment %d", si)
				if z <= prev {
					v.add(ckWatch, "%s: event %d %s (zxid 0x%x) after %s (zxid 0x%x): out of zxid order", where, i, k, z, prevEv.key(), prev)
				} else {
					prev, prevEv = z, ev
				}
				if seg.regZxid >= 0 && z <= seg.regZxid {
					v.add(ckWatch, "%s: event %d %s (zxid 0x%x) is not newer than the registration (zxid 0x%x)", where, i, k, z, seg.regZxid)
				}
			}
			if seg.regZxid >= 0 {
				// Raw watcher: everything in (regZxid, ping zxid] before each ping reply.
				got := map[eventKey]bool{}
				n := 0
				next := after(seg.regZxid)
				for _, pm := range seg.pings {
					for ; n < pm.n && n < len(seg.events); n++ {
						got[seg.events[n].key()] = true
					}
					for ; next < len(sorted) && sorted[next].z <= pm.zxid; next++ {
						if !got[sorted[next].k] {
							missed("missed %s (zxid 0x%x): not received before a ping reply with zxid 0x%x (registered at 0x%x)",
								sorted[next].k, sorted[next].z, pm.zxid, seg.regZxid)
						}
					}
				}
			} else {
				// zk.Conn watcher: everything between the first and the last event.
				lo, hi := int64(-1), int64(-1)
				got := map[eventKey]bool{}
				for i, z := range zs {
					if z < 0 {
						continue
					}
					got[seg.events[i].key()] = true
					if lo < 0 || z < lo {
						lo = z
					}
					hi = max(hi, z)
				}
				if lo < 0 {
					continue
				}
				for i := after(lo - 1); i < len(sorted) && sorted[i].z <= hi; i++ {
					if !got[sorted[i].k] {
						missed("missed %s (zxid 0x%x) between events at 0x%x and 0x%x on a stable connection",
							sorted[i].k, sorted[i].z, lo, hi)
					}
				}
			}
		}
	}
	return events
}

// --- reading trees ---

// dumpTree reads the subtree at root from one server (after a sync), with every node's data
// and Stat.
func dumpTree(ctx context.Context, addr, root string) (tree, error) {
	// The sequential directory grows with the run: 68,516 children (a 1.1 MB
	// getChildren reply) after one long run, past the client's default
	// jute.maxbuffer of 0xfffff bytes, which breaks the connection as
	// ZooKeeper's clients do.
	c, err := zk.Connect(ctx, addr, zk.WithSessionTimeout(10*time.Second), zk.WithoutShuffle(),
		zk.WithMaxBufferSize(64<<20))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Sync(ctx, root); err != nil {
		return nil, err
	}
	t := tree{}
	queue := []string{root}
	for len(queue) > 0 {
		batch := queue
		queue = nil
		type res struct {
			p    string
			n    znode
			kids []string
			err  error
		}
		out := make(chan res, len(batch))
		sem := make(chan struct{}, 16)
		for _, p := range batch {
			sem <- struct{}{}
			go func(p string) {
				defer func() { <-sem }()
				data, st, err := c.Get(ctx, p)
				if err != nil {
					out <- res{p: p, err: err}
					return
				}
				var kids []string
				if st.NumChildren > 0 {
					kids, err = c.Children(ctx, p)
				}
				out <- res{p: p, n: znode{data: string(data), stat: st}, kids: kids, err: err}
			}(p)
		}
		for range batch {
			r := <-out
			if r.err != nil {
				if zkErrIs(r.err, zk.ErrNoNode) {
					continue // deleted while we read (only ephemerals can be)
				}
				return nil, fmt.Errorf("%s: %w", r.p, r.err)
			}
			t[r.p] = r.n
			for _, k := range r.kids {
				queue = append(queue, path.Join(r.p, k))
			}
		}
	}
	return t, nil
}

// writeReport writes a failure's details (for humans) into dir.
func writeReport(dir, name, text string) string {
	if dir == "" {
		return ""
	}
	f := filepath.Join(dir, name)
	if os.WriteFile(f, []byte(text), 0o644) != nil {
		return ""
	}
	return f
}
