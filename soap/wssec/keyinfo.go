package wssec

import (
	"crypto/x509"
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
)

// keyResolver finds the certificate that signed a message and the client it authenticates.
type keyResolver struct {
	trust Trust
	certs *certCache
	sec   *etree.Element
	ids   idIndex
}

// resolve reads KeyInfo: a wsse:SecurityTokenReference or a ds:X509Data, nothing else.
func (k *keyResolver) resolve(keyInfo *etree.Element) (*x509.Certificate, string, error) {
	if keyInfo == nil {
		return nil, "", errNoKeyInfo
	}
	kids := keyInfo.ChildElements()
	for _, c := range kids {
		if is(c, NamespaceDSig, "RetrievalMethod") {
			return nil, "", errRetrieval
		}
	}
	if len(kids) != 1 {
		return nil, "", errKeyInfoContent
	}
	switch c := kids[0]; {
	case is(c, NamespaceWSSE, "SecurityTokenReference"):
		return k.tokenReference(c)
	case is(c, NamespaceDSig, "X509Data"):
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
	case is(c, NamespaceWSSE, "Reference"):
		return k.bstReference(c)
	case is(c, NamespaceWSSE, "KeyIdentifier"):
		return k.keyIdentifier(c)
	case is(c, NamespaceDSig, "X509Data"):
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
	if !is(bst, NamespaceWSSE, "BinarySecurityToken") || bst.Parent() != k.sec {
		return nil, "", errTokenNotInHeader
	}
	if bst.SelectAttrValue("ValueType", "") != ValueTypeX509v3 {
		return nil, "", errTokenType
	}
	if et := bst.SelectAttrValue("EncodingType", ""); et != "" && et != EncodingTypeBase64 {
		return nil, "", errTokenEncoding
	}
	der, err := decodeBase64(bst.Text())
	if err != nil || len(bst.ChildElements()) > 0 {
		return nil, "", wrapError(errNotCertificate.Subcode, errNotCertificate.Reason, err)
	}
	cert, err := k.certs.parse(der)
	if err != nil {
		return nil, "", wrapError(errNotCertificate.Subcode, errNotCertificate.Reason, err)
	}
	return k.client(cert)
}

// x509Data accepts one X509Certificate (other X509Data children are hints then), or else one
// X509IssuerSerial or X509SKI resolved against the registered certificates.
func (k *keyResolver) x509Data(data *etree.Element) (*x509.Certificate, string, error) {
	certs := childElements(data, NamespaceDSig, "X509Certificate")
	switch {
	case len(certs) == 1:
		der, err := decodeBase64(certs[0].Text())
		if err != nil {
			return nil, "", wrapError(errBadX509Cert.Subcode, errBadX509Cert.Reason, err)
		}
		cert, err := k.certs.parse(der)
		if err != nil {
			return nil, "", wrapError(errBadX509Cert.Subcode, errBadX509Cert.Reason, err)
		}
		return k.client(cert)
	case len(certs) > 1:
		return nil, "", errKeyInfoContent
	}
	kids := data.ChildElements()
	if len(kids) != 1 {
		return nil, "", errKeyInfoContent
	}
	switch c := kids[0]; {
	case is(c, NamespaceDSig, "X509IssuerSerial"):
		names := childElements(c, NamespaceDSig, "X509IssuerName")
		serials := childElements(c, NamespaceDSig, "X509SerialNumber")
		if len(names) != 1 || len(serials) != 1 {
			return nil, "", errBadKeyID
		}
		serial, ok := new(big.Int).SetString(strings.TrimSpace(serials[0].Text()), 10)
		if !ok {
			return nil, "", errBadKeyID
		}
		return k.found(k.trust.FindByIssuerSerial(strings.TrimSpace(names[0].Text()), serial))
	case is(c, NamespaceDSig, "X509SKI"):
		ski, err := decodeBase64(c.Text())
		if err != nil || len(ski) == 0 {
			return nil, "", errBadKeyID
		}
		return k.found(k.trust.FindBySKI(ski))
	}
	return nil, "", errKeyInfoContent
}

// keyIdentifier resolves an X509SubjectKeyIdentifier or ThumbprintSHA1 key identifier.
func (k *keyResolver) keyIdentifier(ki *etree.Element) (*x509.Certificate, string, error) {
	if et := ki.SelectAttrValue("EncodingType", ""); et != "" && et != EncodingTypeBase64 {
		return nil, "", errTokenEncoding
	}
	v, err := decodeBase64(ki.Text())
	if err != nil || len(v) == 0 {
		return nil, "", errBadKeyID
	}
	switch ki.SelectAttrValue("ValueType", "") {
	case ValueTypeSKI:
		return k.found(k.trust.FindBySKI(v))
	case ValueTypeThumbprint:
		return k.found(k.trust.FindByThumbprintSHA1(v))
	}
	return nil, "", errTokenType
}

func (k *keyResolver) client(cert *x509.Certificate) (*x509.Certificate, string, error) {
	name, err := k.trust.ClientForCert(cert)
	if err != nil {
		return nil, "", asError(err, FaultFailedAuthentication, "certificate not accepted")
	}
	return cert, name, nil
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
