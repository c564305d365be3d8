package wssec

import (
	"crypto/x509"
	"errors"
	"math/big"
	"strings"

	"github.com/beevik/etree"
)

// Token profile identifiers.
const (
	ValueTypeX509v3     = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
	ValueTypeSKI        = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier"
	ValueTypeThumbprint = "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#ThumbprintSHA1"
	EncodingTypeBase64  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

var (
	errNoKeyInfo        = newError(FaultSecurityTokenUnavailable, "signature has no KeyInfo")
	errRetrieval        = invalid("RetrievalMethod is not allowed in KeyInfo")
	errKeyInfoContent   = newError(FaultUnsupportedSecurityToken, "unsupported KeyInfo content")
	errExternalToken    = invalid("external token references are not allowed")
	errTokenType        = newError(FaultUnsupportedSecurityToken, "unsupported security token type")
	errTokenEncoding    = newError(FaultUnsupportedSecurityToken, "unsupported security token encoding")
	errNotCertificate   = newError(FaultInvalidSecurityToken, "binary security token is not a valid X.509 certificate")
	errBadX509Cert      = newError(FaultInvalidSecurityToken, "X509Certificate is not a valid X.509 certificate")
	errBadKeyID         = newError(FaultInvalidSecurityToken, "key identifier is malformed")
	errTokenNotInHeader = invalid("token reference must point to a BinarySecurityToken in the Security header")
	errTokenTooLarge    = newError(FaultInvalidSecurityToken, "security token is too large")
	errSerialTooLong    = newError(FaultInvalidSecurityToken, "X509SerialNumber is too long")
	errIssuerTooLong    = newError(FaultInvalidSecurityToken, "X509IssuerName is too long")
)

// Bounds on key material read before anything is looked up, far above what any honest client sends: a
// certificate is a few KiB (RFC 5280 client certificates rarely exceed 2 KiB), a serial number at most 20
// octets (RFC 5280 4.1.2.2; 49 decimal digits), a distinguished name a few hundred bytes, a key identifier
// a hash. Larger values are refused before they are decoded, parsed or hashed, so that their cost stays
// proportional to these bounds and not to the request size.
const (
	maxTokenBytes   = 16 << 10          // decoded certificate DER
	maxTokenText    = 2 * maxTokenBytes // its base64 text, white space included
	maxSerialDigits = 64                // decimal digits of X509SerialNumber
	maxIssuerBytes  = 4 << 10           // X509IssuerName
	maxKeyIDText    = 256               // base64 text of an SKI or thumbprint
)

// keyResolver finds the certificate that signed a message and the client it authenticates.
type keyResolver struct {
	trust Trust
	sec   *etree.Element
	ids   idIndex
	work  *work
	ns    *nsCursor // the verification's namespace cursor (nil: none)
}

// resolve reads KeyInfo: a wsse:SecurityTokenReference or a ds:X509Data, nothing else.
func (k *keyResolver) resolve(keyInfo *etree.Element) (*x509.Certificate, string, error) {
	if keyInfo == nil {
		return nil, "", errNoKeyInfo
	}
	kids := keyInfo.ChildElements()
	if len(k.ns.childElements(keyInfo, NamespaceDSig, "RetrievalMethod")) > 0 {
		return nil, "", errRetrieval
	}
	if len(kids) != 1 {
		return nil, "", errKeyInfoContent
	}
	switch c := kids[0]; {
	case k.ns.is(c, NamespaceWSSE, "SecurityTokenReference"):
		return k.tokenReference(c)
	case k.ns.is(c, NamespaceDSig, "X509Data"):
		return k.x509Data(c)
	}
	return nil, "", errKeyInfoContent
}

func (k *keyResolver) tokenReference(str *etree.Element) (*x509.Certificate, string, error) {
	kids := str.ChildElements()
	if len(kids) != 1 {
		return nil, "", errKeyInfoContent
	}
	switch c := kids[0]; {
	case k.ns.is(c, NamespaceWSSE, "Reference"):
		return k.bstReference(c)
	case k.ns.is(c, NamespaceWSSE, "KeyIdentifier"):
		return k.keyIdentifier(c)
	case k.ns.is(c, NamespaceDSig, "X509Data"):
		return k.x509Data(c)
	}
	return nil, "", errKeyInfoContent
}

// bstReference follows wsse:Reference URI="#id" to a BinarySecurityToken directly in our Security header.
func (k *keyResolver) bstReference(ref *etree.Element) (*x509.Certificate, string, error) {
	uri := ref.SelectAttrValue("URI", "")
	if !strings.HasPrefix(uri, "#") {
		return nil, "", errExternalToken
	}
	if vt := ref.SelectAttrValue("ValueType", ""); vt != "" && vt != ValueTypeX509v3 {
		return nil, "", errTokenType
	}
	bst, ok := k.ids[uri[1:]]
	if !ok {
		return nil, "", newError(FaultSecurityTokenUnavailable, "security token "+quoteID(uri[1:])+" not found")
	}
	if !k.ns.is(bst, NamespaceWSSE, "BinarySecurityToken") || bst.Parent() != k.sec {
		return nil, "", errTokenNotInHeader
	}
	if bst.SelectAttrValue("ValueType", "") != ValueTypeX509v3 {
		return nil, "", errTokenType
	}
	if et := bst.SelectAttrValue("EncodingType", ""); et != "" && et != EncodingTypeBase64 {
		return nil, "", errTokenEncoding
	}
	if len(bst.ChildElements()) > 0 {
		return nil, "", errNotCertificate
	}
	return k.token(bst.Text(), errNotCertificate)
}

// token decodes a base64 certificate of bounded size and asks the Trust for it; the Trust looks the bytes up
// before it parses them. notCert is the fault for bytes that are not a certificate.
func (k *keyResolver) token(text string, notCert *Error) (*x509.Certificate, string, error) {
	if len(text) > maxTokenText {
		return nil, "", errTokenTooLarge
	}
	k.work.keyText(len(text))
	der, err := decodeBase64(text)
	if err != nil {
		return nil, "", wrapError(notCert.Subcode, notCert.Reason, err)
	}
	if len(der) > maxTokenBytes {
		return nil, "", errTokenTooLarge
	}
	cert, name, err := k.trust.ClientForToken(der)
	var ce *CertificateError
	switch {
	case errors.As(err, &ce):
		return nil, "", wrapError(notCert.Subcode, notCert.Reason, err)
	case err != nil:
		return nil, "", asError(err, FaultFailedAuthentication, "certificate not accepted")
	}
	return cert, name, nil
}

// x509Data accepts one X509Certificate (other X509Data children are hints then), or else one
// X509IssuerSerial or X509SKI resolved against the registered certificates.
func (k *keyResolver) x509Data(data *etree.Element) (*x509.Certificate, string, error) {
	certs := k.ns.childElements(data, NamespaceDSig, "X509Certificate")
	switch {
	case len(certs) == 1:
		return k.token(certs[0].Text(), errBadX509Cert)
	case len(certs) > 1:
		return nil, "", errKeyInfoContent
	}
	kids := data.ChildElements()
	if len(kids) != 1 {
		return nil, "", errKeyInfoContent
	}
	switch c := kids[0]; {
	case k.ns.is(c, NamespaceDSig, "X509IssuerSerial"):
		return k.issuerSerial(c)
	case k.ns.is(c, NamespaceDSig, "X509SKI"):
		ski, err := decodeKeyID(c.Text())
		if err != nil {
			return nil, "", err
		}
		return k.found(k.trust.FindBySKI(ski))
	}
	return nil, "", errKeyInfoContent
}

// issuerSerial resolves an X509IssuerSerial. Both values are bounded before they are parsed: base-10
// parsing into a big.Int costs time quadratic in the number of digits.
func (k *keyResolver) issuerSerial(c *etree.Element) (*x509.Certificate, string, error) {
	names := k.ns.childElements(c, NamespaceDSig, "X509IssuerName")
	serials := k.ns.childElements(c, NamespaceDSig, "X509SerialNumber")
	if len(names) != 1 || len(serials) != 1 {
		return nil, "", errBadKeyID
	}
	issuer, digits := strings.TrimSpace(names[0].Text()), strings.TrimSpace(serials[0].Text())
	switch {
	case len(issuer) > maxIssuerBytes:
		return nil, "", errIssuerTooLong
	case len(digits) > maxSerialDigits:
		return nil, "", errSerialTooLong
	}
	k.work.keyText(len(issuer) + len(digits))
	serial, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return nil, "", errBadKeyID
	}
	return k.found(k.trust.FindByIssuerSerial(issuer, serial))
}

// decodeKeyID decodes the base64 value of an SKI or thumbprint key identifier.
func decodeKeyID(text string) ([]byte, error) {
	if len(text) > maxKeyIDText {
		return nil, errBadKeyID
	}
	v, err := decodeBase64(text)
	if err != nil || len(v) == 0 {
		return nil, errBadKeyID
	}
	return v, nil
}

// keyIdentifier resolves an X509SubjectKeyIdentifier or ThumbprintSHA1 key identifier.
func (k *keyResolver) keyIdentifier(ki *etree.Element) (*x509.Certificate, string, error) {
	if et := ki.SelectAttrValue("EncodingType", ""); et != "" && et != EncodingTypeBase64 {
		return nil, "", errTokenEncoding
	}
	v, err := decodeKeyID(ki.Text())
	if err != nil {
		return nil, "", err
	}
	switch ki.SelectAttrValue("ValueType", "") {
	case ValueTypeSKI:
		return k.found(k.trust.FindBySKI(v))
	case ValueTypeThumbprint:
		return k.found(k.trust.FindByThumbprintSHA1(v))
	}
	return nil, "", errTokenType
}

func (k *keyResolver) found(cert *x509.Certificate, name string, err error) (*x509.Certificate, string, error) {
	if err != nil {
		return nil, "", asError(err, FaultSecurityTokenUnavailable, "no registered certificate matches the key identifier")
	}
	if cert == nil {
		return nil, "", errNoMatchingCert
	}
	return cert, name, nil
}
