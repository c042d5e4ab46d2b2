package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// Settings are the ssl.* (or ssl.quorum.*) keys of a zoo.cfg, as ZooKeeper's X509Util reads
// them. Passwords are kept here only; String never prints them.
type Settings struct {
	KeyStoreLocation, KeyStorePassword, KeyStoreType       string
	TrustStoreLocation, TrustStorePassword, TrustStoreType string
	Protocol                                               string   // ssl.protocol (the highest version when EnabledProtocols is unset)
	EnabledProtocols                                       []string // ssl.enabledProtocols
	CipherSuites                                           []string // ssl.ciphersuites (IANA names, as Java spells them)
	ClientAuth                                             string   // ssl.clientAuth: need (default), want, none
	// HostnameVerification is ssl.hostnameVerification (default true). It applies to peer
	// links only: ZooKeeper does not check client certificates against client addresses.
	HostnameVerification bool
}

// FromProps reads the settings under prefix ("ssl." or "ssl.quorum.") of props, the zoo.cfg
// keys without ZooKeeper's "zookeeper." system-property prefix. ssl.keyStore.passwordPath and
// ssl.trustStore.passwordPath name files holding the passwords (3.8).
func FromProps(props map[string]string, prefix string) (Settings, error) {
	get := func(k string) string { return strings.TrimSpace(props[prefix+k]) }
	s := Settings{
		KeyStoreLocation:     get("keyStore.location"),
		KeyStorePassword:     props[prefix+"keyStore.password"],
		KeyStoreType:         get("keyStore.type"),
		TrustStoreLocation:   get("trustStore.location"),
		TrustStorePassword:   props[prefix+"trustStore.password"],
		TrustStoreType:       get("trustStore.type"),
		Protocol:             get("protocol"),
		ClientAuth:           get("clientAuth"),
		HostnameVerification: !strings.EqualFold(get("hostnameVerification"), "false"),
	}
	for _, p := range []struct {
		key string
		dst *string
	}{{"keyStore.passwordPath", &s.KeyStorePassword}, {"trustStore.passwordPath", &s.TrustStorePassword}} {
		if path := get(p.key); path != "" && *p.dst == "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return s, fmt.Errorf("%s%s: %w", prefix, p.key, err)
			}
			*p.dst = strings.TrimRight(string(b), "\r\n")
		}
	}
	if v := get("enabledProtocols"); v != "" {
		s.EnabledProtocols = splitList(v)
	}
	if v := get("ciphersuites"); v != "" {
		s.CipherSuites = splitList(v)
	}
	return s, nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// String describes the settings without secrets.
func (s Settings) String() string {
	pw := func(p string) string {
		if p == "" {
			return "none"
		}
		return "set"
	}
	return fmt.Sprintf("keyStore=%q (type %q, password %s) trustStore=%q (type %q, password %s) protocol=%q enabledProtocols=%v ciphersuites=%v clientAuth=%q",
		s.KeyStoreLocation, s.KeyStoreType, pw(s.KeyStorePassword), s.TrustStoreLocation, s.TrustStoreType,
		pw(s.TrustStorePassword), s.Protocol, s.EnabledProtocols, s.CipherSuites, s.ClientAuth)
}

var protocolVersions = map[string]uint16{
	"TLSV1": tls.VersionTLS10, "TLSV1.0": tls.VersionTLS10, "TLSV1.1": tls.VersionTLS11,
	"TLSV1.2": tls.VersionTLS12, "TLSV1.3": tls.VersionTLS13,
	// Java's generic names
	"TLS": tls.VersionTLS13, "SSL": tls.VersionTLS13,
}

// versions returns the TLS version range. Unset, Warren accepts TLS 1.2 and 1.3 (ZooKeeper
// 3.8's default, ssl.protocol=TLSv1.2 with no ssl.enabledProtocols, allows only 1.2).
func (s Settings) versions() (minV, maxV uint16, err error) {
	if len(s.EnabledProtocols) > 0 {
		for _, p := range s.EnabledProtocols {
			v, ok := protocolVersions[strings.ToUpper(p)]
			if !ok {
				return 0, 0, fmt.Errorf("ssl.enabledProtocols: unknown protocol %q", p)
			}
			if minV == 0 || v < minV {
				minV = v
			}
			if v > maxV {
				maxV = v
			}
		}
		return minV, maxV, nil
	}
	if s.Protocol != "" {
		v, ok := protocolVersions[strings.ToUpper(s.Protocol)]
		if !ok {
			return 0, 0, fmt.Errorf("ssl.protocol: unknown protocol %q", s.Protocol)
		}
		if strings.EqualFold(s.Protocol, "TLS") || strings.EqualFold(s.Protocol, "SSL") {
			return tls.VersionTLS12, tls.VersionTLS13, nil
		}
		return v, v, nil
	}
	return tls.VersionTLS12, tls.VersionTLS13, nil
}

// cipherSuites maps ssl.ciphersuites to Go's suites. TLS 1.3 suites are not configurable in
// Go and are skipped; names Go does not implement are reported in skipped.
func (s Settings) cipherSuites() (ids []uint16, skipped []string, err error) {
	if len(s.CipherSuites) == 0 {
		return nil, nil, nil
	}
	byName := map[string]uint16{}
	for _, c := range tls.CipherSuites() {
		byName[c.Name] = c.ID
	}
	tls13 := map[string]bool{}
	for _, c := range tls.CipherSuites() {
		for _, v := range c.SupportedVersions {
			if v == tls.VersionTLS13 {
				tls13[c.Name] = true
			}
		}
	}
	for _, n := range s.CipherSuites {
		id, ok := byName[n]
		switch {
		case ok && tls13[n]:
		case ok:
			ids = append(ids, id)
		default:
			skipped = append(skipped, n)
		}
	}
	if len(ids) == 0 && len(skipped) == len(s.CipherSuites) {
		return nil, skipped, fmt.Errorf("ssl.ciphersuites: none of %v is supported", s.CipherSuites)
	}
	return ids, skipped, nil
}

// ClientAuthType maps ssl.clientAuth (need, want, none; empty = need).
func (s Settings) ClientAuthType() (tls.ClientAuthType, error) {
	switch strings.ToLower(s.ClientAuth) {
	case "", "need":
		return tls.RequireAndVerifyClientCert, nil
	case "want":
		return tls.VerifyClientCertIfGiven, nil
	case "none":
		return tls.NoClientCert, nil
	}
	return 0, fmt.Errorf("ssl.clientAuth: %q is not need, want or none", s.ClientAuth)
}

// Material holds a key store and a trust store and reloads them when their files change
// (checked at most once per CheckInterval, on use): certificates can be rotated without a
// restart. A store that fails to load keeps the last good material.
type Material struct {
	s             Settings
	keyType       StoreType
	trustType     StoreType
	CheckInterval time.Duration
	OnReload      func(what string, err error) // called after each reload attempt

	mu        sync.Mutex
	lastCheck time.Time
	keyStamp  fileStamp
	trustStmp fileStamp
	cert      *tls.Certificate
	pool      *x509.CertPool
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func stamp(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}

// NewMaterial loads the stores named by s. A missing key store is an error; a missing trust
// store means the system's roots.
func NewMaterial(s Settings) (*Material, error) {
	m := &Material{s: s, CheckInterval: time.Second}
	if s.KeyStoreLocation == "" {
		return nil, errors.New("keyStore.location is not set")
	}
	var err error
	if m.keyType, err = ParseStoreType(s.KeyStoreType, s.KeyStoreLocation); err != nil {
		return nil, fmt.Errorf("key store: %w", err)
	}
	if m.keyType != StorePEM && m.keyType != StorePKCS12 {
		return nil, fmt.Errorf("key store %s: %w", s.KeyStoreLocation, unsupported(m.keyType))
	}
	if s.TrustStoreLocation != "" {
		if m.trustType, err = ParseStoreType(s.TrustStoreType, s.TrustStoreLocation); err != nil {
			return nil, fmt.Errorf("trust store: %w", err)
		}
		if m.trustType != StorePEM && m.trustType != StorePKCS12 {
			return nil, fmt.Errorf("trust store %s: %w", s.TrustStoreLocation, unsupported(m.trustType))
		}
	}
	if err := m.load(true); err != nil {
		return nil, err
	}
	m.lastCheck = time.Now()
	return m, nil
}

func (m *Material) load(first bool) error {
	if st, err := stamp(m.s.KeyStoreLocation); err != nil {
		if first {
			return fmt.Errorf("key store %s: %w", m.s.KeyStoreLocation, err)
		}
	} else if first || st != m.keyStamp {
		c, err := LoadKeyStore(m.s.KeyStoreLocation, m.s.KeyStorePassword, m.keyType)
		if err != nil {
			err = fmt.Errorf("key store %s: %w", m.s.KeyStoreLocation, err)
			if first {
				return err
			}
		} else {
			m.cert, m.keyStamp = &c, st
		}
		if !first && m.OnReload != nil {
			m.OnReload("key store", err)
		}
	}
	if m.s.TrustStoreLocation == "" {
		return nil
	}
	if st, err := stamp(m.s.TrustStoreLocation); err != nil {
		if first {
			return fmt.Errorf("trust store %s: %w", m.s.TrustStoreLocation, err)
		}
	} else if first || st != m.trustStmp {
		p, err := LoadTrustStore(m.s.TrustStoreLocation, m.s.TrustStorePassword, m.trustType)
		if err != nil {
			err = fmt.Errorf("trust store %s: %w", m.s.TrustStoreLocation, err)
			if first {
				return err
			}
		} else {
			m.pool, m.trustStmp = p, st
		}
		if !first && m.OnReload != nil {
			m.OnReload("trust store", err)
		}
	}
	return nil
}

// current returns the certificate and pool, reloading changed files first.
func (m *Material) current() (*tls.Certificate, *x509.CertPool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if now := time.Now(); now.Sub(m.lastCheck) >= m.CheckInterval {
		m.lastCheck = now
		m.load(false)
	}
	return m.cert, m.pool
}

// Certificate returns the current key store certificate.
func (m *Material) Certificate() *tls.Certificate {
	c, _ := m.current()
	return c
}

// ServerConfig returns a server-side tls.Config whose certificate and trusted roots follow
// the files (each handshake sees the current ones).
func (m *Material) ServerConfig() (*tls.Config, []string, error) {
	minV, maxV, err := m.s.versions()
	if err != nil {
		return nil, nil, err
	}
	suites, skipped, err := m.s.cipherSuites()
	if err != nil {
		return nil, nil, err
	}
	auth, err := m.s.ClientAuthType()
	if err != nil {
		return nil, nil, err
	}
	base := &tls.Config{MinVersion: minV, MaxVersion: maxV, CipherSuites: suites, ClientAuth: auth}
	cfg := base.Clone()
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		cert, pool := m.current()
		c := base.Clone()
		c.Certificates = []tls.Certificate{*cert}
		c.ClientCAs = pool
		return c, nil
	}
	return cfg, skipped, nil
}

// PeerConfigs returns the configs of a peer link (sslQuorum): the server config and a function
// that makes the client config for dialing host. Both sides present the key store's
// certificate and require one from the other side, trusted by the trust store. With hostname
// verification on, the dialing side checks the certificate against the host it dialed and
// the accepting side checks the client's certificate against the client's IP address; there
// is never a reverse-DNS fallback (CVE-2026-24281).
func (m *Material) PeerConfigs() (server *tls.Config, client func(host string) *tls.Config, err error) {
	minV, maxV, err := m.s.versions()
	if err != nil {
		return nil, nil, err
	}
	suites, _, err := m.s.cipherSuites()
	if err != nil {
		return nil, nil, err
	}
	verify := m.s.HostnameVerification
	base := &tls.Config{MinVersion: minV, MaxVersion: maxV, CipherSuites: suites}
	server = base.Clone()
	server.ClientAuth = tls.RequireAndVerifyClientCert
	server.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		cert, pool := m.current()
		c := base.Clone()
		c.Certificates = []tls.Certificate{*cert}
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
		if verify {
			remote := hello.Conn.RemoteAddr()
			c.VerifyPeerCertificate = func(_ [][]byte, chains [][]*x509.Certificate) error {
				if len(chains) == 0 || len(chains[0]) == 0 {
					return errors.New("tls: no verified client certificate")
				}
				host, _, err := net.SplitHostPort(remote.String())
				if err != nil {
					return err
				}
				return chains[0][0].VerifyHostname(host)
			}
		}
		return c, nil
	}
	client = func(host string) *tls.Config {
		c := base.Clone()
		c.ServerName = host
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return m.Certificate(), nil
		}
		// The server certificate is verified here, against the current trust store (RootCAs
		// could not follow reloads) and, when verification is on, the dialed host.
		c.InsecureSkipVerify = true
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			_, pool := m.current()
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tls: the peer sent no certificate")
			}
			opts := x509.VerifyOptions{Roots: pool, Intermediates: x509.NewCertPool(),
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
			if verify {
				opts.DNSName = host
			}
			for _, ic := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(ic)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
		return c
	}
	return server, client, nil
}
