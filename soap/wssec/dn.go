package wssec

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Distinguished names arrive in X509IssuerName as strings written by different libraries (Go, OpenSSL/xmlsec,
// Java, .NET): RFC 2253 or RFC 1779 order and spacing, attribute names or OIDs, "#hex" DER values. dnKey reduces
// such a string, and nameKey a parsed pkix.Name, to the same comparison key: the sorted multiset of
// (attribute OID, case-folded value with collapsed spaces).

var dnAttrOIDs = map[string]string{
	"CN": "2.5.4.3", "SN": "2.5.4.4", "SURNAME": "2.5.4.4", "SERIALNUMBER": "2.5.4.5", "C": "2.5.4.6",
	"L": "2.5.4.7", "ST": "2.5.4.8", "S": "2.5.4.8", "STREET": "2.5.4.9", "O": "2.5.4.10", "OU": "2.5.4.11",
	"T": "2.5.4.12", "TITLE": "2.5.4.12", "POSTALCODE": "2.5.4.17", "GIVENNAME": "2.5.4.42",
	"DC": "0.9.2342.19200300.100.1.25", "UID": "0.9.2342.19200300.100.1.1",
	"E": "1.2.840.113549.1.9.1", "EMAIL": "1.2.840.113549.1.9.1", "EMAILADDRESS": "1.2.840.113549.1.9.1",
}

// nameKey is the comparison key of a parsed name.
func nameKey(n pkix.Name) string {
	parts := make([]string, 0, len(n.Names))
	for _, atv := range n.Names {
		parts = append(parts, atv.Type.String()+"="+normValue(fmt.Sprint(atv.Value)))
	}
	slices.Sort(parts)
	return strings.Join(parts, "\x00")
}

// dnKey is the comparison key of a DN string; a string that does not parse yields a key no name produces.
func dnKey(s string) string {
	avas, ok := splitDN(s)
	if !ok {
		return "\x01invalid"
	}
	parts := make([]string, 0, len(avas))
	for _, ava := range avas {
		typ, val, found := strings.Cut(ava, "=")
		if !found {
			return "\x01invalid"
		}
		typ = strings.ToUpper(strings.TrimSpace(typ))
		typ = strings.TrimPrefix(typ, "OID.")
		if oid, ok := dnAttrOIDs[typ]; ok {
			typ = oid
		}
		v, ok := dnValue(strings.TrimSpace(val))
		if !ok {
			return "\x01invalid"
		}
		parts = append(parts, typ+"="+normValue(v))
	}
	slices.Sort(parts)
	return strings.Join(parts, "\x00")
}

// splitDN splits on unescaped, unquoted ',', ';' and '+'.
func splitDN(s string) ([]string, bool) {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			quoted = !quoted
		case ',', ';', '+':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if quoted {
		return nil, false
	}
	out = append(out, s[start:])
	return out, true
}

// dnValue decodes an attribute value: "#hex" DER, "quoted", or backslash-escaped (RFC 4514).
func dnValue(v string) (string, bool) {
	if strings.HasPrefix(v, "#") {
		der, err := hex.DecodeString(v[1:])
		if err != nil {
			return "", false
		}
		var raw asn1.RawValue
		if rest, err := asn1.Unmarshal(der, &raw); err != nil || len(rest) > 0 {
			return "", false
		}
		return string(raw.Bytes), true
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' {
			b.WriteByte(v[i])
			continue
		}
		if i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
			x, _ := hex.DecodeString(v[i+1 : i+3])
			b.Write(x)
			i += 2
			continue
		}
		if i+1 < len(v) {
			b.WriteByte(v[i+1])
			i++
		}
	}
	return b.String(), true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func normValue(v string) string {
	return strings.ToLower(strings.Join(strings.Fields(v), " "))
}
