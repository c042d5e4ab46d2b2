package tlsutil

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"
)

// A PKCS#12 (RFC 7292) decoder on the standard library alone. golang.org/x/crypto/pkcs12 was
// not used: it reads only the legacy SHA-1 PBE schemes, so it cannot open the PBES2/AES
// keystores that OpenSSL 3 and Java 17's keytool write by default. This one reads both:
//   - PBES2 (PBKDF2 with HMAC-SHA1/224/256/384/512; AES-128/192/256-CBC or DES-EDE3-CBC),
//   - pbeWithSHAAnd3-KeyTripleDES-CBC, pbeWithSHAAnd128BitRC2-CBC, pbeWithSHAAnd40BitRC2-CBC,
//   - the integrity MAC (HMAC with SHA-1/224/256/384/512 and the PKCS#12 key derivation).
// Key bags, shrouded key bags and X.509 certificate bags are read; other bags are skipped.
// Only DER encodings are accepted (OpenSSL and Java write DER).

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}

	oidKeyBag       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedBag  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509CertType = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}

	oidPBEWithSHA3DES     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBEWithSHARC2_128  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBEWithSHARC2_40   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidPBES2              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1       = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA224     = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACWithSHA256     = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACWithSHA384     = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACWithSHA512     = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC         = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidSHA1               = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSHA224             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	errPKCS12BadPassword  = errors.New("pkcs12: wrong password, or the file is corrupt (integrity check failed)")
	errPKCS12BadEncrypted = errors.New("pkcs12: decryption failed (wrong password?)")
)

// maxIterations bounds the work an attacker-supplied file can demand.
const maxIterations = 10_000_000

type pfxPDU struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type digestInfo struct {
	Algorithm algorithmIdentifier
	Digest    []byte
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type encryptedData struct {
	Version              int
	EncryptedContentInfo encryptedContentInfo
}

type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm algorithmIdentifier
	EncryptedContent           []byte `asn1:"tag:0,optional"`
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue     `asn1:"tag:0,explicit"`
	Attributes []pkcs12Attribute `asn1:"set,optional"`
}

type pkcs12Attribute struct {
	ID    asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

type certBag struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

type encryptedPrivateKeyInfo struct {
	Algorithm     algorithmIdentifier
	EncryptedData []byte
}

type pbeParams struct {
	Salt       []byte
	Iterations int
}

type pbes2Params struct {
	KDF algorithmIdentifier
	Enc algorithmIdentifier
}

type pbkdf2Params struct {
	Salt       asn1.RawValue
	Iterations int
	KeyLength  int                 `asn1:"optional"`
	PRF        algorithmIdentifier `asn1:"optional"`
}

// DecodePKCS12 reads every private key and X.509 certificate of a PKCS#12 file. Keys are
// returned in file order, as are certificates.
func DecodePKCS12(der []byte, password string) (keys []crypto.PrivateKey, certs []*x509.Certificate, err error) {
	var pfx pfxPDU
	rest, err := asn1.Unmarshal(der, &pfx)
	if err != nil {
		return nil, nil, fmt.Errorf("pkcs12: not a PKCS#12 file: %w", err)
	}
	if len(rest) != 0 {
		return nil, nil, errors.New("pkcs12: trailing data after the PFX")
	}
	if pfx.Version != 3 {
		return nil, nil, fmt.Errorf("pkcs12: version %d is not supported", pfx.Version)
	}
	if !pfx.AuthSafe.ContentType.Equal(oidData) {
		return nil, nil, errors.New("pkcs12: only password-integrity files are supported")
	}
	var authSafe []byte
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, nil, fmt.Errorf("pkcs12: bad authSafe: %w", err)
	}
	// The PKCS#12 password is the BMPString with a trailing NUL; an empty password is
	// written either as two NUL bytes or as nothing, so both are tried.
	candidates := [][]byte{bmpPassword(password)}
	if password == "" {
		candidates = append(candidates, nil)
	}
	pw := candidates[0]
	if len(pfx.MacData.Mac.Algorithm.Algorithm) > 0 {
		ok := false
		for _, c := range candidates {
			good, err := verifyMAC(&pfx.MacData, authSafe, c)
			if err != nil {
				return nil, nil, err
			}
			if good {
				pw, ok = c, true
				break
			}
		}
		if !ok {
			return nil, nil, errPKCS12BadPassword
		}
	}
	var cis []contentInfo
	if _, err := asn1.Unmarshal(authSafe, &cis); err != nil {
		return nil, nil, fmt.Errorf("pkcs12: bad authenticated safe: %w", err)
	}
	for _, ci := range cis {
		var data []byte
		switch {
		case ci.ContentType.Equal(oidData):
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &data); err != nil {
				return nil, nil, fmt.Errorf("pkcs12: bad data content: %w", err)
			}
		case ci.ContentType.Equal(oidEncryptedData):
			var ed encryptedData
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
				return nil, nil, fmt.Errorf("pkcs12: bad encrypted content: %w", err)
			}
			data, err = pbDecrypt(ed.EncryptedContentInfo.ContentEncryptionAlgorithm, ed.EncryptedContentInfo.EncryptedContent, password, pw)
			if err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, fmt.Errorf("pkcs12: content type %v is not supported", ci.ContentType)
		}
		var bags []safeBag
		if _, err := asn1.Unmarshal(data, &bags); err != nil {
			return nil, nil, fmt.Errorf("pkcs12: bad safe contents: %w", err)
		}
		for _, b := range bags {
			switch {
			case b.ID.Equal(oidCertBag):
				var cb certBag
				if _, err := asn1.Unmarshal(b.Value.Bytes, &cb); err != nil {
					return nil, nil, fmt.Errorf("pkcs12: bad certificate bag: %w", err)
				}
				if !cb.ID.Equal(oidX509CertType) {
					continue
				}
				c, err := x509.ParseCertificate(cb.Data)
				if err != nil {
					return nil, nil, fmt.Errorf("pkcs12: %w", err)
				}
				certs = append(certs, c)
			case b.ID.Equal(oidKeyBag):
				k, err := x509.ParsePKCS8PrivateKey(b.Value.Bytes)
				if err != nil {
					return nil, nil, fmt.Errorf("pkcs12: %w", err)
				}
				keys = append(keys, k)
			case b.ID.Equal(oidShroudedBag):
				var epki encryptedPrivateKeyInfo
				if _, err := asn1.Unmarshal(b.Value.Bytes, &epki); err != nil {
					return nil, nil, fmt.Errorf("pkcs12: bad shrouded key bag: %w", err)
				}
				plain, err := pbDecrypt(epki.Algorithm, epki.EncryptedData, password, pw)
				if err != nil {
					return nil, nil, err
				}
				k, err := x509.ParsePKCS8PrivateKey(plain)
				if err != nil {
					return nil, nil, fmt.Errorf("pkcs12: %w", err)
				}
				keys = append(keys, k)
			}
		}
	}
	return keys, certs, nil
}

// bmpPassword is the password as a NUL-terminated big-endian UTF-16 string.
func bmpPassword(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return append(out, 0, 0)
}

func hashFor(oid asn1.ObjectIdentifier) (func() hash.Hash, int, bool) {
	switch {
	case oid.Equal(oidSHA1):
		return sha1.New, 64, true
	case oid.Equal(oidSHA224):
		return sha256.New224, 64, true
	case oid.Equal(oidSHA256):
		return sha256.New, 64, true
	case oid.Equal(oidSHA384):
		return sha512.New384, 128, true
	case oid.Equal(oidSHA512):
		return sha512.New, 128, true
	}
	return nil, 0, false
}

func verifyMAC(md *macData, content, pw []byte) (bool, error) {
	h, v, ok := hashFor(md.Mac.Algorithm.Algorithm)
	if !ok {
		return false, fmt.Errorf("pkcs12: MAC algorithm %v is not supported", md.Mac.Algorithm.Algorithm)
	}
	if md.Iterations < 1 || md.Iterations > maxIterations {
		return false, fmt.Errorf("pkcs12: MAC iteration count %d out of range", md.Iterations)
	}
	key := pkcs12KDF(h, v, md.MacSalt, pw, md.Iterations, 3, h().Size())
	m := hmac.New(h, key)
	m.Write(content)
	return hmac.Equal(m.Sum(nil), md.Mac.Digest), nil
}

// pkcs12KDF is the key derivation of RFC 7292 appendix B.2.
func pkcs12KDF(newHash func() hash.Hash, v int, salt, pw []byte, iter int, id byte, n int) []byte {
	fill := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	d := bytes.Repeat([]byte{id}, v)
	i := append(fill(salt), fill(pw)...)
	var out []byte
	for len(out) < n {
		h := newHash()
		h.Write(d)
		h.Write(i)
		a := h.Sum(nil)
		for r := 1; r < iter; r++ {
			h.Reset()
			h.Write(a)
			a = h.Sum(a[:0])
		}
		out = append(out, a...)
		if len(out) >= n {
			break
		}
		b := make([]byte, v)
		for k := range b {
			b[k] = a[k%len(a)]
		}
		for j := 0; j < len(i); j += v {
			// I_j = (I_j + B + 1) mod 2^(8v)
			carry := 1
			for k := v - 1; k >= 0; k-- {
				s := int(i[j+k]) + int(b[k]) + carry
				i[j+k] = byte(s)
				carry = s >> 8
			}
		}
	}
	return out[:n]
}

// pbDecrypt decrypts data under a password-based encryption scheme. password is the text
// (PBES2 uses its UTF-8 bytes), bmp its PKCS#12 form (the legacy schemes use that).
func pbDecrypt(alg algorithmIdentifier, data []byte, password string, bmp []byte) ([]byte, error) {
	var (
		block cipher.Block
		iv    []byte
		err   error
	)
	switch {
	case alg.Algorithm.Equal(oidPBEWithSHA3DES), alg.Algorithm.Equal(oidPBEWithSHARC2_40), alg.Algorithm.Equal(oidPBEWithSHARC2_128):
		var p pbeParams
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
			return nil, fmt.Errorf("pkcs12: bad PBE parameters: %w", err)
		}
		if p.Iterations < 1 || p.Iterations > maxIterations {
			return nil, fmt.Errorf("pkcs12: PBE iteration count %d out of range", p.Iterations)
		}
		switch {
		case alg.Algorithm.Equal(oidPBEWithSHA3DES):
			key := pkcs12KDF(sha1.New, 64, p.Salt, bmp, p.Iterations, 1, 24)
			block, err = des.NewTripleDESCipher(key)
		case alg.Algorithm.Equal(oidPBEWithSHARC2_40):
			key := pkcs12KDF(sha1.New, 64, p.Salt, bmp, p.Iterations, 1, 5)
			block = newRC2(key, 40)
		default:
			key := pkcs12KDF(sha1.New, 64, p.Salt, bmp, p.Iterations, 1, 16)
			block = newRC2(key, 128)
		}
		iv = pkcs12KDF(sha1.New, 64, p.Salt, bmp, p.Iterations, 2, 8)
	case alg.Algorithm.Equal(oidPBES2):
		block, iv, err = pbes2Cipher(alg.Parameters.FullBytes, []byte(password))
	default:
		return nil, fmt.Errorf("pkcs12: encryption algorithm %v is not supported", alg.Algorithm)
	}
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(data) == 0 || len(data)%bs != 0 || len(iv) != bs {
		return nil, errPKCS12BadEncrypted
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	// PKCS#7 padding, checked in constant time as far as it goes.
	pad := int(out[len(out)-1])
	if pad == 0 || pad > bs {
		return nil, errPKCS12BadEncrypted
	}
	want := bytes.Repeat([]byte{byte(pad)}, pad)
	if subtle.ConstantTimeCompare(out[len(out)-pad:], want) != 1 {
		return nil, errPKCS12BadEncrypted
	}
	return out[:len(out)-pad], nil
}

func pbes2Cipher(params, password []byte) (cipher.Block, []byte, error) {
	var p pbes2Params
	if _, err := asn1.Unmarshal(params, &p); err != nil {
		return nil, nil, fmt.Errorf("pkcs12: bad PBES2 parameters: %w", err)
	}
	if !p.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, nil, fmt.Errorf("pkcs12: key derivation %v is not supported", p.KDF.Algorithm)
	}
	var kp pbkdf2Params
	if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil {
		return nil, nil, fmt.Errorf("pkcs12: bad PBKDF2 parameters: %w", err)
	}
	var salt []byte
	if _, err := asn1.Unmarshal(kp.Salt.FullBytes, &salt); err != nil {
		return nil, nil, errors.New("pkcs12: PBKDF2 salt must be an octet string")
	}
	if kp.Iterations < 1 || kp.Iterations > maxIterations {
		return nil, nil, fmt.Errorf("pkcs12: PBKDF2 iteration count %d out of range", kp.Iterations)
	}
	prf := sha1.New
	switch a := kp.PRF.Algorithm; {
	case len(a) == 0, a.Equal(oidHMACWithSHA1):
	case a.Equal(oidHMACWithSHA224):
		prf = sha256.New224
	case a.Equal(oidHMACWithSHA256):
		prf = sha256.New
	case a.Equal(oidHMACWithSHA384):
		prf = sha512.New384
	case a.Equal(oidHMACWithSHA512):
		prf = sha512.New
	default:
		return nil, nil, fmt.Errorf("pkcs12: PBKDF2 PRF %v is not supported", a)
	}
	var keyLen int
	switch e := p.Enc.Algorithm; {
	case e.Equal(oidAES128CBC):
		keyLen = 16
	case e.Equal(oidAES192CBC):
		keyLen = 24
	case e.Equal(oidAES256CBC):
		keyLen = 32
	case e.Equal(oidDESEDE3CBC):
		keyLen = 24
	default:
		return nil, nil, fmt.Errorf("pkcs12: cipher %v is not supported", e)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(p.Enc.Parameters.FullBytes, &iv); err != nil {
		return nil, nil, errors.New("pkcs12: cipher IV must be an octet string")
	}
	key, err := pbkdf2.Key(prf, string(password), salt, kp.Iterations, keyLen)
	if err != nil {
		return nil, nil, fmt.Errorf("pkcs12: %w", err)
	}
	var block cipher.Block
	if p.Enc.Algorithm.Equal(oidDESEDE3CBC) {
		block, err = des.NewTripleDESCipher(key)
	} else {
		block, err = aes.NewCipher(key)
	}
	return block, iv, err
}
