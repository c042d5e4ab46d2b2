package server

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

func TestReadN(t *testing.T) {
	for _, n := range []int{0, 1, 64 << 10, 64<<10 + 1, 300_000, 1 << 20} {
		src := bytes.Repeat([]byte{7}, n)
		got, err := readN(iotest.HalfReader(bytes.NewReader(src)), n)
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("n=%d: %d bytes, %v", n, len(got), err)
		}
		if n > 0 {
			if _, err := readN(bytes.NewReader(src[:n-1]), n); err == nil {
				t.Fatalf("n=%d: short input accepted", n)
			}
		}
	}
	// A truncated body is an error.
	r, w := io.Pipe()
	go func() { w.Write(make([]byte, 10)); w.CloseWithError(io.ErrUnexpectedEOF) }()
	if _, err := readN(r, 1<<20); err == nil {
		t.Fatal("truncated body accepted")
	}
}
