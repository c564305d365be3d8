package soap

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/soap and testdata/faults")

const (
	ct11 = "text/xml; charset=utf-8"
	ct12 = "application/soap+xml; charset=utf-8"
)

// goldenRequest says how to send a case's request.xml. The zero value is a
// SOAP 1.1 POST without SOAPAction.
type goldenRequest struct {
	method      string // default POST
	contentType string // default ct11
	action      string // SOAPAction header (SOAP 1.1)
	small       bool   // MaxBodyBytes 1024
}

// goldenCases lists every directory under testdata/soap and testdata/faults;
// a directory without an entry fails the test.
var goldenCases = map[string]goldenRequest{
	"soap/echo-11":                       {action: `"urn:example:toy#Echo"`},
	"soap/echo-12":                       {contentType: `application/soap+xml; charset=UTF-8; action="urn:example:toy#Echo"`},
	"soap/echo-minimal-11":               {action: `""`},
	"soap/echo-bom-11":                   {},
	"soap/echo-default-namespace-12":     {contentType: ct12},
	"soap/echo-xsi-nil-11":               {action: "urn:example:toy#Echo"},
	"soap/mustunderstand-other-role-12":  {contentType: ct12},
	"soap/mustunderstand-other-actor-11": {},
	"soap/mustunderstand-zero-11":        {},
	"soap/security-token-11":             {},
	"soap/security-token-12":             {contentType: ct12},

	"faults/malformed-xml":                {},
	"faults/root-not-envelope":            {},
	"faults/no-body":                      {},
	"faults/empty-body":                   {},
	"faults/two-body-elements":            {},
	"faults/text-in-body":                 {},
	"faults/element-after-body":           {},
	"faults/header-after-body":            {},
	"faults/unknown-operation-11":         {},
	"faults/unknown-operation-12":         {contentType: ct12},
	"faults/operation-in-wrong-namespace": {},
	"faults/soapaction-mismatch":          {action: `"urn:example:toy#Fail"`},
	"faults/action-mismatch-12":           {contentType: ct12 + `; action="urn:example:toy#Fail"`},
	"faults/doctype-billion-laughs":       {},
	"faults/doctype-external-entity":      {},
	"faults/undeclared-entity":            {},
	"faults/processing-instruction":       {},
	"faults/declaration-not-first":        {},
	"faults/non-utf8-encoding":            {},
	"faults/body-too-large":               {small: true},
	"faults/nesting-too-deep":             {},
	"faults/too-many-attributes":          {},
	"faults/too-many-namespaces":          {},
	"faults/unknown-element":              {},
	"faults/element-wrong-namespace":      {},
	"faults/element-no-namespace":         {},
	"faults/duplicate-element":            {},
	"faults/non-numeric-int":              {},
	"faults/int64-overflow":               {},
	"faults/int32-negative-overflow":      {},
	"faults/uint-negative":                {},
	"faults/empty-int":                    {},
	"faults/invalid-bool":                 {},
	"faults/invalid-float":                {},
	"faults/invalid-date":                 {},
	"faults/element-inside-leaf":          {},
	"faults/text-in-struct":               {},
	"faults/invalid-repeated-item":        {},
	"faults/envelope12-as-text-xml":       {},
	"faults/envelope11-as-soap12":         {contentType: ct12},
	"faults/unknown-envelope-namespace":   {},
	"faults/mustunderstand-11":            {},
	"faults/mustunderstand-12":            {contentType: ct12},
	"faults/method-not-allowed":           {method: http.MethodPut},
	"faults/content-type-json":            {contentType: "application/json"},
	"faults/charset-latin1":               {contentType: "text/xml; charset=iso-8859-1"},
	"soap/echo-no-charset-11":             {contentType: "text/xml"},
	"faults/fault-client-11":              {},
	"faults/fault-client-12":              {contentType: ct12},
	"faults/fault-server-11":              {},
	"faults/fault-server-12":              {contentType: ct12},
	"faults/plain-error-11":               {},
	"faults/plain-error-12":               {contentType: ct12},
	"faults/panic-11":                     {},
	"faults/nil-response-11":              {},
	"faults/security-failed-11":           {},
	"faults/security-failed-12":           {contentType: ct12},

	// The action parameter bare (KDSoap), the WS-Addressing default actions
	// (gSOAP without a soapAction), and WS-Addressing headers.
	"soap/echo-bare-action-12":              {contentType: "application/soap+xml;charset=utf-8;action=urn:example:toy#Echo"},
	"soap/echo-wsa-default-action-12":       {contentType: ct12 + `; action="urn:example:toy/ToyPortType/Echo"`},
	"soap/echo-wsa-default-request-11":      {action: `"urn:example:toy/ToyPortType/EchoRequest"`},
	"soap/echo-wsa-messageid-12":            {contentType: ct12 + `; action="urn:example:toy#Echo"`},
	"soap/echo-wsa-messageid-11":            {action: `""`},
	"faults/wsa-action-mismatch-11":         {action: `"urn:example:toy#Echo"`},
	"faults/wsa-replyto-not-anonymous-12":   {contentType: ct12},
	"faults/wsa-action-twice-12":            {contentType: ct12},
	"faults/bare-action-mismatch-12":        {contentType: ct12 + ";action=urn:example:toy#Fail"},
	"faults/wsa-other-default-action-12":    {contentType: ct12 + `; action="urn:example:toy:ToyPortType:Echo"`},
	"faults/content-type-bad-parameters-12": {contentType: `application/soap+xml; charset=utf-8; action="urn:example:toy#Echo`},
}

// caseDirs is every case directory, relative to testdata ("faults/empty-body").
func caseDirs(tb testing.TB) []string {
	tb.Helper()
	var dirs []string
	for _, group := range []string{"soap", "faults"} {
		matches, err := filepath.Glob(filepath.Join("..", "testdata", group, "*", "request.xml"))
		if err != nil {
			tb.Fatal(err)
		}
		for _, m := range matches {
			dirs = append(dirs, group+"/"+filepath.Base(filepath.Dir(m)))
		}
	}
	sort.Strings(dirs)
	return dirs
}

// TestHandler_Golden posts every case's request.xml to a real HTTP server and
// compares status, content type and body with response.golden.xml byte for byte.
func TestHandler_Golden(t *testing.T) {
	srv := httptest.NewServer(newToyHandler(t, nil))
	defer srv.Close()
	small := httptest.NewServer(newToyHandler(t, func(c *Config) { c.MaxBodyBytes = 1024 }))
	defer small.Close()

	dirs := caseDirs(t)
	if len(dirs) != len(goldenCases) {
		t.Errorf("%d case directories, %d table entries: keep them in step", len(dirs), len(goldenCases))
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			gr, ok := goldenCases[dir]
			if !ok {
				t.Fatalf("no goldenCases entry for testdata/%s", dir)
			}
			got := postCase(t, srv, small, dir, gr)
			checkGolden(t, filepath.Join("..", "testdata", dir, "response.golden.xml"), got)
		})
	}
}

// postCase sends a case and renders the response as the golden file holds it.
func postCase(t *testing.T, srv, small *httptest.Server, dir string, gr goldenRequest) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "testdata", dir, "request.xml"))
	if err != nil {
		t.Fatal(err)
	}
	method, ct, url := gr.method, gr.contentType, srv.URL+"/soap"
	if method == "" {
		method = http.MethodPost
	}
	if ct == "" {
		ct = ct11
	}
	if gr.small {
		url = small.URL + "/soap"
	}
	resp, b := do(t, srv.Client(), method, url, ct, gr.action, body)
	if id := resp.Header.Get("X-Request-Id"); len(id) != 16 {
		t.Errorf("X-Request-Id %q, want 16 hex characters", id)
	}
	got := fmt.Appendf(nil, "HTTP %d\nContent-Type: %s\n", resp.StatusCode, resp.Header.Get("Content-Type"))
	if allow := resp.Header.Get("Allow"); allow != "" {
		got = fmt.Appendf(got, "Allow: %s\n", allow)
	}
	return fmt.Appendf(got, "\n%s", b)
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./soap -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("response differs from %s\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestHandler_BillionLaughs checks the entity bomb is refused before anything
// is expanded: the whole request allocates a small, bounded amount of memory.
func TestHandler_BillionLaughs(t *testing.T) {
	h := newToyHandler(t, nil)
	body, err := os.ReadFile(filepath.Join("..", "testdata", "faults", "doctype-billion-laughs", "request.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/soap", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct11)
	h.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	code, reason, detail := faultParts(t, rec.Body.Bytes())
	if code != "soap:Client" || detail != CodeMalformedRequest || reason != "DOCTYPE is not allowed" {
		t.Errorf("fault %s %q %s, want soap:Client \"DOCTYPE is not allowed\" MALFORMED_REQUEST", code, reason, detail)
	}
	// Expanded, lol9 is 3 GB; refusing it costs a few kilobytes.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("refusing the entity bomb allocated %d bytes, want < 1 MiB", alloc)
	}
}
