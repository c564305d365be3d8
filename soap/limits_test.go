package soap_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap"
	"github.com/crmsoap/crmsoap/soap/wssec"
)

// listRequest is a request with a repeated element, like a batch of records.
type listRequest struct {
	XMLName xml.Name `xml:"urn:example:limits List"`
	Note    string   `xml:"note"`
	Items   []string `xml:"item"`
}

type listResponse struct {
	XMLName xml.Name `xml:"urn:example:limits ListResponse"`
	Count   int      `xml:"count"`
}

// listEnvelope is a SOAP 1.1 envelope of a List with the given note and items.
func listEnvelope(note string, items []string) string {
	var b strings.Builder
	b.WriteString(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>`)
	b.WriteString(`<l:List xmlns:l="urn:example:limits"><l:note>` + note + `</l:note>`)
	for _, it := range items {
		if it == "" {
			b.WriteString(`<l:item/>`)
		} else {
			b.WriteString(`<l:item>` + it + `</l:item>`)
		}
	}
	b.WriteString(`</l:List></soap:Body></soap:Envelope>`)
	return b.String()
}

// memoryShapes are the envelopes the memory factor is measured on, about
// 1 MiB each: realistic ones (text, records), and the densest tree the
// default element limit lets through.
func memoryShapes() map[string]string {
	records := make([]string, 24000)
	for i := range records {
		records[i] = fmt.Sprintf("customer %06d, Example Street %d", i, i%997)
	}
	dense := make([]string, soap.DefaultMaxElements-40) // room for the Security header
	attrs := listEnvelope(strings.Repeat(`<l:x a="" b="" c="" d="" e="" f="" g="" h="" i="" j=""/>`, 16000), nil)
	return map[string]string{
		"small":      listEnvelope("one", []string{"customer 000001, Example Street 1"}),
		"text":       listEnvelope(strings.Repeat("Zhang Wei, Example GmbH. ", 1<<20/25), nil),
		"records":    listEnvelope("batch", records),
		"dense":      listEnvelope("", dense),
		"attributes": attrs,
	}
}

func listHandler(tb testing.TB, sec soap.Security) *soap.Handler {
	tb.Helper()
	h, err := soap.NewHandler(soap.Config{
		Operations: []soap.Operation{soap.Op(xml.Name{Space: "urn:example:limits", Local: "List"}, "",
			func(_ context.Context, r *listRequest) (*listResponse, error) {
				return &listResponse{Count: len(r.Items)}, nil
			})},
		Security:     sec,
		MaxBodyBytes: 8 << 20,
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// allocatedPerRequest serves each body once (after one warm-up) and returns
// the bytes allocated per request, from reading the body to the response.
func allocatedPerRequest(tb testing.TB, h http.Handler, bodies [][]byte) int64 {
	tb.Helper()
	post := func(body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/soap", bytes.NewReader(body))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && !strings.Contains(rec.Body.String(), "unexpected element") {
			tb.Fatalf("status %d: %.1000s", rec.Code, rec.Body)
		}
	}
	post(bodies[0])
	bodies = bodies[1:]
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, b := range bodies {
		post(b)
	}
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc-before.TotalAlloc) / int64(len(bodies))
}

// TestMemoryNeed measures the memory requests of each shape take, unsigned and
// signed, and fails when what the memory budget reserves for them
// (memoryNeed) no longer covers it. The numbers are in limits.go.
func TestMemoryNeed(t *testing.T) {
	if testing.Short() || soap.RaceEnabled {
		t.Skip("builds and signs several MiB of envelopes; the race detector changes what allocates")
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	key, cert := loadKeyPair(t, "client-ec")
	registry := wssec.NewRegistry([]wssec.RegisteredCert{{Name: "limits", Cert: cert, Enabled: true}}, nil)
	registry.Now = func() time.Time { return now }
	signer := &wssec.Signer{Key: key, Cert: cert, Now: func() time.Time { return now }}
	for name, env := range memoryShapes() {
		t.Run(name, func(t *testing.T) {
			n := 3
			if len(env) < 64<<10 {
				n = 50
			}
			unsignedBodies, signedBodies := make([][]byte, n), make([][]byte, n)
			for i := range n {
				unsignedBodies[i], signedBodies[i] = []byte(env), signEnvelope(t, signer, env)
			}
			verifier := wssec.NewVerifier(wssec.Config{Trust: registry, Now: func() time.Time { return now }})
			unsigned := allocatedPerRequest(t, listHandler(t, nil), unsignedBodies)
			signed := allocatedPerRequest(t, listHandler(t, verifier.SOAP()), signedBodies)
			needU, needS := soap.MemoryNeed(unsignedBodies[0]), soap.MemoryNeed(signedBodies[0])
			t.Logf("%s: unsigned %d B body, %d B allocated (%.1f per body byte), %d reserved; "+
				"signed %d B body, %d B allocated (%.1f per body byte), %d reserved",
				name, len(unsignedBodies[0]), unsigned, float64(unsigned)/float64(len(unsignedBodies[0])), needU,
				len(signedBodies[0]), signed, float64(signed)/float64(len(signedBodies[0])), needS)
			if unsigned > needU || signed > needS {
				t.Errorf("%s: allocated %d unsigned, %d signed; the budget reserves only %d and %d",
					name, unsigned, signed, needU, needS)
			}
		})
	}
}

func signEnvelope(tb testing.TB, s *wssec.Signer, env string) []byte {
	tb.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(env); err != nil {
		tb.Fatal(err)
	}
	if err := s.Sign(doc); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := doc.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
