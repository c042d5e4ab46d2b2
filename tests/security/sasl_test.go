package security

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

const jaasServer = `Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bobsecret";
};
Client {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username="bob"
       password="bobsecret";
};
`

func writeJAAS(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "jaas.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// digestResponse answers a DIGEST-MD5 challenge as pure-sasl (kazoo) does.
func digestResponse(challenge, user, pw string) string {
	d := map[string]string{}
	for _, kv := range strings.Split(challenge, ",") {
		k, v, _ := strings.Cut(kv, "=")
		d[k] = strings.Trim(v, `"`)
	}
	const uri, cnonce = "zookeeper/zk-sasl-md5", "abcdef"
	h := md5.Sum([]byte(user + ":" + d["realm"] + ":" + pw))
	ha1 := md5hex(string(h[:]) + ":" + d["nonce"] + ":" + cnonce)
	resp := md5hex(ha1 + ":" + d["nonce"] + ":00000001:" + cnonce + ":auth:" + md5hex("AUTHENTICATE:"+uri))
	return fmt.Sprintf(`username="%s",realm="%s",nonce="%s",cnonce="%s",nc=00000001,qop=auth,digest-uri="%s",response=%s`,
		user, d["realm"], d["nonce"], cnonce, uri, resp)
}

// saslLogin runs the opcode-102 exchange; it returns the error code of the step that failed.
func saslLogin(t *testing.T, c *rawConn, user, pw string) proto.Err {
	t.Helper()
	r := c.call(t, proto.OpSASL, &proto.GetSASLRequest{Token: []byte{}})
	if r.err != proto.ErrOK || r.zxid != 0 {
		return r.err
	}
	var ch proto.SetSASLResponse
	decodeInto(t, r.body, &ch)
	r, err := c.tryCall(proto.OpSASL, &proto.GetSASLRequest{Token: []byte(digestResponse(string(ch.Token), user, pw))})
	if err != nil {
		t.Fatalf("sasl: %v", err)
	}
	if r.err != proto.ErrOK {
		return r.err
	}
	decodeInto(t, r.body, &ch)
	if !strings.HasPrefix(string(ch.Token), "rspauth=") {
		t.Errorf("final token %q", ch.Token)
	}
	return proto.ErrOK
}

// TestSASLDigest: DIGEST-MD5 users come from the JAAS file's Server section (path from
// warren.jaasConfig or -Djava.security.auth.login.config in SERVER_JVMFLAGS); a successful
// exchange gives the id sasl:<user>, zookeeper.superUser's user is super, sasl ACLs work, a
// wrong password is AuthFailed with the connection closed.
func TestSASLDigest(t *testing.T) {
	jaas := writeJAAS(t, jaasServer)
	for _, o := range []options{
		{props: map[string]string{"warren.jaasConfig": jaas, "superUser": "super"}},
		{env: map[string]string{"SERVER_JVMFLAGS": "-Xmx1g -Djava.security.auth.login.config=" + jaas + " -Dzookeeper.superUser=super"}},
	} {
		s := start(t, o)
		c := raw(t, s.Addr)
		c.connect(t)
		if err := saslLogin(t, c, "bob", "bobsecret"); err != proto.ErrOK {
			t.Fatalf("bob: %v", err)
		}
		if who := whoami(t, c); !hasID(who, "sasl", "bob") {
			t.Errorf("whoAmI %+v", who)
		}
		mustCreate(t, c, "/sasl", "x", aclOf(proto.PermAll, proto.Id{Scheme: "sasl", Id: "bob"}))
		other := raw(t, s.Addr)
		other.connect(t)
		if _, _, err := getData(t, other, "/sasl"); err != proto.ErrNoAuth {
			t.Errorf("unauthenticated read: %v", err)
		}
		su := raw(t, s.Addr)
		su.connect(t)
		if err := saslLogin(t, su, "super", "adminsecret"); err != proto.ErrOK {
			t.Fatal(err)
		}
		if d, _, err := getData(t, su, "/sasl"); err != proto.ErrOK || d != "x" {
			t.Errorf("super read: %q %v", d, err)
		}
		bad := raw(t, s.Addr)
		bad.connect(t)
		if err := saslLogin(t, bad, "bob", "wrong"); err != proto.ErrAuthFailed {
			t.Errorf("wrong password: %v, want AuthFailed", err)
		}
		if !bad.closedByServer(5 * time.Second) {
			t.Error("connection left open after a failed SASL exchange")
		}
		if strings.Contains(s.log.String(), "bobsecret") || strings.Contains(s.log.String(), "adminsecret") {
			t.Error("the log shows a SASL password")
		}
		s.stillServes(t)
	}
	// Without SASL configured the answer is an empty token and nothing else happens.
	s := start(t, options{})
	c := raw(t, s.Addr)
	c.connect(t)
	r := c.call(t, proto.OpSASL, &proto.GetSASLRequest{Token: []byte("x")})
	if r.err != proto.ErrOK || string(r.body) != "\xff\xff\xff\xff" {
		t.Errorf("SASL without configuration: %v %x", r.err, r.body)
	}
	// A JAAS file without a Server section stops the server from starting.
	if err := startErr(t, options{props: map[string]string{"warren.jaasConfig": writeJAAS(t, "Client { a.B required; };")}}); err == nil || !strings.Contains(err.Error(), "Server") {
		t.Errorf("JAAS file without Server: %v", err)
	}
}

// TestEnforceAuth: with enforce.auth.enabled and enforce.auth.schemes (or
// sessionRequireClientSASLAuth), a request from a connection without an id of those schemes
// is answered SessionClosedRequireSASLAuth (-124, zxid 0) and the connection is closed; auth
// and sasl packets pass, and an authenticated connection is served.
func TestEnforceAuth(t *testing.T) {
	jaas := writeJAAS(t, jaasServer)
	for _, props := range []map[string]string{
		{"warren.jaasConfig": jaas, "enforce.auth.enabled": "true", "enforce.auth.schemes": "sasl,digest"},
		{"warren.jaasConfig": jaas, "sessionRequireClientSASLAuth": "true"},
	} {
		s := start(t, options{props: props})
		c := raw(t, s.Addr)
		c.connect(t)
		r := c.call(t, proto.OpGetData, &proto.GetDataRequest{Path: "/"})
		if r.err != proto.ErrSessionClosedRequireSASLAuth || r.zxid != 0 {
			t.Errorf("%v: unauthenticated getData: %v zxid %d", props, r.err, r.zxid)
		}
		if !c.closedByServer(5 * time.Second) {
			t.Errorf("%v: connection left open", props)
		}
		ok := raw(t, s.Addr)
		ok.connect(t)
		if err := saslLogin(t, ok, "bob", "bobsecret"); err != proto.ErrOK {
			t.Fatal(err)
		}
		if _, _, err := getData(t, ok, "/zookeeper"); err != proto.ErrOK {
			t.Errorf("%v: authenticated getData: %v", props, err)
		}
		// A failed SASL exchange under enforcement is -124.
		bad := raw(t, s.Addr)
		bad.connect(t)
		if err := saslLogin(t, bad, "bob", "nope"); err != proto.ErrSessionClosedRequireSASLAuth {
			t.Errorf("%v: failed SASL: %v", props, err)
		}
	}
	// digest counts when listed.
	s := start(t, options{props: map[string]string{"enforce.auth.enabled": "true", "enforce.auth.schemes": "digest"}})
	c := raw(t, s.Addr)
	c.connect(t)
	addauth(t, c, "digest", "bob:x")
	if _, _, err := getData(t, c, "/zookeeper"); err != proto.ErrOK {
		t.Errorf("digest-authenticated getData: %v", err)
	}
	// Misconfigurations stop the server from starting, as in ZooKeeper.
	for _, props := range []map[string]string{
		{"enforce.auth.enabled": "true"},
		{"enforce.auth.enabled": "true", "enforce.auth.schemes": "sasl"},
	} {
		if err := startErr(t, options{props: props}); err == nil {
			t.Errorf("%v: started", props)
		}
	}
}
