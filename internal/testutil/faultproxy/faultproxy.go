// Package faultproxy is a TCP proxy on loopback for tests that inject network faults:
// partitions that drop (silence: connections stay open, bytes vanish) or refuse (resets),
// latency with jitter that never reorders a stream, and cutting live connections. Healing a
// dropping link closes every connection that lost bytes, since a TCP stream never skips
// bytes and must not resume. Lock order: Proxy.mu is the only lock.
package faultproxy

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Mode is what a proxy does with the traffic of its link.
type Mode int

const (
	// Pass forwards everything (after the link's latency).
	Pass Mode = iota
	// Drop keeps connections open but discards every byte in both directions, and accepts
	// new connections without connecting them anywhere: the peer sees silence, as behind a
	// firewall that drops packets. When the link heals, every connection that lost bytes is
	// closed (a TCP stream never skips bytes, so it must not resume).
	Drop
	// Refuse closes every connection and every new one at once: the peer sees resets, as
	// behind a firewall that rejects.
	Refuse
)

func (m Mode) String() string {
	switch m {
	case Pass:
		return "pass"
	case Drop:
		return "drop"
	case Refuse:
		return "refuse"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Proxy forwards one directed link (for instance member i dialing member j's peer port) and
// injects faults into it: partitions (drop or refuse), latency, and cutting the live
// connections. It listens on a loopback port picked at run time.
type Proxy struct {
	name   string
	target string
	ln     net.Listener

	mu     sync.Mutex
	mode   Mode
	delay  time.Duration
	jitter time.Duration

	rng    *rand.Rand
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// conn is one accepted connection and its upstream (nil when it was accepted while the
// link dropped traffic).
type conn struct {
	down, up net.Conn

	dropping bool // guarded by proxy.mu: discards bytes; closed when the link heals
	once     sync.Once
}

func (c *conn) close() {
	c.once.Do(func() {
		c.down.Close()
		if c.up != nil {
			c.up.Close()
		}
	})
}

// New starts a proxy to target on a loopback port. name is for the caller's messages; seed
// drives the latency jitter.
func New(name, target string, seed uint64) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{name: name, target: target, ln: ln, conns: map[*conn]struct{}{}, rng: rand.New(rand.NewPCG(seed, 7))}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Port is the proxy's listening port (what the dialing member's zoo.cfg names).
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p.mu.Lock()
		mode, closed := p.mode, p.closed
		p.mu.Unlock()
		switch {
		case closed || mode == Refuse:
			nc.Close()
		case mode == Drop:
			c := &conn{down: nc, dropping: true}
			if !p.add(c) {
				continue
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				io.Copy(io.Discard, nc)
				p.remove(c)
			}()
		default:
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.connect(nc)
			}()
		}
	}
}

func (p *Proxy) add(c *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) remove(c *conn) {
	c.close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// connect dials the target and pumps both directions until either side ends.
func (p *Proxy) connect(down net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		down.Close()
		return
	}
	c := &conn{down: down, up: up}
	p.mu.Lock()
	c.dropping = p.mode == Drop
	p.mu.Unlock()
	if !p.add(c) {
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pump(c, down, up) }()
	go func() { defer wg.Done(); p.pump(c, up, down) }()
	wg.Wait()
	p.remove(c)
}

type chunk struct {
	b  []byte
	at time.Time // when to deliver
}

// pump copies src to dst, each chunk delayed by the link's latency at the time it was read
// (order kept), or discarded while the connection drops traffic. It closes the connection when
// either side ends.
func (p *Proxy) pump(c *conn, src, dst net.Conn) {
	defer c.close()
	ch := make(chan chunk, 256)
	go func() {
		defer close(ch)
		var last time.Time
		for {
			b := make([]byte, 32<<10)
			n, err := src.Read(b)
			if n > 0 {
				p.mu.Lock()
				d := p.delay
				if p.jitter > 0 {
					d += time.Duration(p.rng.Int64N(int64(p.jitter)))
				}
				p.mu.Unlock()
				at := time.Now().Add(d)
				if at.Before(last) {
					at = last // latency never reorders a stream
				}
				last = at
				ch <- chunk{b[:n], at}
			}
			if err != nil {
				return
			}
		}
	}()
	for k := range ch {
		if d := time.Until(k.at); d > 0 {
			time.Sleep(d)
		}
		p.mu.Lock()
		drop := c.dropping
		p.mu.Unlock()
		if drop {
			continue
		}
		dst.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := dst.Write(k.b); err != nil {
			c.close()
			for range ch { // let the reader end
			}
			return
		}

	}
}

// SetMode partitions (Drop, Refuse) or heals (Pass) the link. Healing closes every
// connection that lost bytes. The connections it closes are closed when it returns.
func (p *Proxy) SetMode(m Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	for c := range p.conns {
		switch m {
		case Drop:
			c.dropping = true
		case Refuse:
			c.close()
		case Pass:
			if c.dropping {
				c.close()
			}
		}
	}
}

// SetLatency delays every chunk of the link by d plus up to jitter.
func (p *Proxy) SetLatency(d, jitter time.Duration) {
	p.mu.Lock()
	p.delay, p.jitter = d, jitter
	p.mu.Unlock()
}

// Cut closes the live connections once (new ones are accepted as the mode says); they
// are closed when it returns. (Closing them in goroutines of their own, as it did, let a
// caller still use a connection it had just cut.)
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.close()
	}
}

// Heal forwards everything again without latency.
func (p *Proxy) Heal() {
	p.SetLatency(0, 0)
	p.SetMode(Pass)
}

// Addr is the proxy's listening address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops the proxy and closes every connection through it.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
