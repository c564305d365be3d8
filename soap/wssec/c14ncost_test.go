package wssec

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// withPrefixList is a message signed by client-rsa (a registered certificate) whose Envelope then gets k
// more namespace declarations and whose SignedInfo gets a PrefixList naming all of them, and a garbage
// SignatureValue of the right length: what anyone who knows a client's public certificate can send.
func withPrefixList(t *testing.T, k int) *etree.Document {
	t.Helper()
	doc := parseDoc(t, signed(t, soap11Envelope, "client-rsa"))
	prefixes := make([]string, k)
	for i := range k {
		prefixes[i] = fmt.Sprintf("p%d", i)
		doc.Root().CreateAttr("xmlns:"+prefixes[i], "urn:"+prefixes[i])
	}
	cm := find(signedInfoOf(doc), "CanonicalizationMethod")
	for _, c := range cm.ChildElements() {
		cm.RemoveChild(c)
	}
	in := cm.CreateElement("ec:InclusiveNamespaces")
	in.CreateAttr("xmlns:ec", NamespaceExcC14N)
	in.CreateAttr("PrefixList", strings.Join(prefixes, " "))
	sv := find(doc.Root(), "SignatureValue")
	sv.SetText(base64.StdEncoding.EncodeToString(make([]byte, 256)))
	return doc
}

// SignedInfo is canonicalized before the signature is checked: with K declarations in scope and K prefixes
// in its PrefixList, every element of SignedInfo asked about every prefix by scanning every declaration.
func TestSignedInfoPrefixListCostLinear(t *testing.T) {
	v := testVerifier(t, nil)
	workRatio(t, 32, func(k int) int64 {
		doc := withPrefixList(t, k)
		return probesOf(func() {
			_, err := v.Verify(doc)
			wantFault(t, err, "FailedCheck", "signature verification failed")
		})
	})
}

func TestPrefixListCapped(t *testing.T) {
	v := testVerifier(t, nil)
	doc := withPrefixList(t, maxPrefixList)
	_, err := v.Verify(doc)
	wantFault(t, err, "FailedCheck", "signature verification failed")
	doc = withPrefixList(t, maxPrefixList+1)
	_, err = v.Verify(doc)
	wantFault(t, err, "InvalidSecurity", "InclusiveNamespaces PrefixList has more than 64 prefixes")
	if _, err := canonicalBytes(doc.Root(), c14nOptions{inclusive: make([]string, maxPrefixList+1)}); err != errPrefixList {
		t.Errorf("canonicalize with %d prefixes: %v", maxPrefixList+1, err)
	}
}

// countWriter counts the canonical bytes it is given.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// A SignedInfo padded with white space is canonicalized whole before the signature check; it stops at
// MaxSignedInfoBytes.
func TestSignedInfoOutputCapped(t *testing.T) {
	v := testVerifier(t, nil)
	doc := withPrefixList(t, 1)
	si := signedInfoOf(doc)
	si.CreateText(strings.Repeat(" ", 1<<20))
	_, err := v.Verify(doc)
	wantFault(t, err, "InvalidSecurity", "canonical SignedInfo is larger than 65536 bytes")
	var w countWriter
	err = canonicalize(&w, si, c14nOptions{strict: true, maxBytes: MaxSignedInfoBytes, tooLarge: errSignedInfoTooLarge})
	if err != errSignedInfoTooLarge || w.n > MaxSignedInfoBytes {
		t.Errorf("%v after %d bytes, want the SignedInfo limit after at most %d", err, w.n, MaxSignedInfoBytes)
	}
}

// redeclaring is a Body of n sibling elements in a namespace of a URI of m bytes declared on the Envelope
// and not used by the Body: exclusive c14n declares it again on each of them, n*m bytes from n*7+m.
func redeclaring(t *testing.T, n, m int) *etree.Element {
	t.Helper()
	uri := "urn:" + strings.Repeat("u", m)
	doc := parseDoc(t, `<s:Envelope xmlns:s="`+nsSOAP11+`" xmlns:a="`+uri+`"><s:Body>`+
		strings.Repeat("<a:x/>", n)+`</s:Body></s:Envelope>`)
	return find(doc.Root(), "Body")
}

// The canonical bytes of a signed element grow at most linearly with it: doubling both the number of
// elements and the URI length multiplied them by four.
func TestReferenceOutputBoundedByInput(t *testing.T) {
	const n, m = 20000, 4000
	workRatio(t, 1, func(k int) int64 {
		var w countWriter
		err := canonicalize(&w, redeclaring(t, k*n, k*m), c14nOptions{strict: true})
		if err != errC14NTooLarge {
			t.Fatalf("%v, want the output limit", err)
		}
		return w.n
	})
	// An honest element is far from the limit.
	var w countWriter
	if err := canonicalize(&w, redeclaring(t, 1000, 40), c14nOptions{strict: true}); err != nil {
		t.Fatalf("%v after %d bytes", err, w.n)
	}
}
