package wssec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

const (
	soap11Envelope = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:crmsoap:test">` +
		`<soapenv:Header/><soapenv:Body><m:Ping><m:Text>hello</m:Text></m:Ping></soapenv:Body></soapenv:Envelope>`
	soap12Envelope = `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope">` +
		`<env:Body><Ping xmlns="urn:crmsoap:test"><Text>hello</Text></Ping></env:Body></env:Envelope>`
)

// parseDoc parses XML text the way package soap hands documents to the verifier.
func parseDoc(tb testing.TB, s string) *etree.Document {
	tb.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(s); err != nil {
		tb.Fatalf("parse: %v\n%s", err, s)
	}
	return doc
}

func docString(tb testing.TB, doc *etree.Document) string {
	tb.Helper()
	s, err := doc.WriteToString()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// wire serializes and re-parses doc, as a message crossing the network.
func wire(tb testing.TB, doc *etree.Document) *etree.Document {
	tb.Helper()
	return parseDoc(tb, docString(tb, doc))
}

func testSigner(tb testing.TB, key string) *Signer {
	tb.Helper()
	k := loadKey(tb, key)
	return &Signer{Key: k.key, Cert: k.cert, Now: func() time.Time { return testNow }}
}

// signed returns envelope text signed with key at testNow.
func signed(tb testing.TB, envelope, key string) string {
	tb.Helper()
	doc := parseDoc(tb, envelope)
	if err := testSigner(tb, key).Sign(doc); err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return docString(tb, doc)
}

// testRegistry registers the test clients: client-rsa and client-ec enabled, expired enabled, disabled
// disabled; unregistered and client-ca are not registered (client-ca chains to the CA pool when roots are set).
func testRegistry(tb testing.TB, withCA bool) *Registry {
	tb.Helper()
	certs := []RegisteredCert{
		{Name: "acme-rsa", Cert: loadKey(tb, "client-rsa").cert, Enabled: true},
		{Name: "acme-ec", Cert: loadKey(tb, "client-ec").cert, Enabled: true},
		{Name: "acme-expired", Cert: loadKey(tb, "expired").cert, Enabled: true},
		{Name: "acme-disabled", Cert: loadKey(tb, "disabled").cert, Enabled: false},
	}
	var roots *x509.CertPool
	if withCA {
		roots = x509.NewCertPool()
		roots.AddCert(loadKey(tb, "ca").cert)
	}
	r := NewRegistry(certs, roots)
	r.Now = func() time.Time { return testNow }
	return r
}

// testVerifier is a Verifier over testRegistry with the frozen clock; edit adjusts the config.
func testVerifier(tb testing.TB, edit func(*Config)) *Verifier {
	tb.Helper()
	cfg := Config{Trust: testRegistry(tb, true), Now: func() time.Time { return testNow }}
	if edit != nil {
		edit(&cfg)
	}
	return NewVerifier(cfg)
}

// wantFault asserts err is an *Error with the subcode and reason.
func wantFault(tb testing.TB, err error, subcode, reason string) {
	tb.Helper()
	var e *Error
	if !errors.As(err, &e) {
		tb.Fatalf("error = %v (%T), want *Error %s %q", err, err, subcode, reason)
	}
	if e.Subcode.Local != subcode || e.Reason != reason {
		tb.Fatalf("fault = %s %q, want %s %q", e.Subcode.Local, e.Reason, subcode, reason)
	}
	if (subcode == "MessageExpired") != (e.Subcode.Space == NamespaceWSU) {
		tb.Fatalf("fault namespace = %s", e.Subcode.Space)
	}
}

// find returns the first element with the given local name (any namespace), depth first.
func find(el *etree.Element, local string) *etree.Element {
	if el.Tag == local {
		return el
	}
	for _, c := range el.ChildElements() {
		if f := find(c, local); f != nil {
			return f
		}
	}
	return nil
}

func findAll(el *etree.Element, local string) []*etree.Element {
	var out []*etree.Element
	if el.Tag == local {
		out = append(out, el)
	}
	for _, c := range el.ChildElements() {
		out = append(out, findAll(c, local)...)
	}
	return out
}

// resign recomputes every reference digest (with its declared digest method and PrefixList) and the
// signature value (with the declared SignatureMethod) after a test edited a signed document: it produces a
// cryptographically valid signature over whatever the document now says, so only the structural rules can
// refuse it.
func resign(tb testing.TB, doc *etree.Document, key crypto.Signer) {
	tb.Helper()
	sig := find(doc.Root(), "Signature")
	si := find(sig, "SignedInfo")
	ids := map[string]*etree.Element{}
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		for _, a := range el.Attr {
			if a.Key == "Id" || (a.Space == "xml" && a.Key == "id") {
				if _, dup := ids[a.Value]; !dup {
					ids[a.Value] = el
				}
			}
		}
		for _, c := range el.ChildElements() {
			walk(c)
		}
	}
	walk(doc.Root())
	for _, ref := range findAll(si, "Reference") {
		target := ids[strings.TrimPrefix(ref.SelectAttrValue("URI", ""), "#")]
		if target == nil {
			continue
		}
		var pl []string
		if in := find(ref, "InclusiveNamespaces"); in != nil {
			pl = strings.Fields(in.SelectAttrValue("PrefixList", ""))
		}
		dm := digestMethods[find(ref, "DigestMethod").SelectAttrValue("Algorithm", "")]
		if dm.hash == 0 {
			dm.hash = crypto.SHA256
		}
		h := dm.hash.New()
		if err := canonicalize(h, target, c14nOptions{inclusive: pl}); err != nil {
			tb.Fatal(err)
		}
		find(ref, "DigestValue").SetText(base64.StdEncoding.EncodeToString(h.Sum(nil)))
	}
	var pl []string
	if in := find(find(si, "CanonicalizationMethod"), "InclusiveNamespaces"); in != nil {
		pl = strings.Fields(in.SelectAttrValue("PrefixList", ""))
	}
	c14n, err := canonicalBytes(si, c14nOptions{inclusive: pl})
	if err != nil {
		tb.Fatal(err)
	}
	m := sigMethods[find(si, "SignatureMethod").SelectAttrValue("Algorithm", "")]
	if m.hash == 0 {
		m.hash = crypto.SHA256
	}
	find(sig, "SignatureValue").SetText(base64.StdEncoding.EncodeToString(rawSign(tb, key, m.hash, c14n)))
}

// rawSign signs data with hash; ECDSA in r||s form.
func rawSign(tb testing.TB, key crypto.Signer, hash crypto.Hash, data []byte) []byte {
	tb.Helper()
	h := hash.New()
	h.Write(data)
	digest := h.Sum(nil)
	switch k := key.(type) {
	case *rsa.PrivateKey:
		s, err := rsa.SignPKCS1v15(rand.Reader, k, hash, digest)
		if err != nil {
			tb.Fatal(err)
		}
		return s
	case *ecdsa.PrivateKey:
		der, err := ecdsa.SignASN1(rand.Reader, k, digest)
		if err != nil {
			tb.Fatal(err)
		}
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(der, &rs); err != nil {
			tb.Fatal(err)
		}
		out := make([]byte, 64)
		rs.R.FillBytes(out[:32])
		rs.S.FillBytes(out[32:])
		return out
	}
	tb.Fatalf("unsupported key %T", key)
	return nil
}

func sha256Sum(b []byte) []byte {
	h := crypto.SHA256.New()
	h.Write(b)
	return h.Sum(nil)
}
