package wssec

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/soap"
)

type ping struct {
	XMLName xml.Name `xml:"urn:crmsoap:test Ping"`
	Text    string   `xml:"Text"`
}

type pingResponse struct {
	XMLName xml.Name `xml:"urn:crmsoap:test PingResponse"`
	Client  string   `xml:"client"`
	Text    string   `xml:"text"`
}

// securedServer is a real HTTP server with a soap.Handler secured by a Verifier and signing its responses
// with the server key; calls counts the operations actually run.
func securedServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	op := soap.Op(xml.Name{Space: "urn:crmsoap:test", Local: "Ping"}, "urn:crmsoap:test#Ping",
		func(ctx context.Context, req *ping) (*pingResponse, error) {
			calls.Add(1)
			return &pingResponse{Client: soap.PrincipalFrom(ctx), Text: req.Text}, nil
		})
	h, err := soap.NewHandler(soap.Config{
		Operations:   []soap.Operation{op},
		Security:     testVerifier(t, nil).SOAP(),
		SignResponse: testSigner(t, "server").Sign,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, &calls
}

func post(t *testing.T, srv *httptest.Server, soap12 bool, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if soap12 {
		req.Header.Set("Content-Type", `application/soap+xml; charset=utf-8; action="urn:crmsoap:test#Ping"`)
	} else {
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.Header.Set("SOAPAction", `"urn:crmsoap:test#Ping"`)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestSOAP_SignedRequestAndResponse(t *testing.T) {
	for _, tt := range []struct {
		name     string
		soap12   bool
		envelope string
		key      string
		client   string
	}{
		{"SOAP11/RSA", false, soap11Envelope, "client-rsa", "acme-rsa"},
		{"SOAP12/ECDSA", true, soap12Envelope, "client-ec", "acme-ec"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := securedServer(t)
			status, body := post(t, srv, tt.soap12, signed(t, tt.envelope, tt.key))
			if status != http.StatusOK {
				t.Fatalf("status = %d, body %s", status, body)
			}
			// The server signs at the frozen test clock.
			respBody, err := VerifyResponse(parseDoc(t, body), loadKey(t, "server").cert, testNow.Add(time.Second))
			if err != nil {
				t.Fatalf("VerifyResponse: %v\n%s", err, body)
			}
			if got := find(respBody, "client"); got == nil || got.Text() != tt.client {
				t.Errorf("operation saw principal %v, want %q", got, tt.client)
			}
			if calls.Load() != 1 {
				t.Errorf("operation ran %d times, want 1", calls.Load())
			}
		})
	}
}

func TestSOAP_Refusals(t *testing.T) {
	wrapped := func(t *testing.T) string {
		doc := parseDoc(t, signed(t, soap11Envelope, "client-rsa"))
		body := bodyOf(doc)
		doc.Root().RemoveChild(body)
		w := find(doc.Root(), "Header").CreateElement("w:Wrapper")
		w.CreateAttr("xmlns:w", "urn:evil")
		w.CreateAttr("soapenv:mustUnderstand", "0")
		w.AddChild(body)
		doc.Root().CreateElement("soapenv:Body").CreateElement("m:Ping").CreateElement("m:Text").SetText("evil")
		return docString(t, doc)
	}
	for _, tt := range []struct {
		name    string
		request func(t *testing.T) string
		subcode string
		reason  string
	}{
		{"Unsigned", func(t *testing.T) string { return soap11Envelope }, "InvalidSecurity", "missing wsse:Security header"},
		{"UnknownCertificate", func(t *testing.T) string { return signed(t, soap11Envelope, "unregistered") }, "FailedAuthentication", "unknown certificate"},
		{"Wrapping", wrapped, "InvalidSecurity", "body is not signed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := securedServer(t)
			status, body := post(t, srv, false, tt.request(t))
			if status != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", status)
			}
			if !strings.Contains(body, ":"+tt.subcode+"</faultcode>") || !strings.Contains(body, tt.reason) {
				t.Errorf("fault does not carry wsse:%s %q:\n%s", tt.subcode, tt.reason, body)
			}
			if calls.Load() != 0 {
				t.Errorf("operation ran %d times on a refused request", calls.Load())
			}
		})
	}
	t.Run("Replay", func(t *testing.T) {
		srv, calls := securedServer(t)
		msg := signed(t, soap11Envelope, "client-rsa")
		if status, body := post(t, srv, false, msg); status != http.StatusOK {
			t.Fatalf("first: %d %s", status, body)
		}
		status, body := post(t, srv, false, msg)
		if status != http.StatusInternalServerError || !strings.Contains(body, "message replayed") {
			t.Errorf("replay: %d %s", status, body)
		}
		if calls.Load() != 1 {
			t.Errorf("operation ran %d times, want 1", calls.Load())
		}
	})
}
