package security

import (
	"context"
	"crypto/x509/pkix"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/testutil/deps"
)

var jvmFlags = []string{"-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx96m"}

// runCmd runs a command with stdin, bounded by a timeout, and returns its combined output.
func runCmd(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s timed out:\n%s", name, out)
	}
	if err != nil {
		t.Logf("%s: %v", name, err)
	}
	return string(out)
}

// zkCli runs the Java ZooKeeperMain (Debian's ZooKeeper 3.8 client) with JVM properties.
func zkCli(t *testing.T, server, script string, props map[string]string) string {
	t.Helper()
	java := deps.Java(t)
	cp := deps.ZooKeeperClasspath(t)
	dir := t.TempDir()
	logFlag, err := deps.Log4jConfig(dir, filepath.Join(dir, "client.log"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string(nil), jvmFlags...)
	args = append(args, logFlag)
	for k, v := range props {
		args = append(args, "-D"+k+"="+v)
	}
	args = append(args, "-cp", cp, "org.apache.zookeeper.ZooKeeperMain", "-server", server)
	out := runCmd(t, script, java, args...)
	if t.Failed() {
		b, _ := os.ReadFile(filepath.Join(dir, "client.log"))
		t.Logf("client log:\n%s", b)
	}
	return out
}

func expectAll(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// TestJavaClientTLSAndSASL: the Java zkCli over TLS (ClientCnxnSocketNetty, PEM key and
// trust stores) is authenticated by its certificate; over the plain port with a JAAS Client
// section it authenticates with SASL DIGEST-MD5.
func TestJavaClientTLSAndSASL(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	serverCert := p.issue(t, "server", pkix.Name{CommonName: "warren"})
	client := p.issue(t, "client", clientDN)
	jaas := writeJAAS(t, jaasServer)
	s := start(t, options{secure: true, props: func() map[string]string {
		m := sslProps(serverCert.File, p.CAFile)
		m["warren.jaasConfig"] = jaas
		return m
	}()})

	out := zkCli(t, s.SecureAddr, "whoami\ncreate /javatls x509data\nget /javatls\ngetAcl /javatls\nquit\n", map[string]string{
		"zookeeper.client.secure":            "true",
		"zookeeper.clientCnxnSocket":         "org.apache.zookeeper.ClientCnxnSocketNetty",
		"zookeeper.ssl.keyStore.location":    client.File,
		"zookeeper.ssl.keyStore.type":        "PEM",
		"zookeeper.ssl.trustStore.location":  p.CAFile,
		"zookeeper.ssl.trustStore.type":      "PEM",
		"zookeeper.ssl.hostnameVerification": "true",
		"zookeeper.sasl.client":              "false",
		"zookeeper.request.timeout":          "20000",
	})
	expectAll(t, out, "x509: "+clientID, "Created /javatls", "x509data")

	out = zkCli(t, s.Addr, "whoami\ncreate /javasasl d\nsetAcl /javasasl sasl:bob:cdrwa\nget /javasasl\ngetAcl /javasasl\nquit\n", map[string]string{
		"java.security.auth.login.config": jaas,
		"zookeeper.request.timeout":       "20000",
	})
	expectAll(t, out, "sasl: bob", "Created /javasasl", "'sasl,'bob")
	s.stillServes(t)
}

const kazooScript = `
import sys
from kazoo.client import KazooClient
from kazoo.security import ACL, Id
from kazoo.exceptions import NoAuthError

plain, secure, ca, cert, key, dn = sys.argv[1:7]

# TLS: the client certificate is the x509 id.
c = KazooClient(hosts=secure, use_ssl=True, ca=ca, certfile=cert, keyfile=key, verify_certs=True, timeout=10.0)
c.start(timeout=15)
c.create("/kz-tls", b"tls", acl=[ACL(31, Id("x509", dn))])
data, _ = c.get("/kz-tls")
assert data == b"tls", data
print("TLS OK")
c.stop()

# SASL DIGEST-MD5.
s = KazooClient(hosts=plain, sasl_options={"mechanism": "DIGEST-MD5", "username": "bob", "password": "bobsecret"}, timeout=10.0)
s.start(timeout=15)
s.create("/kz-sasl", b"sasl", acl=[ACL(31, Id("sasl", "bob"))])
data, _ = s.get("/kz-sasl")
assert data == b"sasl", data
print("SASL OK")
s.stop()

# Neither: no access to either node.
n = KazooClient(hosts=plain, timeout=10.0)
n.start(timeout=15)
for p in ("/kz-tls", "/kz-sasl"):
    try:
        n.get(p)
        print("FAIL: read", p)
        sys.exit(1)
    except NoAuthError:
        pass
print("NOAUTH OK")
n.stop()
`

// TestKazooTLSAndSASL: kazoo (Debian python3-kazoo) over TLS with a client certificate, and
// with sasl_options DIGEST-MD5 (pure-sasl) on the plain port.
func TestKazooTLSAndSASL(t *testing.T) {
	t.Parallel()
	python := deps.Python3Kazoo(t)
	p := newPKI(t)
	serverCert := p.issue(t, "server", pkix.Name{CommonName: "warren"})
	p.issue(t, "client", clientDN)
	jaas := writeJAAS(t, jaasServer)
	s := start(t, options{secure: true, props: func() map[string]string {
		m := sslProps(serverCert.File, p.CAFile)
		m["warren.jaasConfig"] = jaas
		return m
	}()})
	script := filepath.Join(t.TempDir(), "kz.py")
	os.WriteFile(script, []byte(kazooScript), 0o644)
	out := runCmd(t, "", python, "-u", script, s.Addr, s.SecureAddr, p.CAFile,
		filepath.Join(p.dir, "client.crt"), filepath.Join(p.dir, "client.key"), clientID)
	expectAll(t, out, "TLS OK", "SASL OK", "NOAUTH OK")
}
