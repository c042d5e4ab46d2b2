package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

type recorder struct {
	mu     sync.Mutex
	frames [][]byte
	kinds  []byte
	snaps  [][]byte
	rej    bool
}

func (r *recorder) Receive(from uint64, kind byte, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kinds = append(r.kinds, kind)
	r.frames = append(r.frames, append([]byte(nil), payload...))
}

func (r *recorder) ReceiveSnapshot(from uint64, msg []byte, body io.Reader, size int64) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snaps = append(r.snaps, append(append([]byte(nil), msg...), b...))
	if r.rej {
		return io.ErrUnexpectedEOF
	}
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.frames)
}

func listener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// pair starts transports 1 and 2 talking to each other.
func pair(t *testing.T, cluster2 uint64) (*TCP, *TCP, *recorder, *recorder) {
	t.Helper()
	l1, l2 := listener(t), listener(t)
	peers := []Peer{{1, l1.Addr().String()}, {2, l2.Addr().String()}}
	r1, r2 := &recorder{}, &recorder{}
	t1 := NewTCP(Options{ID: 1, ClusterID: 7, Listener: l1, Peers: peers, Handler: r1})
	t2 := NewTCP(Options{ID: 2, ClusterID: cluster2, Listener: l2, Peers: peers, Handler: r2})
	if err := t1.Start(); err != nil {
		t.Fatal(err)
	}
	if err := t2.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(t1.Close)
	t.Cleanup(t2.Close)
	return t1, t2, r1, r2
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFramesArriveInOrder(t *testing.T) {
	t1, _, _, r2 := pair(t, 7)
	const n = 5000
	for i := 0; i < n; i++ {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		for t1.Send(2, KindForward, b[:]) == ErrQueueFull {
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(t, "all frames", func() bool { return r2.count() == n })
	r2.mu.Lock()
	defer r2.mu.Unlock()
	for i, f := range r2.frames {
		if got := binary.BigEndian.Uint64(f); got != uint64(i) || r2.kinds[i] != KindForward {
			t.Fatalf("frame %d carries %d (kind %d): out of order", i, got, r2.kinds[i])
		}
	}
	if err := t1.Send(9, KindRaft, nil); err != ErrUnknownPeer {
		t.Fatalf("send to an unknown peer: %v", err)
	}
}

func TestGenerationChangesWhenTheLinkBreaks(t *testing.T) {
	t1, t2, _, r2 := pair(t, 7)
	t1.Send(2, KindTouch, []byte("a"))
	waitFor(t, "first frame", func() bool { return r2.count() == 1 })
	gen := t1.Generation(2)
	// Break every inbound connection of 2: 1's sender must notice,
	// bump the generation and reconnect.
	t2.mu.Lock()
	for c := range t2.inbound {
		c.Close()
	}
	t2.mu.Unlock()
	waitFor(t, "a new generation", func() bool { return t1.Generation(2) != gen })
	waitFor(t, "reconnect", func() bool { return t1.Connected(2) })
	t1.Send(2, KindTouch, []byte("b"))
	waitFor(t, "frame after reconnect", func() bool { return r2.count() == 2 })
}

func TestOtherClusterIsRefused(t *testing.T) {
	t1, _, _, r2 := pair(t, 8) // 2 believes in another cluster
	for i := 0; i < 20; i++ {
		t1.Send(2, KindTouch, []byte("x"))
	}
	time.Sleep(300 * time.Millisecond)
	if r2.count() != 0 {
		t.Fatalf("a peer of another cluster delivered %d frames", r2.count())
	}
}

func TestUnknownSenderIsRefused(t *testing.T) {
	_, t2, _, r2 := pair(t, 7)
	c, err := net.Dial("tcp", t2.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A hello from id 5, which is not one of 2's peers, then a frame.
	stranger := &TCP{opts: Options{ID: 5, ClusterID: 7}}
	c.Write(stranger.hello(streamMessages))
	c.Write([]byte{0, 0, 0, 2, KindTouch, 'x'})
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	if _, err := c.Read(b[:]); err == nil {
		t.Fatal("the stranger's connection was not closed")
	}
	if r2.count() != 0 {
		t.Fatal("a frame from an unknown server was delivered")
	}
}

func TestSnapshotStream(t *testing.T) {
	t1, _, _, r2 := pair(t, 7)
	body := bytes.Repeat([]byte("snapshot-bytes "), 100000)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := t1.SendSnapshot(ctx, 2, []byte("MSG"), bytes.NewReader(body), int64(len(body))); err != nil {
		t.Fatalf("SendSnapshot: %v", err)
	}
	r2.mu.Lock()
	got := r2.snaps
	r2.mu.Unlock()
	if len(got) != 1 || !bytes.Equal(got[0], append([]byte("MSG"), body...)) {
		t.Fatalf("snapshot arrived damaged (%d streams)", len(got))
	}
	r2.mu.Lock()
	r2.rej = true
	r2.mu.Unlock()
	if err := t1.SendSnapshot(ctx, 2, []byte("MSG"), bytes.NewReader(body), int64(len(body))); err == nil {
		t.Fatal("a snapshot the receiver rejected was reported delivered")
	}
}
