package server

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warren-zk/warren/internal/acl"
	"github.com/warren-zk/warren/internal/auth"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/tlsutil"
)

// Authentication providers, TLS and abuse limits, configured as ZooKeeper configures them:
// through zoo.cfg keys that ZooKeeper turns into zookeeper.* system properties, or through
// -Dzookeeper.* (and -Djava.security.auth.login.config) flags in SERVER_JVMFLAGS / JVMFLAGS,
// the environment variables zkServer.sh passes to the JVM. zoo.cfg wins over the flags (as
// QuorumPeerConfig's System.setProperty does).

// JAASConfigKey is Warren's zoo.cfg key for the JAAS login configuration file
// (ZooKeeper reads it only from -Djava.security.auth.login.config).
const JAASConfigKey = "warren.jaasConfig"

const (
	x509ProviderClass   = "org.apache.zookeeper.server.auth.X509AuthenticationProvider"
	saslProviderClass   = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
	digestProviderClass = "org.apache.zookeeper.server.auth.DigestAuthenticationProvider"
	ipProviderClass     = "org.apache.zookeeper.server.auth.IPAuthenticationProvider"
)

// security is a server's authentication, TLS and limits state.
type security struct {
	props map[string]string // effective keys (zoo.cfg over JVM flags), without "zookeeper."

	schemes acl.Schemes // registered optional providers (also given to the FSM)

	// TLS on secureClientPort.
	tlsMaterial *tlsutil.Material
	tlsConfig   *tls.Config
	x509Super   string
	secureLn    net.Listener

	// Peer links (sslQuorum).
	peerServerTLS *tls.Config
	peerClientTLS func(host string) *tls.Config
	verifyPeer    func(id uint64, addr string, st tls.ConnectionState) error

	// SASL DIGEST-MD5.
	saslUsers         map[string]string // nil: SASL is not configured
	saslSuperPassword string
	saslSuperUsers    map[string]bool
	allowSaslFailed   bool

	// Enforced authentication.
	enforce        bool
	enforceSchemes map[string]bool
	saslRequired   bool

	// Limits.
	handshakeTimeout time.Duration
	throttle         *connThrottle
	outstanding      atomic.Int64 // requests received and not yet answered, all connections

	quotaLogMu   sync.Mutex
	quotaLogLast time.Time
	quotaLogSkip int
}

// initProps computes the effective properties (called by New, before the FSM is made: the
// ACL schemes depend on them).
func (s *Server) initProps() {
	getenv := s.opts.Env
	if getenv == nil {
		getenv = os.Getenv
	}
	props := map[string]string{}
	for _, v := range []string{"JVMFLAGS", "SERVER_JVMFLAGS"} {
		for k, val := range auth.JVMProps(getenv(v)) {
			if rest, ok := strings.CutPrefix(k, "zookeeper."); ok {
				props[rest] = val
			} else if k == "java.security.auth.login.config" {
				props[JAASConfigKey] = val
			}
		}
	}
	for k, v := range s.cfg.Props {
		props[k] = v
	}
	s.sec.props = props
	sch := acl.Schemes{DigestDisabled: strings.EqualFold(props["DigestAuthenticationProvider.enabled"], "false")}
	for _, k := range sortedKeys(props) {
		if !strings.HasPrefix(k, "authProvider.") {
			continue
		}
		switch cls := strings.TrimSpace(props[k]); cls {
		case x509ProviderClass:
			sch.X509 = true
		case saslProviderClass:
			sch.SASL = true
		case digestProviderClass, ipProviderClass:
		}
	}
	// Warren registers the x509 provider whenever TLS is configured and the sasl provider
	// whenever SASL users are (ZooKeeper needs authProvider.N lines for both).
	if s.cfg.SecureClientPort != 0 || s.opts.SecureListener != nil || javaBoolTrue(props["sslQuorum"]) {
		sch.X509 = true
	}
	if props[JAASConfigKey] != "" {
		sch.SASL = true
	}
	s.sec.schemes = sch
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func javaBoolTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

// initSecurity loads key stores and the JAAS file and checks the authentication settings;
// an error stops the server from starting, as it stops ZooKeeper.
func (s *Server) initSecurity() error {
	p := s.sec.props
	for _, k := range sortedKeys(p) {
		if !strings.HasPrefix(k, "authProvider.") {
			continue
		}
		switch cls := strings.TrimSpace(p[k]); cls {
		case x509ProviderClass, saslProviderClass, digestProviderClass, ipProviderClass:
		default:
			s.log.Warn("custom authentication providers are not supported; ignored", "key", k, "class", cls)
		}
	}
	if ap := strings.TrimSpace(p["ssl.authProvider"]); ap != "" && ap != "x509" {
		return fmt.Errorf("ssl.authProvider=%s: only the x509 provider is supported", ap)
	}
	s.sec.x509Super = p["X509AuthenticationProvider.superUser"]

	// TLS on the secure client port.
	if s.cfg.SecureClientPort != 0 || s.opts.SecureListener != nil {
		set, err := tlsutil.FromProps(p, "ssl.")
		if err != nil {
			return err
		}
		m, err := tlsutil.NewMaterial(set)
		if err != nil {
			return fmt.Errorf("secureClientPort: %w", err)
		}
		m.OnReload = func(what string, err error) {
			if err != nil {
				s.log.Error("reloading TLS material failed; keeping the previous one", "store", what, "err", err)
			} else {
				s.log.Info("TLS material reloaded", "store", what)
			}
		}
		cfg, skipped, err := m.ServerConfig()
		if err != nil {
			return err
		}
		if len(skipped) > 0 {
			s.log.Warn("ssl.ciphersuites names suites Go does not implement; they are ignored", "suites", skipped)
		}
		s.sec.tlsMaterial, s.sec.tlsConfig = m, cfg
		s.log.Info("TLS configured for clients", "settings", set.String())
	}
	// TLS between peers.
	if javaBoolTrue(p["sslQuorum"]) {
		set, err := tlsutil.FromProps(p, "ssl.quorum.")
		if err != nil {
			return err
		}
		m, err := tlsutil.NewMaterial(set)
		if err != nil {
			return fmt.Errorf("sslQuorum: %w", err)
		}
		if s.sec.peerServerTLS, s.sec.peerClientTLS, err = m.PeerConfigs(); err != nil {
			return fmt.Errorf("sslQuorum: %w", err)
		}
		if set.HostnameVerification {
			// A peer's certificate must be valid for the host of the server.N line whose
			// id it claims (CVE-2023-44981: a claimed sid is never taken on trust).
			s.sec.verifyPeer = func(id uint64, addr string, st tls.ConnectionState) error {
				host, _, err := net.SplitHostPort(addr)
				if err != nil {
					return err
				}
				if len(st.PeerCertificates) == 0 {
					return fmt.Errorf("no certificate")
				}
				return st.PeerCertificates[0].VerifyHostname(host)
			}
		}
		s.log.Info("TLS configured for peer links", "settings", set.String())
	}

	// SASL.
	if path := p[JAASConfigKey]; path != "" {
		j, err := auth.LoadJAAS(path)
		if err != nil {
			return fmt.Errorf("JAAS configuration: %w", err)
		}
		section := p["sasl.serverconfig"]
		if section == "" {
			section = "Server"
		}
		users, err := j.DigestUsers(section)
		if err != nil {
			return fmt.Errorf("JAAS configuration %s: %w; the server cannot start", path, err)
		}
		s.sec.saslUsers = users
		s.log.Info("SASL DIGEST-MD5 configured", "jaas", path, "section", section, "users", len(users))
	}
	s.sec.saslSuperPassword = p["SASLAuthenticationProvider.superPassword"]
	s.sec.saslSuperUsers = map[string]bool{}
	for k, v := range p {
		if k == "superUser" || strings.HasPrefix(k, "superUser.") {
			if v != "" {
				s.sec.saslSuperUsers[v] = true
			}
		}
	}
	s.sec.allowSaslFailed = javaBoolTrue(p["allowSaslFailedClients"])

	// Enforced authentication (AuthenticationHelper). requireClientAuthScheme=sasl, a key
	// from ZooKeeper's old SASL documentation that ZooKeeper itself never read, is taken to
	// mean sessionRequireClientSASLAuth=true.
	s.sec.enforceSchemes = map[string]bool{}
	if javaBoolTrue(p["sessionRequireClientSASLAuth"]) {
		s.sec.enforce, s.sec.enforceSchemes["sasl"] = true, true
	} else if v := strings.TrimSpace(p["requireClientAuthScheme"]); v != "" {
		if !strings.EqualFold(v, "sasl") {
			return fmt.Errorf("requireClientAuthScheme=%s: only sasl is known", v)
		}
		s.log.Warn("requireClientAuthScheme=sasl: ZooKeeper ignores this key; Warren enforces SASL authentication as for sessionRequireClientSASLAuth=true")
		s.sec.enforce, s.sec.enforceSchemes["sasl"] = true, true
	} else {
		s.sec.enforce = javaBoolTrue(p["enforce.auth.enabled"])
		if v, ok := p["enforce.auth.schemes"]; ok {
			for _, sc := range strings.Split(v, ",") {
				s.sec.enforceSchemes[strings.TrimSpace(sc)] = true
			}
		}
	}
	if s.sec.enforce {
		if len(s.sec.enforceSchemes) == 0 {
			return fmt.Errorf("enforce.auth.enabled is true, so enforce.auth.schemes must be set")
		}
		for sc := range s.sec.enforceSchemes {
			if !s.providerRegistered(sc) {
				return fmt.Errorf("authentication scheme %s is not available", sc)
			}
		}
	}
	s.sec.saslRequired = s.sec.enforce && s.sec.enforceSchemes["sasl"]

	// Limits.
	s.sec.handshakeTimeout = 10 * time.Second
	if v := strings.TrimSpace(p["nio.sessionlessCnxnTimeout"]); v != "" {
		var ms int
		if _, err := fmt.Sscan(v, &ms); err == nil && ms > 0 {
			s.sec.handshakeTimeout = time.Duration(ms) * time.Millisecond
		}
	}
	s.sec.throttle = newConnThrottle(p, s.log)
	return nil
}

// providerRegistered reports whether an authentication scheme has a provider.
func (s *Server) providerRegistered(scheme string) bool {
	switch scheme {
	case "ip":
		return true
	case "digest":
		return !s.sec.schemes.DigestDisabled
	case "x509":
		return s.sec.schemes.X509
	case "sasl":
		return s.sec.schemes.SASL
	}
	return false
}

// authenticate runs an auth packet (opcode 100) through its provider.
func (c *conn) authenticate(scheme string, data []byte) ([]proto.Id, bool) {
	switch scheme {
	case "digest":
		if c.s.sec.schemes.DigestDisabled {
			return nil, false
		}
	case "x509":
		// X509AuthenticationProvider.handleAuthentication: the connection's verified
		// client certificate, again.
		if ids := c.x509IDs(); len(ids) > 0 {
			return ids, true
		}
		return nil, false
	case "sasl":
		// SASLAuthenticationProvider.handleAuthentication always fails: SASL is negotiated
		// with opcode 102.
		return nil, false
	}
	return c.s.authenticate(scheme, data, c.ip)
}

// enforceAuth is AuthenticationHelper.enforceAuthentication: with enforce.auth.enabled, a
// request (other than auth and sasl) on a connection without an id of the enforced schemes
// is answered SessionClosedRequireSASLAuth (-124) and the connection is closed.
func (c *conn) enforceAuth(op proto.OpCode, xid int32) error {
	if !c.s.sec.enforce || op == proto.OpAuth || op == proto.OpSASL {
		return nil
	}
	for _, id := range c.authIDs() {
		if c.s.sec.enforceSchemes[id.Scheme] {
			return nil
		}
	}
	c.s.log.Warn("client is not authenticated with a required scheme; closing the connection",
		"remote", c.nc.RemoteAddr().String(), "session", fmt.Sprintf("0x%x", c.sessionID.Load()))
	it := &item{xid: xid, op: op, recv: time.Now(), err: proto.ErrSessionClosedRequireSASLAuth, closeAfter: true}
	c.enqueueRead(it)
	return errClose{"authentication required", true}
}

// quotaLog reports a quota violation, at most one line a second (ZooKeeper's RateLogger).
func (s *Server) quotaLog(msg string) {
	s.sec.quotaLogMu.Lock()
	defer s.sec.quotaLogMu.Unlock()
	if now := time.Now(); now.Sub(s.sec.quotaLogLast) >= time.Second {
		if s.sec.quotaLogSkip > 0 {
			msg = fmt.Sprintf("%s (and %d more since the last report)", msg, s.sec.quotaLogSkip)
		}
		s.sec.quotaLogLast, s.sec.quotaLogSkip = now, 0
		s.log.Warn(msg)
		return
	}
	s.sec.quotaLogSkip++
}
