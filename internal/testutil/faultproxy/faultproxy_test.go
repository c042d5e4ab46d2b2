package faultproxy

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// echo serves an echo server on loopback until the test ends.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// roundTrip writes b and reads it back within d; it returns the read error.
func roundTrip(c net.Conn, b []byte, d time.Duration) error {
	if _, err := c.Write(b); err != nil {
		return err
	}
	c.SetReadDeadline(time.Now().Add(d))
	got := make([]byte, len(b))
	_, err := io.ReadFull(c, got)
	if err == nil && string(got) != string(b) {
		return errors.New("echoed bytes differ")
	}
	return err
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestProxy(t *testing.T) {
	isTimeout := func(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, p *Proxy)
	}{
		{"pass forwards", func(t *testing.T, p *Proxy) {
			if err := roundTrip(dial(t, p), []byte("hello"), 5*time.Second); err != nil {
				t.Fatal(err)
			}
		}},
		{"drop silences open and new connections; healing closes the lossy ones", func(t *testing.T, p *Proxy) {
			old := dial(t, p)
			if err := roundTrip(old, []byte("a"), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			p.SetMode(Drop)
			if err := roundTrip(old, []byte("b"), 200*time.Millisecond); !isTimeout(err) {
				t.Fatalf("open connection while dropping: %v, want a timeout", err)
			}
			if err := roundTrip(dial(t, p), []byte("c"), 200*time.Millisecond); !isTimeout(err) {
				t.Fatalf("new connection while dropping: %v, want a timeout", err)
			}
			p.Heal()
			if err := roundTrip(old, []byte("d"), 5*time.Second); err == nil || isTimeout(err) {
				t.Fatalf("lossy connection after healing: %v, want it closed", err)
			}
			if err := roundTrip(dial(t, p), []byte("e"), 5*time.Second); err != nil {
				t.Fatalf("new connection after healing: %v", err)
			}
		}},
		{"refuse closes open and new connections", func(t *testing.T, p *Proxy) {
			old := dial(t, p)
			if err := roundTrip(old, []byte("a"), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			p.SetMode(Refuse)
			if err := roundTrip(old, []byte("b"), 5*time.Second); err == nil || isTimeout(err) {
				t.Fatalf("open connection while refusing: %v, want it closed", err)
			}
			if err := roundTrip(dial(t, p), []byte("c"), 5*time.Second); err == nil || isTimeout(err) {
				t.Fatalf("new connection while refusing: %v, want it closed", err)
			}
		}},
		{"cut closes live connections only", func(t *testing.T, p *Proxy) {
			old := dial(t, p)
			if err := roundTrip(old, []byte("a"), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			p.Cut()
			if err := roundTrip(old, []byte("b"), 5*time.Second); err == nil || isTimeout(err) {
				t.Fatalf("cut connection: %v, want it closed", err)
			}
			if err := roundTrip(dial(t, p), []byte("c"), 5*time.Second); err != nil {
				t.Fatalf("new connection after a cut: %v", err)
			}
		}},
		{"latency delays without reordering", func(t *testing.T, p *Proxy) {
			c := dial(t, p)
			p.SetLatency(100*time.Millisecond, 20*time.Millisecond)
			start := time.Now()
			for _, s := range []string{"1", "2", "3"} {
				if err := roundTrip(c, []byte(s), 5*time.Second); err != nil {
					t.Fatal(err)
				}
			}
			// Three round trips, each crossing the proxy twice.
			if d := time.Since(start); d < 600*time.Millisecond {
				t.Fatalf("three round trips took %v with 100 ms latency each way", d)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.name, echo(t), 1)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			tc.run(t, p)
		})
	}
}
