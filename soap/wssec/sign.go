package wssec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Signer adds a wsse:Security header with a Timestamp and a signature over Body and Timestamp: a
// BinarySecurityToken reference to Cert, RSA-SHA256 or ECDSA-SHA256 according to Key, exclusive c14n and
// SHA-256 digests. Body and Timestamp carry wsu:Id attributes (zeep's verifier finds signed elements by
// wsu:Id only). A Signer is safe for concurrent use when Key is.
type Signer struct {
	Key  crypto.Signer
	Cert *x509.Certificate
	Now  func() time.Time // time.Now when nil
	TTL  time.Duration    // Expires - Created; DefaultTTL when zero
	// SignAddressing also signs the WS-Addressing headers (MessageID, Action, To, ...) of the envelope, as
	// WCF and CXF do: a server keys safe retries only on a signed wsa:MessageID.
	SignAddressing bool
}

// Sign signs doc, a SOAP 1.1 or 1.2 envelope, in place. It fails when doc is not an envelope, already has
// a wsse:Security header for the ultimate receiver, carries comments or processing instructions in the Body,
// or when Key is neither RSA nor ECDSA.
//
// Sign also sets doc.WriteSettings.CanonicalAttrVal and CanonicalText: etree otherwise writes tabs and
// newlines in attribute values and carriage returns in text literally, which the receiver's XML parser
// normalizes, breaking the digests. Serialize the signed document with doc.WriteTo (or those settings).
func (s *Signer) Sign(doc *etree.Document) error {
	if s.Key == nil || s.Cert == nil {
		return errors.New("wssec: Signer needs Key and Cert")
	}
	method, err := signerMethod(s.Key.Public())
	if err != nil {
		return err
	}
	env, err := parseEnvelope(doc)
	if err != nil {
		return fmt.Errorf("wssec: sign: %w", err)
	}
	header := env.header
	if header != nil {
		for _, h := range childElements(header, NamespaceWSSE, "Security") {
			if env.forUs(h) {
				return errors.New("wssec: sign: envelope already has a wsse:Security header")
			}
		}
	}
	if header == nil {
		header = etree.NewElement(qualified(env.root.Space, "Header"))
		env.root.InsertChildAt(env.body.Index(), header)
	}
	now, ttl := time.Now, s.TTL
	if s.Now != nil {
		now = s.Now
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	created := now().UTC()

	sec := newSecurity(env)
	header.InsertChildAt(0, sec)
	ts := sec.CreateElement("wsu:Timestamp")
	tsID := "TS-" + randomID()
	ts.CreateAttr("wsu:Id", tsID)
	ts.CreateElement("wsu:Created").SetText(created.Format(wsuTimeFormat))
	ts.CreateElement("wsu:Expires").SetText(created.Add(ttl).Format(wsuTimeFormat))
	bst := sec.CreateElement("wsse:BinarySecurityToken")
	bstID := "X509-" + randomID()
	bst.CreateAttr("EncodingType", EncodingTypeBase64)
	bst.CreateAttr("ValueType", ValueTypeX509v3)
	bst.CreateAttr("wsu:Id", bstID)
	bst.SetText(base64.StdEncoding.EncodeToString(s.Cert.Raw))

	bodyID := ensureBodyID(env.body)
	sig := sec.CreateElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", NamespaceDSig)
	si := sig.CreateElement("ds:SignedInfo")
	si.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", algExcC14N)
	si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", method)
	type signed struct {
		id string
		el *etree.Element
	}
	refs := []signed{{bodyID, env.body}, {tsID, ts}}
	if s.SignAddressing {
		for _, h := range header.ChildElements() {
			if ns := h.NamespaceURI(); ns == namespaceWSA || ns == namespaceWSA2004 {
				refs = append(refs, signed{ensureWSUID(h, "wsa-"), h})
			}
		}
	}
	for _, ref := range refs {
		if err := addReference(si, ref.id, ref.el); err != nil {
			return err
		}
	}
	c14n, err := canonicalBytes(si, c14nOptions{strict: true})
	if err != nil {
		return fmt.Errorf("wssec: sign: %w", err)
	}
	value, err := signDigest(s.Key, c14n)
	if err != nil {
		return fmt.Errorf("wssec: sign: %w", err)
	}
	doc.WriteSettings.CanonicalAttrVal = true
	doc.WriteSettings.CanonicalText = true
	sig.CreateElement("ds:SignatureValue").SetText(base64.StdEncoding.EncodeToString(value))
	str := sig.CreateElement("ds:KeyInfo").CreateElement("wsse:SecurityTokenReference")
	r := str.CreateElement("wsse:Reference")
	r.CreateAttr("URI", "#"+bstID)
	r.CreateAttr("ValueType", ValueTypeX509v3)
	return nil
}

const wsuTimeFormat = "2006-01-02T15:04:05.000Z"

// newSecurity builds the empty Security header, mustUnderstand in the envelope's namespace.
func newSecurity(env *envelope) *etree.Element {
	sec := etree.NewElement("wsse:Security")
	sec.CreateAttr("xmlns:wsse", NamespaceWSSE)
	sec.CreateAttr("xmlns:wsu", NamespaceWSU)
	prefix := env.root.Space
	if prefix == "" || prefix == "wsse" || prefix == "wsu" {
		prefix = "soapenv"
		sec.CreateAttr("xmlns:soapenv", env.ns)
	}
	sec.CreateAttr(prefix+":mustUnderstand", "1")
	return sec
}

// The WS-Addressing namespaces whose headers SignAddressing signs.
const (
	namespaceWSA     = "http://www.w3.org/2005/08/addressing"
	namespaceWSA2004 = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
)

// ensureBodyID returns the Body's wsu:Id, adding one (and its namespace declaration) when absent.
func ensureBodyID(body *etree.Element) string { return ensureWSUID(body, "id-") }

// ensureWSUID returns el's wsu:Id, adding one starting with prefix (and its namespace declaration) when absent.
func ensureWSUID(body *etree.Element, idPrefix string) string {
	if id := wsuID(body); id != "" {
		return id
	}
	prefix := "wsu"
	for _, a := range body.Attr {
		if a.Space == "xmlns" && a.Key == "wsu" && a.Value != NamespaceWSU {
			prefix = "wsu1"
		}
	}
	body.CreateAttr("xmlns:"+prefix, NamespaceWSU)
	id := idPrefix + randomID()
	body.CreateAttr(prefix+":Id", id)
	return id
}

func addReference(si *etree.Element, id string, el *etree.Element) error {
	h := sha256.New()
	if err := canonicalize(h, el, c14nOptions{strict: true}); err != nil {
		return fmt.Errorf("wssec: sign: %w", err)
	}
	ref := si.CreateElement("ds:Reference")
	ref.CreateAttr("URI", "#"+id)
	ref.CreateElement("ds:Transforms").CreateElement("ds:Transform").CreateAttr("Algorithm", algExcC14N)
	ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", algSHA256)
	ref.CreateElement("ds:DigestValue").SetText(base64.StdEncoding.EncodeToString(h.Sum(nil)))
	return nil
}

func signerMethod(pub crypto.PublicKey) (string, error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		return dsig.RSASHA256SignatureMethod, nil
	case *ecdsa.PublicKey:
		return dsig.ECDSASHA256SignatureMethod, nil
	}
	return "", fmt.Errorf("wssec: unsupported signing key %T", pub)
}

// signDigest signs SHA-256(data); ECDSA signatures are converted from DER to the XML-DSig r||s form.
func signDigest(key crypto.Signer, data []byte) ([]byte, error) {
	digest := sha256.Sum256(data)
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	pub, ok := key.Public().(*ecdsa.PublicKey)
	if !ok {
		return sig, nil
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) > 0 {
		return nil, errors.New("ECDSA signature is not DER")
	}
	n := (pub.Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*n)
	rs.R.FillBytes(out[:n])
	rs.S.FillBytes(out[n:])
	return out, nil
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
