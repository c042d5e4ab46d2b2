package robustness

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/warren-zk/warren/internal/testutil/faultproxy"
	"github.com/warren-zk/warren/internal/testutil/walfault"
)

// nemesis is one kind of fault. inject starts it and returns how to heal it and what it did.
type nemesis struct {
	name string
	// ok reports whether the nemesis applies to the cluster.
	ok     func(c cluster) bool
	inject func(c cluster, rng *rand.Rand) (heal func() error, desc string, err error)
}

func always(cluster) bool { return true }

func warrenOnly(c cluster) bool { return c.kind() == "warren" }

// pickLeader returns the leader, or a random voter when none is settled.
func pickLeader(c cluster, rng *rand.Rand) int {
	if l := leader(c); l >= 0 {
		return l
	}
	return rng.IntN(c.voters())
}

func startAll(c cluster, order []int) error {
	for _, i := range order {
		if !c.running(i) {
			if err := c.start(i); err != nil {
				return fmt.Errorf("start member %d: %w", i+1, err)
			}
		}
	}
	return nil
}

// partition blocks every link between the groups a and b (both directions).
func partition(c cluster, a, b []int, mode faultproxy.Mode) func() error {
	var ps []*faultproxy.Proxy
	for _, i := range a {
		for _, j := range b {
			ps = append(ps, c.links(i, j)...)
			ps = append(ps, c.links(j, i)...)
		}
	}
	for _, p := range ps {
		p.SetMode(mode)
	}
	return func() error {
		for _, p := range ps {
			p.SetMode(faultproxy.Pass)
		}
		return nil
	}
}

func randomMode(rng *rand.Rand) faultproxy.Mode {
	if rng.IntN(2) == 0 {
		return faultproxy.Drop
	}
	return faultproxy.Refuse
}

func members(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id + 1)
	}
	return "{" + strings.Join(s, ",") + "}"
}

// splitObservers puts each observer on a random side.
func splitObservers(c cluster, rng *rand.Rand, a, b []int) ([]int, []int) {
	for i := c.voters(); i < c.size(); i++ {
		if rng.IntN(2) == 0 {
			a = append(a, i)
		} else {
			b = append(b, i)
		}
	}
	return a, b
}

func others(c cluster, not ...int) []int {
	var out []int
	for i := 0; i < c.size(); i++ {
		skip := false
		for _, n := range not {
			skip = skip || n == i
		}
		if !skip {
			out = append(out, i)
		}
	}
	return out
}

var nemeses = []nemesis{
	{"kill-one", always, func(c cluster, rng *rand.Rand) (func() error, string, error) {
		i := rng.IntN(c.size())
		c.kill(i)
		return func() error { return c.start(i) }, fmt.Sprintf("SIGKILL member %d", i+1), nil
	}},
	{"kill-leader", always, func(c cluster, rng *rand.Rand) (func() error, string, error) {
		i := pickLeader(c, rng)
		c.kill(i)
		return func() error { return c.start(i) }, fmt.Sprintf("SIGKILL the leader, member %d", i+1), nil
	}},
	{"kill-all", always, func(c cluster, rng *rand.Rand) (func() error, string, error) {
		order := rng.Perm(c.size())
		for _, i := range order {
			c.kill(i)
		}
		restart := rng.Perm(c.size())
		return func() error { return startAll(c, restart) }, "SIGKILL every member", nil
	}},
	{"kill-torn-wal", warrenOnly, func(c cluster, rng *rand.Rand) (func() error, string, error) {
		i := rng.IntN(c.size())
		if rng.IntN(2) == 0 {
			i = pickLeader(c, rng)
		}
		c.kill(i)
		what, err := c.damageWAL(i, rng)
		if errors.Is(err, walfault.ErrNoRoom) {
			// The segment is full to its last few KiB: a crash leaves no
			// torn tail there (the WAL would have rolled over first).
			return func() error { return c.start(i) }, fmt.Sprintf("SIGKILL member %d, tail left whole (%v)", i+1, err), nil
		}
		if err != nil {
			return func() error { return c.start(i) }, "", fmt.Errorf("damage the WAL of member %d: %w", i+1, err)
		}
		return func() error { return c.start(i) }, fmt.Sprintf("SIGKILL member %d, then %s", i+1, what), nil
	}},
	{"pause-one", always, func(c cluster, rng *rand.Rand) (func() error, string, error) {
		i := rng.IntN(c.size())
		c.pause(i)
		return func() error { c.resume(i); return nil }, fmt.Sprintf("SIGSTOP member %d", i+1), nil
	}},
	{"pause-leader", always, func(c cluster, rng *rand.Rand) (func() error, string, error) {
		i := pickLeader(c, rng)
		c.pause(i)
		return func() error { c.resume(i); return nil }, fmt.Sprintf("SIGSTOP the leader, member %d", i+1), nil
	}},
	{"isolate-leader", always, func(c cluster, rng *rand.Rand) (func() error, string, error) {
		l := pickLeader(c, rng)
		mode := randomMode(rng)
		heal := partition(c, []int{l}, others(c, l), mode)
		return heal, fmt.Sprintf("partition (%s) the leader, member %d, from the others", mode, l+1), nil
	}},
	{"split", always, func(c cluster, rng *rand.Rand) (func() error, string, error) {
		v := rng.Perm(c.voters())
		k := (c.voters() - 1) / 2
		minority, majority := splitObservers(c, rng, v[:k:k], v[k:])
		sort.Ints(minority)
		sort.Ints(majority)
		mode := randomMode(rng)
		heal := partition(c, minority, majority, mode)
		return heal, fmt.Sprintf("partition (%s) %s | %s", mode, members(minority), members(majority)), nil
	}},
	{"bridge", always, func(c cluster, rng *rand.Rand) (func() error, string, error) {
		v := rng.Perm(c.voters())
		h := c.voters() / 2
		a, b := splitObservers(c, rng, v[:h:h], v[h+1:])
		mode := randomMode(rng)
		heal := partition(c, a, b, mode)
		return heal, fmt.Sprintf("bridge (%s): %s | %s, member %d talks to both", mode, members(a), members(b), v[h]+1), nil
	}},
	{"leader-one-way", always, func(c cluster, rng *rand.Rand) (func() error, string, error) {
		l := pickLeader(c, rng)
		var ps []*faultproxy.Proxy
		for _, j := range others(c, l) {
			ps = append(ps, c.links(l, j)...)
		}
		note, _ := c.(interface{ noteOneWay(int, bool) })
		if note != nil {
			note.noteOneWay(l, true)
		}
		for _, p := range ps {
			p.SetMode(faultproxy.Drop)
		}
		return func() error {
			for _, p := range ps {
				p.SetMode(faultproxy.Pass)
			}
			if note != nil {
				note.noteOneWay(l, false)
			}
			return nil
		}, fmt.Sprintf("drop everything on the connections the leader, member %d, opens (the others' pass)", l+1), nil
	}},
	{"latency", always, func(c cluster, rng *rand.Rand) (func() error, string, error) {
		d := time.Duration(10+rng.IntN(90)) * time.Millisecond
		j := time.Duration(rng.Int64N(int64(d)/2 + 1))
		var ps []*faultproxy.Proxy
		for i := 0; i < c.size(); i++ {
			for _, k := range others(c, i) {
				ps = append(ps, c.links(i, k)...)
			}
		}
		for _, p := range ps {
			p.SetLatency(d, j)
		}
		return func() error {
			for _, p := range ps {
				p.SetLatency(0, 0)
			}
			return nil
		}, fmt.Sprintf("latency %v + up to %v on every peer link", d, j.Round(time.Millisecond)), nil
	}},
	{"cut-links", always, func(c cluster, rng *rand.Rand) (func() error, string, error) {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		every := time.Duration(150+rng.IntN(400)) * time.Millisecond
		seed := rng.Uint64()
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 1))
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					i := r.IntN(c.size())
					for _, k := range others(c, i) {
						if r.IntN(2) == 0 {
							for _, p := range c.links(i, k) {
								p.Cut()
							}
						}
					}
				}
			}
		}()
		return func() error { close(stop); wg.Wait(); return nil }, fmt.Sprintf("cut random peer connections every %v", every), nil
	}},
}

// healAll undoes every fault: every proxy forwards without latency, every member runs and
// none is paused.
func healAll(c cluster) error {
	for i := 0; i < c.size(); i++ {
		for _, j := range others(c, i) {
			for _, p := range c.links(i, j) {
				p.Heal()
			}
		}
		c.resume(i)
	}
	return startAll(c, others(c))
}
