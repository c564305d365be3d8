package soap

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHandler_AddressingWithoutSecurity checks the wsa headers marked
// mustUnderstand are understood by the handler itself, not by a Security hook.
func TestHandler_AddressingWithoutSecurity(t *testing.T) {
	srv := httptest.NewServer(newToyHandler(t, func(c *Config) { c.Security = nil }))
	defer srv.Close()
	body, err := os.ReadFile(filepath.Join("..", "testdata", "soap", "echo-wsa-messageid-12", "request.xml"))
	if err != nil {
		t.Fatal(err)
	}
	resp, b := do(t, srv.Client(), http.MethodPost, srv.URL, ct12, "", body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "<wsa:RelatesTo") {
		t.Errorf("HTTP %d, want 200 with wsa:RelatesTo\n%s", resp.StatusCode, b)
	}
}

// TestHandler_SenderStatus12 checks Config.SenderStatus12 changes the status of
// SOAP 1.2 Sender faults only: not SOAP 1.1, not Receiver faults, not a 415.
func TestHandler_SenderStatus12(t *testing.T) {
	srv := httptest.NewServer(newToyHandler(t, func(c *Config) { c.SenderStatus12 = http.StatusInternalServerError }))
	defer srv.Close()
	for _, tc := range []struct {
		dir, contentType string
		status           int
	}{
		{"fault-client-12", ct12, http.StatusInternalServerError},
		{"unknown-operation-12", ct12, http.StatusInternalServerError},
		{"fault-server-12", ct12, http.StatusInternalServerError},
		{"fault-client-11", ct11, http.StatusInternalServerError},
		{"content-type-bad-parameters-12", `application/soap+xml; action="x`, http.StatusUnsupportedMediaType},
	} {
		body, err := os.ReadFile(filepath.Join("..", "testdata", "faults", tc.dir, "request.xml"))
		if err != nil {
			t.Fatal(err)
		}
		resp, b := do(t, srv.Client(), http.MethodPost, srv.URL, tc.contentType, "", body)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: HTTP %d, want %d\n%s", tc.dir, resp.StatusCode, tc.status, b)
		}
	}
}
