package auth

import "testing"

// FuzzDigestResponse feeds arbitrary client tokens to the server side of a
// DIGEST-MD5 exchange (the bytes come straight from a client's sasl
// packet): it must fail cleanly, never panic, and never succeed with a
// token that was not computed from the password.
func FuzzDigestResponse(f *testing.F) {
	f.Add([]byte(`charset=utf-8,username="bob",realm="zk-sasl-md5",nonce="x",nc=00000001,cnonce="y",digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=0123456789abcdef0123456789abcdef,qop=auth`))
	f.Add([]byte(`username="bob",nonce="`))
	f.Add([]byte(`a=b,,c="d\"e",`))
	f.Fuzz(func(t *testing.T, token []byte) {
		s := &DigestServer{Password: func(u string) (string, bool) { return "secret", u == "bob" }}
		if _, err := s.Next(nil); err != nil {
			t.Fatalf("challenge: %v", err)
		}
		if _, err := s.Next(token); err == nil && s.Complete() {
			t.Fatalf("a fuzzed token authenticated: %q", token)
		}
	})
}

// FuzzParseJAAS: the JAAS parser never panics.
func FuzzParseJAAS(f *testing.F) {
	f.Add(`Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="pw"; };`)
	f.Add(`Server { x required a="b" c=d; }; Client { y optional; };`)
	f.Fuzz(func(t *testing.T, src string) {
		j, err := ParseJAAS(src)
		if err == nil {
			j.DigestUsers("Server")
		}
	})
}
