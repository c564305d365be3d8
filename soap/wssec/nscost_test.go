package wssec

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// workRatio runs measure at k and 2k and returns both counts; the test then asks that doubling the hostile
// dimension at most doubles the work. Work is counted (namespace lookups, attributes read, bytes written),
// never timed.
func workRatio(t *testing.T, k int, measure func(k int) int64) (small, large int64) {
	t.Helper()
	small, large = measure(k), measure(2*k)
	if small <= 0 {
		t.Fatalf("no work counted at k=%d", k)
	}
	t.Logf("k=%d: %d, k=%d: %d (x%.2f)", k, small, 2*k, large, float64(large)/float64(small))
	if large > 2*small {
		t.Errorf("doubling k from %d multiplies the work by %.2f (%d -> %d): want at most 2", k, float64(large)/float64(small), small, large)
	}
	return small, large
}

// probesOf is the number of namespace lookups and attribute reads f makes.
func probesOf(f func()) int64 {
	before := xmlparse.Probes()
	f()
	return xmlparse.Probes() - before
}

// manyPrefixes is a SOAP 1.1 envelope whose Envelope declares k prefixes and whose header carries hdr.
func manyPrefixes(k int, hdr, body string) string {
	var b strings.Builder
	b.WriteString(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"`)
	for i := range k {
		fmt.Fprintf(&b, ` xmlns:p%d="urn:p%d"`, i, i)
	}
	b.WriteString(`><s:Header>` + hdr + `</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`)
	return b.String()
}

// K declarations on the Envelope and K prefixed Id attributes in an unsigned header: indexing the IDs once
// resolved every prefix by scanning all K declarations (K*K probes).
func TestIDIndexCostLinearInDeclarations(t *testing.T) {
	workRatio(t, 128, func(k int) int64 {
		var h strings.Builder
		h.WriteString(`<h>`)
		for i := range k {
			fmt.Fprintf(&h, `<x xml:Id="i%d" p%d:Id="j%d"/>`, i, i, i)
		}
		h.WriteString(`</h>`)
		doc := parseDoc(t, manyPrefixes(k, h.String(), ""))
		return probesOf(func() {
			if _, err := indexIDs(doc.Root(), nil); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// K declarations in scope and K elements of signed content with a prefixed attribute each: canonicalizing
// looked every prefix up by scanning the K declarations.
func TestC14NCostLinearInDeclarations(t *testing.T) {
	workRatio(t, 128, func(k int) int64 {
		var b strings.Builder
		b.WriteString(`<m:Op xmlns:m="urn:m">`)
		for i := range k {
			fmt.Fprintf(&b, `<m:x p%d:a="1"/>`, i)
		}
		b.WriteString(`</m:Op>`)
		doc := parseDoc(t, manyPrefixes(k, "", b.String()))
		body := find(doc.Root(), "Body")
		return probesOf(func() {
			if _, err := canonicalBytes(body, c14nOptions{strict: true}); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// K declarations and K header blocks named Security in other namespaces, the last one ours: telling each
// block's namespace resolved its prefix by scanning the declarations (K*K).
func TestSelectSecurityCostLinear(t *testing.T) {
	workRatio(t, 100, func(k int) int64 {
		var h strings.Builder
		for i := range k {
			fmt.Fprintf(&h, `<p%d:Security p%d:role="x"/>`, i, i)
		}
		h.WriteString(`<w:Security xmlns:w="` + NamespaceWSSE + `" s:mustUnderstand="1"/>`)
		doc := parseDoc(t, manyPrefixes(k, h.String(), ""))
		return probesOf(func() {
			env, err := parseEnvelope(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := env.selectSecurity(); err != nil {
				t.Fatal(err)
			}
			if env.security == nil || !strings.HasPrefix(env.security.FullTag(), "w:") {
				t.Fatalf("selected %v", env.security)
			}
		})
	})
}
