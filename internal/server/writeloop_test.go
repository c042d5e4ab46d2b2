package server

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// The writer goroutine swaps the connection's output buffer with a spare
// one for each write. A buffer over 1 MiB is not kept as the spare; the
// spare it replaced must not be kept either, or the next swap hands the
// reader goroutine the very buffer being written, and a reply queued during
// that write overwrites the bytes still going out.
func TestWriteLoopBufferNotShared(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	c := &conn{nc: server, wake: make(chan struct{}, 1), done: make(chan struct{})}
	defer close(c.done)
	go c.writeLoop()
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	read := func(n int) []byte {
		t.Helper()
		b := make([]byte, n)
		if _, err := io.ReadFull(client, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			c.outMu.Lock()
			ok := cond()
			c.outMu.Unlock()
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	// A small write leaves its buffer as the spare.
	c.sendRaw([]byte("a"))
	read(1)
	waitFor("the first buffer to become the spare", func() bool { return c.spare != nil })
	// A write of over 1 MiB: its buffer is dropped afterwards.
	big := bytes.Repeat([]byte("b"), 1<<20+1)
	c.sendRaw(big)
	if got := read(len(big)); !bytes.Equal(got, big) {
		t.Fatal("the large write came out changed")
	}
	// The next write: once the writer has taken "y" (the output buffer is
	// empty again) it blocks in the pipe until we read, and "z" is queued
	// meanwhile. What comes out must be "y" then "z".
	c.sendRaw([]byte("y"))
	waitFor("the writer to take the output buffer", func() bool { return len(c.out) == 0 })
	c.sendRaw([]byte("z"))
	if got := read(2); string(got) != "yz" {
		t.Fatalf("read %q, want \"yz\"", got)
	}
}
