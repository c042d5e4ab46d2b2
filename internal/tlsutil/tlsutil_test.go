package tlsutil

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// RFC 2268 section 5 test vectors.
func TestRC2Vectors(t *testing.T) {
	for _, v := range []struct {
		key    string
		bits   int
		pt, ct string
	}{
		{"0000000000000000", 63, "0000000000000000", "ebb773f993278eff"},
		{"ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"},
		{"3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"},
		{"88", 64, "0000000000000000", "61a8a244adacccf0"},
		{"88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"},
		{"88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"},
		{"88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"},
	} {
		key, _ := hex.DecodeString(v.key)
		pt, _ := hex.DecodeString(v.pt)
		ct, _ := hex.DecodeString(v.ct)
		c := newRC2(key, v.bits)
		got := make([]byte, 8)
		c.Encrypt(got, pt)
		if !bytes.Equal(got, ct) {
			t.Errorf("RC2(%s, %d) encrypt = %x, want %x", v.key, v.bits, got, ct)
		}
		c.Decrypt(got, ct)
		if !bytes.Equal(got, pt) {
			t.Errorf("RC2(%s, %d) decrypt = %x, want %x", v.key, v.bits, got, pt)
		}
	}
}

func testCert(t *testing.T) *x509.Certificate {
	t.Helper()
	_, certs, err := parsePEM(mustRead(t, "cert.pem"), "")
	if err != nil || len(certs) != 1 {
		t.Fatalf("cert.pem: %v", err)
	}
	return certs[0]
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPKCS12 opens key stores written by OpenSSL 3 (AES/PBES2, legacy RC2-40 + 3DES, SHA-512
// MAC) and Java 17's keytool (PBES2/AES-256 and the legacy format), and a keytool trust store.
func TestPKCS12(t *testing.T) {
	want := testCert(t)
	for _, f := range []string{"openssl-aes.p12", "openssl-legacy.p12", "openssl-sha512.p12", "keytool.p12", "keytool-legacy.p12"} {
		t.Run(f, func(t *testing.T) {
			c, err := ParseKeyStore(mustRead(t, f), "secret", StorePKCS12)
			if err != nil {
				t.Fatal(err)
			}
			if !c.Leaf.Equal(want) {
				t.Errorf("leaf is %v, want %v", c.Leaf.Subject, want.Subject)
			}
			if _, ok := c.PrivateKey.(*ecdsa.PrivateKey); !ok {
				t.Errorf("key is %T", c.PrivateKey)
			}
			if _, err := ParseKeyStore(mustRead(t, f), "wrong", StorePKCS12); err == nil {
				t.Error("a wrong password was accepted")
			}
		})
	}
	pool, err := ParseTrustStore(mustRead(t, "keytool-trust.p12"), "secret", StorePKCS12)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := want.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
		t.Errorf("the trust store does not trust its certificate: %v", err)
	}
	// Garbage never panics.
	data := mustRead(t, "keytool.p12")
	for i := 0; i < len(data); i += 7 {
		d := bytes.Clone(data)
		d[i] ^= 0x55
		ParseKeyStore(d, "secret", StorePKCS12)
		ParseKeyStore(d[:i], "secret", StorePKCS12)
	}
}

func TestPEMKeyStore(t *testing.T) {
	want := testCert(t)
	for _, v := range []struct{ key, pw string }{{"key.pem", ""}, {"key-enc.pem", "secret"}} {
		data := append(mustRead(t, v.key), mustRead(t, "cert.pem")...)
		c, err := ParseKeyStore(data, v.pw, StorePEM)
		if err != nil {
			t.Fatalf("%s: %v", v.key, err)
		}
		if !c.Leaf.Equal(want) {
			t.Errorf("%s: wrong leaf", v.key)
		}
	}
	if _, err := ParseKeyStore(append(mustRead(t, "key-enc.pem"), mustRead(t, "cert.pem")...), "nope", StorePEM); err == nil {
		t.Error("wrong password accepted for an encrypted PKCS#8 key")
	}
	if _, err := ParseKeyStore(mustRead(t, "cert.pem"), "", StorePEM); err == nil {
		t.Error("a key store without a key was accepted")
	}
}

func TestStoreType(t *testing.T) {
	for _, v := range []struct {
		typ, path string
		want      StoreType
		ok        bool
	}{
		{"", "a/b.pem", StorePEM, true}, {"", "x.P12", StorePKCS12, true}, {"", "x.pfx", StorePKCS12, true},
		{"pkcs12", "x.pem", StorePKCS12, true}, {"", "x.jks", StoreJKS, true}, {"", "x.store", "", false},
		{"foo", "x.pem", "", false},
	} {
		got, err := ParseStoreType(v.typ, v.path)
		if got != v.want || (err == nil) != v.ok {
			t.Errorf("ParseStoreType(%q, %q) = %q, %v", v.typ, v.path, got, err)
		}
	}
	if _, err := ParseKeyStore(nil, "", StoreJKS); err == nil {
		t.Error("JKS accepted")
	}
}

// TestSubjectDN compares with Java 17's X500Principal.getName() for the same certificate:
// reversed RDNs, the multi-valued RDN in DER order, "#" hex for emailAddress, escaped ','
// and trailing space.
func TestSubjectDN(t *testing.T) {
	got, err := SubjectDN(testCert(t).RawSubject)
	if err != nil {
		t.Fatal(err)
	}
	const java = `1.2.840.113549.1.9.1=#16056140622e63,CN=node 1\ ,OU=x+OU=test,O=Warren\, Inc.,C=DE`
	if got != java {
		t.Errorf("SubjectDN = %q\nJava says  %q", got, java)
	}
}

// TestValidDN: the verdicts of Java 17's new X500Principal(s) for each string.
func TestValidDN(t *testing.T) {
	valid := []string{"CN=a,O=b", "", `CN="q,r"`, "CN=a+OU=b", "CN=a;O=b", "CN=", "cn=x", "OID.2.5.4.3=x",
		"CN=a=b", " CN = a , O = b ", `1.2.840.113549.1.9.1=#16056140622e63,CN=node 1\ ,O=Warren\, Inc.`}
	invalid := []string{"foo", "CN=a,,O=b", "XYZ=1", "1.2.3=#0101", "CN=a,", "CN=#zz", "2=x", "CN=<a>"}
	for _, s := range valid {
		if !ValidDN(s) {
			t.Errorf("ValidDN(%q) = false, Java accepts it", s)
		}
	}
	for _, s := range invalid {
		if ValidDN(s) {
			t.Errorf("ValidDN(%q) = true, Java rejects it", s)
		}
	}
}

func TestSettingsStringHidesSecrets(t *testing.T) {
	s, err := FromProps(map[string]string{"ssl.keyStore.location": "/k.p12", "ssl.keyStore.password": "hunter2",
		"ssl.trustStore.password": "swordfish"}, "ssl.")
	if err != nil {
		t.Fatal(err)
	}
	if str := s.String(); bytes.Contains([]byte(str), []byte("hunter2")) || bytes.Contains([]byte(str), []byte("swordfish")) {
		t.Errorf("String shows a password: %s", str)
	}
}
