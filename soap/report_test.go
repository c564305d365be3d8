package soap

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

type partial struct {
	XMLName xml.Name `xml:"urn:example:toy Partial"`
}

type partialResponse struct {
	XMLName xml.Name `xml:"urn:example:toy PartialResponse"`
}

// TestReportInternal checks an internal failure an operation answers without a
// fault is logged once, with the request id, and stays off the wire.
func TestReportInternal(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	h := newToyHandler(t, func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
		c.Operations = append(c.Operations, Op(xml.Name{Space: toyNS, Local: "Partial"}, toyNS+"#Partial",
			func(ctx context.Context, _ *partial) (*partialResponse, error) {
				ReportInternal(ctx, errors.New("disk on fire"))
				return &partialResponse{}, nil
			}))
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, body := do(t, srv.Client(), "POST", srv.URL, ct11, "",
		[]byte(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><t:Partial xmlns:t="urn:example:toy"/></soap:Body></soap:Envelope>`))
	if resp.StatusCode != 200 || strings.Contains(string(body), "fire") {
		t.Fatalf("HTTP %d\n%s", resp.StatusCode, body)
	}
	ReportInternal(context.Background(), errors.New("outside a request")) // no handler: nothing, no panic
	mu.Lock()
	defer mu.Unlock()
	var found int
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		if m["err"] == "disk on fire" {
			found++
			if m["request_id"] != resp.Header.Get("X-Request-Id") || m["op"] != "Partial" || m["level"] != "ERROR" {
				t.Errorf("log line %v: want the request id %q, op Partial, level ERROR", m, resp.Header.Get("X-Request-Id"))
			}
		}
	}
	if found != 1 {
		t.Errorf("the failure was logged %d times, want once:\n%s", found, buf.String())
	}
}
