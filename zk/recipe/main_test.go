package recipe_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/warren-zk/warren/zk"
	"github.com/warren-zk/warren/zktest"
)

// exampleAddr is the address of the server the examples use (they have no
// testing.T to start one with).
var exampleAddr string

func TestMain(m *testing.M) {
	srv, err := zktest.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	exampleAddr = srv.Addr()
	code := m.Run()
	srv.Close()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// startServer starts a Warren server with a 100ms tick, so that a short
// session expires quickly.
func startServer(t *testing.T) *zktest.Server {
	t.Helper()
	return zktest.Start(t, zktest.WithTickTime(100*time.Millisecond))
}

// connect opens a session (10s by default) that the test closes at the end.
func connect(t testing.TB, addr string, opts ...zk.Option) *zk.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts = append([]zk.Option{zk.WithMaxBackoff(100 * time.Millisecond)}, opts...)
	c, err := zk.Connect(ctx, addr, opts...)
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// conns opens n sessions.
func conns(t testing.TB, addr string, n int) []*zk.Conn {
	out := make([]*zk.Conn, n)
	for i := range out {
		out[i] = connect(t, addr)
	}
	return out
}

// testCtx is bounded so that a hang fails the test instead of the run.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond every 10ms for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// proxy is a TCP proxy on 127.0.0.1 in front of a server. Blackhole makes
// it swallow everything, on open connections and new ones, so that the
// server stops hearing from the client and expires its session while the
// client cannot learn it.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	black bool
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
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
		black := p.black
		p.conns[c] = true
		p.mu.Unlock()
		if black {
			p.wg.Add(1)
			go func() { defer p.wg.Done(); io.Copy(io.Discard, c); p.drop(c) }()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			p.drop(c)
			continue
		}
		p.mu.Lock()
		p.conns[s] = true
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

func (p *proxy) pipe(from, to net.Conn) {
	defer p.wg.Done()
	defer p.drop(from)
	defer p.drop(to)
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		p.mu.Lock()
		black := p.black
		p.mu.Unlock()
		if n > 0 && !black {
			if _, err := to.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// Blackhole stops all traffic through the proxy; connections stay open.
func (p *proxy) Blackhole() {
	p.mu.Lock()
	p.black = true
	p.mu.Unlock()
}

// Cut closes every open connection (new ones go through): the client
// reconnects at once and its session survives.
func (p *proxy) Cut() {
	p.mu.Lock()
	var all []net.Conn
	for c := range p.conns {
		all = append(all, c)
	}
	p.mu.Unlock()
	for _, c := range all {
		c.Close()
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	var all []net.Conn
	for c := range p.conns {
		all = append(all, c)
	}
	p.mu.Unlock()
	for _, c := range all {
		c.Close()
	}
	p.wg.Wait()
}

// expiringConn returns a session through a proxy that the test can
// blackhole to make it expire, with a short session timeout.
func expiringConn(t testing.TB, addr string, timeout time.Duration) (*zk.Conn, *proxy) {
	t.Helper()
	p := newProxy(t, addr)
	c := connect(t, p.Addr(), zk.WithSessionTimeout(timeout))
	return c, p
}

// waitGone waits until path no longer exists (as seen by c).
func waitGone(t testing.TB, c *zk.Conn, path string, d time.Duration) {
	t.Helper()
	ok := eventually(d, func() bool {
		ok, _, err := c.Exists(context.Background(), path)
		return err == nil && !ok
	})
	if !ok {
		t.Fatalf("%s still exists after %v", path, d)
	}
}
