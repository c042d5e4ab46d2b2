package zk

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/warren-zk/warren/internal/jute"
)

// Option configures Connect.
type Option func(*config)

type config struct {
	sessionTimeout time.Duration
	logger         *slog.Logger
	auth           []authInfo
	dial           func(ctx context.Context, network, addr string) (net.Conn, error)
	maxBackoff     time.Duration
	readOnly       bool
	watcherBuffer  int
	maxBuffer      int
	noShuffle      bool
}

type authInfo struct {
	scheme string
	auth   []byte
}

// Defaults.
const (
	DefaultSessionTimeout = 10 * time.Second
	DefaultMaxBackoff     = 2 * time.Second
	DefaultWatcherBuffer  = 1024
	minBackoff            = 25 * time.Millisecond
)

func defaultConfig() config {
	var d net.Dialer
	return config{
		sessionTimeout: DefaultSessionTimeout,
		logger:         slog.New(slog.DiscardHandler),
		dial:           d.DialContext,
		maxBackoff:     DefaultMaxBackoff,
		watcherBuffer:  DefaultWatcherBuffer,
		maxBuffer:      jute.DefaultMaxBuffer,
	}
}

// WithSessionTimeout sets the session timeout to ask the server for (default
// 10s). The server clamps it to [minSessionTimeout, maxSessionTimeout]
// (2 and 20 tickTimes by default); SessionTimeout reports what was granted.
func WithSessionTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.sessionTimeout = d
		}
	}
}

// WithLogger sets the logger for connection lifecycle messages (connects,
// disconnects, expiry at Info/Warn; per-request detail is never logged).
// The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithAuth adds credentials (for example "digest", "user:password") that are
// sent before any request on every connection of the session. If the server
// refuses them, Connect fails with ErrAuthFailed (or, on a later reconnect,
// the Conn ends in StateAuthFailed).
func WithAuth(scheme string, auth []byte) Option {
	return func(c *config) {
		c.auth = append(c.auth, authInfo{scheme, append([]byte(nil), auth...)})
	}
}

// WithDialer replaces the function that opens TCP connections (default
// net.Dialer.DialContext); use it for TLS, proxies or tests.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(c *config) {
		if dial != nil {
			c.dial = dial
		}
	}
}

// WithMaxBackoff bounds the pause between passes over the server list when
// no server answers (default 2s). The pause starts at 25ms and doubles, with
// jitter.
func WithMaxBackoff(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.maxBackoff = d
		}
	}
}

// WithReadOnly lets the session attach to a server that has lost its quorum
// and serves reads only (StateConnectedReadOnly). Writes then fail with
// ErrNotReadOnly. The client does not go looking for a read-write server
// while it is connected to a read-only one.
func WithReadOnly(allowed bool) Option {
	return func(c *config) { c.readOnly = allowed }
}

// WithWatcherBuffer sets how many events a persistent Watcher buffers for a
// slow consumer (default 1024) before it is ended with ErrWatcherOverflow.
func WithWatcherBuffer(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.watcherBuffer = n
		}
	}
}

// WithMaxBufferSize sets the largest reply frame accepted (ZooKeeper's
// jute.maxbuffer, default 0xfffff bytes). A larger frame breaks the
// connection, as it does in the Java client.
func WithMaxBufferSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBuffer = n
		}
	}
}

// WithoutShuffle makes the client try servers in the order given instead of
// a random order.
func WithoutShuffle() Option {
	return func(c *config) { c.noShuffle = true }
}
