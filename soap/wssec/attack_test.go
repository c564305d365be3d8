package wssec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Helpers that edit a signed document the way an attacker (or a sloppy client) would.

func bodyOf(doc *etree.Document) *etree.Element { return find(doc.Root(), "Body") }
func securityOf(doc *etree.Document) *etree.Element {
	return find(doc.Root(), "Security")
}
func signedInfoOf(doc *etree.Document) *etree.Element { return find(doc.Root(), "SignedInfo") }

// referenceTo returns the ds:Reference whose URI is "#"+id.
func referenceTo(tb testing.TB, doc *etree.Document, id string) *etree.Element {
	tb.Helper()
	for _, r := range findAll(signedInfoOf(doc), "Reference") {
		if r.SelectAttrValue("URI", "") == "#"+id {
			return r
		}
	}
	tb.Fatalf("no reference to #%s", id)
	return nil
}

func timestampID(doc *etree.Document) string { return wsuID(find(doc.Root(), "Timestamp")) }

func setAlgorithm(el *etree.Element, alg string) { el.SelectAttr("Algorithm").Value = alg }

// withSecurity wraps a Security-level mutation and re-signs with the signing key.
type attackCase struct {
	name    string
	key     string // signing key, client-rsa when empty
	mutate  func(t *testing.T, doc *etree.Document, k testKey)
	config  func(*Config)
	subcode string // "" means the message must verify
	reason  string // "{body}" stands for the Body's wsu:Id, "{ts}" for the Timestamp's
}

func TestVerifier_Attacks(t *testing.T) {
	tests := []attackCase{
		{name: "BodyChangedAfterSigning", mutate: func(t *testing.T, doc *etree.Document, _ testKey) {
			find(doc.Root(), "Text").SetText("transfer everything")
		}, subcode: "FailedCheck", reason: "digest mismatch for #{body}"},
		{name: "TimestampChangedAfterSigning", mutate: func(t *testing.T, doc *etree.Document, _ testKey) {
			find(doc.Root(), "Expires").SetText("2026-03-01T12:04:00.000Z")
		}, subcode: "FailedCheck", reason: "digest mismatch for #{ts}"},
		{name: "WrappingSignedBodyMovedIntoHeader", mutate: func(t *testing.T, doc *etree.Document, _ testKey) {
			body := bodyOf(doc)
			doc.Root().RemoveChild(body)
			find(doc.Root(), "Header").CreateElement("w:Wrapper").CreateAttr("xmlns:w", "urn:evil")
			find(doc.Root(), "Wrapper").AddChild(body)
			evil := doc.Root().CreateElement("soapenv:Body")
			evil.CreateElement("m:Ping").CreateElement("m:Text").SetText("evil")
		}, subcode: "InvalidSecurity", reason: "body is not signed"},
		{name: "WrappingEvilBodyWithSameID", mutate: func(t *testing.T, doc *etree.Document, _ testKey) {
			body := bodyOf(doc)
			doc.Root().RemoveChild(body)
			find(doc.Root(), "Header").CreateElement("w:Wrapper").CreateAttr("xmlns:w", "urn:evil")
			find(doc.Root(), "Wrapper").AddChild(body)
			evil := body.Copy()
			find(evil, "Text").SetText("evil")
			doc.Root().AddChild(evil)
		}, subcode: "InvalidSecurity", reason: "duplicate id #{body}"},
		{name: "EvilElementWithBodyIDInSecurityHeader", mutate: func(t *testing.T, doc *etree.Document, _ testKey) {
			x := securityOf(doc).CreateElement("wsu:Anything")
			x.CreateAttr("wsu:Id", wsuID(bodyOf(doc)))
		}, subcode: "InvalidSecurity", reason: "duplicate id #{body}"},
		{name: "DuplicateUnqualifiedID", mutate: func(t *testing.T, doc *etree.Document, _ testKey) {
			find(doc.Root(), "Text").CreateAttr("Id", timestampID(doc))
		}, subcode: "InvalidSecurity", reason: "duplicate id #{ts}"},
		{name: "DuplicateXMLID", mutate: func(t *testing.T, doc *etree.Document, _ testKey) {
			find(doc.Root(), "Text").CreateAttr("xml:id", wsuID(bodyOf(doc)))
		}, subcode: "InvalidSecurity", reason: "duplicate id #{body}"},
		{name: "TimestampSignedBodyNot", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			signedInfoOf(doc).RemoveChild(referenceTo(t, doc, wsuID(bodyOf(doc))))
			resign(t, doc, k.key)
		}, subcode: "InvalidSecurity", reason: "body is not signed"},
		{name: "BodySignedTimestampNot", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			signedInfoOf(doc).RemoveChild(referenceTo(t, doc, timestampID(doc)))
			resign(t, doc, k.key)
		}, subcode: "InvalidSecurity", reason: "timestamp is not signed"},
		{name: "ReferenceToOtherElementInsteadOfTimestamp", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			other := find(doc.Root(), "Header").CreateElement("x:Other")
			other.CreateAttr("xmlns:x", "urn:x")
			other.CreateAttr("wsu:Id", "other")
			other.CreateAttr("xmlns:wsu", NamespaceWSU)
			referenceTo(t, doc, timestampID(doc)).SelectAttr("URI").Value = "#other"
			resign(t, doc, k.key)
		}, subcode: "InvalidSecurity", reason: "timestamp is not signed"},
		{name: "ReferenceNotFound", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			r := referenceTo(t, doc, timestampID(doc)).Copy()
			r.SelectAttr("URI").Value = "#nowhere"
			signedInfoOf(doc).AddChild(r)
			resign(t, doc, k.key)
		}, subcode: "InvalidSecurity", reason: "reference #nowhere not found"},
		{name: "ExtraSignedElementIsFine", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			r := referenceTo(t, doc, timestampID(doc)).Copy()
			bst := find(doc.Root(), "BinarySecurityToken")
			r.SelectAttr("URI").Value = "#" + wsuID(bst)
			signedInfoOf(doc).AddChild(r)
			resign(t, doc, k.key)
		}},
		{name: "UnregisteredCertificate", key: "unregistered", subcode: "FailedAuthentication", reason: "unknown certificate"},
		{name: "DisabledCertificate", key: "disabled", subcode: "FailedAuthentication", reason: "certificate is disabled"},
		{name: "ExpiredCertificate", key: "expired", subcode: "FailedAuthentication", reason: "certificate expired"},
		{name: "DisabledCertificateByThumbprint", key: "disabled", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			setKeyForm(t, doc, formThumbprint, k)
		}, subcode: "FailedAuthentication", reason: "certificate is disabled"},
		{name: "UnregisteredCertificateBySKI", key: "unregistered", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			setKeyForm(t, doc, formSKI, k)
		}, subcode: "SecurityTokenUnavailable", reason: "no registered certificate matches the key identifier"},
		{name: "UnregisteredCertificateByIssuerSerial", key: "unregistered", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			setKeyForm(t, doc, formIssuerSerial, k)
		}, subcode: "SecurityTokenUnavailable", reason: "no registered certificate matches the key identifier"},
		{name: "TimestampExpired", config: at(testNow.Add(7 * time.Minute)), subcode: "MessageExpired", reason: "timestamp expired"},
		{name: "TimestampWithinSkewAfterExpiry", config: at(testNow.Add(5*time.Minute + 30*time.Second))},
		{name: "TimestampTooOld", config: func(c *Config) { c.TTL = time.Minute; c.Now = func() time.Time { return testNow.Add(3 * time.Minute) } },
			subcode: "MessageExpired", reason: "timestamp too old"},
		{name: "TimestampInTheFuture", config: at(testNow.Add(-2 * time.Minute)), subcode: "MessageExpired", reason: "timestamp created in the future"},
		{name: "TimestampWithinSkewInTheFuture", config: at(testNow.Add(-30 * time.Second))},
		{name: "TimestampMissing", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			securityOf(doc).RemoveChild(find(doc.Root(), "Timestamp"))
		}, subcode: "InvalidSecurity", reason: "missing timestamp"},
		{name: "TwoTimestamps", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			ts := find(doc.Root(), "Timestamp").Copy()
			ts.SelectAttr("wsu:Id").Value = "TS-2"
			find(ts, "Created").SetText("2026-03-01T11:00:00Z")
			securityOf(doc).AddChild(ts)
		}, subcode: "InvalidSecurity", reason: "more than one timestamp"},
		{name: "TwoCreated", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			ts := find(doc.Root(), "Timestamp")
			ts.InsertChildAt(0, find(ts, "Created").Copy())
			resign(t, doc, k.key)
		}, subcode: "InvalidSecurity", reason: "timestamp must have exactly one Created"},
		{name: "NoExpires", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			ts := find(doc.Root(), "Timestamp")
			ts.RemoveChild(find(ts, "Expires"))
			resign(t, doc, k.key)
		}, subcode: "InvalidSecurity", reason: "timestamp must have exactly one Expires"},
		{name: "TwoSecurityHeaders", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			find(doc.Root(), "Header").AddChild(securityOf(doc).Copy())
		}, subcode: "InvalidSecurity", reason: "more than one wsse:Security header"},
		{name: "SecurityHeaderForAnotherActorIsIgnored", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			other := etree.NewElement("wsse:Security")
			other.CreateAttr("xmlns:wsse", NamespaceWSSE)
			other.CreateAttr("soapenv:actor", "urn:some-intermediary")
			find(doc.Root(), "Header").AddChild(other)
		}},
		{name: "NoSecurityHeader", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			find(doc.Root(), "Header").RemoveChild(securityOf(doc))
		}, subcode: "InvalidSecurity", reason: "missing wsse:Security header"},
		{name: "SHA1WithoutLegacyFlag", mutate: useSHA1, subcode: "UnsupportedAlgorithm",
			reason: "signature algorithm rsa-sha1 is not allowed: sign with RSA-SHA256 (or enable legacy algorithms)"},
		{name: "SHA1WithLegacyFlag", mutate: useSHA1, config: func(c *Config) { c.AllowLegacySHA1 = true }},
		{name: "SHA1DigestWithoutLegacyFlag", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			setAlgorithm(find(signedInfoOf(doc), "DigestMethod"), algSHA1)
			resign(t, doc, k.key)
		}, subcode: "UnsupportedAlgorithm", reason: "digest algorithm sha1 is not allowed: use SHA-256 digests (or enable legacy algorithms)"},
		{name: "HMACSignatureMethod", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			setAlgorithm(find(signedInfoOf(doc), "SignatureMethod"), "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256")
		}, subcode: "UnsupportedAlgorithm", reason: "signature algorithm hmac-sha256 is not supported"},
		{name: "ECDSAMethodWithRSAKey", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			setAlgorithm(find(signedInfoOf(doc), "SignatureMethod"), dsig.ECDSASHA256SignatureMethod)
			resign(t, doc, k.key)
		}, subcode: "UnsupportedAlgorithm", reason: "signature algorithm does not match the certificate key"},
		{name: "CorruptedSignatureValue", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			sv := find(doc.Root(), "SignatureValue")
			v, _ := base64.StdEncoding.DecodeString(sv.Text())
			v[len(v)/2] ^= 0x01
			sv.SetText(base64.StdEncoding.EncodeToString(v))
		}, subcode: "FailedCheck", reason: "signature verification failed"},
		{name: "CorruptedECDSASignatureValue", key: "client-ec", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			sv := find(doc.Root(), "SignatureValue")
			v, _ := base64.StdEncoding.DecodeString(sv.Text())
			v[len(v)-1] ^= 0x01
			sv.SetText(base64.StdEncoding.EncodeToString(v))
		}, subcode: "FailedCheck", reason: "signature verification failed"},
		{name: "ECDSASignatureInDERForm", key: "client-ec", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			c14n, _ := canonicalBytes(signedInfoOf(doc), c14nOptions{})
			digest := sha256Sum(c14n)
			der, err := k.key.Sign(rand.Reader, digest, crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			find(doc.Root(), "SignatureValue").SetText(base64.StdEncoding.EncodeToString(der))
		}, subcode: "FailedCheck", reason: "signature verification failed"},
		{name: "XPathTransform", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			ts := find(referenceTo(t, doc, wsuID(bodyOf(doc))), "Transforms")
			x := etree.NewElement("ds:Transform")
			x.CreateAttr("Algorithm", "http://www.w3.org/TR/1999/REC-xpath-19991116")
			x.CreateElement("ds:XPath").SetText("not(ancestor-or-self::m:Text)")
			ts.InsertChildAt(0, x)
			resign(t, doc, k.key)
		}, subcode: "UnsupportedAlgorithm", reason: "transform REC-xpath-19991116 is not allowed"},
		{name: "InclusiveC14NTransform", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			setAlgorithm(find(referenceTo(t, doc, wsuID(bodyOf(doc))), "Transform"), string(dsig.CanonicalXML10RecAlgorithmId))
			resign(t, doc, k.key)
		}, subcode: "UnsupportedAlgorithm", reason: "transform REC-xml-c14n-20010315 is not allowed"},
		{name: "C14NWithCommentsOnSignedInfo", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			setAlgorithm(find(signedInfoOf(doc), "CanonicalizationMethod"), string(dsig.CanonicalXML10ExclusiveWithCommentsAlgorithmId))
		}, subcode: "UnsupportedAlgorithm", reason: "canonicalization WithComments is not allowed: use exclusive c14n"},
		{name: "NoTransforms", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			r := referenceTo(t, doc, wsuID(bodyOf(doc)))
			r.RemoveChild(find(r, "Transforms"))
			resign(t, doc, k.key)
		}, subcode: "InvalidSecurity", reason: "reference must be transformed by exclusive c14n"},
		{name: "EnvelopedSignatureTransformIsAccepted", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			x := etree.NewElement("ds:Transform")
			x.CreateAttr("Algorithm", algEnveloped)
			find(referenceTo(t, doc, wsuID(bodyOf(doc))), "Transforms").InsertChildAt(0, x)
			resign(t, doc, k.key)
		}},
		{name: "RetrievalMethodInKeyInfo", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			rm := find(doc.Root(), "KeyInfo").CreateElement("ds:RetrievalMethod")
			rm.CreateAttr("URI", "http://attacker.example/key")
		}, subcode: "InvalidSecurity", reason: "RetrievalMethod is not allowed in KeyInfo"},
		{name: "ExternalReferenceURI", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			r := referenceTo(t, doc, timestampID(doc)).Copy()
			r.SelectAttr("URI").Value = "http://attacker.example/doc.xml"
			signedInfoOf(doc).AddChild(r)
		}, subcode: "InvalidSecurity", reason: "external reference URIs are not allowed"},
		{name: "WholeDocumentReference", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			referenceTo(t, doc, timestampID(doc)).SelectAttr("URI").Value = ""
		}, subcode: "InvalidSecurity", reason: "reference URI must be #id"},
		{name: "XPointerReference", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			referenceTo(t, doc, timestampID(doc)).SelectAttr("URI").Value = "#xpointer(/)"
		}, subcode: "InvalidSecurity", reason: "XPointer references are not allowed"},
		{name: "ExternalTokenReference", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			find(find(doc.Root(), "KeyInfo"), "Reference").SelectAttr("URI").Value = "http://attacker.example/cert.der"
		}, subcode: "InvalidSecurity", reason: "external token references are not allowed"},
		{name: "TooManyReferences", config: func(c *Config) { c.MaxReferences = 1 }, subcode: "InvalidSecurity", reason: "too many references"},
		{name: "DuplicateReference", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			signedInfoOf(doc).AddChild(referenceTo(t, doc, timestampID(doc)).Copy())
		}, subcode: "InvalidSecurity", reason: "duplicate reference #{ts}"},
		{name: "ObjectWithManifestInSignature", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			obj := find(doc.Root(), "Signature").CreateElement("ds:Object")
			obj.CreateElement("ds:Manifest").AddChild(referenceTo(t, doc, timestampID(doc)).Copy())
		}, subcode: "InvalidSecurity", reason: "signature must contain only SignedInfo, SignatureValue and KeyInfo"},
		{name: "ManifestInSignature", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			sig := find(doc.Root(), "Signature")
			sig.InsertChildAt(0, etree.NewElement("ds:Manifest"))
		}, subcode: "InvalidSecurity", reason: "signature must contain only SignedInfo, SignatureValue and KeyInfo"},
		{name: "TwoSignatures", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			securityOf(doc).AddChild(find(doc.Root(), "Signature").Copy())
		}, subcode: "InvalidSecurity", reason: "more than one signature"},
		{name: "CommentInsideSignedText", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			text := find(doc.Root(), "Text")
			text.SetText("hel")
			text.AddChild(etree.NewComment("x"))
			text.AddChild(etree.NewText("lo"))
		}, subcode: "InvalidSecurity", reason: "comments are not allowed in signed content"},
		{name: "ProcessingInstructionInsideSignedContent", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			find(doc.Root(), "Ping").AddChild(etree.NewProcInst("evil", "data"))
			resign(t, doc, k.key)
		}, subcode: "InvalidSecurity", reason: "processing instructions are not allowed in signed content"},
		{name: "CommentOutsideSignedContentIsFine", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			find(doc.Root(), "Header").AddChild(etree.NewComment("routing note"))
		}},
		{name: "BinarySecurityTokenNotACertificate", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			find(doc.Root(), "BinarySecurityToken").SetText(base64.StdEncoding.EncodeToString([]byte("not a certificate")))
		}, subcode: "InvalidSecurityToken", reason: "binary security token is not a valid X.509 certificate"},
		{name: "BinarySecurityTokenNotBase64", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			find(doc.Root(), "BinarySecurityToken").SetText("%%%")
		}, subcode: "InvalidSecurityToken", reason: "binary security token is not a valid X.509 certificate"},
		{name: "TokenReferenceToBodyNotToken", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			find(find(doc.Root(), "KeyInfo"), "Reference").SelectAttr("URI").Value = "#" + wsuID(bodyOf(doc))
		}, subcode: "InvalidSecurity", reason: "token reference must point to a BinarySecurityToken in the Security header"},
		{name: "TokenReferenceNotFound", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			find(find(doc.Root(), "KeyInfo"), "Reference").SelectAttr("URI").Value = "#missing"
		}, subcode: "SecurityTokenUnavailable", reason: "security token #missing not found"},
		{name: "NoKeyInfo", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			sig := find(doc.Root(), "Signature")
			sig.RemoveChild(find(sig, "KeyInfo"))
		}, subcode: "SecurityTokenUnavailable", reason: "signature has no KeyInfo"},
		{name: "KeyValueInKeyInfo", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			ki := find(doc.Root(), "KeyInfo")
			ki.RemoveChild(ki.ChildElements()[0])
			ki.CreateElement("ds:KeyValue")
		}, subcode: "UnsupportedSecurityToken", reason: "unsupported KeyInfo content"},
		{name: "SignedBodyIsNotTheEnvelopeBody", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			// A second Body-named element deeper in the tree carries the signature; the real Body is unsigned.
			body := bodyOf(doc)
			inner := body.Copy()
			for _, c := range body.ChildElements() {
				body.RemoveChild(c)
			}
			for _, a := range []string{"wsu:Id"} {
				body.RemoveAttr(a)
			}
			body.CreateElement("m:Ping").CreateElement("m:Text").SetText("evil")
			find(body, "Ping").AddChild(inner)
			resign(t, doc, k.key)
		}, subcode: "InvalidSecurity", reason: "body is not signed"},
		{name: "TwoBodies", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			evil := etree.NewElement("soapenv:Body")
			evil.CreateElement("m:Ping")
			doc.Root().AddChild(evil)
		}, subcode: "InvalidSecurity", reason: "envelope must have exactly one Body"},
		{name: "UnqualifiedIdsAsNodeSoapSends", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			for _, el := range []*etree.Element{bodyOf(doc), find(doc.Root(), "Timestamp")} {
				id := el.SelectAttr("wsu:Id")
				el.RemoveAttr("wsu:Id")
				el.CreateAttr("Id", id.Value)
			}
			resign(t, doc, k.key)
		}},
		{name: "XMLIDOnBody", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			id := bodyOf(doc).SelectAttr("wsu:Id").Value
			bodyOf(doc).RemoveAttr("wsu:Id")
			bodyOf(doc).CreateAttr("xml:id", id)
			resign(t, doc, k.key)
		}},
		{name: "ContentAfterSigningInHeaderIsFine", mutate: func(t *testing.T, doc *etree.Document, k testKey) {
			find(doc.Root(), "Header").CreateElement("x:Routing").CreateAttr("xmlns:x", "urn:x")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tt.key
			if key == "" {
				key = "client-rsa"
			}
			k := loadKey(t, key)
			doc := parseDoc(t, signed(t, soap11Envelope, key))
			reason := strings.NewReplacer("{body}", wsuID(bodyOf(doc)), "{ts}", timestampID(doc)).Replace(tt.reason)
			if tt.mutate != nil {
				tt.mutate(t, doc, k)
			}
			doc = wire(t, doc)
			res, err := testVerifier(t, tt.config).Verify(doc)
			if tt.subcode == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if res.Body != bodyOf(doc) || res.Body.Parent() != doc.Root() {
					t.Fatal("result Body is not the envelope's Body")
				}
				return
			}
			if res != nil {
				t.Errorf("result = %+v, want nil", res)
			}
			wantFault(t, err, tt.subcode, reason)
		})
	}
}

func at(now time.Time) func(*Config) {
	return func(c *Config) { c.Now = func() time.Time { return now } }
}

func useSHA1(t *testing.T, doc *etree.Document, k testKey) {
	setAlgorithm(find(signedInfoOf(doc), "SignatureMethod"), dsig.RSASHA1SignatureMethod)
	for _, dm := range findAll(signedInfoOf(doc), "DigestMethod") {
		setAlgorithm(dm, algSHA1)
	}
	resign(t, doc, k.key)
}

func TestVerifier_Replay(t *testing.T) {
	v := testVerifier(t, nil)
	text := signed(t, soap11Envelope, "client-rsa")
	if _, err := v.Verify(parseDoc(t, text)); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(parseDoc(t, text))
	wantFault(t, err, "InvalidSecurity", "message replayed")

	// A different message from the same client is not a replay.
	if _, err := v.Verify(parseDoc(t, signed(t, soap11Envelope, "client-rsa"))); err != nil {
		t.Fatal(err)
	}
	// A refused message does not enter the cache: a tampered copy cannot block the original.
	other := signed(t, soap11Envelope, "client-rsa")
	tampered := strings.Replace(other, ">hello<", ">HELLO<", 1)
	_, err = v.Verify(parseDoc(t, tampered))
	wantFault(t, err, "FailedCheck", "digest mismatch for #"+wsuID(bodyOf(parseDoc(t, other))))
	if _, err := v.Verify(parseDoc(t, other)); err != nil {
		t.Fatalf("original after tampered copy: %v", err)
	}
}

func TestVerifier_ReplayCacheFull(t *testing.T) {
	now := testNow
	v := testVerifier(t, func(c *Config) {
		c.ReplayCacheSize = 2
		c.Now = func() time.Time { return now }
	})
	for i := range 2 {
		if _, err := v.Verify(parseDoc(t, signed(t, soap11Envelope, "client-rsa"))); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	_, err := v.Verify(parseDoc(t, signed(t, soap11Envelope, "client-rsa")))
	wantFault(t, err, "InvalidSecurity", "replay cache full")
	if n := v.replay.len(); n != 2 {
		t.Errorf("cache holds %d entries, want 2 (nothing forgotten)", n)
	}

	// Once the entries expire (Expires + skew) they are evicted and new messages are accepted again.
	now = testNow.Add(6*time.Minute + time.Second)
	signer := testSigner(t, "client-rsa")
	signer.Now = func() time.Time { return now }
	doc := parseDoc(t, soap11Envelope)
	if err := signer.Sign(doc); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(wire(t, doc)); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := v.replay.len(); n != 1 {
		t.Errorf("cache holds %d entries after eviction, want 1", n)
	}
}

// ECDSA signatures are malleable: (r, n-s) verifies as well as (r, s). A replay with the twin signature
// must still be recognised.
func TestVerifier_ReplayWithMalleatedECDSASignature(t *testing.T) {
	text := signed(t, soap11Envelope, "client-ec")
	doc := parseDoc(t, text)
	sv := find(doc.Root(), "SignatureValue")
	v, err := base64.StdEncoding.DecodeString(sv.Text())
	if err != nil || len(v) != 64 {
		t.Fatalf("signature value: %d bytes, %v", len(v), err)
	}
	n := loadKey(t, "client-ec").cert.PublicKey.(*ecdsa.PublicKey).Curve.Params().N
	s := new(big.Int).SetBytes(v[32:])
	new(big.Int).Sub(n, s).FillBytes(v[32:])
	sv.SetText(base64.StdEncoding.EncodeToString(v))
	twin := docString(t, doc)
	if twin == text {
		t.Fatal("twin signature is identical")
	}
	if _, err := testVerifier(t, nil).Verify(parseDoc(t, twin)); err != nil {
		t.Fatalf("the twin signature alone must verify: %v", err)
	}
	verifier := testVerifier(t, nil)
	if _, err := verifier.Verify(parseDoc(t, text)); err != nil {
		t.Fatal(err)
	}
	_, err = verifier.Verify(parseDoc(t, twin))
	wantFault(t, err, "InvalidSecurity", "message replayed")
}
