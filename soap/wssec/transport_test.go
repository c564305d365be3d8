package wssec

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// captureDoer keeps the request body it is given and answers 200 with an empty body.
type captureDoer struct{ body []byte }

func (c *captureDoer) Do(r *http.Request) (*http.Response, error) {
	c.body, _ = io.ReadAll(r.Body)
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(""))}, nil
}

// TestClientTransport_SignsWhatItParses: the request the transport signs
// (read with the request parser, a byte order mark and an XML declaration
// allowed; or, for an undeclared prefix that parser refuses, with etree's)
// verifies on the server side with its text intact.
func TestClientTransport_SignsWhatItParses(t *testing.T) {
	body := `<soapenv:Body><m:Ping><m:name>客户 1 😀, &#34;Ltd&#34; &amp; tab&#x9;</m:name></m:Ping></soapenv:Body></soapenv:Envelope>`
	open := `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:crmsoap:test">`
	for _, c := range []struct{ name, envelope string }{
		{"Plain", open + body},
		{"BOMAndDeclaration", "\xef\xbb\xbf" + `<?xml version="1.0" encoding="UTF-8"?>` + open + body},
		{"UndeclaredPrefix", open + `<soapenv:Header><x:Extra>1</x:Extra></soapenv:Header>` + body},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := &captureDoer{}
			s := testSigner(t, "client-rsa")
			tr := &ClientTransport{Next: d, Signer: s}
			req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(c.envelope))
			if _, err := tr.Do(req); err != nil {
				t.Fatalf("sign: %v", err)
			}
			if !bytes.Contains(d.body, []byte("客户 1 😀, \"Ltd\" &amp; tab\t</m:name>")) {
				t.Errorf("signed request lost its text:\n%s", d.body)
			}
			if c.name == "UndeclaredPrefix" {
				if !bytes.Contains(d.body, []byte("<ds:SignatureValue>")) {
					t.Errorf("not signed:\n%s", d.body)
				}
				return // the verifier rightly refuses an undeclared prefix
			}
			if _, err := testVerifier(t, nil).Verify(parseDoc(t, string(bytes.TrimPrefix(d.body, utf8BOM)))); err != nil {
				t.Fatalf("signed request does not verify: %v\n%s", err, d.body)
			}
		})
	}
}

// TestClientTransport_ResponseWithDoctypeRefused: a response is read with the
// request parser, so a DOCTYPE (entity expansion) is refused before any
// signature check, and nothing of it reaches the caller.
func TestClientTransport_ResponseWithDoctypeRefused(t *testing.T) {
	body := `<!DOCTYPE x [<!ENTITY a "aaaa">]>` + response11
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	tr := &ClientTransport{ServerCert: loadKey(t, "server").cert, Now: func() time.Time { return testNow }}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(soap11Envelope))
	resp, err := tr.Do(req)
	if resp != nil || err == nil || !strings.Contains(err.Error(), "wssec: response (HTTP 200) is not XML") ||
		!strings.Contains(err.Error(), "DOCTYPE") {
		t.Fatalf("got %v, %v; want the response refused as not XML for its DOCTYPE", resp, err)
	}
}
