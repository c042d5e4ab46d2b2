package server

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits against abuse (reliability.md §4, S19–S21):
//   - maxClientCnxns per address and maxCnxns in all are checked on accept (acceptLoop);
//   - a connection must complete its ConnectRequest (and TLS handshake) within
//     nio.sessionlessCnxnTimeout (10 s), however slowly it sends, and afterwards send a
//     whole frame within its session timeout;
//   - frames are checked against jute.maxbuffer before anything is allocated, and vector
//     counts against the bytes left (internal/jute);
//   - while the server has more than globalOutstandingLimit requests outstanding, a
//     connection that has requests of its own outstanding is not read from (ZooKeeper's
//     shouldThrottle), and a connection whose unsent replies pass maxPendingOut is not read
//     from either: nothing is queued without bound;
//   - connection_throttle_* is ZooKeeper's BlueThrottle token bucket for new connections,
//     off by default.

// maxPendingOut bounds the reply bytes a connection may have waiting for its client
// before the server stops reading its requests.
func (s *Server) maxPendingOut() int {
	return max(4<<20, 2*s.opts.MaxBuffer)
}

// connLimits is a connection's share of the outstanding requests (guarded by conn.mu).
type connLimits struct {
	outstanding int
	drained     chan struct{}
}

func newConnLimits() connLimits { return connLimits{drained: make(chan struct{}, 1)} }

// trackIn counts a request in; the caller holds c.mu.
func (c *conn) trackIn() {
	c.lim.outstanding++
	c.s.sec.outstanding.Add(1)
}

// trackOut counts a request out when its reply is produced; the caller holds c.mu.
func (c *conn) trackOut() {
	if c.lim.outstanding <= 0 {
		return
	}
	c.lim.outstanding--
	c.s.sec.outstanding.Add(-1)
	select {
	case c.lim.drained <- struct{}{}:
	default:
	}
}

// releaseOutstanding gives back a closed connection's share.
func (c *conn) releaseOutstanding() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.sec.outstanding.Add(-int64(c.lim.outstanding))
	c.lim.outstanding = 0
}

// Outstanding returns the number of client requests received and not yet answered.
func (s *Server) Outstanding() int64 { return s.sec.outstanding.Load() }

func (c *conn) shouldThrottle() bool {
	c.mu.Lock()
	mine := c.lim.outstanding
	c.mu.Unlock()
	if mine > 0 && int64(c.s.cfg.GlobalOutstandingLimit) < c.s.sec.outstanding.Load() {
		return true
	}
	c.outMu.Lock()
	pending := len(c.out)
	c.outMu.Unlock()
	return pending > c.s.maxPendingOut()
}

// throttle waits, before the next frame is read, until the connection may be read again.
func (c *conn) throttle() error {
	if !c.shouldThrottle() {
		return nil
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for c.shouldThrottle() {
		select {
		case <-c.lim.drained:
		case <-t.C:
		case <-c.done:
			return net.ErrClosed
		}
	}
	return nil
}

// connThrottle is ZooKeeper's BlueThrottle: a token bucket of connection_throttle_tokens
// (0 = off) refilled with connection_throttle_fill_count tokens every
// connection_throttle_fill_time ms, plus, when connection_throttle_freeze_time is not -1,
// BLUE's random early drop. With connection_throttle_weight_enabled a new session costs
// connection_throttle_global_session_weight tokens (3) and a reconnect
// connection_throttle_renew_session_weight (2).
type connThrottle struct {
	mu                                   sync.Mutex
	maxTokens, tokens, fillTime, fillCnt int
	freezeTime                           int
	dropIncrease, dropDecrease, decPoint float64
	weighted                             bool
	globalWeight, renewWeight            int
	lastTime, lastFreeze                 time.Time
	drop                                 float64
}

func newConnThrottle(p map[string]string, log *slog.Logger) *connThrottle {
	num := func(k string, def int) int {
		v, ok := p["connection_throttle_"+k]
		if !ok {
			return def
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			log.Warn("not a number, using the default", "key", "connection_throttle_"+k, "value", v, "default", def)
			return def
		}
		return n
	}
	flt := func(k string, def float64) float64 {
		v, ok := p["connection_throttle_"+k]
		if !ok {
			return def
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return def
		}
		return f
	}
	t := &connThrottle{
		fillTime: num("fill_time", 1), fillCnt: num("fill_count", 1), freezeTime: num("freeze_time", -1),
		dropIncrease: flt("drop_increase", 0.02), dropDecrease: flt("drop_decrease", 0.002),
		decPoint: flt("decrease_ratio", 0), weighted: javaBoolTrue(p["connection_throttle_weight_enabled"]),
		globalWeight: num("global_session_weight", 3), renewWeight: num("renew_session_weight", 2),
	}
	local := num("local_session_weight", 1)
	if t.globalWeight <= 0 {
		t.globalWeight = 3
	} else if t.globalWeight < local {
		t.globalWeight = local
	}
	if t.renewWeight <= 0 {
		t.renewWeight = 2
	} else if t.renewWeight < local {
		t.renewWeight = local
	}
	tokens := num("tokens", 0)
	if t.weighted {
		tokens *= t.globalWeight
		t.fillCnt *= t.globalWeight
	}
	if t.fillTime <= 0 {
		t.fillTime = 1
	}
	t.maxTokens, t.tokens = tokens, tokens
	t.lastTime, t.lastFreeze = time.Now(), time.Now()
	if tokens > 0 {
		log.Info("connection throttling on", "tokens", tokens, "fill_time_ms", t.fillTime, "fill_count", t.fillCnt)
	}
	return t
}

// allow is BlueThrottle.checkLimit for a connection request.
func (t *connThrottle) allow(reconnect bool) bool {
	if t == nil {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.maxTokens == 0 {
		return true
	}
	need := 1
	if t.weighted {
		need = t.globalWeight
		if reconnect {
			need = t.renewWeight
		}
	}
	now := time.Now()
	if diff := now.Sub(t.lastTime).Milliseconds(); diff > int64(t.fillTime) {
		refill := int(diff * int64(t.fillCnt) / int64(t.fillTime))
		t.tokens = min(t.tokens+refill, t.maxTokens)
		t.lastTime = now
	}
	if t.freezeTime != -1 {
		length := t.maxTokens - t.tokens
		if now.Sub(t.lastFreeze).Milliseconds() > int64(t.freezeTime) {
			switch {
			case length == t.maxTokens && t.drop < 1:
				t.drop = min(t.drop+t.dropIncrease, 1)
			case float64(length) <= float64(t.maxTokens)*t.decPoint && t.drop > 0:
				t.drop = max(t.drop-t.dropDecrease, 0)
			}
			t.lastFreeze = now
		}
		if rand.Float64() < t.drop {
			return false
		}
	}
	if t.tokens < need {
		return false
	}
	t.tokens -= need
	return true
}

// connAllowed is the connection throttle's verdict on a ConnectRequest.
func (c *conn) connAllowed(sessionID int64) error {
	if c.s.sec.throttle.allow(sessionID != 0) {
		return nil
	}
	return errClose{"connection throttled (connection_throttle_tokens exhausted)", false}
}

// readN reads an n-byte frame body. Large bodies are read in chunks into a buffer that
// grows only as bytes arrive, so a client that announces a jute.maxbuffer frame and then
// sends nothing (or one byte at a time) holds at most what it sent, not maxbuffer.
func readN(r io.Reader, n int) ([]byte, error) {
	const chunk = 64 << 10
	if n <= chunk {
		buf := make([]byte, n)
		_, err := io.ReadFull(r, buf)
		return buf, err
	}
	buf := make([]byte, 0, chunk)
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), n-len(buf)))
		}
		m := min(cap(buf), n) - len(buf)
		k, err := io.ReadFull(r, buf[len(buf):len(buf)+m])
		buf = buf[:len(buf)+k]
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}
