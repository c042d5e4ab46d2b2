package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"
)

// Options configure the AdminServer's handler.
type Options struct {
	// CommandURL is admin.commandURL (default "/commands").
	CommandURL string
	// Pprof serves net/http/pprof under /debug/pprof/.
	Pprof bool
}

// NewHandler returns the AdminServer: ZooKeeper's commands as JSON under
// opts.CommandURL (GET <url> lists them), /healthz (200 while the process
// runs), /readyz (200 only while src serves clients) and, with opts.Pprof,
// /debug/pprof/.
func NewHandler(src Source, opts Options) http.Handler {
	prefix := "/" + strings.Trim(opts.CommandURL, "/")
	if opts.CommandURL == "" {
		prefix = "/commands"
	}
	mux := http.NewServeMux()
	cmds := commandHandler{src: src, prefix: prefix}
	if prefix == "/" {
		mux.Handle("/", cmds)
	} else {
		mux.Handle(prefix, cmds)
		mux.Handle(prefix+"/", cmds)
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if !getOnly(w, r) {
			return
		}
		plain(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if !getOnly(w, r) {
			return
		}
		if src.Up() && src.Serving() {
			plain(w, http.StatusOK, "ok\n")
		} else {
			plain(w, http.StatusServiceUnavailable, NotServing+"\n")
		}
	})
	if opts.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

type commandHandler struct {
	src    Source
	prefix string
}

// ServeHTTP is JettyAdminServer.CommandServlet.doGet.
func (h commandHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !getOnly(w, r) {
		return
	}
	name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, h.prefix), "/")
	if name == "" {
		// No command: a link to each, one per line (PrintWriter.println).
		var b strings.Builder
		base := strings.TrimSuffix(h.prefix, "/")
		for _, n := range PrimaryNames() {
			fmt.Fprintf(&b, "<a href=\"%s/%s\">%s</a>\n<br/>\n", base, n, n)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(b.String()))
		return
	}
	body, err := Run(h.src, name, r.URL.Query()).MarshalJSON()
	if err != nil {
		// ZooKeeper's JsonOutputter.ERROR_RESPONSE.
		body = []byte(`{"error": "Exception writing command response to JSON"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// getOnly answers anything but GET and HEAD with 405.
func getOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	plain(w, http.StatusMethodNotAllowed, "method not allowed\n")
	return false
}

func plain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	w.Write([]byte(msg))
}

// Listener is an HTTP server running on a listener.
type Listener struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	once sync.Once
}

// Serve serves h on ln until Close. Request headers must arrive within 10
// seconds; idle keep-alive connections are closed after 30 (ZooKeeper's
// admin.idleTimeout).
func Serve(ln net.Listener, h http.Handler, log *slog.Logger) *Listener {
	l := &Listener{ln: ln, done: make(chan struct{})}
	l.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("HTTP server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return l
}

// Addr returns the address it listens on.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Close stops the server: it closes the listener and idle connections,
// gives requests in progress up to 5 seconds to finish, then closes the
// rest. It may be called more than once.
func (l *Listener) Close() {
	l.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if l.srv.Shutdown(ctx) != nil {
			l.srv.Close()
		}
	})
	<-l.done
}
