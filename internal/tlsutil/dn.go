package tlsutil

import (
	"encoding/asn1"
	"encoding/hex"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// SubjectDN returns a certificate subject (its raw DER) as Java's
// X500Principal.getName() prints it (RFC 2253): RDNs last to first, separated by ",", the
// values of a multi-valued RDN joined by "+" in their encoded order; the keywords CN, C, L, ST,
// O, OU, STREET, DC and UID, other attribute types as dotted OIDs with the value as "#" and
// the hex of its DER encoding; ",=+<>#;\"\\" escaped with a backslash, as are leading and
// trailing spaces. This is the id the x509 authentication scheme gives a client.
func SubjectDN(rawSubject []byte) (string, error) {
	var rdns []rdnSET
	rest, err := asn1.Unmarshal(rawSubject, &rdns)
	if err != nil {
		return "", err
	}
	if len(rest) > 0 {
		return "", asn1.SyntaxError{Msg: "trailing data after the name"}
	}
	var b strings.Builder
	for i := len(rdns) - 1; i >= 0; i-- {
		if i != len(rdns)-1 {
			b.WriteByte(',')
		}
		for j, ava := range rdns[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			writeAVA(&b, ava)
		}
	}
	return b.String(), nil
}

type rdnSET []atv

type atv struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

var rfc2253Keywords = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.9":                    "STREET",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
}

func writeAVA(b *strings.Builder, a atv) {
	oid := a.Type.String()
	kw, known := rfc2253Keywords[oid]
	if !known {
		kw = oid
	}
	b.WriteString(kw)
	b.WriteByte('=')
	s, isString := derString(a.Value)
	if !known || !isString {
		b.WriteByte('#')
		b.WriteString(hex.EncodeToString(a.Value.FullBytes))
		return
	}
	const escapees = ",=+<>#;\"\\"
	var v strings.Builder
	for _, c := range s {
		switch {
		case strings.ContainsRune(escapees, c):
			v.WriteByte('\\')
			v.WriteRune(c)
		case c == 0:
			v.WriteString("\\00")
		default:
			v.WriteRune(c)
		}
	}
	// Leading and trailing spaces (and CRs) are escaped.
	rs := []rune(v.String())
	lead := 0
	for lead < len(rs) && (rs[lead] == ' ' || rs[lead] == '\r') {
		lead++
	}
	trail := len(rs) - 1
	for trail >= 0 && (rs[trail] == ' ' || rs[trail] == '\r') {
		trail--
	}
	for i, c := range rs {
		if i < lead || i > trail {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
}

// derString decodes the string types Java prints as text (T61, Printable, IA5, General,
// BMP, UTF8String).
func derString(v asn1.RawValue) (string, bool) {
	if v.Class != asn1.ClassUniversal || v.IsCompound {
		return "", false
	}
	switch v.Tag {
	case asn1.TagUTF8String:
		if !utf8.Valid(v.Bytes) {
			return "", false
		}
		return string(v.Bytes), true
	case asn1.TagPrintableString, asn1.TagIA5String, 27: // 27: GeneralString
		return latin1(v.Bytes), true
	case asn1.TagT61String:
		return latin1(v.Bytes), true
	case asn1.TagBMPString:
		if len(v.Bytes)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(v.Bytes)/2)
		for i := range u {
			u[i] = uint16(v.Bytes[2*i])<<8 | uint16(v.Bytes[2*i+1])
		}
		return string(utf16.Decode(u)), true
	}
	return "", false
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// x500Keywords are the attribute keywords X500Principal(String) accepts.
var x500Keywords = map[string]bool{
	"CN": true, "C": true, "L": true, "S": true, "ST": true, "O": true, "OU": true, "T": true,
	"IP": true, "STREET": true, "DC": true, "DNQUALIFIER": true, "DNQ": true, "SURNAME": true,
	"GIVENNAME": true, "INITIALS": true, "GENERATION": true, "EMAIL": true, "EMAILADDRESS": true,
	"UID": true, "SERIALNUMBER": true,
}

// ValidDN reports whether s parses as a distinguished name the way new X500Principal(s)
// accepts it (RFC 2253 / RFC 1779 string forms): the x509 ACL scheme's isValid. The empty
// string is the empty name and is valid.
func ValidDN(s string) bool {
	i := 0
	skip := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	if strings.TrimSpace(s) == "" {
		return true
	}
	for {
		// attribute type
		skip()
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ',' && s[i] != ';' && s[i] != '+' {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			return false
		}
		if !validAttrType(strings.TrimSpace(s[start:i])) {
			return false
		}
		i++ // '='
		skip()
		// value
		switch {
		case i < len(s) && s[i] == '#':
			i++
			h := i
			for i < len(s) && isHex(s[i]) {
				i++
			}
			der, err := hex.DecodeString(s[h:i])
			if err != nil || len(der) == 0 {
				return false
			}
			var rv asn1.RawValue
			if rest, err := asn1.Unmarshal(der, &rv); err != nil || len(rest) > 0 {
				return false
			}
		case i < len(s) && s[i] == '"':
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(s) {
				return false
			}
			i++
		default:
			for i < len(s) && s[i] != ',' && s[i] != ';' && s[i] != '+' {
				switch s[i] {
				case '\\':
					i++
					if i >= len(s) {
						return false
					}
				case '"', '<', '>':
					return false
				}
				i++
			}
		}
		skip()
		if i == len(s) {
			return true
		}
		i++ // separator
		if i == len(s) {
			return false
		}
	}
}

func validAttrType(t string) bool {
	if t == "" {
		return false
	}
	if x500Keywords[strings.ToUpper(t)] {
		return true
	}
	if len(t) > 4 && strings.EqualFold(t[:4], "OID.") {
		t = t[4:]
	}
	parts := strings.Split(t, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
