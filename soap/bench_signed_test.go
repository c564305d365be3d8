package soap_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap"
	"github.com/crmsoap/crmsoap/soap/wssec"
)

// The benchmark's operation: a lookup with a small response, like GetCustomer.
type benchGet struct {
	XMLName xml.Name `xml:"urn:example:bench Get"`
	ID      int64    `xml:"id"`
}

type benchGetResponse struct {
	XMLName xml.Name `xml:"urn:example:bench GetResponse"`
	ID      int64    `xml:"id"`
	Name    string   `xml:"name"`
	Email   string   `xml:"email"`
	Caller  string   `xml:"caller"`
}

const benchEnvelope = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>` +
	`<b:Get xmlns:b="urn:example:bench"><b:id>7</b:id></b:Get></soap:Body></soap:Envelope>`

func loadKeyPair(tb testing.TB, name string) (crypto.Signer, *x509.Certificate) {
	tb.Helper()
	read := func(suffix string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "wssec", "keys", name+suffix))
		if err != nil {
			tb.Fatal(err)
		}
		block, _ := pem.Decode(b)
		if block == nil {
			tb.Fatalf("%s%s: no PEM block", name, suffix)
		}
		return block.Bytes
	}
	key, err := x509.ParsePKCS8PrivateKey(read(".key.pem"))
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(read(".crt.pem"))
	if err != nil {
		tb.Fatal(err)
	}
	return key.(crypto.Signer), cert
}

// BenchmarkServeHTTP_Signed measures a WS-Security signed request (ECDSA
// P-256, BinarySecurityToken, exclusive c14n) verified by wssec on the tree the
// handler parsed, with and without a signed response (RSA-2048). Every request
// is distinct, as the replay cache demands: they are signed in batches, off
// the clock.
func BenchmarkServeHTTP_Signed(b *testing.B) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clientKey, clientCert := loadKeyPair(b, "client-ec")
	serverKey, serverCert := loadKeyPair(b, "server")
	registry := wssec.NewRegistry([]wssec.RegisteredCert{{Name: "bench", Cert: clientCert, Enabled: true}}, nil)
	registry.Now = func() time.Time { return now }
	client := &wssec.Signer{Key: clientKey, Cert: clientCert, Now: func() time.Time { return now }}
	server := &wssec.Signer{Key: serverKey, Cert: serverCert, Now: func() time.Time { return now }}

	for _, signResponse := range []bool{false, true} {
		name := "Request"
		if signResponse {
			name = "RequestAndResponse"
		}
		b.Run(name, func(b *testing.B) {
			verifier := wssec.NewVerifier(wssec.Config{Trust: registry, Now: func() time.Time { return now }})
			cfg := soap.Config{
				Operations: []soap.Operation{soap.Op(xml.Name{Space: "urn:example:bench", Local: "Get"}, "urn:example:bench#Get",
					func(ctx context.Context, r *benchGet) (*benchGetResponse, error) {
						return &benchGetResponse{ID: r.ID, Name: "Ada Lovelace", Email: "ada@example.com", Caller: soap.PrincipalFrom(ctx)}, nil
					})},
				Security: verifier.SOAP(),
				Logger:   slog.New(slog.DiscardHandler),
			}
			if signResponse {
				cfg.SignResponse = server.Sign
			}
			h, err := soap.NewHandler(cfg)
			if err != nil {
				b.Fatal(err)
			}
			var batch [][]byte
			b.ReportAllocs()
			for b.Loop() {
				if len(batch) == 0 {
					b.StopTimer()
					batch = signBatch(b, client, 64)
					b.StartTimer()
				}
				body := batch[0]
				batch = batch[1:]
				req := httptest.NewRequest(http.MethodPost, "/soap", bytes.NewReader(body))
				req.Header.Set("Content-Type", "text/xml; charset=utf-8")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<caller>bench</caller>") ||
					signResponse != strings.Contains(rec.Body.String(), "SignatureValue") {
					b.Fatalf("status %d:\n%s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// signBatch signs n copies of the envelope; each gets its own Timestamp and
// signature, so none is a replay of another.
func signBatch(tb testing.TB, s *wssec.Signer, n int) [][]byte {
	tb.Helper()
	out := make([][]byte, n)
	for i := range out {
		doc := etree.NewDocument()
		if err := doc.ReadFromString(benchEnvelope); err != nil {
			tb.Fatal(err)
		}
		if err := s.Sign(doc); err != nil {
			tb.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := doc.WriteTo(&buf); err != nil {
			tb.Fatal(err)
		}
		out[i] = buf.Bytes()
	}
	return out
}
