package zk_test

import (
	"io"
	"net"
	"sync"
	"testing"
)

// proxy is a TCP proxy on 127.0.0.1 between a client and a server that a
// test can cut or black-hole, to kill connections mid-operation and to make
// a server stop hearing from a client.
type proxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  proxyMode
	pairs map[*pair]bool
	wg    sync.WaitGroup
}

type proxyMode int

const (
	forward   proxyMode = iota // pass bytes both ways
	blackhole                  // keep connections open, deliver nothing (new ones too)
	refuse                     // close new connections at once
)

type pair struct {
	client, server net.Conn // server is nil for a black-holed new connection
	frozen         bool     // guarded by proxy.mu: drop bytes
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target, pairs: map[*pair]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		p.mu.Unlock()
		switch mode {
		case refuse:
			c.Close()
			continue
		case blackhole:
			pr := &pair{client: c, frozen: true}
			p.add(pr)
			p.wg.Add(1)
			go func() { defer p.wg.Done(); io.Copy(io.Discard, c); p.drop(pr) }()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pr := &pair{client: c, server: s}
		p.add(pr)
		p.wg.Add(2)
		go p.pipe(pr, c, s)
		go p.pipe(pr, s, c)
	}
}

func (p *proxy) add(pr *pair) {
	p.mu.Lock()
	p.pairs[pr] = true
	p.mu.Unlock()
}

func (p *proxy) drop(pr *pair) {
	p.mu.Lock()
	delete(p.pairs, pr)
	p.mu.Unlock()
	pr.client.Close()
	if pr.server != nil {
		pr.server.Close()
	}
}

func (p *proxy) pipe(pr *pair, from, to net.Conn) {
	defer p.wg.Done()
	defer p.drop(pr)
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			p.mu.Lock()
			frozen := pr.frozen
			p.mu.Unlock()
			if !frozen {
				if _, err := to.Write(buf[:n]); err != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// SetMode changes how the proxy treats traffic. Entering blackhole freezes
// the open connections (they stay open but carry nothing); leaving it
// closes them.
func (p *proxy) SetMode(m proxyMode) {
	p.mu.Lock()
	old := p.mode
	p.mode = m
	var closing []*pair
	for pr := range p.pairs {
		if m == blackhole {
			pr.frozen = true
		} else if old == blackhole && pr.frozen {
			closing = append(closing, pr)
		}
	}
	p.mu.Unlock()
	for _, pr := range closing {
		p.drop(pr)
	}
}

// Cut closes every open connection.
func (p *proxy) Cut() {
	p.mu.Lock()
	var all []*pair
	for pr := range p.pairs {
		all = append(all, pr)
	}
	p.mu.Unlock()
	for _, pr := range all {
		p.drop(pr)
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}
