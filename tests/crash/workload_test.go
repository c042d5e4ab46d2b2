package crash

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

// Session timeouts asked for (tickTime 200: the server allows 400..4000 ms).
const (
	keeperTimeoutMs = 4000 // keepers reattach after every restart, well within this
	deadTimeoutMs   = 400  // the minimum: these sessions never come back
	maxInFlight     = 6    // outstanding requests per session (at most)
)

// worker drives one session. Keepers live across every crash (they reattach with their
// session id and password); the others ("dead") are abandoned at the crash.
type worker struct {
	name   string
	keeper bool
	rng    *rand.Rand
	m      *model
	c      *client
	cycle  int
	n      int // names are <name>-<n>: unique across the whole test
	fail   func(format string, args ...any)
}

// pending is an outstanding asynchronous call and what to do with its reply.
type pending struct {
	cl *call
	fn func(reply)
}

// run issues requests until the connection breaks (the server was killed) and returns the
// transport error. Replies are handled in order by a second goroutine.
func (w *worker) run() error {
	q := make(chan pending, maxInFlight)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range q {
			r := p.cl.wait()
			if p.fn != nil {
				p.fn(r)
			}
		}
	}()
	async := func(cl *call, fn func(reply)) { q <- pending{cl, fn} }
	for i := 1; w.c.err() == nil; i++ {
		if w.keeper {
			w.keeperOp(async)
		} else {
			w.deadOp(async)
		}
		if i%maxInFlight == 0 {
			// Bursts of pipelined requests with pauses between them: writes are in flight
			// at any moment, but the tree grows slowly enough to re-read all of it after
			// every restart.
			time.Sleep(time.Duration(5+w.rng.IntN(20)) * time.Millisecond)
		}
	}
	close(q)
	<-done
	return w.c.err()
}

func (w *worker) data() []byte {
	w.n++
	return []byte(fmt.Sprintf("%s-%d-%x", w.name, w.n, w.rng.Uint32()))
}

func (w *worker) keeperOp(async func(*call, func(reply))) {
	switch x := w.rng.IntN(100); {
	case x < 35:
		w.createNode(async, fmt.Sprintf("%s/%s-%d", persPath, w.name, w.n+1), proto.ModePersistent, 0)
	case x < 55:
		w.cas(async)
	case x < 75:
		w.createNode(async, seqPath+"/s-", proto.ModePersistentSequential, 0)
	case x < 85:
		w.createNode(async, fmt.Sprintf("%s/%x-%d", keepPath, w.c.sid, w.n+1), proto.ModeEphemeral, w.c.sid)
	default:
		w.readBack(async)
	}
}

func (w *worker) deadOp(async func(*call, func(reply))) {
	switch x := w.rng.IntN(100); {
	case x < 50:
		w.createDead(async, fmt.Sprintf("%s/%x-%d", deadPath, w.c.sid, w.n+1), proto.ModeEphemeral)
	case x < 70:
		w.createDead(async, fmt.Sprintf("%s/%x-s-", deadPath, w.c.sid), proto.ModeEphemeralSequential)
	default:
		w.createNode(async, fmt.Sprintf("%s/%s-%d", persPath, w.name, w.n+1), proto.ModePersistent, 0)
	}
}

// createNode creates a node whose acknowledged create is checked after every restart.
func (w *worker) createNode(async func(*call, func(reply)), path string, mode int32, owner int64) {
	data := w.data()
	cl, _ := w.c.create(path, data, mode)
	cycle := w.cycle
	async(cl, func(r reply) {
		if r.err != nil {
			return // no reply: not acknowledged, may or may not exist
		}
		if !r.ok() {
			w.fail("%s: create %s: %v (every name is unique, every parent exists)", w.name, path, r)
			return
		}
		resp, err := decodeCreate2(r)
		if err != nil {
			w.fail("%s: create %s: %v", w.name, path, err)
			return
		}
		if mode&2 == 0 && resp.Path != path {
			w.fail("%s: create %s answered path %s", w.name, path, resp.Path)
		}
		if !strings.HasPrefix(resp.Path, path) {
			w.fail("%s: sequential create %s answered path %s", w.name, path, resp.Path)
		}
		if resp.Stat.EphemeralOwner != owner {
			w.fail("%s: create %s: ephemeralOwner 0x%x, expected 0x%x", w.name, path, resp.Stat.EphemeralOwner, owner)
		}
		w.m.ackCreate(&ackedNode{path: resp.Path, data: data, czxid: resp.Stat.Czxid, owner: owner, by: w.name, cycle: cycle})
	})
}

// createDead creates an ephemeral of a session that will never come back.
func (w *worker) createDead(async func(*call, func(reply)), path string, mode int32) {
	cl, _ := w.c.create(path, w.data(), mode)
	async(cl, func(r reply) {
		if r.ok() {
			w.m.ackDeadEphemeral()
		} else if r.err == nil {
			w.fail("%s: create %s: %v", w.name, path, r)
		}
	})
}

// cas reads a shared node and writes it with the version it read (BadVersion when another
// session got there first).
func (w *worker) cas(async func(*call, func(reply))) {
	path := casNode(w.rng.IntN(casNodes))
	r := w.c.getData(path).wait()
	if r.err != nil {
		return
	}
	if !r.ok() {
		w.fail("%s: getData %s: %v", w.name, path, r)
		return
	}
	got, err := decodeGetData(r)
	if err != nil {
		w.fail("%s: getData %s: %v", w.name, path, err)
		return
	}
	w.m.observe(path, got.Stat.Version, got.Data, fmt.Sprintf("read by %s in cycle %d", w.name, w.cycle), false)
	data := w.data()
	version := got.Stat.Version
	w.m.attemptSet(path, data, version)
	cl := w.c.send(proto.OpSetData, &proto.SetDataRequest{Path: path, Data: data, Version: version})
	cycle := w.cycle
	async(cl, func(r reply) {
		if r.err != nil || r.code() == proto.ErrBadVersion {
			return
		}
		if !r.ok() {
			w.fail("%s: setData %s version %d: %v", w.name, path, version, r)
			return
		}
		var resp proto.SetDataResponse
		if err := decode(r.body, &resp); err != nil {
			w.fail("%s: setData %s: %v", w.name, path, err)
			return
		}
		if resp.Stat.Version != version+1 {
			w.fail("%s: setData %s expecting version %d acknowledged with version %d", w.name, path, version, resp.Stat.Version)
		}
		w.m.observe(path, resp.Stat.Version, data, fmt.Sprintf("setData acknowledged to %s in cycle %d", w.name, cycle), true)
	})
}

// readBack reads a random acknowledged node while the workload runs: it must be there, as
// acknowledged.
func (w *worker) readBack(async func(*call, func(reply))) {
	w.m.mu.Lock()
	var n *ackedNode
	for _, x := range w.m.nodes { // map order is random enough for picking one
		n = x
		break
	}
	w.m.mu.Unlock()
	if n == nil {
		return
	}
	async(w.c.getData(n.path), func(r reply) {
		if r.err != nil {
			return
		}
		if r.code() == proto.ErrNoNode {
			w.fail("%s: %s (acknowledged by %s in cycle %d) is missing while the server runs", w.name, n.path, n.by, n.cycle)
			return
		}
		got, err := decodeGetData(r)
		if err != nil || !r.ok() {
			w.fail("%s: getData %s: %v %v", w.name, n.path, r, err)
			return
		}
		if !bytes.Equal(got.Data, n.data) || got.Stat.Czxid != n.czxid {
			w.fail("%s: %s has data %q czxid 0x%x; acknowledged %q czxid 0x%x", w.name, n.path, got.Data, got.Stat.Czxid, n.data, n.czxid)
		}
	})
}
