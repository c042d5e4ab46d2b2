package security

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

var (
	clientDN = pkix.Name{CommonName: "client one", Organization: []string{"Warren, Inc."}, Country: []string{"DE"}}
	adminDN  = pkix.Name{CommonName: "admin", OrganizationalUnit: []string{"ops"}}
)

const (
	clientID = `CN=client one,O=Warren\, Inc.,C=DE` // Java's X500Principal.getName() of clientDN
	adminID  = `CN=admin,OU=ops`
)

// TestS10TLS: the secure client port speaks TLS only; a client certificate's subject (RFC
// 2253, as Java prints it) becomes the connection's x509 id, x509 ACLs then work, and the
// X509AuthenticationProvider.superUser subject is super. Passwords never reach the log.
func TestS10TLS(t *testing.T) {
	p := newPKI(t)
	serverCert := p.issue(t, "server", pkix.Name{CommonName: "warren"})
	client := p.issue(t, "client", clientDN)
	admin := p.issue(t, "admin", adminDN)
	// An encrypted PKCS#8 key store and a password file for the trust store exercise both
	// password paths.
	pwFile := filepath.Join(p.dir, "trust.pw")
	os.WriteFile(pwFile, []byte("trust-secret-1\n"), 0o600)
	s := start(t, options{secure: true, props: sslProps(serverCert.File, p.CAFile,
		"ssl.keyStore.password", "keystore-secret-2",
		"ssl.trustStore.passwordPath", pwFile,
		"X509AuthenticationProvider.superUser", adminID,
		"DigestAuthenticationProvider.superDigest", "super:D/InIHSb7yEEbrWz8b9l71RjZJU=")})

	// Plaintext to the TLS port fails.
	plain := raw(t, s.SecureAddr)
	if _, err := plain.tryConnect(proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)}); err == nil {
		t.Error("a plaintext ConnectRequest was answered on the TLS port")
	}
	// A client without a certificate is refused (ssl.clientAuth=need is the default).
	if c, err := rawTLS(t, s.SecureAddr, p.clientTLS(nil)); err == nil {
		if _, err := c.tryConnect(proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)}); err == nil {
			t.Error("a client without a certificate got a session")
		}
	}
	// A certificate from another CA is refused.
	other := newPKI(t).issue(t, "stranger", pkix.Name{CommonName: "stranger"})
	if c, err := rawTLS(t, s.SecureAddr, &tls.Config{RootCAs: p.pool(), Certificates: []tls.Certificate{other.Certificate}}); err == nil {
		if _, err := c.tryConnect(proto.ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)}); err == nil {
			t.Error("an untrusted client certificate got a session")
		}
	}

	c, err := rawTLS(t, s.SecureAddr, p.clientTLS(&client))
	if err != nil {
		t.Fatal(err)
	}
	c.connect(t)
	who := whoami(t, c)
	if !hasID(who, "x509", clientID) {
		t.Errorf("whoAmI %+v, want x509 %q", who, clientID)
	}
	x509ACL := aclOf(proto.PermAll, proto.Id{Scheme: "x509", Id: clientID})
	mustCreate(t, c, "/tls", "secret", x509ACL)
	if r := c.call(t, proto.OpCreate, &proto.CreateRequest{Path: "/bad", Acl: aclOf(proto.PermAll, proto.Id{Scheme: "x509", Id: "not a dn"})}); r.err != proto.ErrInvalidACL {
		t.Errorf("x509 ACL with an invalid DN: %v, want InvalidACL", r.err)
	}
	// The plaintext port has no x509 id: NoAuth.
	pc := raw(t, s.Addr)
	pc.connect(t)
	if _, _, err := getData(t, pc, "/tls"); err != proto.ErrNoAuth {
		t.Errorf("plaintext client read of an x509 node: %v", err)
	}
	// The superUser subject can do anything.
	a, err := rawTLS(t, s.SecureAddr, p.clientTLS(&admin))
	if err != nil {
		t.Fatal(err)
	}
	a.connect(t)
	if who := whoami(t, a); !hasID(who, "super", "") || !hasID(who, "x509", adminID) {
		t.Errorf("superUser whoAmI %+v", who)
	}
	if d, _, err := getData(t, a, "/tls"); err != proto.ErrOK || d != "secret" {
		t.Errorf("superUser read: %q %v", d, err)
	}
	// addauth x509 re-authenticates with the connection's certificate; on a plaintext
	// connection it fails and closes.
	if err := addauth(t, c, "x509", ""); err != proto.ErrOK {
		t.Errorf("addauth x509 on TLS: %v", err)
	}
	if err := addauth(t, pc, "x509", ""); err != proto.ErrAuthFailed {
		t.Errorf("addauth x509 on plaintext: %v", err)
	}
	log := s.log.String()
	for _, secret := range []string{"keystore-secret-2", "trust-secret-1", "D/InIHSb7yEEbrWz8b9l71RjZJU="} {
		if strings.Contains(log, secret) {
			t.Errorf("the log shows the secret %q", secret)
		}
	}
	if !strings.Contains(log, "TLS configured for clients") {
		t.Errorf("no TLS line in the log")
	}
	s.stillServes(t)
}

func hasID(ids []proto.ClientInfo, scheme, user string) bool {
	for _, i := range ids {
		if i.AuthScheme == scheme && i.User == user {
			return true
		}
	}
	return false
}

// TestTLSClientAuthModes: want lets a client without a certificate in (without an x509
// id) and still authenticates one that has a certificate; none never asks.
func TestTLSClientAuthModes(t *testing.T) {
	p := newPKI(t)
	serverCert := p.issue(t, "server", pkix.Name{CommonName: "warren"})
	client := p.issue(t, "client", clientDN)
	for _, mode := range []string{"want", "none"} {
		s := start(t, options{secure: true, props: sslProps(serverCert.File, p.CAFile, "ssl.clientAuth", mode)})
		c, err := rawTLS(t, s.SecureAddr, p.clientTLS(nil))
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		c.connect(t)
		if who := whoami(t, c); len(who) != 1 || who[0].AuthScheme != "ip" {
			t.Errorf("%s without a certificate: %+v", mode, who)
		}
		c2, err := rawTLS(t, s.SecureAddr, p.clientTLS(&client))
		if err != nil {
			t.Fatal(err)
		}
		c2.connect(t)
		if got := hasID(whoami(t, c2), "x509", clientID); got != (mode == "want") {
			t.Errorf("%s with a certificate: x509 id %v", mode, got)
		}
	}
}

// TestTLSReload: replacing the key store file changes the certificate new handshakes see,
// without a restart; a broken replacement keeps the last good one.
func TestTLSReload(t *testing.T) {
	p := newPKI(t)
	first := p.issue(t, "server", pkix.Name{CommonName: "first"})
	client := p.issue(t, "client", clientDN)
	ks := filepath.Join(p.dir, "keystore.pem")
	writePEM(t, ks, first.KeyPEM, first.CertPEM)
	s := start(t, options{secure: true, props: sslProps(ks, p.CAFile)})
	served := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", s.SecureAddr, p.clientTLS(&client))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if cn := served(); cn != "first" {
		t.Fatalf("served %q", cn)
	}
	second := p.issue(t, "server2", pkix.Name{CommonName: "second"})
	writePEM(t, ks+".tmp", second.KeyPEM, second.CertPEM)
	os.Rename(ks+".tmp", ks)
	deadline := time.Now().Add(5 * time.Second)
	for served() != "second" {
		if time.Now().After(deadline) {
			t.Fatal("the new certificate was not picked up")
		}
		time.Sleep(100 * time.Millisecond)
	}
	os.WriteFile(ks, []byte("garbage"), 0o600)
	time.Sleep(1200 * time.Millisecond)
	if cn := served(); cn != "second" {
		t.Errorf("after a broken key store: served %q, want the last good one", cn)
	}
	if !strings.Contains(s.log.String(), "reloading TLS material failed") {
		t.Error("the failed reload was not logged")
	}
}

// TestTLSPKCS12: a PKCS#12 key store and trust store (as openssl writes them) work like PEM;
// a wrong password stops the server from starting.
func TestTLSPKCS12(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	p := newPKI(t)
	p.issue(t, "server", pkix.Name{CommonName: "warren"})
	client := p.issue(t, "client", clientDN)
	ks := filepath.Join(p.dir, "server.p12")
	ts := filepath.Join(p.dir, "trust.p12")
	for _, args := range [][]string{
		{"pkcs12", "-export", "-in", filepath.Join(p.dir, "server.crt"), "-inkey", filepath.Join(p.dir, "server.key"), "-out", ks, "-passout", "pass:p12pass"},
		{"pkcs12", "-export", "-nokeys", "-in", p.CAFile, "-out", ts, "-passout", "pass:p12pass"},
	} {
		if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	props := map[string]string{"ssl.keyStore.location": ks, "ssl.keyStore.password": "p12pass",
		"ssl.trustStore.location": ts, "ssl.trustStore.password": "p12pass"}
	s := start(t, options{secure: true, props: props})
	c, err := rawTLS(t, s.SecureAddr, p.clientTLS(&client))
	if err != nil {
		t.Fatal(err)
	}
	c.connect(t)
	if !hasID(whoami(t, c), "x509", clientID) {
		t.Error("no x509 id over a PKCS#12-configured port")
	}
	err = startErr(t, options{props: map[string]string{"secureClientPort": "1", "ssl.keyStore.location": ks,
		"ssl.keyStore.password": "Wr0ngPass"}})
	if err == nil || !strings.Contains(err.Error(), "key store") || strings.Contains(err.Error(), "Wr0ngPass") {
		t.Errorf("start with a wrong key store password: %v", err)
	}
	if err := startErr(t, options{props: map[string]string{"secureClientPort": "1", "ssl.keyStore.location": "/x/ks.jks"}}); err == nil || !strings.Contains(err.Error(), "JKS") {
		t.Errorf("JKS key store: %v", err)
	}
}
