package crash

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

// harness runs the workload against one server process and kills, restarts and checks it.
type harness struct {
	t     *testing.T
	seed  int64
	rng   *rand.Rand
	rep   *report
	srv   *serverProc
	m     *model
	start time.Time

	keepers      []*worker
	deadSessions map[int64]string // every session abandoned at a crash
	deadCheck    chan struct{}    // closed when the expiry check of the last restart ended
	deadEarly    int              // abandoned sessions that expired before their kill

	st stats
}

type stats struct {
	serve, expiry    []time.Duration
	verify, reattach []time.Duration
	checked          int
	earlyKills       int
}

// newHarness starts a server (zoo.cfg lines in extra), creates the workload's nodes and
// opens the keeper sessions.
func newHarness(t *testing.T, rngStream uint64, extra ...string) *harness {
	seed := testSeed(t)
	h := &harness{
		t: t, seed: seed, rng: rand.New(rand.NewPCG(uint64(seed), rngStream)), start: time.Now(),
		deadSessions: map[int64]string{},
	}
	h.rep = &report{t: t, seed: seed}
	h.srv = newServerProc(t, extra...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed=%d; data directory %s; server log tail (%s):\n%s", seed, h.srv.dataDir, h.srv.logPath, h.srv.logTail(80))
		}
	})
	// An expiry check still running when the test stops early must end before the server is
	// killed and the test completes.
	t.Cleanup(func() {
		if h.deadCheck != nil {
			<-h.deadCheck
		}
	})
	if err := h.srv.start(); err != nil {
		t.Fatal(err)
	}
	tts, err := h.srv.waitServing(serveBound, "/")
	if err != nil {
		h.fatalf("first start: %v\n--- server log ---\n%s", err, lastLines(h.srv.logSince(), 40))
	}
	t.Logf("server up in %v on %s", tts.Round(time.Millisecond), h.srv.addr)
	setup, err := dial("setup", h.srv.addr, keeperTimeoutMs, 0, nil, 0)
	if err != nil {
		h.fatalf("setup session: %v", err)
	}
	for _, p := range []string{rootPath, persPath, seqPath, keepPath, deadPath, casPath, casNode(0), casNode(1), casNode(2)} {
		cl, _ := setup.create(p, []byte("init"), proto.ModePersistent)
		if r := cl.wait(); !r.ok() {
			h.fatalf("create %s: %v", p, r)
		}
	}
	setup.closeSession()

	h.m = newModel(h.rep.failf)
	for i := 0; i < casNodes; i++ {
		h.m.observe(casNode(i), 0, []byte("init"), "created by the setup", false)
	}
	for i := 0; i < keepers; i++ {
		name := fmt.Sprintf("k%d", i)
		c, err := dial(name, h.srv.addr, keeperTimeoutMs, 0, nil, 0)
		if err != nil {
			h.fatalf("keeper %s: %v", name, err)
		}
		h.keepers = append(h.keepers, &worker{name: name, keeper: true, rng: rand.New(rand.NewPCG(uint64(seed), uint64(100+i))),
			m: h.m, c: c, fail: h.rep.failf})
	}
	return h
}

func (h *harness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.rep.mu.Lock()
	cycle := h.rep.cycle
	h.rep.mu.Unlock()
	h.t.Fatalf("seed=%d cycle=%d: %s", h.seed, cycle, fmt.Sprintf(format, args...))
}

// runAndKill runs the keepers and deadPerKill new sessions (abandoned at the kill) for burst,
// then kills the server with SIGKILL while they are busy. It returns when every worker has
// stopped.
func (h *harness) runAndKill(cycle int, burst time.Duration) {
	h.rep.setCycle(cycle)
	ws := slices.Clone(h.keepers)
	for i := 0; i < deadPerKill; i++ {
		name := fmt.Sprintf("d%d.%d", cycle, i)
		c, err := dial(name, h.srv.addr, deadTimeoutMs, 0, nil, 0)
		if err != nil {
			h.fatalf("session %s: %v", name, err)
		}
		h.deadSessions[c.sid] = name
		ws = append(ws, &worker{name: name, rng: rand.New(rand.NewPCG(uint64(h.seed), uint64(1000*cycle+i))), m: h.m, c: c, fail: h.rep.failf})
	}
	exited := make([]chan error, len(ws))
	for i, w := range ws {
		w.cycle = cycle
		exited[i] = make(chan error, 1)
		go func() { exited[i] <- w.run() }()
	}
	time.Sleep(burst)
	if h.deadCheck != nil {
		<-h.deadCheck // the previous restart's expiry check must end before the next kill
		h.deadCheck = nil
	}
	for i, w := range ws {
		select {
		case err := <-exited[i]:
			exited[i] <- err
			if w.keeper {
				h.rep.failf("keeper %s (session 0x%x) lost its connection before the kill: %v", w.name, w.c.sid, err)
			} else {
				h.deadEarly++
			}
		default:
		}
	}
	h.srv.kill()
	h.checkLog("before the kill")
	for i, w := range ws {
		select {
		case <-exited[i]:
		case <-time.After(2 * ioTimeout):
			h.fatalf("worker %s did not stop after the kill", w.name)
		}
		if err := w.c.protocolViolation(); err != nil {
			h.rep.failf("%s: %v", w.name, err)
		}
	}
}

// restartAndCheck restarts the server (after up to a few early kills, while it recovers, if
// earlyKills), waits until it serves, reattaches the keepers, checks every acknowledged
// write, and starts the check that the abandoned sessions' ephemerals go away.
func (h *harness) restartAndCheck(cycle int, earlyKills bool) (tts time.Duration, res checkResult) {
	srv := h.srv
	for earlyKills && h.rng.IntN(4) == 0 {
		if err := srv.start(); err != nil {
			h.t.Fatal(err)
		}
		time.Sleep(time.Duration(h.rng.IntN(60)) * time.Millisecond)
		srv.kill()
		h.checkLog("before it was killed while recovering")
		h.st.earlyKills++
	}
	if err := srv.start(); err != nil {
		h.t.Fatal(err)
	}
	tts, err := srv.waitServing(serveBound, rootPath)
	if err != nil {
		h.fatalf("restart: %v\n--- log of that start ---\n%s\n--- end ---\n%s", err, lastLines(srv.logSince(), 40), retryStarts(srv, 3))
	}
	servedAt := time.Now()
	h.st.serve = append(h.st.serve, tts)

	// Keepers reattach with their session id, password and the last zxid they saw.
	for _, w := range h.keepers {
		old := w.c
		c, err := dial(w.name, srv.addr, keeperTimeoutMs, old.sid, old.passwd, old.lastZxid.Load())
		if err != nil {
			h.fatalf("keeper %s: reattaching session 0x%x (lastZxidSeen 0x%x) %v after the restart: %v",
				w.name, old.sid, old.lastZxid.Load(), time.Since(servedAt).Round(time.Millisecond), err)
		}
		old.drop()
		w.c = c
	}
	h.st.reattach = append(h.st.reattach, time.Since(servedAt))

	checker, err := dial("checker", srv.addr, keeperTimeoutMs, 0, nil, 0)
	if err != nil {
		h.fatalf("checker session: %v", err)
	}
	vstart := time.Now()
	res = h.m.verify(checker, h.rep.failf)
	h.st.verify = append(h.st.verify, time.Since(vstart))
	h.st.checked += res.nodes + res.cas
	checkSequence(checker, h.m, cycle, h.rep.failf)
	checker.closeSession()

	sids := map[string]bool{}
	for sid := range h.deadSessions {
		sids[fmt.Sprintf("%x", sid)] = true
	}
	done := make(chan struct{})
	h.deadCheck = done
	deadline := servedAt.Add(time.Duration(deadTimeoutMs)*time.Millisecond + expirySlack)
	go func() {
		defer close(done)
		gone, err := waitEphemeralsGone(srv.addr, sids, deadline)
		if err != nil {
			h.rep.failf("%v", err)
			return
		}
		h.st.expiry = append(h.st.expiry, gone.Sub(servedAt))
	}()
	return tts, res
}

// finish waits for the last expiry check, stops the server cleanly and logs the numbers.
func (h *harness) finish(cycles int) {
	if h.deadCheck != nil {
		<-h.deadCheck
	}
	for _, w := range h.keepers {
		w.c.drop()
	}
	h.checkLog("in its last run")
	if err := h.srv.stop(); err != nil {
		h.t.Errorf("graceful stop at the end: %v", err)
	}
	m := h.m
	m.mu.Lock()
	acked, deadAcked, nodes := m.acked, m.deadAcked, len(m.nodes)
	casAcks := 0
	for _, c := range m.cas {
		casAcks += c.acks
	}
	m.mu.Unlock()
	st := &h.st
	h.t.Logf("%d cycles, %d restarts (%d of them killed again while recovering), %d sessions abandoned (%d expired before a kill); "+
		"%d acknowledged writes (%d creates, all re-read after every restart; %d setData(version)), %d acknowledged ephemerals of abandoned sessions; "+
		"%d node/version checks after restarts; time to serve after restart: %s; abandoned ephemerals gone after serving: %s; "+
		"keepers reattached within %s of serving; verification took %s; total %v",
		cycles, h.srv.starts-1, st.earlyKills, len(h.deadSessions), h.deadEarly,
		acked, nodes, casAcks, deadAcked, st.checked, summary(st.serve), summary(st.expiry), summary(st.reattach), summary(st.verify),
		time.Since(h.start).Round(time.Millisecond))
}

// checkLog reports alarming lines in what the current incarnation of the server logged.
func (h *harness) checkLog(when string) {
	var bad []string
	for _, l := range strings.Split(h.srv.logSince(), "\n") {
		if strings.Contains(l, "level=ERROR") || strings.HasPrefix(l, "panic:") || strings.Contains(l, "DATA RACE") {
			bad = append(bad, l)
		}
	}
	if len(bad) > 0 {
		h.rep.failf("the server (start #%d) logged %s:\n%s", h.srv.starts, when, lastLines(strings.Join(bad, "\n"), 10))
	}
}

func (h *harness) acked() int {
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	return h.m.acked
}
