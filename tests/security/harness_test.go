package security

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/jute"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/server"
	"github.com/warren-zk/warren/internal/testutil/syncbuf"
)

// srv is a Warren server started for one test.
type srv struct {
	*server.Server
	Addr, SecureAddr, PeerAddr string
	Cfg                        *config.Config
	log                        *syncbuf.Buffer
}

type options struct {
	props  map[string]string // zoo.cfg keys (Props), applied as ZooKeeper reads them
	edit   func(*config.Config)
	secure bool // open a TLS client port (ssl.* in props)
	env    map[string]string
	// peer makes the server a one-member ensemble (standaloneEnabled=false) with its peer
	// port on a loopback port picked at run time (srv.PeerAddr).
	peer bool
	// peerExtra are more server.N lines; the server then waits for a quorum and does not
	// serve, so start does not wait for it.
	peerExtra string
}

// start starts a standalone server on 127.0.0.1 with a temporary data directory. Keys in
// o.props go through config.Parse, as a zoo.cfg would.
func start(t *testing.T, o options) *srv {
	t.Helper()
	dir := t.TempDir()
	var b bytes.Buffer
	fmt.Fprintf(&b, "tickTime=2000\ndataDir=%s\nclientPort=2181\n4lw.commands.whitelist=*\nadmin.enableServer=false\n", dir)
	for k, v := range o.props {
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	if o.secure {
		b.WriteString("secureClientPort=2182\n")
	}
	var pln net.Listener
	if o.peer {
		var err error
		if pln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		port := pln.Addr().(*net.TCPAddr).Port
		fmt.Fprintf(&b, "standaloneEnabled=false\ninitLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:%d:%d\n%s", port, port+1, o.peerExtra)
		if err := os.WriteFile(filepath.Join(dir, "myid"), []byte("1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, probs := config.Parse(&b, "zoo.cfg")
	if config.HasFatal(probs) {
		t.Fatalf("config: %v", probs)
	}
	for _, p := range probs {
		t.Logf("config: %s", p)
	}
	cfg.ClientPortAddress, cfg.SecureClientPortAddress = "127.0.0.1", "127.0.0.1"
	cfg.MetricsProviderClassName = "org.apache.zookeeper.metrics.impl.NullMetricsProvider"
	if o.edit != nil {
		o.edit(cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := server.Options{Listener: ln, ContainerCheckInterval: 100 * time.Millisecond,
		Env: func(k string) string { return o.env[k] }, PeerListener: pln}
	var sln net.Listener
	if o.secure {
		if sln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		opts.SecureListener = sln
	}
	lb := &syncbuf.Buffer{}
	var w io.Writer = lb
	if os.Getenv("WARREN_TEST_LOG") != "" {
		w = io.MultiWriter(lb, os.Stderr)
	}
	opts.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := server.New(cfg, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		ln.Close()
		if sln != nil {
			sln.Close()
		}
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(s.Stop)
	out := &srv{Server: s, Addr: ln.Addr().String(), Cfg: cfg, log: lb}
	if sln != nil {
		out.SecureAddr = sln.Addr().String()
	}
	if pln != nil {
		out.PeerAddr = pln.Addr().String()
	}
	// An ensemble member serves once it has caught up.
	for i := 0; o.peerExtra == "" && !s.Serving(); i++ {
		if i > 500 {
			t.Fatal("the server does not serve")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return out
}

// startErr starts a server that must fail to start, and returns the error.
func startErr(t *testing.T, o options) error {
	t.Helper()
	dir := t.TempDir()
	var b bytes.Buffer
	fmt.Fprintf(&b, "tickTime=2000\ndataDir=%s\nclientPort=2181\nadmin.enableServer=false\n", dir)
	for k, v := range o.props {
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	cfg, probs := config.Parse(&b, "zoo.cfg")
	if config.HasFatal(probs) {
		return fmt.Errorf("config: %v", probs)
	}
	cfg.MetricsProviderClassName = "org.apache.zookeeper.metrics.impl.NullMetricsProvider"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := server.New(cfg, server.Options{Listener: ln, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Env: func(k string) string { return o.env[k] }})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = s.Start(ctx)
	if err == nil {
		s.Stop()
		t.Fatal("the server started")
	}
	return err
}

// gozk connects a go-zookeeper client and waits for its session.
func gozk(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, ev, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				return c
			}
		case <-deadline:
			t.Fatalf("no session with %s", addr)
		}
	}
}

// stillServes checks that a new client can connect and read and write.
func (s *srv) stillServes(t *testing.T) {
	t.Helper()
	c := raw(t, s.Addr)
	c.connect(t)
	p := fmt.Sprintf("/still-serves-%d", time.Now().UnixNano())
	f := c.call(t, proto.OpCreate, &proto.CreateRequest{Path: p, Data: []byte("ok"), Acl: proto.OpenACLUnsafe})
	if f.err != proto.ErrOK {
		t.Fatalf("the server no longer serves: create %s: %v", p, f.err)
	}
	f = c.call(t, proto.OpGetData, &proto.GetDataRequest{Path: p})
	if f.err != proto.ErrOK {
		t.Fatalf("the server no longer serves: getData: %v", f.err)
	}
	c.Close()
}

// rawConn is a raw protocol connection (plain or TLS).
type rawConn struct {
	net.Conn
	xid     int32
	timeout time.Duration
}

func raw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{Conn: nc, timeout: 10 * time.Second}
}

func rawTLS(t *testing.T, addr string, cfg *tls.Config) (*rawConn, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	nc, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{Conn: nc, timeout: 10 * time.Second}, nil
}

func (c *rawConn) writeFrame(payload []byte) error {
	c.SetWriteDeadline(time.Now().Add(c.timeout))
	b := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	_, err := c.Write(append(b, payload...))
	return err
}

func (c *rawConn) readFrame() ([]byte, error) {
	c.SetReadDeadline(time.Now().Add(c.timeout))
	var l [4]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(l[:])
	if n > 8<<20 {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	b := make([]byte, n)
	_, err := io.ReadFull(c, b)
	return b, err
}

func encode(r proto.Record) []byte {
	e := jute.NewEncoder(nil)
	if r != nil {
		r.Encode(e)
	}
	return e.Bytes()
}

// connect performs the handshake for a new session.
func (c *rawConn) connect(t *testing.T) *proto.ConnectResponse {
	t.Helper()
	r, err := c.tryConnect(proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return r
}

func (c *rawConn) tryConnect(req proto.ConnectRequest) (*proto.ConnectResponse, error) {
	if err := c.writeFrame(encode(&req)); err != nil {
		return nil, err
	}
	b, err := c.readFrame()
	if err != nil {
		return nil, err
	}
	var resp proto.ConnectResponse
	d := jute.NewDecoder(b)
	resp.Decode(d)
	return &resp, d.Err()
}

// reply is a decoded reply frame.
type reply struct {
	xid  int32
	zxid int64
	err  proto.Err
	body []byte
}

func (c *rawConn) send(op proto.OpCode, body proto.Record) (int32, error) {
	c.xid++
	e := jute.NewEncoder(nil)
	(&proto.RequestHeader{Xid: c.xid, Type: int32(op)}).Encode(e)
	if body != nil {
		body.Encode(e)
	}
	return c.xid, c.writeFrame(e.Bytes())
}

// readReply reads the next reply, skipping watch notifications.
func (c *rawConn) readReply() (reply, []proto.WatcherEvent, error) {
	var evs []proto.WatcherEvent
	for {
		b, err := c.readFrame()
		if err != nil {
			return reply{}, evs, err
		}
		d := jute.NewDecoder(b)
		var h proto.ReplyHeader
		h.Decode(d)
		if d.Err() != nil {
			return reply{}, evs, d.Err()
		}
		if h.Xid == proto.XidNotification {
			var ev proto.WatcherEvent
			ev.Decode(d)
			evs = append(evs, ev)
			continue
		}
		return reply{xid: h.Xid, zxid: h.Zxid, err: proto.Err(h.Err), body: d.Rest()}, evs, nil
	}
}

func (c *rawConn) call(t *testing.T, op proto.OpCode, body proto.Record) reply {
	t.Helper()
	r, err := c.tryCall(op, body)
	if err != nil {
		t.Fatalf("%v: %v", op, err)
	}
	return r
}

func (c *rawConn) tryCall(op proto.OpCode, body proto.Record) (reply, error) {
	xid, err := c.send(op, body)
	if err != nil {
		return reply{}, err
	}
	r, _, err := c.readReply()
	if err == nil && r.xid != xid && op != proto.OpPing {
		return r, fmt.Errorf("reply xid %d, want %d", r.xid, xid)
	}
	return r, err
}

// closedByServer reports whether the server closes the connection within d (reading
// whatever it still sends).
func (c *rawConn) closedByServer(d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return true
}

func decodeInto(t *testing.T, b []byte, r proto.Record) {
	t.Helper()
	d := jute.NewDecoder(b)
	r.Decode(d)
	if d.Err() != nil {
		t.Fatalf("decode %T: %v", r, d.Err())
	}
}

func whoami(t *testing.T, c *rawConn) []proto.ClientInfo {
	t.Helper()
	r := c.call(t, proto.OpWhoAmI, nil)
	if r.err != proto.ErrOK {
		t.Fatalf("whoAmI: %v", r.err)
	}
	var w proto.WhoAmIResponse
	decodeInto(t, r.body, &w)
	return w.ClientInfo
}

// --- certificates ---

// pki is a test CA and the files it made.
type pki struct {
	dir    string
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	CAFile string
	serial int64
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Warren Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &pki{dir: t.TempDir(), caCert: cert, caKey: key, serial: 1}
	p.CAFile = filepath.Join(p.dir, "ca.pem")
	writePEM(t, p.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return p
}

func writePEM(t *testing.T, path string, parts ...[]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(parts, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

// issued is a certificate and key issued by the test CA.
type issued struct {
	tls.Certificate
	CertPEM, KeyPEM []byte
	File            string // key + certificate, PEM (a ZooKeeper PEM key store)
}

// issue makes a leaf certificate for subject (with IP SAN 127.0.0.1, for both server and
// client use) and writes it, with its key, to name.pem.
func (p *pki) issue(t *testing.T, name string, subject pkix.Name) issued {
	t.Helper()
	return p.issueFor(t, name, subject, net.ParseIP("127.0.0.1"))
}

// issueFor is issue with the certificate's IP address (and DNS names) given.
func (p *pki) issueFor(t *testing.T, name string, subject pkix.Name, ip net.IP, dns ...string) issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    dns,
	}
	if ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	k8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	out := issued{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k8}),
		File:    filepath.Join(p.dir, name+".pem"),
	}
	out.Certificate, err = tls.X509KeyPair(out.CertPEM, out.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, out.File, out.KeyPEM, out.CertPEM)
	writePEM(t, filepath.Join(p.dir, name+".crt"), out.CertPEM)
	writePEM(t, filepath.Join(p.dir, name+".key"), out.KeyPEM)
	return out
}

// pool is the CA as a cert pool.
func (p *pki) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.caCert)
	return pool
}

// clientTLS is a client config trusting the CA, presenting cert (if any).
func (p *pki) clientTLS(cert *issued) *tls.Config {
	c := &tls.Config{RootCAs: p.pool(), ServerName: "127.0.0.1"}
	if cert != nil {
		c.Certificates = []tls.Certificate{cert.Certificate}
	}
	return c
}

// sslProps are the zoo.cfg keys of a TLS client port with PEM stores.
func sslProps(serverFile, trustFile string, extra ...string) map[string]string {
	m := map[string]string{
		"ssl.keyStore.location":   serverFile,
		"ssl.keyStore.type":       "PEM",
		"ssl.trustStore.location": trustFile,
		"ssl.trustStore.type":     "PEM",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

func itoa(n int) string { return strconv.Itoa(n) }
