package robustness

import (
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/zk"
)

// Each checker must accept a correct history and reject one with its anomaly. These tests
// need no server.

func expectClean(t *testing.T, v *violations) {
	t.Helper()
	if !v.empty() {
		t.Fatalf("a correct history was rejected:\n%s", v)
	}
}

func expectViolation(t *testing.T, v *violations, checker, substr string) {
	t.Helper()
	if !v.has(checker) {
		t.Fatalf("the anomaly was not detected by %s; violations:\n%s", checker, v)
	}
	if substr != "" && !strings.Contains(v.String(), substr) {
		t.Fatalf("%s detected something, but not %q:\n%s", checker, substr, v)
	}
}

func w(client int, key, val string, out outcome, ver int32, call, ret int64) regOp {
	return regOp{client: client, key: key, kind: regWrite, value: val, out: out, version: ver, call: call, ret: ret}
}

func cas(client int, key string, expect int32, val string, out outcome, ver int32, call, ret int64) regOp {
	return regOp{client: client, key: key, kind: regCAS, expect: expect, value: val, out: out, version: ver, call: call, ret: ret}
}

func rd(client int, key, val string, ver int32, call, ret int64) regOp {
	return regOp{client: client, key: key, kind: regRead, value: val, out: outOK, version: ver, call: call, ret: ret}
}

func TestCheckLinearizable(t *testing.T) {
	const k = "/rb/r/g0000-k0"
	good := []regOp{
		w(0, k, "a", outOK, 1, 0, 10),
		cas(1, k, 1, "b", outOK, 2, 5, 20), // concurrent with the write, linearized after it
		rd(2, k, "b", 2, 25, 30),
		cas(0, k, 1, "c", outFail, 0, 31, 40), // stale CAS: BadVersion
		w(1, k, "d", outUnknown, 0, 41, 42),   // unknown, and seen below: happened
		rd(2, k, "d", 3, 50, 60),
		w(0, k, "e", outUnknown, 0, 61, 62), // unknown, never seen: may not have happened
		rd(1, k, "d", 3, 70, 80),
	}
	cases := []struct {
		name string
		ops  []regOp
	}{
		{"stale read after an acknowledged write", []regOp{
			w(0, k, "a", outOK, 1, 0, 10),
			rd(1, k, "init", 0, 20, 30),
		}},
		{"two CAS from the same version both succeed", []regOp{
			cas(0, k, 0, "a", outOK, 1, 0, 10),
			cas(1, k, 0, "b", outOK, 1, 20, 30),
		}},
		{"a CAS fails although the version matched", []regOp{
			w(0, k, "a", outOK, 1, 0, 10),
			cas(1, k, 1, "b", outFail, 0, 20, 30),
			rd(2, k, "a", 1, 40, 50),
		}},
		{"a read sees a write before it was issued", []regOp{
			rd(1, k, "a", 1, 0, 10),
			w(0, k, "a", outOK, 1, 20, 30),
		}},
		{"a write is reported at the wrong version", []regOp{
			w(0, k, "a", outOK, 1, 0, 10),
			w(1, k, "b", outOK, 3, 20, 30),
		}},
		{"reads go back in time", []regOp{
			w(0, k, "a", outOK, 1, 0, 10),
			w(0, k, "b", outOK, 2, 20, 30),
			rd(1, k, "b", 2, 40, 50),
			rd(2, k, "a", 1, 60, 70),
		}},
	}
	v := &violations{}
	checkLinearizable(good, 10*time.Second, "", v)
	expectClean(t, v)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := &violations{}
			checkLinearizable(c.ops, 10*time.Second, "", v)
			expectViolation(t, v, ckLinear, "not linearizable")
		})
	}
}

func TestResolveUnknown(t *testing.T) {
	const k = "/rb/r/g0000-k0"
	known := map[keyVersion]string{{k, 0}: "init", {k, 1}: "a", {k, 2}: "b", {k, 4}: "d"}
	final := map[string]int32{k: 4}
	ops := []regOp{
		w(0, k, "a", outOK, 1, 0, 10),
		w(1, k, "b", outUnknown, 0, 5, 6),            // its value is version 2: happened
		w(2, k, "x", outUnknown, 0, 7, 8),            // could be version 3 (unseen): stays unknown
		cas(2, k, 0, "y", outUnknown, 0, 20, 21),     // version 1 existed before its call: did not happen
		cas(2, k, 3, "z", outUnknown, 0, 22, 23),     // could have made version 4, but 4 is "d": did not happen
		cas(0, k, 2, "c", outUnknown, 0, 24, 25),     // could be version 3: stays unknown
		w(0, k, "d", outOK, 4, 30, 40),               // version 4
		w(1, k, "late", outUnknown, 0, 50, 51),       // after version 4, the final one: did not happen
		cas(1, k, 4, "late2", outUnknown, 0, 52, 53), // would make version 5 > final: did not happen
	}
	out, happened, dropped := resolveUnknown(ops, known, final)
	if happened != 1 || dropped != 4 {
		t.Fatalf("happened %d dropped %d, want 1 and 4; kept:\n%v", happened, dropped, out)
	}
	for _, o := range out {
		if o.value == "b" && (o.out != outOK || o.version != 2 || o.ret != maxTime) {
			t.Errorf("settled op: %v", o)
		}
	}
	// What is left is still checked: version 3 had to come from x or c.
	v := &violations{}
	checkLinearizable(out, 10*time.Second, "", v)
	expectClean(t, v)
}

func obs(session, key string, ver int32, val string, mzxid int64, write bool) readObs {
	return readObs{session: session, key: key, version: ver, value: val, mzxid: mzxid, write: write}
}

func TestCheckSessions(t *testing.T) {
	const a, b = "/rb/r/a", "/rb/r/b"
	attempted := map[string]map[string]bool{
		a: {"init": true, "a1": true, "a2": true},
		b: {"init": true, "b1": true},
	}
	good := []readObs{
		obs("s1", a, 0, "init", 0x10, false),
		obs("s1", a, 1, "a1", 0x11, true),
		obs("s2", a, 0, "init", 0x10, false), // another session may lag
		obs("s2", b, 1, "b1", 0x12, false),
		obs("s2", a, 1, "a1", 0x11, false),
		obs("s1", a, 2, "a2", 0x13, false),
	}
	final := []readObs{obs("final", a, 2, "a2", 0x13, false), obs("final", b, 1, "b1", 0x12, false)}
	v := &violations{}
	checkSessions(good, final, attempted, v)
	expectClean(t, v)
	cases := []struct {
		name, want string
		obs        []readObs
	}{
		{"non-monotonic reads", "non-monotonic", []readObs{
			obs("s1", a, 2, "a2", 0x13, false), obs("s1", a, 1, "a1", 0x11, false)}},
		{"read does not see the session's own write", "own write", []readObs{
			obs("s1", a, 1, "a1", 0x11, true), obs("s1", a, 0, "init", 0x10, false)}},
		{"stale read after a newer zxid was seen", "stale read", []readObs{
			obs("s2", a, 1, "a1", 0x11, false), // someone's write of a at 0x11 exists
			obs("s1", b, 1, "b1", 0x12, false), // s1 saw zxid 0x12
			obs("s1", a, 0, "init", 0x10, false)}},
		{"two values for one version", "seen as", []readObs{
			obs("s1", a, 1, "a1", 0x11, false), obs("s2", a, 1, "a2", 0x11, false)}},
		{"a value nobody wrote", "nobody wrote", []readObs{obs("s1", a, 1, "zz", 0x11, false)}},
		{"version 0 not the initial value", "initial value", []readObs{obs("s1", a, 0, "a1", 0x10, false)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := &violations{}
			checkSessions(c.obs, nil, attempted, v)
			expectViolation(t, v, ckSession, c.want)
		})
	}
}

func node(data string, st zk.Stat) znode { return znode{data: data, stat: st} }

func TestCheckLost(t *testing.T) {
	const k = "/rb/r/g0000-k0"
	h := newHistory()
	h.reg = []regOp{w(0, k, "a", outOK, 1, 0, 10), w(0, k, "b", outUnknown, 0, 20, 30)}
	h.obs = []readObs{obs("s1", k, 2, "b", 0x20, false)}
	h.creates = []createOp{
		{path: seqPrefix, name: seqPrefix + "0000000001", seq: true, out: outOK},
		{path: seqPrefix, name: seqPrefix + "0000000002", seq: true, out: outUnknown},
		{path: "/rb/w/n0-1", name: "/rb/w/n0-1", out: outOK},
	}
	h.sets = []setOp{{path: "/rb/w/n0-1", out: outOK}}
	final := tree{
		k:                        node("b", zk.Stat{Version: 2}),
		seqPrefix + "0000000001": node("", zk.Stat{}),
		"/rb/w/n0-1":             node("set", zk.Stat{Version: 1}),
	}
	v := &violations{}
	checkLost(h, final, v)
	expectClean(t, v)

	rolledBack := tree{k: node("a", zk.Stat{Version: 1}), seqPrefix + "0000000001": {}, "/rb/w/n0-1": node("set", zk.Stat{Version: 1})}
	v = &violations{}
	checkLost(h, rolledBack, v)
	expectViolation(t, v, ckLost, "rolled back")

	lostCreate := tree{k: node("b", zk.Stat{Version: 2}), "/rb/w/n0-1": node("set", zk.Stat{Version: 1})}
	v = &violations{}
	checkLost(h, lostCreate, v)
	expectViolation(t, v, ckLost, "0000000001 (by")

	lostSet := tree{k: node("b", zk.Stat{Version: 2}), seqPrefix + "0000000001": {}, "/rb/w/n0-1": node("c", zk.Stat{})}
	v = &violations{}
	checkLost(h, lostSet, v)
	expectViolation(t, v, ckLost, "setData of /rb/w/n0-1")
}

func TestCheckReplicas(t *testing.T) {
	base := tree{
		"/":   node("", zk.Stat{NumChildren: 1, Cversion: 1}),
		"/rb": node("init", zk.Stat{Czxid: 2, Mzxid: 2, Pzxid: 2, Ctime: 100, Mtime: 100}),
	}
	same := tree{}
	for p, n := range base {
		same[p] = n
	}
	v := &violations{}
	checkReplicas([]string{"a", "b"}, []tree{base, same}, nil, v)
	expectClean(t, v)
	for _, c := range []struct {
		name, want string
		edit       func(t tree)
	}{
		{"missing node", "only in the first", func(t tree) { delete(t, "/rb") }},
		{"extra node", "only in the second", func(t tree) { t["/x"] = znode{} }},
		{"different data", "data", func(t tree) { n := t["/rb"]; n.data = "x"; t["/rb"] = n }},
		{"different mtime", "mtime", func(t tree) { n := t["/rb"]; n.stat.Mtime++; t["/rb"] = n }},
		{"different pzxid", "pzxid", func(t tree) { n := t["/rb"]; n.stat.Pzxid++; t["/rb"] = n }},
		{"different cversion", "cversion", func(t tree) { n := t["/"]; n.stat.Cversion++; t["/"] = n }},
	} {
		t.Run(c.name, func(t *testing.T) {
			other := tree{}
			for p, n := range base {
				other[p] = n
			}
			c.edit(other)
			v := &violations{}
			checkReplicas([]string{"a", "b"}, []tree{base, other}, nil, v)
			expectViolation(t, v, ckReplicas, c.want)
		})
	}
}

func seqc(name string, call, ret int64) createOp {
	return createOp{session: "s", path: seqPrefix, name: name, seq: true, out: outOK, call: call, ret: ret}
}

func TestCheckSequential(t *testing.T) {
	n := func(i string) string { return seqPrefix + i }
	good := []createOp{
		seqc(n("0000000001"), 0, 10),
		seqc(n("0000000003"), 5, 30), // concurrent with the next: any order
		seqc(n("0000000002"), 6, 20),
		seqc(n("0000000004"), 40, 50),
		{path: seqPrefix, seq: true, out: outUnknown, call: 41, ret: 60},
	}
	final := tree{seqDir: {}, n("0000000001"): {}, n("0000000002"): {}, n("0000000003"): {}, n("0000000004"): {}}
	v := &violations{}
	checkSequential(good, final, v)
	expectClean(t, v)
	for _, c := range []struct {
		name, want string
		ops        []createOp
		final      tree
	}{
		{"a name handed out twice", "returned twice", []createOp{seqc(n("0000000001"), 0, 10), seqc(n("0000000001"), 20, 30)}, nil},
		{"counter goes back in real time", "is not after", []createOp{seqc(n("0000000005"), 0, 10), seqc(n("0000000004"), 20, 30)}, nil},
		{"not a 10-digit counter", "10-digit", []createOp{seqc(n("12"), 0, 10)}, nil},
		{"more children than creates", "were attempted", []createOp{seqc(n("0000000001"), 0, 10)},
			tree{seqDir: {}, n("0000000001"): {}, n("0000000002"): {}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := &violations{}
			checkSequential(c.ops, c.final, v)
			expectViolation(t, v, ckSequential, c.want)
		})
	}
}

func TestCheckEphemerals(t *testing.T) {
	live := &ephSession{name: "keeper", sid: 0x100, timeout: 4000, fate: fateAlive, keeper: true,
		creates: []createOp{{name: ephDir + "/k-0", eph: true, out: outOK}, {name: ephDir + "/k-1", eph: true, out: outUnknown}}}
	ended := &ephSession{name: "churn", sid: 0x200, timeout: 1000, fate: fateAbandoned, endedAt: 0,
		creates: []createOp{{name: ephDir + "/c-0", eph: true, out: outOK}}}
	sessions := []*ephSession{live, ended}
	now := (20 * time.Second).Nanoseconds()
	good := tree{ephDir: {}, ephDir + "/k-0": node("", zk.Stat{EphemeralOwner: 0x100})}
	v := &violations{}
	checkEphemeralsAlive([]string{"m1"}, []tree{good}, ephDir, sessions, now, time.Second, v)
	expectClean(t, v)

	for _, c := range []struct {
		name, want string
		t          tree
	}{
		{"a live session's ephemeral is missing", "is missing", tree{ephDir: {}}},
		{"a live session's ephemeral has another owner", "is owned by 0x300", tree{ephDir: {}, ephDir + "/k-0": node("", zk.Stat{EphemeralOwner: 0x300})}},
		{"an ended session's ephemeral survives", "still exists", tree{ephDir: {}, ephDir + "/k-0": node("", zk.Stat{EphemeralOwner: 0x100}),
			ephDir + "/c-0": node("", zk.Stat{EphemeralOwner: 0x200})}},
		{"a persistent node where only ephemerals go", "is not ephemeral", tree{ephDir: {}, ephDir + "/k-0": node("", zk.Stat{EphemeralOwner: 0x100}),
			ephDir + "/x": {}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := &violations{}
			checkEphemeralsAlive([]string{"m1", "m2"}, []tree{good, c.t}, ephDir, sessions, now, time.Second, v)
			expectViolation(t, v, ckEphemeral, c.want)
		})
	}
	// A session that ended recently (within its timeout and the grace) may still have them.
	v = &violations{}
	recent := &ephSession{name: "churn", sid: 0x200, timeout: 1000, fate: fateClosed, endedAt: now - time.Second.Nanoseconds()}
	checkEphemeralsAlive([]string{"m1"}, []tree{{ephDir: {}, ephDir + "/k-0": node("", zk.Stat{EphemeralOwner: 0x100}),
		ephDir + "/c-0": node("", zk.Stat{EphemeralOwner: 0x200})}}, ephDir, []*ephSession{live, recent}, now, time.Second, v)
	expectClean(t, v)

	// Once everything ended: nothing ephemeral anywhere.
	v = &violations{}
	checkEphemeralsGone([]string{"m1", "m2"}, []tree{{"/": {}}, {"/": {}}}, sessions, v)
	expectClean(t, v)
	v = &violations{}
	checkEphemeralsGone([]string{"m1", "m2"}, []tree{{"/": {}}, {"/": {}, ephDir + "/c-0": node("", zk.Stat{EphemeralOwner: 0x200})}}, sessions, v)
	expectViolation(t, v, ckEphemeral, "m2: /rb/e/c-0 of ended session 0x200")
}

func TestCheckExpiries(t *testing.T) {
	v := &violations{}
	checkExpiries(nil, nil, nil, v)
	expectClean(t, v)
	exp := []sessionExpiry{{name: "reg0.1", sid: 1, timeout: 4000, opened: 1e9, noticed: 5e9}}
	checkExpiries(exp, nil, nil, v)
	expectViolation(t, v, ckExpiry, "reg0.1")
	// Explained by a known issue: recorded as that, not as a violation.
	explain := func(int64) (string, string) { return "stale-leader-after-pause", "member 1 ..." }
	v = &violations{}
	checkExpiries(exp, explain, map[string]string{"stale-leader-after-pause": "known"}, v)
	expectClean(t, v)
	if len(v.known["known"]) != 1 {
		t.Fatalf("known issue not recorded: %v", v.known)
	}
	// A cause that is not known stays a violation.
	v = &violations{}
	checkExpiries(exp, explain, map[string]string{"new-leader-before-extension": "known"}, v)
	expectViolation(t, v, ckExpiry, "stale-leader-after-pause")
}

func TestExpiryCause(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	events := []serverEvent{
		{member: 0, at: at(1000), sid: 7},     // member 1 expires 7 ...
		{member: 0, at: at(1020), lead: true}, // ... and notes its election 20ms later
		{member: 1, at: at(5000), sid: 8},     // member 2 expires 8 right after SIGCONT
		{member: 2, at: at(9000), sid: 9},     // member 3 expires 9: nothing explains it
		{member: 2, at: at(2000), lead: true}, // (long before)
		{member: 1, at: at(7000), sid: 10},    // member 2 expires 10 well after its pause
	}
	pauses := []pauseRecord{{member: 1, from: at(2000), to: at(4990), wasLeading: true}}
	for sid, want := range map[int64]string{7: "new-leader-before-extension", 8: "stale-leader-after-pause", 9: "", 10: ""} {
		if got, _ := expiryCause(sid, events, pauses, nil, time.Second); got != want {
			t.Errorf("session %d: cause %q, want %q", sid, got, want)
		}
	}
	// A member that was paused as a follower is not a stale leader.
	if got, _ := expiryCause(8, events, []pauseRecord{{member: 1, from: at(2000), to: at(4990)}}, nil, time.Second); got != "" {
		t.Errorf("paused follower: cause %q", got)
	}
	// Member 3 expires 9 while member 1's outgoing connections are silenced (or soon after).
	oneWay := []pauseRecord{{member: 0, from: at(8000), to: at(8500), wasLeading: true}}
	if got, _ := expiryCause(9, events, nil, oneWay, time.Second); got != "one-way-partition" {
		t.Errorf("one-way: cause %q", got)
	}
	if got, _ := expiryCause(9, events, nil, []pauseRecord{{member: 0, from: at(1000), to: at(1500)}}, time.Second); got != "" {
		t.Errorf("long after a one-way fault: cause %q", got)
	}
}

func ev(typ zk.EventType, path string, zxid int64) watchEvent {
	return watchEvent{typ: typ, path: path, zxid: zxid}
}

func TestCheckWatches(t *testing.T) {
	final := tree{
		watchDir:     node("init", zk.Stat{Czxid: 0x5, Mzxid: 0x5}),
		"/rb/w/a":    node("set", zk.Stat{Czxid: 0x10, Mzxid: 0x13, Version: 1}),
		"/rb/w/b":    node("c", zk.Stat{Czxid: 0x11, Mzxid: 0x11}),
		"/rb/w/c":    node("c", zk.Stat{Czxid: 0x12, Mzxid: 0x12}),
		"/rb/other":  node("", zk.Stat{Czxid: 0x14}),
		"/rb/w/last": node("c", zk.Stat{Czxid: 0x15, Mzxid: 0x15}),
	}
	v := &violations{}
	truth := watchTruth(final, watchDir, v)
	expectClean(t, v)
	created, changed := zk.EventNodeCreated, zk.EventNodeDataChanged
	all := []watchEvent{ev(created, "/rb/w/a", 0x10), ev(created, "/rb/w/b", 0x11), ev(created, "/rb/w/c", 0x12),
		ev(changed, "/rb/w/a", 0x13), ev(created, "/rb/w/last", 0x15)}
	raw := func(reg int64, events []watchEvent, pings ...pingMark) *watchStream {
		return &watchStream{name: "raw", raw: true, segments: []*watchSegment{{regZxid: reg, events: events, pings: pings}}}
	}
	zkw := func(segs ...[]watchEvent) *watchStream {
		s := &watchStream{name: "zkw"}
		for _, e := range segs {
			s.segments = append(s.segments, &watchSegment{regZxid: -1, events: e})
		}
		return s
	}
	noZxid := func(es []watchEvent) []watchEvent {
		out := make([]watchEvent, len(es))
		for i, e := range es {
			out[i] = e
			out[i].zxid = -1 // ZooKeeper 3.8
		}
		return out
	}
	goods := []*watchStream{
		raw(0x5, all, pingMark{0x12, 3}, pingMark{0x15, 5}),
		raw(0x11, all[2:], pingMark{0x15, 3}),                   // registered after b was created
		raw(0x5, noZxid(all[:3]), pingMark{0x12, 3}),            // header zxids -1: derived ones are used
		zkw(all[:2], all[3:]),                                   // a reconnect between b and a's change: c may be missed
		zkw([]watchEvent{all[0], all[1], all[2], all[3]}),       // stable
		raw(0x5, all[:2], pingMark{0x11, 2}, pingMark{0x11, 2}), // ended early
	}
	v = &violations{}
	checkWatches(goods, truth, nil, nil, v)
	expectClean(t, v)
	for _, c := range []struct {
		name, want string
		s          *watchStream
	}{
		{"phantom event", "phantom", raw(0x5, []watchEvent{ev(changed, "/rb/w/b", 0x11)})},
		{"wrong header zxid", "carries zxid 0x14", raw(0x5, []watchEvent{ev(created, "/rb/w/a", 0x14)})},
		{"duplicate", "delivered twice", raw(0x5, []watchEvent{all[0], all[1], all[1]})},
		{"duplicate across reconnects", "delivered twice", zkw(all[:2], all[1:3])},
		{"out of order", "out of zxid order", raw(0x5, []watchEvent{all[1], all[0]})},
		{"out of order across reconnects", "out of zxid order", zkw(all[2:3], all[1:2])},
		{"older than the registration", "not newer than the registration", raw(0x11, all[1:])},
		{"gap before a ping reply", "missed NodeCreated /rb/w/b", raw(0x5, []watchEvent{all[0], all[2]}, pingMark{0x12, 2})},
		{"event after the ping reply that covers it", "missed NodeCreated /rb/w/c", raw(0x5, all[:3], pingMark{0x12, 2}, pingMark{0x13, 3})},
		{"gap on a stable zk.Conn connection", "missed NodeCreated /rb/w/b", zkw([]watchEvent{all[0], all[2]})},
		{"gap without zxids (ZooKeeper 3.8)", "missed NodeCreated /rb/w/b", raw(0x5, noZxid([]watchEvent{all[0], all[2]}), pingMark{0x12, 2})},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := &violations{}
			checkWatches([]*watchStream{c.s}, truth, nil, nil, v)
			expectViolation(t, v, ckWatch, c.want)
		})
	}
	// A gap explained by a known cause is recorded as that, not as a violation.
	v = &violations{}
	explain := func(*watchSegment) (string, string) { return "snapshot-install-while-serving", "member 2 ..." }
	checkWatches([]*watchStream{raw(0x5, []watchEvent{all[0], all[2]}, pingMark{0x12, 2})}, truth, explain,
		map[string]string{"snapshot-install-while-serving": "known"}, v)
	expectClean(t, v)
	if len(v.known["known"]) != 1 {
		t.Fatalf("known issue not recorded: %v", v.known)
	}
	// A node set twice cannot come from this workload.
	v = &violations{}
	watchTruth(tree{"/rb/w/a": node("", zk.Stat{Version: 2})}, watchDir, v)
	expectViolation(t, v, ckWatch, "set 2 times")
}

// The ZooKeeper control accepts only its stale-epoch divergence: the same paths, and every
// differing node created in a different epoch on the two members. Anything else still fails.
func TestZKStaleEpochTxns(t *testing.T) {
	const e1, e2 = int64(1) << 32, int64(2) << 32
	base := tree{
		"/":            node("", zk.Stat{NumChildren: 1}),
		"/rb/s/q-0001": node("s0-1", zk.Stat{Czxid: e1 | 5, Mzxid: e1 | 5}),
	}
	clone := func(edit func(t tree)) tree {
		out := tree{}
		for p, n := range base {
			out[p] = n
		}
		edit(out)
		return out
	}
	for _, c := range []struct {
		name  string
		other tree
		known bool
	}{
		{"other epoch", clone(func(t tree) { t["/rb/s/q-0001"] = node("s1-9", zk.Stat{Czxid: e2 | 3, Mzxid: e2 | 3}) }), true},
		{"same epoch", clone(func(t tree) { t["/rb/s/q-0001"] = node("s1-9", zk.Stat{Czxid: e1 | 7, Mzxid: e1 | 7}) }), false},
		{"data only", clone(func(t tree) { n := t["/rb/s/q-0001"]; n.data = "x"; t["/rb/s/q-0001"] = n }), false},
		{"missing node", clone(func(t tree) { delete(t, "/rb/s/q-0001") }), false},
		{"extra node", clone(func(t tree) { t["/x"] = node("", zk.Stat{Czxid: e2}) }), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := &violations{}
			checkReplicas([]string{"a", "b"}, []tree{base, c.other}, zkStaleEpochTxns, v)
			if c.known {
				expectClean(t, v)
				if len(v.known["zookeeper-stale-epoch-txns"]) != 1 {
					t.Fatalf("known = %v", v.known)
				}
				return
			}
			expectViolation(t, v, ckReplicas, "differ")
		})
	}
}
