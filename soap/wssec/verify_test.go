package wssec

import (
	"crypto/sha1"
	"encoding/base64"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// Key reference forms a client may use in KeyInfo.
const (
	formBST          = "BinarySecurityToken"
	formX509Cert     = "X509Certificate"
	formSTRX509Cert  = "STR/X509Certificate"
	formIssuerSerial = "STR/X509IssuerSerial"
	formSKI          = "STR/KeyIdentifier/SKI"
	formThumbprint   = "STR/KeyIdentifier/ThumbprintSHA1"
)

var keyForms = []string{formBST, formX509Cert, formSTRX509Cert, formIssuerSerial, formSKI, formThumbprint}

// setKeyForm rewrites the (unsigned) KeyInfo of a document signed by Signer to another reference form; all
// forms but formBST also drop the BinarySecurityToken.
func setKeyForm(tb testing.TB, doc *etree.Document, form string, k testKey) {
	tb.Helper()
	if form == formBST {
		return
	}
	bst := find(doc.Root(), "BinarySecurityToken")
	bst.Parent().RemoveChild(bst)
	ki := find(doc.Root(), "KeyInfo")
	for _, c := range ki.ChildElements() {
		ki.RemoveChild(c)
	}
	certB64 := base64.StdEncoding.EncodeToString(k.cert.Raw)
	switch form {
	case formX509Cert:
		ki.CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").SetText(certB64)
	case formSTRX509Cert:
		ki.CreateElement("wsse:SecurityTokenReference").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").SetText(certB64)
	case formIssuerSerial:
		is := ki.CreateElement("wsse:SecurityTokenReference").CreateElement("ds:X509Data").CreateElement("ds:X509IssuerSerial")
		// The RFC 2253 order and spacing of Java/OpenSSL writers, not Go's.
		is.CreateElement("ds:X509IssuerName").SetText("CN=crmsoap test " + k.cert.Issuer.CommonName[len("crmsoap test "):] + ", O=crmsoap tests, C=DE")
		is.CreateElement("ds:X509SerialNumber").SetText(k.cert.SerialNumber.String())
	case formSKI:
		kid := ki.CreateElement("wsse:SecurityTokenReference").CreateElement("wsse:KeyIdentifier")
		kid.CreateAttr("ValueType", ValueTypeSKI)
		kid.CreateAttr("EncodingType", EncodingTypeBase64)
		kid.SetText(base64.StdEncoding.EncodeToString(k.cert.SubjectKeyId))
	case formThumbprint:
		tp := sha1.Sum(k.cert.Raw)
		kid := ki.CreateElement("wsse:SecurityTokenReference").CreateElement("wsse:KeyIdentifier")
		kid.CreateAttr("ValueType", ValueTypeThumbprint)
		kid.SetText(base64.StdEncoding.EncodeToString(tp[:]))
	default:
		tb.Fatalf("unknown form %s", form)
	}
}

func TestVerifier_RoundTrip(t *testing.T) {
	envelopes := map[string]string{"SOAP11": soap11Envelope, "SOAP12": soap12Envelope}
	clients := map[string]string{"client-rsa": "acme-rsa", "client-ec": "acme-ec"}
	for envName, envText := range envelopes {
		for key, client := range clients {
			for _, form := range keyForms {
				t.Run(envName+"/"+key+"/"+form, func(t *testing.T) {
					doc := parseDoc(t, signed(t, envText, key))
					setKeyForm(t, doc, form, loadKey(t, key))
					doc = wire(t, doc)
					res, err := testVerifier(t, nil).Verify(doc)
					if err != nil {
						t.Fatalf("Verify: %v\n%s", err, docString(t, doc))
					}
					if res.Client != client {
						t.Errorf("client = %q, want %q", res.Client, client)
					}
					if res.Body == nil || res.Body.Parent() != doc.Root() || res.Body.Tag != "Body" {
						t.Fatalf("Body = %v, want the envelope's Body", res.Body)
					}
					if op := res.Body.ChildElements(); len(op) != 1 || op[0].Tag != "Ping" {
						t.Errorf("operation = %v, want Ping", op)
					}
					if !res.Cert.Equal(loadKey(t, key).cert) {
						t.Errorf("cert = %s, want %s", res.Cert.Subject, loadKey(t, key).cert.Subject)
					}
				})
			}
		}
	}
}

func TestVerifier_CAIssuedCert(t *testing.T) {
	doc := parseDoc(t, signed(t, soap11Envelope, "client-ca"))
	res, err := testVerifier(t, nil).Verify(doc)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if want := "CN=crmsoap test client-ca,O=crmsoap tests,C=DE"; res.Client != want {
		t.Errorf("client = %q, want %q", res.Client, want)
	}

	// Without the CA pool the same certificate is unknown.
	doc = parseDoc(t, signed(t, soap11Envelope, "client-ca"))
	_, err = testVerifier(t, func(c *Config) { c.Trust = testRegistry(t, false) }).Verify(doc)
	wantFault(t, err, "FailedAuthentication", "unknown certificate")

	// Key identifiers resolve registered certificates only, even when the certificate chains to the pool.
	doc = parseDoc(t, signed(t, soap11Envelope, "client-ca"))
	setKeyForm(t, doc, formSKI, loadKey(t, "client-ca"))
	_, err = testVerifier(t, nil).Verify(doc)
	wantFault(t, err, "SecurityTokenUnavailable", "no registered certificate matches the key identifier")
}

// Verify must not change the document it checks: goxmldsig's canonicalizer rewrites the element it is given.
func TestVerifier_DoesNotMutate(t *testing.T) {
	text := signed(t, soap11Envelope, "client-rsa")
	doc := parseDoc(t, text)
	before := docString(t, doc)
	if _, err := testVerifier(t, nil).Verify(doc); err != nil {
		t.Fatal(err)
	}
	if after := docString(t, doc); after != before {
		t.Errorf("document changed by Verify:\nbefore %s\nafter  %s", before, after)
	}
}

func TestVerifier_LargeBody(t *testing.T) {
	doc := parseDoc(t, soap11Envelope)
	ping := find(doc.Root(), "Ping")
	for i := 0; i < 5000; i++ {
		ping.CreateElement("m:Item").SetText("x")
	}
	// And more than 1,000 direct children of the Body itself.
	for i := 0; i < 1500; i++ {
		find(doc.Root(), "Body").CreateElement("m:Extra")
	}
	if err := testSigner(t, "client-rsa").Sign(doc); err != nil {
		t.Fatal(err)
	}
	if _, err := testVerifier(t, nil).Verify(wire(t, doc)); err != nil {
		t.Fatalf("Verify of a body with 1,501 children and 5,000 grandchildren: %v", err)
	}
}

func TestVerifier_RegistryReplace(t *testing.T) {
	reg := testRegistry(t, false)
	v := testVerifier(t, func(c *Config) { c.Trust = reg })
	if _, err := v.Verify(parseDoc(t, signed(t, soap11Envelope, "client-rsa"))); err != nil {
		t.Fatal(err)
	}
	reg.Replace([]RegisteredCert{{Name: "acme-rsa", Cert: loadKey(t, "client-rsa").cert, Enabled: false}})
	_, err := v.Verify(parseDoc(t, signed(t, soap11Envelope, "client-rsa")))
	wantFault(t, err, "FailedAuthentication", "certificate is disabled")
	reg.Replace(nil)
	_, err = v.Verify(parseDoc(t, signed(t, soap11Envelope, "client-rsa")))
	wantFault(t, err, "FailedAuthentication", "unknown certificate")
}

func TestVerifyResponse(t *testing.T) {
	server := loadKey(t, "server")
	for name, env := range map[string]string{"SOAP11": soap11Envelope, "SOAP12": soap12Envelope} {
		t.Run(name, func(t *testing.T) {
			doc := parseDoc(t, signed(t, env, "server"))
			body, err := VerifyResponse(doc, server.cert, testNow.Add(10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if body.Parent() != doc.Root() || find(body, "Ping") == nil {
				t.Errorf("body = %v", body)
			}
		})
	}
	t.Run("OtherCert", func(t *testing.T) {
		doc := parseDoc(t, signed(t, soap11Envelope, "client-rsa"))
		_, err := VerifyResponse(doc, server.cert, testNow)
		wantFault(t, err, "FailedAuthentication", "response is not signed by the server certificate")
	})
	t.Run("Expired", func(t *testing.T) {
		doc := parseDoc(t, signed(t, soap11Envelope, "server"))
		_, err := VerifyResponse(doc, server.cert, testNow.Add(time.Hour))
		wantFault(t, err, "MessageExpired", "timestamp expired")
	})
}
