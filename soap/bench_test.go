package soap

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func benchRequest(b *testing.B, h http.Handler, dir string, wantStatus int) {
	body, err := os.ReadFile(filepath.Join("..", "testdata", dir, "request.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/soap", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct11)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != wantStatus {
			b.Fatalf("status %d, want %d:\n%s", rec.Code, wantStatus, rec.Body)
		}
	}
}

// BenchmarkServeHTTP_Echo measures a full request: token pass, tree, envelope
// checks, strict decode, dispatch, response marshalling.
func BenchmarkServeHTTP_Echo(b *testing.B) {
	benchRequest(b, newToyHandler(b, nil), "soap/echo-11", http.StatusOK)
}

// BenchmarkFault measures writing a fault envelope alone, and a whole request
// that ends in a validation fault.
func BenchmarkFault(b *testing.B) {
	b.Run("Write", func(b *testing.B) {
		h := newToyHandler(b, nil)
		f, _ := h.faultFor(&Error{Code: CodeValidationFailed, Message: `count: "abc" is not a valid integer`, Field: "count"})
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := writeFaultEnvelope(&buf, V12, &f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ServeHTTP", func(b *testing.B) {
		benchRequest(b, newToyHandler(b, nil), "faults/non-numeric-int", http.StatusInternalServerError)
	})
}
