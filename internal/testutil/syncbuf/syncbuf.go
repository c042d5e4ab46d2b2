// Package syncbuf is a bytes.Buffer that goroutines may write while a test
// reads it: a server's or a raft node's log, a shell's two output streams.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer collects writes in order; the zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
