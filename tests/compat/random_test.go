package compat

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

var (
	seqsFlag = flag.Int("compat.seqs", 500, "number of random operation sequences TestRandom runs")
	seedFlag = flag.Int64("compat.seed", 20261121, "seed of the first random sequence (sequence i uses seed+i)")
)

// TestRandom runs seeded random operation sequences against both servers (one ZooKeeper process
// for all of them; the tree is emptied between sequences) and compares every step. A failure
// names the sequence's seed; -compat.seed=SEED -compat.seqs=1 replays it alone.
func TestRandom(t *testing.T) {
	t.Parallel()
	p := startPair(t, true)
	start := time.Now()
	failed := 0
	steps := 0
	for i := 0; i < *seqsFlag; i++ {
		seed := *seedFlag + int64(i)
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("random sequence with seed %d failed; replay it with: go test ./tests/compat -run 'TestRandom' -compat.seed=%d -compat.seqs=1 -v", seed, seed)
				}
			})
			steps += runRandom(t, p, seed)
		})
		if !ok {
			failed++
			if failed == 3 {
				t.Fatalf("stopping after %d failing sequences", failed)
			}
		}
	}
	t.Logf("%d random sequences, %d steps, in %v", *seqsFlag, steps, time.Since(start).Round(time.Millisecond))
}

// gen generates one sequence.
type gen struct {
	r        *rand.Rand
	h        *H
	sessions []string // open sessions
	closed   bool     // a session was closed already
	authed   map[string]bool
	watched  map[string]bool // persistent watches of session "p" (one mode per path)
	next     int
}

// randPaths is the path space (repeats weigh the choice); /r, /r/a and /r/b exist at the start.
var randPaths = []string{"/r/a", "/r/a", "/r/b", "/r/c", "/r/c", "/r/a/x", "/r/a/x", "/r/a/y", "/r/b/x", "/r/b/x", "/r/a/x/z", "/r/d"}

// randACLs are valid or invalid ACLs that all let everyone read (so that no event is filtered
// by ACL and exists never meets an unreadable node: see knownDifferences).
var randACLs = [][]proto.ACL{
	open, open, open,
	readAll,
	{worldACL(proto.PermRead), digestACL(proto.PermAll, bobID)},
	{worldACL(proto.PermRead | proto.PermCreate | proto.PermDelete), digestACL(proto.PermAdmin, bobID)},
	{{Perms: proto.PermAll, Id: proto.Id{Scheme: "auth"}}, worldACL(proto.PermRead)},
	{},
	{{Perms: proto.PermAll, Id: proto.Id{Scheme: "world", Id: "someone"}}},
}

func (g *gen) pick(l []string) string { return l[g.r.IntN(len(l))] }

func (g *gen) path() string {
	p := g.pick(randPaths)
	if g.r.IntN(8) == 0 {
		p = g.pick([]string{"/r/a/", "/r/s-", "/r/a/s-", "/r/missing/x", "/r", "/r/a/x/"})
	}
	return p
}

func (g *gen) data() []byte {
	switch g.r.IntN(5) {
	case 0:
		return nil
	case 1:
		return []byte{}
	}
	return []byte(fmt.Sprintf("d%d", g.r.IntN(100)))
}

func (g *gen) version(max int) int32 {
	if g.r.IntN(2) == 0 {
		return -1
	}
	return int32(g.r.IntN(max + 1))
}

func (g *gen) acl() []proto.ACL { return randACLs[g.r.IntN(len(randACLs))] }

// session picks an open session; "p" (persistent watches only) is left out of plain reads with
// watches so that it never mixes watch modes on one path (see the watch-modes known difference).
func (g *gen) session() string { return g.pick(g.sessions) }

func (g *gen) createOp() proto.MultiOp {
	path, d := g.path(), g.data()
	switch g.r.IntN(10) {
	case 0:
		return proto.MultiOp{Type: proto.OpCreateContainer, Body: &proto.CreateRequest{Path: path, Data: d, Acl: g.acl(), Flags: proto.ModeContainer}}
	case 1:
		ttl := int64(60000)
		if g.r.IntN(4) == 0 {
			ttl = 0
		}
		flags := proto.ModePersistentWithTTL
		if g.r.IntN(2) == 0 {
			flags = proto.ModePersistentSequentialWithTTL
		}
		return proto.MultiOp{Type: proto.OpCreateTTL, Body: &proto.CreateTTLRequest{Path: path, Data: d, Acl: g.acl(), Flags: flags, Ttl: ttl}}
	}
	op := proto.OpCreate
	if g.r.IntN(2) == 0 {
		op = proto.OpCreate2
	}
	flags := []int32{0, 0, 0, 1, 1, 2, 3}[g.r.IntN(7)]
	return proto.MultiOp{Type: op, Body: &proto.CreateRequest{Path: path, Data: d, Acl: g.acl(), Flags: flags}}
}

func (g *gen) multiOp() proto.MultiOp {
	switch g.r.IntN(5) {
	case 0:
		op := g.createOp()
		if op.Type == proto.OpCreateContainer && g.r.IntN(2) == 0 {
			op.Type = proto.OpCreate // container flags: a createContainer op in both versions
		}
		return op
	case 1:
		return opCreate(g.path(), g.data(), []int32{0, 1, 2, 3}[g.r.IntN(4)])
	case 2:
		return opDelete(g.path(), g.version(2))
	case 3:
		return opSetData(g.path(), g.data(), g.version(3))
	}
	return opCheck(g.path(), g.version(3))
}

// step generates and runs one random step.
func (g *gen) step() {
	h := g.h
	s := g.session()
	watchOK := s != "p"
	switch n := g.r.IntN(100); {
	case n < 22:
		op := g.createOp()
		h.req(s, op.Type, op.Body)
	case n < 32:
		h.del(s, g.path(), g.version(2))
	case n < 44:
		h.setData(s, g.path(), g.data(), g.version(3))
	case n < 52:
		h.exists(s, g.path(), watchOK && g.r.IntN(2) == 0)
	case n < 60:
		h.getData(s, g.path(), watchOK && g.r.IntN(2) == 0)
	case n < 66:
		h.children(s, g.pick([]string{"/r", "/r/a", "/r/b", "/r/a/x"}), watchOK && g.r.IntN(2) == 0)
	case n < 70:
		h.children2(s, g.pick([]string{"/r", "/r/a", "/r/b"}), watchOK && g.r.IntN(2) == 0)
	case n < 80:
		ops := make([]proto.MultiOp, 1+g.r.IntN(4))
		for i := range ops {
			ops[i] = g.multiOp()
		}
		h.multi(s, ops...)
	case n < 84:
		h.setACL(s, g.path(), g.version(1), g.acl()...)
	case n < 87:
		h.getACL(s, g.path())
	case n < 89:
		h.multiRead(s, opGetData(g.path()), opGetChildren(g.pick([]string{"/r", "/r/a"})), opGetData(g.path()))
	case n < 91:
		h.req(s, proto.OpGetAllChildrenNumber, &proto.GetAllChildrenNumberRequest{Path: g.pick([]string{"/r", "/r/a", "/"})})
	case n < 93:
		h.req(s, proto.OpGetEphemerals, &proto.GetEphemeralsRequest{PrefixPath: g.pick([]string{"/", "/r/a", "/r/"})})
	case n < 94:
		h.req(s, proto.OpSync, &proto.SyncRequest{Path: g.path()})
	case n < 96:
		if !g.authed[s] {
			g.authed[s] = true
			h.auth(s, "digest", "bob:secret")
		} else {
			h.whoAmI(s)
		}
	case n < 98:
		// Persistent watches come from session "p" only, one mode per path.
		if slices.Contains(g.sessions, "p") {
			path := g.pick([]string{"/r", "/r/a", "/r/b", "/r/a/x", "/r/c"})
			if !g.watched[path] {
				g.watched[path] = true
				h.addWatch("p", path, int32(g.r.IntN(2)))
				return
			}
		}
		h.exists(s, g.path(), false)
	default:
		if !g.closed && len(g.sessions) > 1 {
			g.closed = true
			h.closeSession(s)
			g.sessions = slices.DeleteFunc(g.sessions, func(x string) bool { return x == s })
			if g.r.IntN(2) == 0 {
				name := fmt.Sprintf("n%d", g.next)
				g.next++
				h.connect(name)
				g.sessions = append(g.sessions, name)
			}
			return
		}
		h.getData(s, g.path(), false)
	}
}

// runRandom runs the sequence for seed and returns its number of steps.
func runRandom(t *testing.T, p *pair, seed int64) int {
	g := &gen{r: rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)), authed: map[string]bool{}, watched: map[string]bool{}}
	h := newH(t, p)
	g.h = h
	g.sessions = []string{"s0", "s1"}
	if g.r.IntN(2) == 0 {
		g.sessions = append(g.sessions, "p")
	}
	for _, s := range g.sessions {
		h.connect(s)
	}
	h.create("s0", "/r", nil, 0)
	h.create("s0", "/r/a", []byte("a"), 0)
	h.create("s1", "/r/b", nil, 0)
	n := 10 + g.r.IntN(21)
	for i := 0; i < n; i++ {
		g.step()
	}
	return h.step
}
