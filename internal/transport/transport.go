package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Frame kinds.
const (
	KindRaft          byte = 1 // a raftpb.Message
	KindForward       byte = 2 // follower -> leader: a client write (txn entry bytes)
	KindForwardReject byte = 3 // leader -> follower: uint64 reqID the leader could not propose
	KindTouch         byte = 4 // follower -> leader: an 8-byte token, then the session ids seen alive
	KindReadIndexReq  byte = 5 // reserved
	KindTouchAck      byte = 6 // leader -> follower: the token of a KindTouch it received
)

const (
	magic = "WRNPEER1"
	// MaxFrame bounds a frame; a raft append of many entries is split by
	// raft's MaxSizePerMsg well below this.
	MaxFrame = 64 << 20

	streamMessages byte = 0
	streamSnapshot byte = 1
)

// Handler receives what peers send. Receive is called from the connection's
// reader goroutine, in order; it must not block for long.
type Handler interface {
	Receive(from uint64, kind byte, payload []byte)
	// ReceiveSnapshot is given the raft message and the snapshot body; it
	// returns once the body is stored.
	ReceiveSnapshot(from uint64, msg []byte, body io.Reader, size int64) error
}

// Peer is a member of the ensemble.
type Peer struct {
	ID   uint64
	Addr string
}

// Options configure a TCP transport.
type Options struct {
	ID        uint64
	ClusterID uint64
	// Listen is the address to accept peers on (the peer port).
	Listen string
	// Listener, if set, is used instead of listening on Listen.
	Listener net.Listener
	Peers    []Peer
	Handler  Handler
	Logger   *slog.Logger
	// QueueLen bounds each peer's send queue (default 4096 frames).
	QueueLen int
	// Dial, if set, replaces net.Dialer (tests use it to cut links).
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// ServerTLS and ClientTLS, if set, put every peer link under TLS (sslQuorum):
	// accepted connections use ServerTLS, dialed ones ClientTLS(host of the
	// peer's address).
	ServerTLS *tls.Config
	ClientTLS func(host string) *tls.Config
	// VerifyPeer, if set, checks that an accepted TLS connection's certificate may
	// speak for the server id its hello claims; an error drops the connection
	// before any frame is read.
	VerifyPeer func(id uint64, addr string, state tls.ConnectionState) error
}

// TCP is the TCP transport.
type TCP struct {
	opts  Options
	log   *slog.Logger
	ln    net.Listener
	peers map[uint64]*peer
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup

	mu      sync.Mutex
	inbound map[net.Conn]struct{}
}

type peer struct {
	t    *TCP
	id   uint64
	addr string
	q    chan []byte
	gen  atomic.Uint64
	up   atomic.Bool
}

// ErrQueueFull reports that a peer's send queue is full (it is unreachable
// or slow); the frame was not queued.
var ErrQueueFull = errors.New("transport: peer queue full")

// ErrUnknownPeer reports a send to an id that is not a peer.
var ErrUnknownPeer = errors.New("transport: unknown peer")

// NewTCP creates a transport; Start begins listening and dialing.
func NewTCP(opts Options) *TCP {
	if opts.QueueLen == 0 {
		opts.QueueLen = 4096
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	t := &TCP{opts: opts, log: opts.Logger.With("component", "transport"), peers: map[uint64]*peer{}, inbound: map[net.Conn]struct{}{}}
	for _, p := range opts.Peers {
		if p.ID == opts.ID {
			continue
		}
		t.peers[p.ID] = &peer{t: t, id: p.ID, addr: p.Addr, q: make(chan []byte, opts.QueueLen)}
	}
	return t
}

// Start listens for peers and starts a sender per peer.
func (t *TCP) Start() error {
	t.ctx, t.stop = context.WithCancel(context.Background())
	ln := t.opts.Listener
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", t.opts.Listen)
		if err != nil {
			return fmt.Errorf("transport: listen on %s: %w", t.opts.Listen, err)
		}
	}
	if t.opts.ServerTLS != nil {
		ln = tls.NewListener(ln, t.opts.ServerTLS)
	}
	t.ln = ln
	t.wg.Add(1)
	go t.acceptLoop()
	for _, p := range t.peers {
		t.wg.Add(1)
		go p.sendLoop()
	}
	return nil
}

// Addr returns the listening address.
func (t *TCP) Addr() net.Addr { return t.ln.Addr() }

// Close stops everything and waits.
func (t *TCP) Close() {
	if t.stop == nil {
		return
	}
	t.stop()
	t.ln.Close()
	t.mu.Lock()
	for c := range t.inbound {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
}

// Send queues a frame for peer to. It never blocks.
func (t *TCP) Send(to uint64, kind byte, payload []byte) error {
	p := t.peers[to]
	if p == nil {
		return ErrUnknownPeer
	}
	f := make([]byte, 5+len(payload))
	binary.BigEndian.PutUint32(f, uint32(1+len(payload)))
	f[4] = kind
	copy(f[5:], payload)
	select {
	case p.q <- f:
		return nil
	default:
		return ErrQueueFull
	}
}

// SendWait queues a frame for peer to, waiting for room in a full queue
// until ctx ends (backpressure for forwarded client writes, which must not
// be dropped: the sender slows down instead).
func (t *TCP) SendWait(ctx context.Context, to uint64, kind byte, payload []byte) error {
	p := t.peers[to]
	if p == nil {
		return ErrUnknownPeer
	}
	f := make([]byte, 5+len(payload))
	binary.BigEndian.PutUint32(f, uint32(1+len(payload)))
	f[4] = kind
	copy(f[5:], payload)
	select {
	case p.q <- f:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrQueueFull, ctx.Err())
	}
}

// Generation returns a number that changes whenever the connection to peer
// is lost: frames queued under an older generation may not have arrived.
func (t *TCP) Generation(to uint64) uint64 {
	if p := t.peers[to]; p != nil {
		return p.gen.Load()
	}
	return 0
}

// Connected reports whether the outbound connection to peer is up.
func (t *TCP) Connected(to uint64) bool {
	if p := t.peers[to]; p != nil {
		return p.up.Load()
	}
	return false
}

func (t *TCP) dial(ctx context.Context, addr string) (net.Conn, error) {
	var (
		c   net.Conn
		err error
	)
	if t.opts.Dial != nil {
		c, err = t.opts.Dial(ctx, addr)
	} else {
		var d net.Dialer
		c, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil || t.opts.ClientTLS == nil {
		return c, err
	}
	host, _, _ := net.SplitHostPort(addr)
	tc := tls.Client(c, t.opts.ClientTLS(host))
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

func (t *TCP) hello(kind byte) []byte {
	h := make([]byte, 0, 25)
	h = append(h, magic...)
	h = binary.BigEndian.AppendUint64(h, t.opts.ID)
	h = binary.BigEndian.AppendUint64(h, t.opts.ClusterID)
	return append(h, kind)
}

func (p *peer) sendLoop() {
	defer p.t.wg.Done()
	backoff := 50 * time.Millisecond
	for p.t.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(p.t.ctx, 2*time.Second)
		c, err := p.t.dial(ctx, p.addr)
		cancel()
		if err == nil {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			_, err = c.Write(p.t.hello(streamMessages))
		}
		if err != nil {
			if c != nil {
				c.Close()
			}
			select {
			case <-p.t.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		p.up.Store(true)
		err = p.pump(c)
		p.up.Store(false)
		p.gen.Add(1)
		c.Close()
		if err != nil && p.t.ctx.Err() == nil {
			p.t.log.Debug("peer link broke; reconnecting", "peer", p.id, "err", err)
		}
	}
}

// pump writes queued frames to c, batching what is queued, until an error.
// A frame whose write failed is dropped (its generation has passed).
func (p *peer) pump(c net.Conn) error {
	bw := bufio.NewWriterSize(c, 256<<10)
	// Detect a peer that closed the connection (it only ever reads nothing).
	closed := make(chan struct{})
	go func() {
		var b [1]byte
		c.SetReadDeadline(time.Time{})
		c.Read(b[:])
		close(closed)
	}()
	for {
		var f []byte
		select {
		case <-p.t.ctx.Done():
			return p.t.ctx.Err()
		case <-closed:
			return io.ErrClosedPipe
		case f = <-p.q:
		}
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := bw.Write(f); err != nil {
			return err
		}
		for more := true; more; {
			select {
			case f = <-p.q:
				if _, err := bw.Write(f); err != nil {
					return err
				}
			default:
				more = false
			}
		}
		if err := bw.Flush(); err != nil {
			return err
		}
	}
}

func (t *TCP) acceptLoop() {
	defer t.wg.Done()
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if t.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		t.mu.Lock()
		t.inbound[c] = struct{}{}
		t.mu.Unlock()
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			defer func() {
				t.mu.Lock()
				delete(t.inbound, c)
				t.mu.Unlock()
				c.Close()
			}()
			if err := t.serveInbound(c); err != nil && t.ctx.Err() == nil && !errors.Is(err, io.EOF) {
				t.log.Debug("inbound peer stream ended", "remote", c.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

func (t *TCP) serveInbound(c net.Conn) error {
	br := bufio.NewReaderSize(c, 256<<10)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	h := make([]byte, 25)
	if _, err := io.ReadFull(br, h); err != nil {
		return err
	}
	if string(h[:8]) != magic {
		return fmt.Errorf("transport: bad hello from %s", c.RemoteAddr())
	}
	from := binary.BigEndian.Uint64(h[8:16])
	if cid := binary.BigEndian.Uint64(h[16:24]); cid != t.opts.ClusterID {
		return fmt.Errorf("transport: peer %d belongs to cluster %x, we are %x", from, cid, t.opts.ClusterID)
	}
	p, ok := t.peers[from]
	if !ok {
		return fmt.Errorf("transport: hello from unknown server %d", from)
	}
	if tc, isTLS := c.(*tls.Conn); isTLS && t.opts.VerifyPeer != nil {
		if err := t.opts.VerifyPeer(from, p.addr, tc.ConnectionState()); err != nil {
			t.log.Warn("peer connection refused: its certificate does not match the server id it claims",
				"remote", c.RemoteAddr().String(), "claimed", from, "err", err)
			return err
		}
	}
	c.SetReadDeadline(time.Time{})
	switch h[24] {
	case streamMessages:
		var lb [4]byte
		for {
			if _, err := io.ReadFull(br, lb[:]); err != nil {
				return err
			}
			n := binary.BigEndian.Uint32(lb[:])
			if n == 0 || n > MaxFrame {
				return fmt.Errorf("transport: frame of %d bytes from %d", n, from)
			}
			f := make([]byte, n)
			if _, err := io.ReadFull(br, f); err != nil {
				return err
			}
			t.opts.Handler.Receive(from, f[0], f[1:])
		}
	case streamSnapshot:
		var lb [4]byte
		if _, err := io.ReadFull(br, lb[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(lb[:])
		if n == 0 || n > MaxFrame {
			return fmt.Errorf("transport: snapshot message of %d bytes", n)
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(br, msg); err != nil {
			return err
		}
		var sb [8]byte
		if _, err := io.ReadFull(br, sb[:]); err != nil {
			return err
		}
		size := int64(binary.BigEndian.Uint64(sb[:]))
		err := t.opts.Handler.ReceiveSnapshot(from, msg[1:], io.LimitReader(br, size), size)
		verdict := []byte{0}
		if err != nil {
			verdict[0] = 1
			t.log.Warn("snapshot from peer rejected", "peer", from, "err", err)
		}
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		c.Write(verdict)
		return err
	}
	return fmt.Errorf("transport: unknown stream kind %d", h[24])
}

// SendSnapshot streams a snapshot to peer on its own connection: msg is the
// raft MsgSnap (encoded), body the snapshot file of size bytes. It blocks
// until the peer has stored it (or failed).
func (t *TCP) SendSnapshot(ctx context.Context, to uint64, msg []byte, body io.Reader, size int64) error {
	p := t.peers[to]
	if p == nil {
		return ErrUnknownPeer
	}
	c, err := t.dial(ctx, p.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	bw := bufio.NewWriterSize(c, 1<<20)
	bw.Write(t.hello(streamSnapshot))
	var lb [4]byte
	binary.BigEndian.PutUint32(lb[:], uint32(1+len(msg)))
	bw.Write(lb[:])
	bw.WriteByte(KindRaft)
	bw.Write(msg)
	var sb [8]byte
	binary.BigEndian.PutUint64(sb[:], uint64(size))
	bw.Write(sb[:])
	if _, err := io.CopyN(bw, body, size); err != nil {
		return fmt.Errorf("transport: send snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("transport: send snapshot: %w", err)
	}
	var v [1]byte
	if _, err := io.ReadFull(c, v[:]); err != nil {
		return fmt.Errorf("transport: snapshot verdict: %w", err)
	}
	if v[0] != 0 {
		return errors.New("transport: peer rejected the snapshot")
	}
	return nil
}
