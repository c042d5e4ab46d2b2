package robustness

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// linkMode is what a proxy does with the traffic of its link.
type linkMode int

const (
	// linkPass forwards everything (after the link's latency).
	linkPass linkMode = iota
	// linkDrop keeps connections open but discards every byte in both directions, and accepts
	// new connections without connecting them anywhere: the peer sees silence, as behind a
	// firewall that drops packets. When the link heals, every connection that lost bytes is
	// closed (a TCP stream never skips bytes, so it must not resume).
	linkDrop
	// linkRefuse closes every connection and every new one at once: the peer sees resets, as
	// behind a firewall that rejects.
	linkRefuse
)

func (m linkMode) String() string {
	switch m {
	case linkPass:
		return "pass"
	case linkDrop:
		return "drop"
	case linkRefuse:
		return "refuse"
	}
	return fmt.Sprintf("linkMode(%d)", int(m))
}

// proxy forwards one directed peer link (member `from` dialing member `to`'s peer or election
// port) and injects faults into it: partitions (drop or refuse), latency, and cutting the live
// connections. It listens on a loopback port picked at run time.
type proxy struct {
	name   string
	target string
	ln     net.Listener

	mu     sync.Mutex
	mode   linkMode
	delay  time.Duration
	jitter time.Duration

	rng    *rand.Rand
	conns  map[*proxyConn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// proxyConn is one accepted connection and its upstream (nil when it was accepted while the
// link dropped traffic).
type proxyConn struct {
	down, up net.Conn

	dropping bool // guarded by proxy.mu: discards bytes; closed when the link heals
	once     sync.Once
}

func (c *proxyConn) close() {
	c.once.Do(func() {
		c.down.Close()
		if c.up != nil {
			c.up.Close()
		}
	})
}

func newProxy(name, target string, seed uint64) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{name: name, target: target, ln: ln, conns: map[*proxyConn]struct{}{}, rng: rand.New(rand.NewPCG(seed, 7))}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// port is the proxy's listening port (what the dialing member's zoo.cfg names).
func (p *proxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *proxy) acceptLoop() {
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
		case closed || mode == linkRefuse:
			nc.Close()
		case mode == linkDrop:
			c := &proxyConn{down: nc, dropping: true}
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

func (p *proxy) add(c *proxyConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *proxy) remove(c *proxyConn) {
	c.close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// connect dials the target and pumps both directions until either side ends.
func (p *proxy) connect(down net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		down.Close()
		return
	}
	c := &proxyConn{down: down, up: up}
	p.mu.Lock()
	c.dropping = p.mode == linkDrop
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
func (p *proxy) pump(c *proxyConn, src, dst net.Conn) {
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

// setMode partitions (linkDrop, linkRefuse) or heals (linkPass) the link. Healing closes every
// connection that lost bytes.
func (p *proxy) setMode(m linkMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	for c := range p.conns {
		switch m {
		case linkDrop:
			c.dropping = true
		case linkRefuse:
			go c.close()
		case linkPass:
			if c.dropping {
				go c.close()
			}
		}
	}
}

// setLatency delays every chunk of the link by d plus up to jitter.
func (p *proxy) setLatency(d, jitter time.Duration) {
	p.mu.Lock()
	p.delay, p.jitter = d, jitter
	p.mu.Unlock()
}

// cut closes the live connections once (new ones are accepted as the mode says).
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		go c.close()
	}
}

// heal forwards everything again without latency.
func (p *proxy) heal() {
	p.setLatency(0, 0)
	p.setMode(linkPass)
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
