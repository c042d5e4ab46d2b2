package crash

import (
	"bytes"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

// Paths of the workload.
const (
	rootPath = "/crash"
	persPath = "/crash/p"    // persistent nodes with unique data
	seqPath  = "/crash/seq"  // persistent sequential nodes
	keepPath = "/crash/keep" // ephemerals of sessions that reattach after every restart
	deadPath = "/crash/dead" // ephemerals of sessions that never come back
	casPath  = "/crash/cas"  // nodes updated with setData(version) by every session
	casNodes = 3
)

func casNode(i int) string { return fmt.Sprintf("%s/%d", casPath, i) }

// ackedNode is an acknowledged create. Created nodes are never written again, so their data
// and czxid must stay exactly as acknowledged.
type ackedNode struct {
	path  string
	data  []byte
	czxid int64
	owner int64 // ephemeral owner (0: persistent)
	by    string
	cycle int
}

// casState is what is known about one setData(version) node.
type casState struct {
	// known is the highest version any reply showed (a setData ack or a read); the server
	// only answers from committed, durable state, so it must survive every crash.
	known     int32
	knownData []byte
	knownFrom string
	// seen maps every version any reply showed to its data (one version, one data).
	seen map[int32][]byte
	// attempts maps a version to the data of every setData sent expecting version-1: the
	// data at that version, whoever won, is one of these.
	attempts map[int32][][]byte
	acks     int
}

// model records every acknowledged write. Its methods are safe for concurrent use.
type model struct {
	mu         sync.Mutex
	nodes      map[string]*ackedNode // persistent and sequential creates, keeper ephemerals
	seqMax     int64                 // highest acknowledged sequence number under seqPath
	seqMaxPath string
	cas        map[string]*casState
	acked      int // acknowledged writes (creates + setData)
	deadAcked  int // acknowledged ephemerals of sessions that never come back
	// violation is called for inconsistencies seen while the workload runs.
	violation func(format string, args ...any)
}

func newModel(violation func(string, ...any)) *model {
	m := &model{nodes: map[string]*ackedNode{}, cas: map[string]*casState{}, seqMax: -1, violation: violation}
	for i := 0; i < casNodes; i++ {
		m.cas[casNode(i)] = &casState{seen: map[int32][]byte{}, attempts: map[int32][][]byte{}}
	}
	return m
}

// ackCreate records an acknowledged create (resp is the Create2Response).
func (m *model) ackCreate(n *ackedNode) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.acked++
	if old, ok := m.nodes[n.path]; ok {
		m.violation("create of %s acknowledged twice (by %s in cycle %d and by %s in cycle %d)", n.path, old.by, old.cycle, n.by, n.cycle)
	}
	m.nodes[n.path] = n
	if len(n.path) > len(seqPath) && n.path[:len(seqPath)+1] == seqPath+"/" {
		if s, ok := seqSuffix(n.path); ok && s > m.seqMax {
			m.seqMax, m.seqMaxPath = s, n.path
		}
	}
}

func (m *model) ackDeadEphemeral() {
	m.mu.Lock()
	m.deadAcked++
	m.mu.Unlock()
}

// attemptSet records a setData(path, data, version) about to be sent.
func (m *model) attemptSet(path string, data []byte, version int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.cas[path]
	c.attempts[version+1] = append(c.attempts[version+1], data)
}

// observe records that a reply showed path at version with data; how describes the reply.
func (m *model) observe(path string, version int32, data []byte, how string, ack bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.cas[path]
	if ack {
		m.acked++
		c.acks++
	}
	if d, ok := c.seen[version]; ok && !bytes.Equal(d, data) {
		m.violation("%s: version %d was seen with data %q and now with %q (%s)", path, version, d, data, how)
	}
	c.seen[version] = data
	if version > c.known {
		c.known, c.knownData, c.knownFrom = version, data, how
	}
}

// sortedNodes returns the acknowledged nodes, by path.
func (m *model) sortedNodes() []*ackedNode {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*ackedNode, 0, len(m.nodes))
	for _, n := range m.nodes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// checkResult counts what one verification pass looked at.
type checkResult struct {
	nodes, cas int
}

// verify checks the server's state against the model through c (a fresh session on the
// restarted server). fail reports a lost or wrong acknowledged write.
func (m *model) verify(c *client, fail func(format string, args ...any)) checkResult {
	var res checkResult
	nodes := m.sortedNodes()
	// Pipelined reads: a bounded window of outstanding getData calls.
	type pend struct {
		n  *ackedNode
		cl *call
	}
	window := make(chan pend, 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range window {
			r := p.cl.wait()
			res.nodes++
			n := p.n
			if r.err != nil {
				fail("getData %s: %v", n.path, r)
				continue
			}
			if r.code() == proto.ErrNoNode {
				fail("%s is missing: its create was acknowledged (by %s in cycle %d, czxid 0x%x, data %q)", n.path, n.by, n.cycle, n.czxid, n.data)
				continue
			}
			if !r.ok() {
				fail("getData %s: %v", n.path, r)
				continue
			}
			resp, err := decodeGetData(r)
			if err != nil {
				fail("getData %s: %v", n.path, err)
				continue
			}
			if !bytes.Equal(resp.Data, n.data) {
				fail("%s: data %q, expected the acknowledged %q (by %s in cycle %d)", n.path, resp.Data, n.data, n.by, n.cycle)
			}
			if resp.Stat.Czxid != n.czxid {
				fail("%s: czxid 0x%x, expected the acknowledged 0x%x (by %s in cycle %d)", n.path, resp.Stat.Czxid, n.czxid, n.by, n.cycle)
			}
			if resp.Stat.EphemeralOwner != n.owner {
				fail("%s: ephemeralOwner 0x%x, expected 0x%x (by %s in cycle %d)", n.path, resp.Stat.EphemeralOwner, n.owner, n.by, n.cycle)
			}
		}
	}()
	for _, n := range nodes {
		window <- pend{n, c.getData(n.path)}
	}
	close(window)
	<-done

	for i := 0; i < casNodes; i++ {
		path := casNode(i)
		r := c.getData(path).wait()
		if !r.ok() {
			fail("getData %s: %v", path, r)
			continue
		}
		resp, err := decodeGetData(r)
		if err != nil {
			fail("getData %s: %v", path, err)
			continue
		}
		res.cas++
		v, d := resp.Stat.Version, resp.Data
		m.mu.Lock()
		cs := m.cas[path]
		switch {
		case v < cs.known:
			fail("%s: version %d, but version %d (data %q) was acknowledged or read before the crash (%s): a write was lost",
				path, v, cs.known, cs.knownData, cs.knownFrom)
		case v == cs.known && !bytes.Equal(d, cs.knownData):
			fail("%s: version %d has data %q, expected %q (%s)", path, v, d, cs.knownData, cs.knownFrom)
		case v > cs.known && !containsBytes(cs.attempts[v], d):
			fail("%s: version %d has data %q, which no setData expecting version %d sent (%d candidates)", path, v, d, v-1, len(cs.attempts[v]))
		}
		m.mu.Unlock()
		m.observe(path, v, d, fmt.Sprintf("read after restart at %s", time.Now().Format("15:04:05.000")), false)
	}
	return res
}

func containsBytes(list [][]byte, b []byte) bool {
	for _, x := range list {
		if bytes.Equal(x, b) {
			return true
		}
	}
	return false
}

// report is a helper for failures that must say where they happened and how to reproduce.
type report struct {
	t     *testing.T
	seed  int64
	mu    sync.Mutex
	cycle int
	n     int
}

const maxReported = 40

func (r *report) setCycle(c int) {
	r.mu.Lock()
	r.cycle = c
	r.mu.Unlock()
}

func (r *report) failf(format string, args ...any) {
	r.t.Helper()
	r.mu.Lock()
	r.n++
	n, cycle := r.n, r.cycle
	r.mu.Unlock()
	switch {
	case n < maxReported:
		r.t.Errorf("seed=%d cycle=%d: %s", r.seed, cycle, fmt.Sprintf(format, args...))
	case n == maxReported:
		r.t.Errorf("seed=%d cycle=%d: (more failures not shown)", r.seed, cycle)
	}
}

func (r *report) failures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}
