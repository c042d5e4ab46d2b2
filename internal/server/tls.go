package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/warren-zk/warren/internal/proto"
	"github.com/warren-zk/warren/internal/tlsutil"
)

// listenClientPort listens for client connections without TCP keepalive on
// the accepted sockets, as ZooKeeper does by default (its tcpKeepAlive is
// false): a silent client is found by its session timeout (the read
// deadline), and the three setsockopt calls Go makes per accepted connection
// for keepalive were 3% of the server's CPU under session churn (pprof).
func listenClientPort(addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	return lc.Listen(context.Background(), "tcp", addr)
}

// listenClients opens the plaintext client port (clientPort, unless only secureClientPort is
// configured) and the TLS one (secureClientPort), and starts their accept loops.
func (s *Server) listenClients() error {
	secure := s.sec.tlsConfig != nil
	ln := s.opts.Listener
	if ln == nil && (s.cfg.ClientPort != 0 || !secure) {
		addr := net.JoinHostPort(s.cfg.ClientPortAddress, fmt.Sprint(s.cfg.ClientPort))
		var err error
		if ln, err = listenClientPort(addr); err != nil {
			return fmt.Errorf("server: listen on %s: %w", addr, err)
		}
	}
	if ln != nil {
		s.ln = ln
		s.log.Info("listening for clients", "addr", ln.Addr().String(), "mode", s.Mode())
		s.wg.Add(1)
		go s.acceptLoop(ln)
	}
	if secure {
		sln := s.opts.SecureListener
		if sln == nil {
			addr := net.JoinHostPort(s.cfg.SecureClientPortAddress, fmt.Sprint(s.cfg.SecureClientPort))
			var err error
			if sln, err = listenClientPort(addr); err != nil {
				return fmt.Errorf("server: listen on %s: %w", addr, err)
			}
		}
		s.sec.secureLn = tls.NewListener(sln, s.sec.tlsConfig)
		s.log.Info("listening for TLS clients", "addr", sln.Addr().String(), "mode", s.Mode())
		s.wg.Add(1)
		go s.acceptLoop(s.sec.secureLn)
	}
	return nil
}

// SecureAddr returns the TLS client listener's address, or nil without one.
func (s *Server) SecureAddr() net.Addr {
	if s.sec.secureLn == nil {
		return nil
	}
	return s.sec.secureLn.Addr()
}

// closeSecureListener is part of Stop.
func (s *Server) closeSecureListener() {
	if s.sec.secureLn != nil {
		s.sec.secureLn.Close()
	}
}

// startTLS completes the TLS handshake of a secure connection within the handshake
// deadline and authenticates its client certificate, as NettyServerCnxnFactory's
// CertificateVerifier does: the subject becomes the connection's x509 id (and super, for
// X509AuthenticationProvider.superUser). Plaintext connections pass through.
func (c *conn) startTLS() error {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	c.hsDeadline = time.Now().Add(c.s.handshakeTimeout())
	tc.SetDeadline(c.hsDeadline)
	if err := tc.Handshake(); err != nil {
		return errClose{"TLS handshake failed: " + err.Error(), false}
	}
	tc.SetWriteDeadline(time.Time{})
	ids := c.x509IDs()
	if len(ids) > 0 {
		c.addAuth(ids...)
		c.s.log.Info("authenticated client certificate", "remote", c.nc.RemoteAddr().String(), "id", ids[len(ids)-1].Id)
	}
	return nil
}

// x509IDs returns the ids a TLS connection's verified client certificate gives.
func (c *conn) x509IDs() []proto.Id {
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return nil
	}
	st := tc.ConnectionState()
	if len(st.VerifiedChains) == 0 || len(st.VerifiedChains[0]) == 0 {
		return nil
	}
	dn, err := tlsutil.SubjectDN(st.VerifiedChains[0][0].RawSubject)
	if err != nil {
		return nil
	}
	var ids []proto.Id
	if super := c.s.sec.x509Super; super != "" && dn == super {
		ids = append(ids, proto.Id{Scheme: "super", Id: dn})
	}
	return append(ids, proto.Id{Scheme: "x509", Id: dn})
}

// handshakeDeadline is when a connection that has not completed its ConnectRequest is
// closed (ZooKeeper's zookeeper.nio.sessionlessCnxnTimeout, 10 s): the TLS handshake, the
// frame header and the frame body all count against it, so a slow sender is cut off.
func (c *conn) handshakeDeadline() time.Time {
	if !c.hsDeadline.IsZero() {
		return c.hsDeadline
	}
	return time.Now().Add(c.s.handshakeTimeout())
}

func (s *Server) handshakeTimeout() time.Duration {
	if t := s.sec.handshakeTimeout; t > 0 {
		return t
	}
	return 10 * time.Second
}

// ClusterID is the id peers of this ensemble exchange in their hello (0 when standalone).
func (s *Server) ClusterID() uint64 {
	if !s.cfg.Distributed() {
		return 0
	}
	return clusterID(s.cfg.Servers)
}
