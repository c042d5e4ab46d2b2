package auth

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const jaasFile = `/* ZooKeeper server side */
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bob\"s pw"; // trailing comment
};
# the client side
Client {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username=bob
       password="bobsecret";
};
`

func TestParseJAAS(t *testing.T) {
	j, err := ParseJAAS(jaasFile)
	if err != nil {
		t.Fatal(err)
	}
	users, err := j.DigestUsers("Server")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"super": "adminsecret", "bob": `bob"s pw`}; !reflect.DeepEqual(users, want) {
		t.Errorf("users = %v, want %v", users, want)
	}
	if c := j["Client"]; len(c) != 1 || c[0].Options["username"] != "bob" || c[0].Flag != "required" {
		t.Errorf("Client = %+v", c)
	}
	if _, err := j.DigestUsers("Missing"); err == nil {
		t.Error("missing section not reported")
	}
	for _, bad := range []string{"Server {", "Server { a.B required x=\"y\" };", "Server { a.B sometimes; };", "{ a.B required; };", `Server { a.B required x="y; };`} {
		if _, err := ParseJAAS(bad); err == nil {
			t.Errorf("ParseJAAS(%q) accepted", bad)
		}
	}
}

func TestJVMProps(t *testing.T) {
	got := JVMProps(`-Xmx1g -Djava.security.auth.login.config=/etc/zk/jaas.conf "-Dzookeeper.superUser=a b" -Dx`)
	want := map[string]string{"java.security.auth.login.config": "/etc/zk/jaas.conf", "zookeeper.superUser": "a b", "x": ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JVMProps = %v", got)
	}
}

// digestClient is the client side of RFC 2831 as pure-sasl (kazoo) computes it.
func digestClient(challenge, user, pw, uri, authz string) string {
	d, _ := parseDirectives(challenge)
	h := md5.Sum([]byte(user + ":" + d["realm"] + ":" + pw))
	cnonce := "0123456789"
	a1 := string(h[:]) + ":" + d["nonce"] + ":" + cnonce
	if authz != "" {
		a1 += ":" + authz
	}
	ha1 := md5hex([]byte(a1))
	resp := md5hex([]byte(ha1 + ":" + d["nonce"] + ":00000001:" + cnonce + ":auth:" + md5hex([]byte("AUTHENTICATE:"+uri))))
	s := fmt.Sprintf(`username="%s",realm="%s",nonce="%s",cnonce="%s",nc=00000001,qop=auth,digest-uri="%s",response=%s`,
		user, d["realm"], d["nonce"], cnonce, uri, resp)
	if authz != "" {
		s += `,authzid="` + authz + `"`
	}
	return s
}

func TestDigestServer(t *testing.T) {
	users := map[string]string{"bob": "secret"}
	pw := func(u string) (string, bool) { p, ok := users[u]; return p, ok }
	const uri = "zookeeper/zk-sasl-md5"
	for _, v := range []struct {
		name, user, pw, uri, authz string
		ok                         bool
	}{
		{"good", "bob", "secret", uri, "", true},
		{"good with authzid", "bob", "secret", uri, "alice", true},
		{"wrong password", "bob", "nope", uri, "", false},
		{"unknown user", "eve", "secret", uri, "", false},
		{"other server", "bob", "secret", "zookeeper/other", "", false},
	} {
		t.Run(v.name, func(t *testing.T) {
			s := &DigestServer{Password: pw}
			ch, err := s.Next(nil)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(ch), `realm="zk-sasl-md5"`) || !strings.Contains(string(ch), "algorithm=md5-sess") {
				t.Fatalf("challenge %q", ch)
			}
			rsp, err := s.Next([]byte(digestClient(string(ch), v.user, v.pw, v.uri, v.authz)))
			if !v.ok {
				if !errors.Is(err, ErrDigestFailed) || s.Complete() {
					t.Fatalf("accepted: %q %v", rsp, err)
				}
				if strings.Contains(err.Error(), v.pw) {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil || !s.Complete() || s.AuthorizationID() != v.user {
				t.Fatalf("Next = %q, %v; complete %v id %q", rsp, err, s.Complete(), s.AuthorizationID())
			}
			// rspauth proves the server knows the password too.
			d, _ := parseDirectives(string(ch))
			h := md5.Sum([]byte(v.user + ":" + d["realm"] + ":" + v.pw))
			a1 := string(h[:]) + ":" + d["nonce"] + ":0123456789"
			if v.authz != "" {
				a1 += ":" + v.authz
			}
			want := md5hex([]byte(md5hex([]byte(a1)) + ":" + d["nonce"] + ":00000001:0123456789:auth:" + md5hex([]byte(":"+uri))))
			if string(rsp) != "rspauth="+want {
				t.Errorf("rspauth %q, want %q", rsp, want)
			}
			if _, err := s.Next(nil); err == nil {
				t.Error("a third step was accepted")
			}
		})
	}
	// A replayed response to a new challenge fails (fresh nonce).
	a := &DigestServer{Password: pw}
	ch, _ := a.Next(nil)
	resp := digestClient(string(ch), "bob", "secret", uri, "")
	b := &DigestServer{Password: pw}
	b.Next(nil)
	if _, err := b.Next([]byte(resp)); err == nil {
		t.Error("a replayed response was accepted")
	}
	_ = hex.EncodeToString
}
