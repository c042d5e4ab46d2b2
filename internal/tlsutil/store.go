package tlsutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// StoreType is a key or trust store format, as ZooKeeper's KeyStoreFileType names them.
type StoreType string

// The store types. JKS and BCFKS are recognised only to say that they are not supported.
const (
	StorePEM    StoreType = "PEM"
	StorePKCS12 StoreType = "PKCS12"
	StoreJKS    StoreType = "JKS"
	StoreBCFKS  StoreType = "BCFKS"
)

// ParseStoreType is KeyStoreFileType.fromPropertyValueOrFileName: an explicit type (any case)
// wins; without one the file name's extension decides (.pem, .p12/.pfx, .jks, .bcfks).
func ParseStoreType(typ, path string) (StoreType, error) {
	if typ != "" {
		switch t := StoreType(strings.ToUpper(typ)); t {
		case StorePEM, StorePKCS12, StoreJKS, StoreBCFKS:
			return t, nil
		}
		return "", fmt.Errorf("unknown store type %q (want PEM or PKCS12)", typ)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pem", ".crt", ".cer", ".key":
		return StorePEM, nil
	case ".p12", ".pfx":
		return StorePKCS12, nil
	case ".jks":
		return StoreJKS, nil
	case ".bcfks":
		return StoreBCFKS, nil
	}
	return "", fmt.Errorf("cannot tell the store type of %s from its name; set the .type property (PEM or PKCS12)", path)
}

func unsupported(t StoreType) error {
	return fmt.Errorf("%s stores are not supported; convert with `keytool -importkeystore -srcstoretype %s -deststoretype PKCS12` (or to PEM)", t, t)
}

// LoadKeyStore reads a private key and its certificate chain.
func LoadKeyStore(path, password string, typ StoreType) (tls.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return tls.Certificate{}, err
	}
	return ParseKeyStore(data, password, typ)
}

// ParseKeyStore is LoadKeyStore on the file's bytes.
func ParseKeyStore(data []byte, password string, typ StoreType) (tls.Certificate, error) {
	var (
		keys  []crypto.PrivateKey
		certs []*x509.Certificate
		err   error
	)
	switch typ {
	case StorePEM:
		keys, certs, err = parsePEM(data, password)
	case StorePKCS12:
		keys, certs, err = DecodePKCS12(data, password)
	default:
		return tls.Certificate{}, unsupported(typ)
	}
	if err != nil {
		return tls.Certificate{}, err
	}
	if len(keys) == 0 {
		return tls.Certificate{}, errors.New("the key store holds no private key")
	}
	if len(keys) > 1 {
		return tls.Certificate{}, fmt.Errorf("the key store holds %d private keys; it must hold exactly one", len(keys))
	}
	key := keys[0]
	pub := publicKey(key)
	leaf := -1
	for i, c := range certs {
		if pub != nil && pub.Equal(c.PublicKey) {
			leaf = i
			break
		}
	}
	if leaf < 0 {
		return tls.Certificate{}, errors.New("the key store holds no certificate for its private key")
	}
	out := tls.Certificate{PrivateKey: key, Leaf: certs[leaf]}
	out.Certificate = append(out.Certificate, certs[leaf].Raw)
	for i, c := range certs {
		if i != leaf {
			out.Certificate = append(out.Certificate, c.Raw)
		}
	}
	return out, nil
}

// LoadTrustStore reads the certificates of a trust store.
func LoadTrustStore(path, password string, typ StoreType) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTrustStore(data, password, typ)
}

// ParseTrustStore is LoadTrustStore on the file's bytes.
func ParseTrustStore(data []byte, password string, typ StoreType) (*x509.CertPool, error) {
	var (
		certs []*x509.Certificate
		err   error
	)
	switch typ {
	case StorePEM:
		_, certs, err = parsePEM(data, "")
	case StorePKCS12:
		_, certs, err = DecodePKCS12(data, password)
	default:
		return nil, unsupported(typ)
	}
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("the trust store holds no certificate")
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

func publicKey(k crypto.PrivateKey) interface{ Equal(crypto.PublicKey) bool } {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	case ed25519.PrivateKey:
		return k.Public().(ed25519.PublicKey)
	}
	return nil
}

// parsePEM reads the CERTIFICATE blocks and private keys of a PEM file: PKCS#8 ("PRIVATE
// KEY"), encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY", with password), PKCS#1 and SEC 1.
func parsePEM(data []byte, password string) (keys []crypto.PrivateKey, certs []*x509.Certificate, err error) {
	found := false
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		found = true
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, nil, err
			}
			certs = append(certs, c)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, nil, err
			}
			keys = append(keys, k)
		case "RSA PRIVATE KEY":
			if _, enc := b.Headers["DEK-Info"]; enc {
				return nil, nil, errors.New("legacy encrypted PEM keys are not supported; use encrypted PKCS#8")
			}
			k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
			if err != nil {
				return nil, nil, err
			}
			keys = append(keys, k)
		case "EC PRIVATE KEY":
			if _, enc := b.Headers["DEK-Info"]; enc {
				return nil, nil, errors.New("legacy encrypted PEM keys are not supported; use encrypted PKCS#8")
			}
			k, err := x509.ParseECPrivateKey(b.Bytes)
			if err != nil {
				return nil, nil, err
			}
			keys = append(keys, k)
		case "ENCRYPTED PRIVATE KEY":
			var epki encryptedPrivateKeyInfo
			if _, err := asn1.Unmarshal(b.Bytes, &epki); err != nil {
				return nil, nil, fmt.Errorf("bad encrypted private key: %w", err)
			}
			plain, err := pbDecrypt(epki.Algorithm, epki.EncryptedData, password, bmpPassword(password))
			if err != nil {
				return nil, nil, errors.New("cannot decrypt the private key (wrong password?)")
			}
			k, err := x509.ParsePKCS8PrivateKey(plain)
			if err != nil {
				return nil, nil, err
			}
			keys = append(keys, k)
		}
	}
	if !found {
		return nil, nil, errors.New("no PEM data found")
	}
	return keys, certs, nil
}
