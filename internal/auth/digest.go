package auth

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ZooKeeper's DIGEST-MD5 names (SecurityUtils.createSaslServer: protocol "zookeeper", server
// name "zk-sasl-md5", which is also the realm).
const (
	DigestService = "zookeeper"
	DigestRealm   = "zk-sasl-md5"
)

// ErrDigestFailed is returned for every authentication failure; the reason is in the wrapped
// message (safe to log: it never contains a password).
var ErrDigestFailed = errors.New("DIGEST-MD5 authentication failed")

// DigestServer is the server side of one DIGEST-MD5 exchange (RFC 2831, qop "auth").
type DigestServer struct {
	// Password returns the password of user, if user may log in.
	Password func(user string) (string, bool)

	step     int
	nonce    string
	complete bool
	user     string
}

// Complete reports whether the exchange succeeded.
func (s *DigestServer) Complete() bool { return s.complete }

// AuthorizationID is the authenticated user once Complete.
func (s *DigestServer) AuthorizationID() string { return s.user }

// Next consumes the client's token and returns the server's. The first call (the client's
// empty initial token) returns the challenge; the second checks the digest-response and
// returns "rspauth=…" with the exchange complete.
func (s *DigestServer) Next(token []byte) ([]byte, error) {
	switch s.step {
	case 0:
		s.step++
		var n [24]byte
		if _, err := rand.Read(n[:]); err != nil {
			return nil, err
		}
		s.nonce = base64.StdEncoding.EncodeToString(n[:])
		return []byte(`realm="` + DigestRealm + `",nonce="` + s.nonce + `",qop="auth",charset=utf-8,algorithm=md5-sess`), nil
	case 1:
		s.step++
		return s.verify(token)
	}
	return nil, fmt.Errorf("%w: the exchange is already over", ErrDigestFailed)
}

func fail(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrDigestFailed}, args...)...)
}

func (s *DigestServer) verify(token []byte) ([]byte, error) {
	d, err := parseDirectives(string(token))
	if err != nil {
		return nil, fail("%v", err)
	}
	utf8Charset := false
	if cs, ok := d["charset"]; ok {
		if !strings.EqualFold(cs, "utf-8") {
			return nil, fail("unsupported charset %q", cs)
		}
		utf8Charset = true
	}
	user, ok := d["username"]
	if !ok {
		return nil, fail("no username")
	}
	realm := d["realm"]
	if _, given := d["realm"]; given && realm != DigestRealm {
		return nil, fail("unknown realm %q", realm)
	}
	if d["nonce"] != s.nonce {
		return nil, fail("nonce mismatch")
	}
	if nc, ok := d["nc"]; ok && nc != "00000001" {
		return nil, fail("nonce count %q", nc)
	}
	qop := d["qop"]
	if qop == "" {
		qop = "auth"
	}
	if qop != "auth" {
		return nil, fail("qop %q was not offered", qop)
	}
	cnonce, ok := d["cnonce"]
	if !ok || cnonce == "" {
		return nil, fail("no cnonce")
	}
	uri := d["digest-uri"]
	if !strings.EqualFold(uri, DigestService+"/"+DigestRealm) {
		return nil, fail("digest-uri %q does not name this server", uri)
	}
	resp, ok := d["response"]
	if !ok {
		return nil, fail("no response")
	}
	pw, ok := s.Password(user)
	if !ok {
		return nil, fail("unknown user %q", user)
	}
	enc := func(v string) []byte { return charsetBytes(v, utf8Charset) }
	inner := md5.Sum(join(enc(user), []byte(":"), enc(realm), []byte(":"), latin1IfPossible(pw)))
	a1 := join(inner[:], []byte(":"+s.nonce+":"+cnonce))
	if authz, ok := d["authzid"]; ok {
		a1 = join(a1, []byte(":"), []byte(authz))
	}
	ha1 := md5hex(a1)
	nc := d["nc"]
	if nc == "" {
		nc = "00000001"
	}
	kd := func(a2 string) string {
		return md5hex([]byte(ha1 + ":" + s.nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + md5hex([]byte(a2))))
	}
	want := kd("AUTHENTICATE:" + uri)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(resp)), []byte(want)) != 1 {
		return nil, fail("wrong password for %q", user)
	}
	s.complete, s.user = true, user
	return []byte("rspauth=" + kd(":"+uri)), nil
}

func md5hex(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

func join(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// charsetBytes encodes a name the client sent: with charset=utf-8 it arrived as UTF-8 and is
// hashed as ISO 8859-1 when every character fits (RFC 2831 2.1.2.1); without it, its bytes are
// ISO 8859-1 already.
func charsetBytes(v string, utf8Charset bool) []byte {
	if !utf8Charset {
		return []byte(v)
	}
	return latin1IfPossible(v)
}

// latin1IfPossible is v in ISO 8859-1 if every character fits, in UTF-8 otherwise.
func latin1IfPossible(v string) []byte {
	if !utf8.ValidString(v) {
		return []byte(v)
	}
	out := make([]byte, 0, len(v))
	for _, r := range v {
		if r > 0xff {
			return []byte(v)
		}
		out = append(out, byte(r))
	}
	return out
}

// parseDirectives parses "k=v,k2=\"v2\"" (RFC 2831 digest-response; quoted strings may use
// backslash escapes). A repeated directive is an error.
func parseDirectives(s string) (map[string]string, error) {
	out := map[string]string{}
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			break
		}
		k := i
		for i < len(s) && s[i] != '=' {
			i++
		}
		if i >= len(s) {
			return nil, fmt.Errorf("directive %q has no value", strings.TrimSpace(s[k:]))
		}
		key := strings.ToLower(strings.TrimSpace(s[k:i]))
		i++
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var v strings.Builder
		if i < len(s) && s[i] == '"' {
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated quoted value of %s", key)
				}
				if s[i] == '"' {
					i++
					break
				}
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				v.WriteByte(s[i])
				i++
			}
		} else {
			for i < len(s) && s[i] != ',' {
				v.WriteByte(s[i])
				i++
			}
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("directive %s given twice", key)
		}
		out[key] = strings.TrimSpace(v.String())
	}
	return out, nil
}
