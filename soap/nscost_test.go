package soap

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crmsoap/crmsoap/soap/internal/xmlparse"
)

// manyPrefixEcho is an Echo request whose Envelope declares k prefixes q0... for the SOAP 1.1 namespace and
// k prefixes p0... for the toy namespace, with k header blocks carrying qN:mustUnderstand="0" and qN:actor,
// and k repeated tags pN:tag in the body: every block, attribute and tag names a prefix whose declaration
// etree's NamespaceURI finds only after scanning up to 2k declarations.
func manyPrefixEcho(k int) []byte {
	var b strings.Builder
	b.WriteString(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="urn:example:toy"`)
	for i := range k {
		fmt.Fprintf(&b, ` xmlns:q%d="%s" xmlns:p%d="urn:example:toy"`, i, NS11, i)
	}
	b.WriteString(`><soap:Header>`)
	for i := range k {
		fmt.Fprintf(&b, `<p%d:h q%d:mustUnderstand="0" q%d:actor="%s"/>`, i, i, i, actorNext11)
	}
	b.WriteString(`</soap:Header><soap:Body><t:Echo><t:text>x</t:text>`)
	for i := range k {
		fmt.Fprintf(&b, `<p%d:tag>x</p%d:tag>`, i, i)
	}
	b.WriteString(`</t:Echo></soap:Body></soap:Envelope>`)
	return []byte(b.String())
}

// TestNamespaceCostLinear posts requests with k and 2k prefixes, header blocks and tags: resolving the
// namespace of every block, actor/mustUnderstand attribute and body element must cost a bounded number of
// counted probes each, so doubling k at most doubles the work.
func TestNamespaceCostLinear(t *testing.T) {
	srv := httptest.NewServer(newToyHandler(t, nil))
	defer srv.Close()
	work := func(k int) int64 {
		body := manyPrefixEcho(k)
		before := xmlparse.Probes()
		resp, out := do(t, srv.Client(), http.MethodPost, srv.URL, ct11, `"urn:example:toy#Echo"`, body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("k=%d: status %d\n%s", k, resp.StatusCode, out)
		}
		return xmlparse.Probes() - before
	}
	small, large := work(60), work(120)
	t.Logf("k=60: %d probes, k=120: %d (x%.2f)", small, large, float64(large)/float64(small))
	if small < 60 || large > 2*small {
		t.Errorf("doubling k multiplies the counted work by %.2f (%d -> %d): want at most 2", float64(large)/float64(small), small, large)
	}
}
