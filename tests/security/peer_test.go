package security

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/config"
	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/testutil/warrentest"
)

// TestS7PeerAuthentication: with sslQuorum, the peer port accepts only TLS connections whose
// certificate the trust store trusts and whose address matches the certificate (no
// reverse-DNS fallback): a plaintext connection claiming server id 1 with a valid hello, a
// certificate from another CA, and a trusted certificate issued for another address are all
// dropped before any message is processed; the server keeps serving.
func TestS7PeerAuthentication(t *testing.T) {
	p := newPKI(t)
	peerCert := p.issue(t, "peer", pkix.Name{CommonName: "peer"})
	s := start(t, options{peer: true, props: map[string]string{
		"sslQuorum":                      "true",
		"ssl.quorum.keyStore.location":   peerCert.File,
		"ssl.quorum.trustStore.location": p.CAFile,
	}})

	hello := append([]byte("WRNPEER1"), binary.BigEndian.AppendUint64(nil, 1)...)
	hello = binary.BigEndian.AppendUint64(hello, 0) // cluster id (unknown to an attacker, but irrelevant)
	hello = append(hello, 0)
	frame := binary.BigEndian.AppendUint32(nil, 5)
	frame = append(frame, 1, 0, 0, 0, 0)

	c, err := net.DialTimeout("tcp", s.PeerAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(append(hello, frame...))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(c); err != nil || len(b) > 0 && b[0] != 0x15 { // at most a TLS alert
		t.Errorf("plaintext peer: read %x, %v", b, err)
	}
	c.Close()

	other := newPKI(t).issue(t, "stranger", pkix.Name{CommonName: "stranger"})
	d := &net.Dialer{Timeout: 5 * time.Second}
	if tc, err := tls.DialWithDialer(d, "tcp", s.PeerAddr, &tls.Config{RootCAs: p.pool(), Certificates: []tls.Certificate{other.Certificate}}); err == nil {
		tc.Write(hello)
		tc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := tc.Read(make([]byte, 1)); err == nil {
			t.Error("untrusted peer certificate accepted")
		}
		tc.Close()
	}

	// A trusted certificate issued for 127.0.0.2 only, used from 127.0.0.1.
	wrongHost := p.issueFor(t, "wronghost", pkix.Name{CommonName: "peer"}, net.ParseIP("127.0.0.2"))
	if tc, err := tls.DialWithDialer(d, "tcp", s.PeerAddr, &tls.Config{RootCAs: p.pool(), Certificates: []tls.Certificate{wrongHost.Certificate}}); err == nil {
		tc.Write(hello)
		tc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := tc.Read(make([]byte, 1)); err == nil || err == io.ErrNoProgress {
			t.Error("a peer certificate for another address was accepted")
		}
		tc.Close()
	}
	s.stillServes(t)
}

// TestSSLQuorumEnsemble: three members with sslQuorum elect a leader and replicate over TLS
// peer links.
func TestSSLQuorumEnsemble(t *testing.T) {
	p := newPKI(t)
	peerCert := p.issue(t, "peer", pkix.Name{CommonName: "peer"})
	e := warrentest.StartEnsemble(t, 3, 0, &warrentest.Options{Config: func(c *config.Config) {
		c.Props["sslQuorum"] = "true"
		c.Props["ssl.quorum.keyStore.location"] = peerCert.File
		c.Props["ssl.quorum.trustStore.location"] = p.CAFile
	}})
	a := raw(t, e.Members[0].Addr)
	a.connect(t)
	mustCreate(t, a, "/over-tls", "replicated", world(proto.PermAll))
	b := raw(t, e.Members[2].Addr)
	b.connect(t)
	b.call(t, proto.OpSync, &proto.SyncRequest{Path: "/"})
	if d, _, err := getData(t, b, "/over-tls"); err != proto.ErrOK || d != "replicated" {
		t.Errorf("read on another member: %q %v", d, err)
	}
}

// TestS7ClaimedIDBound (CVE-2023-44981): a peer with a trusted certificate can speak only
// for the server ids whose server.N host its certificate is valid for: a certificate for
// 127.0.0.1 claiming id 2 (server.2=localhost) is dropped right after its hello; one valid
// for localhost (and its address) is kept.
func TestS7ClaimedIDBound(t *testing.T) {
	p := newPKI(t)
	peerCert := p.issue(t, "peer", pkix.Name{CommonName: "peer"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := start(t, options{peer: true, peerExtra: fmt.Sprintf("server.2=localhost:%d:%d\n", port, port+1), props: map[string]string{
		"sslQuorum":                      "true",
		"ssl.quorum.keyStore.location":   peerCert.File,
		"ssl.quorum.trustStore.location": p.CAFile,
	}})
	hello := func(cert issued) bool {
		d := &net.Dialer{Timeout: 5 * time.Second}
		tc, err := tls.DialWithDialer(d, "tcp", s.PeerAddr, &tls.Config{RootCAs: p.pool(), Certificates: []tls.Certificate{cert.Certificate}})
		if err != nil {
			return false
		}
		defer tc.Close()
		h := append([]byte("WRNPEER1"), binary.BigEndian.AppendUint64(nil, 2)...)
		h = binary.BigEndian.AppendUint64(h, s.ClusterID())
		tc.Write(append(h, 0))
		tc.SetReadDeadline(time.Now().Add(time.Second))
		_, err = tc.Read(make([]byte, 1))
		var ne net.Error
		return errors.As(err, &ne) && ne.Timeout() // still open: accepted
	}
	if hello(peerCert) {
		t.Error("a certificate for 127.0.0.1 was accepted as server 2 (localhost)")
	}
	// Server 2's certificate: valid for its server.2 host, and for the address it connects
	// from (the accepting side checks that too, without reverse DNS).
	local := p.issueFor(t, "peer2", pkix.Name{CommonName: "peer2"}, net.ParseIP("127.0.0.1"), "localhost")
	if !hello(local) {
		t.Error("server 2's own certificate (localhost) was refused")
	}
}
