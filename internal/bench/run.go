package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

// Workloads lists the workload names Run accepts.
var Workloads = []string{
	"create", "create-seq", "delete", "set", "get", "exists", "children",
	"mixed", "multi", "watch", "churn", "load",
}

// fanout is the most children any directory the benchmark creates gets.
const fanout = 10000

// Config describes one run. Zero fields take the defaults noted.
type Config struct {
	// Servers are host:port addresses; sessions are spread round-robin.
	Servers []string
	// Workload is one of Workloads.
	Workload string
	// Sessions is the number of concurrent sessions (default 64). For
	// watch it is the number of watching sessions (a further session
	// writes); for churn the number of concurrent connect/close loops.
	Sessions int
	// Duration bounds the measurement (after Warmup); 0 = no time bound.
	Duration time.Duration
	// Ops bounds the number of measured operations; 0 = no bound. At least
	// one of Duration and Ops is needed, except for load and delete, which
	// end when their key space is done.
	Ops int64
	// ValueSize is the size of the data written (default 100).
	ValueSize int
	// Keys is the key space: the number of znodes pre-created for set, get,
	// exists, mixed and multi -multi-op set; the number of znodes delete
	// pre-creates when Ops is 0; the number of znodes load creates.
	// Default 10000.
	Keys int
	// Outstanding is the number of requests each session keeps in flight
	// (default 1: closed loop). Ignored by watch and churn.
	Outstanding int
	// Warmup runs the workload unmeasured for this long first.
	Warmup time.Duration
	// Root is the parent of the run's directory (default /warren-bench),
	// created if missing.
	Root string
	// Keep leaves the run's znodes in place.
	Keep bool
	// ReadRatio is mixed's fraction of getData (the rest are setData);
	// default 0.9. Use a negative value for 0.
	ReadRatio float64
	// MultiOps is the number of operations in one multi (default 10).
	MultiOps int
	// MultiOp is "create" (default) or "set".
	MultiOp string
	// Children is the number of children of the node the children
	// workload lists (default 100).
	Children int
	// SessionTimeout requested for every session (default 30s).
	SessionTimeout time.Duration
	// Progress, if positive, writes a progress line to ProgressOut at this
	// interval.
	Progress    time.Duration
	ProgressOut io.Writer
	// Seed seeds the key choice (0: a fixed default).
	Seed uint64
}

func (c *Config) setDefaults() error {
	if len(c.Servers) == 0 {
		return errors.New("bench: no server address")
	}
	if !slices.Contains(Workloads, c.Workload) {
		return fmt.Errorf("bench: unknown workload %q (one of %s)", c.Workload, strings.Join(Workloads, ", "))
	}
	if c.Sessions <= 0 {
		c.Sessions = 64
	}
	if c.ValueSize < 0 {
		return errors.New("bench: negative value size")
	}
	if c.ValueSize == 0 {
		c.ValueSize = 100
	}
	if c.Keys <= 0 {
		c.Keys = 10000
	}
	if c.Outstanding <= 0 {
		c.Outstanding = 1
	}
	if c.Root == "" {
		c.Root = "/warren-bench"
	}
	if c.Root != "/" {
		c.Root = strings.TrimSuffix(c.Root, "/")
	}
	if !strings.HasPrefix(c.Root, "/") || path.Clean(c.Root) != c.Root {
		return fmt.Errorf("bench: bad root %q", c.Root)
	}
	switch {
	case c.ReadRatio == 0:
		c.ReadRatio = 0.9
	case c.ReadRatio < 0:
		c.ReadRatio = 0
	case c.ReadRatio > 1:
		return fmt.Errorf("bench: read ratio %v above 1", c.ReadRatio)
	}
	if c.MultiOps <= 0 {
		c.MultiOps = 10
	}
	if c.MultiOps > fanout {
		return fmt.Errorf("bench: at most %d ops per multi", fanout)
	}
	switch c.MultiOp {
	case "":
		c.MultiOp = "create"
	case "create", "set":
	default:
		return fmt.Errorf("bench: multi op %q (create or set)", c.MultiOp)
	}
	if c.Children <= 0 {
		c.Children = 100
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = 30 * time.Second
	}
	if c.Seed == 0 {
		c.Seed = 0x5eed
	}
	if c.Duration <= 0 && c.Ops <= 0 && c.Workload != "load" && c.Workload != "delete" {
		return errors.New("bench: need a duration or an op count")
	}
	return nil
}

// session is one load-generating session and its private measurements.
type session struct {
	idx  int
	conn *Conn
	rng  *rand.Rand
	hist *Histogram
	errs map[proto.Err]int64
	done chan Completion

	ops  atomic.Int64 // measured successes, read by the progress reporter
	nerr atomic.Int64

	// workload state
	dir       string // the session's own directory (create workloads)
	n         int64  // nodes created / keys consumed
	bucket    int64  // bucket directory created last (-1: none)
	bucketDir string // its path
	pathBuf   []byte

	create  proto.CreateRequest
	get     proto.GetDataRequest
	set     proto.SetDataRequest
	exists  proto.ExistsRequest
	del     proto.DeleteRequest
	list    proto.GetChildrenRequest
	multi   proto.MultiRequest
	creates []proto.CreateRequest
	sets    []proto.SetDataRequest

	_ [64]byte // keep hot counters of neighbouring sessions apart
}

func (s *session) fail(code proto.Err) {
	s.errs[code]++
	s.nerr.Add(1)
}

type runner struct {
	cfg   Config
	wl    workload
	ctrl  *Conn
	sess  []*session
	dir   string
	value []byte
	keys  []string // key paths of the pre-created key space

	measuring   atomic.Bool
	stop        atomic.Bool
	tickets     atomic.Int64
	startNanos  atomic.Int64 // nanotime at which measurement began
	cpuAtStart  atomic.Int64
	noteMu      sync.Mutex
	note        string
	watchTarget string
	watchLeft   atomic.Int64
	watchAll    chan int64
}

func (r *runner) setNote(s string) {
	r.noteMu.Lock()
	r.note = s
	r.noteMu.Unlock()
}

// Run executes one workload and returns its result. Cancelling ctx ends the
// measurement early; the run still cleans up (with a context that is not
// cancelled) and returns what it measured.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	if err := cfg.setDefaults(); err != nil {
		return Result{}, err
	}
	r := &runner{cfg: cfg, wl: workloadFor(cfg), value: make([]byte, cfg.ValueSize)}
	for i := range r.value {
		r.value[i] = 'a' + byte(i%26)
	}
	res = Result{
		Workload: cfg.Workload, Server: strings.Join(cfg.Servers, ","), Sessions: cfg.Sessions,
		Outstanding: cfg.Outstanding, ValueSize: cfg.ValueSize,
	}
	if cfg.Workload == "watch" || cfg.Workload == "churn" {
		res.Outstanding = 1
	}
	dopts := DialOptions{SessionTimeout: cfg.SessionTimeout}
	ctrl, err := Dial(ctx, cfg.Servers[0], dopts)
	if err != nil {
		return res, err
	}
	r.ctrl = ctrl
	defer ctrl.Close()

	createdRoot, err := ensurePath(ctx, ctrl, cfg.Root)
	if err != nil {
		return res, fmt.Errorf("bench: creating %s: %w", cfg.Root, err)
	}
	id := strconv.FormatInt(time.Now().UnixNano()%1e12, 36)
	r.dir = path.Join(cfg.Root, cfg.Workload+"-"+id)
	res.Dir = r.dir
	if err := ctrl.Call(ctx, proto.OpCreate, &proto.CreateRequest{Path: r.dir, Acl: proto.OpenACLUnsafe}, nil); err != nil {
		return res, fmt.Errorf("bench: creating %s: %w", r.dir, err)
	}
	defer func() {
		if !cfg.Keep {
			if cerr := r.cleanup(context.WithoutCancel(ctx), createdRoot); cerr != nil && err == nil {
				err = fmt.Errorf("bench: cleanup: %w", cerr)
			}
		}
		r.closeSessions()
	}()

	if err = r.checkOneTree(ctx); err != nil {
		return res, err
	}
	r.newSessions()
	if cfg.Workload != "churn" {
		if cfg.Workload == "watch" {
			r.watchTarget = r.dir + "/w"
			r.watchAll = make(chan int64, 1)
			dopts.OnEvent = r.onWatchEvent
		}
		if err = r.dialSessions(ctx, dopts); err != nil {
			return res, err
		}
	}
	if err = r.wl.setup(ctx, r); err != nil {
		return res, fmt.Errorf("bench: %s setup: %w", cfg.Workload, err)
	}
	if err = ctx.Err(); err != nil {
		return res, err
	}
	m, err := r.measure(ctx)
	res.Ops, res.Seconds, res.OpsPerSec = m.Ops, m.Seconds, m.OpsPerSec
	res.P50, res.P90, res.P99, res.P999, res.Max, res.Mean = m.P50, m.P90, m.P99, m.P999, m.Max, m.Mean
	res.Errors, res.ClientCPUPerOp, res.Latency, res.Note = m.Errors, m.ClientCPUPerOp, m.Latency, m.Note
	return res, err
}

// checkOneTree makes sure every server sees the run's directory: the
// addresses must belong to one ensemble, or the sessions would work on
// different trees.
func (r *runner) checkOneTree(ctx context.Context) error {
	for _, addr := range r.cfg.Servers[1:] {
		c, err := Dial(ctx, addr, DialOptions{SessionTimeout: r.cfg.SessionTimeout})
		if err != nil {
			return err
		}
		err = c.Call(ctx, proto.OpSync, &proto.SyncRequest{Path: r.dir}, nil)
		if err == nil {
			err = c.Call(ctx, proto.OpExists, &proto.ExistsRequest{Path: r.dir}, nil)
		}
		c.Close()
		if errors.Is(err, proto.ErrNoNode) {
			return fmt.Errorf("bench: %s does not see %s, created through %s: the servers must belong to one ensemble", addr, r.dir, r.cfg.Servers[0])
		}
		if err != nil {
			return fmt.Errorf("bench: checking %s: %w", addr, err)
		}
	}
	return nil
}

// newSessions makes the per-session state (without connections).
func (r *runner) newSessions() {
	r.sess = make([]*session, r.cfg.Sessions)
	for i := range r.sess {
		r.sess[i] = &session{
			idx: i, hist: NewHistogram(), errs: map[proto.Err]int64{}, bucket: -1,
			rng:  rand.New(rand.NewPCG(r.cfg.Seed, uint64(i))),
			done: make(chan Completion, r.cfg.Outstanding+1),
		}
	}
}

// dialSessions opens every session's connection, in parallel.
func (r *runner) dialSessions(ctx context.Context, opts DialOptions) error {
	errs := make([]error, len(r.sess))
	var wg sync.WaitGroup
	for i, s := range r.sess {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.conn, errs[i] = Dial(ctx, r.cfg.Servers[i%len(r.cfg.Servers)], opts)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bench: opening %d sessions: %w", len(r.sess), err)
	}
	return nil
}

func (r *runner) closeSessions() {
	var wg sync.WaitGroup
	for _, s := range r.sess {
		if s != nil && s.conn != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.conn.Close()
			}()
		}
	}
	wg.Wait()
}

// measure runs the timed part: the warmup, the measurement, and the drain of
// requests still in flight at the end.
func (r *runner) measure(ctx context.Context) (Result, error) {
	var res Result
	begin := func() {
		r.cpuAtStart.Store(int64(processCPU()))
		r.startNanos.Store(nanotime())
		r.measuring.Store(true)
	}
	var timers []*time.Timer
	if r.cfg.Warmup > 0 {
		timers = append(timers, time.AfterFunc(r.cfg.Warmup, begin))
	} else {
		begin()
	}
	if r.cfg.Duration > 0 {
		timers = append(timers, time.AfterFunc(r.cfg.Warmup+r.cfg.Duration, func() { r.stop.Store(true) }))
	}
	stopWatch := context.AfterFunc(ctx, func() { r.stop.Store(true) })
	progDone := make(chan struct{})
	var progWG sync.WaitGroup
	if r.cfg.Progress > 0 && r.cfg.ProgressOut != nil {
		progWG.Add(1)
		go func() {
			defer progWG.Done()
			r.progress(progDone)
		}()
	}

	var runErr error
	switch r.cfg.Workload {
	case "watch":
		runErr = r.runWatch(ctx)
	case "churn":
		runErr = r.runChurn(ctx)
	default:
		var wg sync.WaitGroup
		for _, s := range r.sess {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.drive(s)
			}()
		}
		wg.Wait()
	}
	end := nanotime()
	cpuEnd := processCPU()
	stopWatch()
	for _, t := range timers {
		t.Stop()
	}
	close(progDone)
	progWG.Wait()

	h := NewHistogram()
	res.Errors = map[proto.Err]int64{}
	for _, s := range r.sess {
		h.Merge(s.hist)
		for c, n := range s.errs {
			res.Errors[c] += n
		}
	}
	if r.measuring.Load() {
		res.Seconds = float64(end-r.startNanos.Load()) / 1e9
		res.fill(h)
		if res.Ops > 0 {
			res.ClientCPUPerOp = (cpuEnd - time.Duration(r.cpuAtStart.Load())) / time.Duration(res.Ops)
		}
	} else {
		res.Latency = h
		r.setNote("the run ended during the warmup; nothing was measured")
	}
	r.noteMu.Lock()
	res.Note = r.note
	r.noteMu.Unlock()
	if runErr == nil {
		runErr = ctx.Err()
	}
	return res, runErr
}

// ticket reports whether one more measured operation may start.
func (r *runner) ticket() bool {
	if r.cfg.Ops <= 0 {
		return true
	}
	if r.tickets.Add(1) > r.cfg.Ops {
		r.stop.Store(true)
		return false
	}
	return true
}

// drive runs one session of a request/response workload: it keeps up to
// Outstanding requests in flight until the run stops or the workload has no
// more work for this session, then waits for what is in flight.
func (r *runner) drive(s *session) {
	inflight := 0
	stopped := false
	for {
		for !stopped && inflight < r.cfg.Outstanding {
			if r.stop.Load() {
				stopped = true
				break
			}
			op, req, counted, ok := r.wl.next(r, s)
			if !ok {
				stopped = true
				break
			}
			var tag uint64
			if counted && r.measuring.Load() {
				if !r.ticket() {
					stopped = true
					break
				}
				tag = 1
			}
			if err := s.conn.Go(op, req, nil, tag, s.done); err != nil {
				s.fail(proto.ErrConnectionLoss)
				stopped = true
				break
			}
			inflight++
		}
		if inflight == 0 {
			return
		}
		c := <-s.done
		inflight--
		switch {
		case c.Err == 0:
			if c.Tag == 1 {
				s.hist.Record(c.Latency())
				s.ops.Add(1)
			}
		case c.Tag == 1 || r.measuring.Load():
			s.fail(c.Err)
		}
		if c.Err == proto.ErrConnectionLoss {
			stopped = true
		}
	}
}

func (r *runner) progress(done <-chan struct{}) {
	t := time.NewTicker(r.cfg.Progress)
	defer t.Stop()
	var lastOps int64
	last := nanotime()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		now := nanotime()
		if !r.measuring.Load() {
			fmt.Fprintf(r.cfg.ProgressOut, "bench %s: warming up\n", r.cfg.Workload)
			last = now
			continue
		}
		var ops, nerr int64
		for _, s := range r.sess {
			ops += s.ops.Load()
			nerr += s.nerr.Load()
		}
		since := max(last, r.startNanos.Load())
		rate := 0.0
		if now > since {
			rate = float64(ops-lastOps) / (float64(now-since) / 1e9)
		}
		fmt.Fprintf(r.cfg.ProgressOut, "bench %s: %6.1fs  ops=%d  %.0f ops/s  errors=%d\n",
			r.cfg.Workload, float64(now-r.startNanos.Load())/1e9, ops, rate, nerr)
		lastOps, last = ops, now
	}
}

// ensurePath creates p and its missing ancestors; it reports whether it
// created p itself.
func ensurePath(ctx context.Context, c *Conn, p string) (bool, error) {
	if p == "/" {
		return false, nil
	}
	created := false
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		err := c.Call(ctx, proto.OpCreate, &proto.CreateRequest{Path: p[:i], Acl: proto.OpenACLUnsafe}, nil)
		switch {
		case err == nil:
			created = i == len(p)
		case errors.Is(err, proto.ErrNodeExists):
			created = false
		default:
			return false, err
		}
	}
	return created, nil
}

// cleanup removes the run's directory and, if the run created it and it is
// now empty, the root.
func (r *runner) cleanup(ctx context.Context, createdRoot bool) error {
	conns := []*Conn{r.ctrl}
	for _, s := range r.sess {
		if s != nil && s.conn != nil && s.conn.Err() == nil {
			conns = append(conns, s.conn)
		}
	}
	if r.ctrl.Err() != nil {
		c, err := Dial(ctx, r.cfg.Servers[0], DialOptions{SessionTimeout: r.cfg.SessionTimeout})
		if err != nil {
			return err
		}
		defer c.Close()
		conns[0] = c
	}
	if err := RemoveTree(ctx, conns, r.dir); err != nil {
		return err
	}
	if createdRoot {
		err := conns[0].Call(ctx, proto.OpDelete, &proto.DeleteRequest{Path: r.cfg.Root, Version: -1}, nil)
		if err != nil && !errors.Is(err, proto.ErrNotEmpty) && !errors.Is(err, proto.ErrNoNode) {
			return err
		}
	}
	return nil
}

// RemoveTree deletes p and everything below it, spreading the subtrees of
// p's children over conns and pipelining the deletes. A missing p is not an
// error.
func RemoveTree(ctx context.Context, conns []*Conn, p string) error {
	var resp proto.GetChildrenResponse
	err := conns[0].Call(ctx, proto.OpGetChildren, &proto.GetChildrenRequest{Path: p}, &resp)
	if errors.Is(err, proto.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	work := make(chan string)
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for child := range work {
				if err := removeOn(ctx, c, child); err != nil && errs[i] == nil {
					errs[i] = err
				}
			}
		}()
	}
	for _, ch := range resp.Children {
		work <- join(p, ch)
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return deleteIgnoringNoNode(ctx, conns[0], p)
}

func deleteIgnoringNoNode(ctx context.Context, c *Conn, p string) error {
	err := c.Call(ctx, proto.OpDelete, &proto.DeleteRequest{Path: p, Version: -1}, nil)
	if err != nil && !errors.Is(err, proto.ErrNoNode) {
		return fmt.Errorf("delete %s: %w", p, err)
	}
	return nil
}

// removeOn deletes the subtree at p over one connection: it lists p, deletes
// every child with pipelined requests, recurses into the children that turn
// out to have children of their own, and deletes p.
func removeOn(ctx context.Context, c *Conn, p string) error {
	var resp proto.GetChildrenResponse
	err := c.Call(ctx, proto.OpGetChildren, &proto.GetChildrenRequest{Path: p}, &resp)
	if errors.Is(err, proto.ErrNoNode) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", p, err)
	}
	var nonEmpty []string
	var firstErr error
	err = pipeline(ctx, c, len(resp.Children), 256, func(i int) (proto.OpCode, proto.Record) {
		return proto.OpDelete, &proto.DeleteRequest{Path: join(p, resp.Children[i]), Version: -1}
	}, func(i int, code proto.Err) {
		switch code {
		case 0, proto.ErrNoNode:
		case proto.ErrNotEmpty:
			nonEmpty = append(nonEmpty, resp.Children[i])
		default:
			if firstErr == nil {
				firstErr = fmt.Errorf("delete %s: %w", join(p, resp.Children[i]), code)
			}
		}
	})
	if err != nil {
		return err
	}
	if firstErr != nil {
		return firstErr
	}
	for _, ch := range nonEmpty {
		if err := removeOn(ctx, c, join(p, ch)); err != nil {
			return err
		}
	}
	return deleteIgnoringNoNode(ctx, c, p)
}

// pipeline sends n requests over c with up to window in flight; gen builds
// request i, done sees its result (both on the calling goroutine).
func pipeline(ctx context.Context, c *Conn, n, window int, gen func(i int) (proto.OpCode, proto.Record), done func(i int, code proto.Err)) error {
	ch := make(chan Completion, window)
	next, inflight := 0, 0
	for next < n || inflight > 0 {
		for next < n && inflight < window {
			op, req := gen(next)
			if err := c.Go(op, req, nil, uint64(next), ch); err != nil {
				return err
			}
			next++
			inflight++
		}
		select {
		case comp := <-ch:
			inflight--
			if comp.Err == proto.ErrConnectionLoss {
				if err := c.Err(); err != nil {
					return err
				}
			}
			done(int(comp.Tag), comp.Err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// spread runs n requests over all sessions' connections (request i on
// session i mod len), pipelined, and fails on any error other than those
// allowed.
func (r *runner) spread(ctx context.Context, n int, gen func(i int) (proto.OpCode, proto.Record), allow ...proto.Err) error {
	conns := make([]*Conn, 0, len(r.sess))
	for _, s := range r.sess {
		if s.conn != nil {
			conns = append(conns, s.conn)
		}
	}
	if len(conns) == 0 {
		conns = append(conns, r.ctrl)
	}
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for w, c := range conns {
		cnt := (n - w + len(conns) - 1) / len(conns)
		if cnt <= 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var first error
			err := pipeline(ctx, c, cnt, 64, func(i int) (proto.OpCode, proto.Record) {
				return gen(w + i*len(conns))
			}, func(i int, code proto.Err) {
				if code != 0 && !slices.Contains(allow, code) && first == nil {
					first = fmt.Errorf("request %d: %w", w+i*len(conns), code)
				}
			})
			errs[w] = errors.Join(err, first)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
