package wssec

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
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
	// An honest Body is far from the limit: document/literal wrapped, it has one child, which renders the
	// namespace once for all its descendants.
	doc := parseDoc(t, `<s:Envelope xmlns:s="`+nsSOAP11+`" xmlns:a="urn:`+strings.Repeat("u", 40)+`"><s:Body><a:Op>`+
		strings.Repeat("<a:x/>", 1000)+`</a:Op></s:Body></s:Envelope>`)
	var w countWriter
	if err := canonicalize(&w, find(doc.Root(), "Body"), c14nOptions{strict: true}); err != nil {
		t.Fatalf("%v after %d bytes", err, w.n)
	}
}

// signedTargets returns the elements the references of a signed message point to.
func signedTargets(tb testing.TB, doc *etree.Document) []*etree.Element {
	tb.Helper()
	env, err := parseEnvelope(doc)
	if err == nil {
		err = env.selectSecurity()
	}
	var ids idIndex
	if err == nil {
		ids, err = indexIDs(env.root, nil)
	}
	var sig *signature
	if err == nil {
		sig, err = parseSignature(nil, env.security, &Config{MaxReferences: DefaultMaxReferences, AllowLegacySHA1: true})
	}
	if err != nil {
		tb.Fatalf("signed message: %v", err)
	}
	var out []*etree.Element
	for _, r := range sig.refs {
		out = append(out, ids[r.id])
	}
	return out
}

// TestC14NBudget_HonestSignedRequests measures the canonical form of what real clients sign against its size
// as parsed, which the budget of maxC14NGrowth times that size plus c14nSlack must hold with room to spare:
// the envelopes signed by other stacks in testdata, zeep and xmlsec1 signatures (when installed), and our
// own signer on a bulk request of 1,000 items.
func TestC14NBudget_HonestSignedRequests(t *testing.T) {
	messages := map[string]string{"signer/bulk-1000": honestRequest(t, 1000), "signer/small": captured(t)}
	files, _ := filepath.Glob(filepath.Join(testdataDir, "*.xml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		messages["testdata/"+filepath.Base(f)] = string(b)
	}
	if _, err := exec.LookPath("xmlsec1"); err == nil {
		x := xmlsecTemplate{key: "client-rsa", sigMethod: dsig.RSASHA256SignatureMethod, digest: algSHA256, keyInfo: "bst", body: largeBody(1000)}
		messages["xmlsec1/bulk-1000"] = xmlsecSign(t, "xmlsec1", x.render(t), x.key)
		x.envNS, x.siPrefixList, x.refPrefixes, x.body = `xmlns="urn:d" xmlns:u="urn:unused"`, "soapenv u", "wsu u #default", twoNSBody
		messages["xmlsec1/prefixlists"] = xmlsecSign(t, "xmlsec1", x.render(t), x.key)
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import zeep, xmlsec").Run(); err == nil {
		k := loadKey(t, "client-rsa")
		env := `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>` + largeBody(1000) +
			`</soapenv:Body></soapenv:Envelope>`
		r := zeep(t, []zeepJob{{Op: "sign", XML: env, Key: k.keyPath, Cert: k.certPath, Alg: "sha256"}})
		if r[0].Err != "" {
			t.Fatalf("zeep sign: %s", r[0].Err)
		}
		messages["zeep/bulk-1000"] = r[0].Out
	}
	worst := 0.0
	for name, text := range messages {
		for _, el := range signedTargets(t, parseDoc(t, text)) {
			var w work
			if err := canonicalize(io.Discard, el, c14nOptions{work: &w}); err != nil {
				t.Fatalf("%s: canonicalize <%s>: %v", name, el.Tag, err)
			}
			size := parsedSize(el)
			ratio := float64(w.c14nBytes) / float64(size)
			t.Logf("%-48s <%s>: %7d canonical characters for %7d parsed (%.2fx, %+d)", name, el.Tag, w.c14nBytes, size, ratio, w.c14nBytes-size)
			if size > 4096 {
				worst = max(worst, ratio)
			}
			if w.c14nBytes > size+c14nSlack/4 && float64(w.c14nBytes) > maxC14NGrowth*float64(size)/2 {
				t.Errorf("%s: <%s> canonicalizes to %d characters for %d parsed: within a factor 2 of the budget",
					name, el.Tag, w.c14nBytes, size)
			}
		}
	}
	t.Logf("largest ratio for a signed element over 4 KiB: %.2f", worst)
}
