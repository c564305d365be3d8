package soap

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"
)

// FuzzHandler posts arbitrary bodies as SOAP 1.1 or 1.2 and checks that every
// response is either a 200 envelope with one non-fault body element or a
// well-formed fault envelope of the request's version, and never a panic.
func FuzzHandler(f *testing.F) {
	for _, dir := range caseDirs(f) {
		body, err := os.ReadFile(filepath.Join("..", "testdata", dir, "request.xml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, false, "")
		f.Add(body, true, "urn:example:toy#Echo")
	}
	h := newToyHandler(f, func(c *Config) { c.MaxBodyBytes = 64 << 10 })
	f.Fuzz(func(t *testing.T, body []byte, soap12 bool, action string) {
		req := httptest.NewRequest(http.MethodPost, "/soap", bytes.NewReader(body))
		ct, ns, v := ct11, NS11, V11
		if soap12 {
			ct, ns, v = ct12, NS12, V12
		}
		req.Header.Set("Content-Type", ct)
		req.Header.Set("SOAPAction", action)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkResponse(t, rec, ns, v)
	})
}

func checkResponse(t *testing.T, rec *httptest.ResponseRecorder, ns string, v Version) {
	t.Helper()
	if got := rec.Header().Get("Content-Type"); got != contentTypeOf(v) {
		t.Fatalf("content type %q, want %q", got, contentTypeOf(v))
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(rec.Body.Bytes()); err != nil {
		t.Fatalf("response does not parse: %v\n%s", err, rec.Body)
	}
	root := doc.Root()
	if root == nil || root.Tag != "Envelope" || root.NamespaceURI() != ns {
		t.Fatalf("response root is not a %s Envelope:\n%s", ns, rec.Body)
	}
	body := root.SelectElement("Body")
	if body == nil || len(body.ChildElements()) != 1 {
		t.Fatalf("response Body does not have exactly one child:\n%s", rec.Body)
	}
	child := body.ChildElements()[0]
	isFault := child.Tag == "Fault" && child.NamespaceURI() == ns
	switch {
	case rec.Code == http.StatusOK && !isFault:
		return
	case rec.Code == http.StatusOK || !isFault:
		t.Fatalf("status %d with fault=%v:\n%s", rec.Code, isFault, rec.Body)
	}
	code := child.FindElement("faultcode")
	if v == V12 {
		code = child.FindElement("Code/Value")
	}
	if code == nil || code.Text() == "" {
		t.Fatalf("fault without a code:\n%s", rec.Body)
	}
	switch rec.Code {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusInternalServerError:
	default:
		t.Fatalf("fault with status %d", rec.Code)
	}
	if bytes.Contains(rec.Body.Bytes(), []byte(secretCause)) {
		t.Fatalf("an internal cause leaked:\n%s", rec.Body)
	}
}
