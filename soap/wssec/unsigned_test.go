package wssec

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	fault11 = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>` +
		`<faultcode>soap:Client</faultcode><faultstring>XML syntax error` + "\t" + `at line 1</faultstring>` +
		`<detail><CrmFault xmlns="urn:crmsoap:v1"><code>MALFORMED_REQUEST</code></CrmFault></detail></soap:Fault></soap:Body></soap:Envelope>`
	fault12 = `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault>` +
		`<env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value xmlns:wsse="` + NamespaceWSSE + `">wsse:FailedAuthentication</env:Value></env:Subcode></env:Code>` +
		`<env:Reason><env:Text xml:lang="en">the certificate is not registered</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`
	response11 = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>` +
		`<m:PingResponse xmlns:m="urn:crmsoap:test"/></soapenv:Body></soapenv:Envelope>`
)

// TestClientTransport_UnsignedFaults: with ServerCert, a fault without any
// signature comes back as an *UnsignedFaultError carrying its code and text;
// an unsigned response, a fault with a signature that does not verify, and a
// fault signed by another key are refused as before; a signed fault passes.
func TestClientTransport_UnsignedFaults(t *testing.T) {
	server := loadKey(t, "server")
	serverSigned := func(env string) string { return signed(t, env, "server") }
	forged := strings.Replace(serverSigned(fault11), "XML syntax error", "forged text", 1)
	for _, c := range []struct {
		name, body   string
		status       int
		wantCode     string
		wantString   string
		wantSigError bool
	}{
		{name: "Fault11", body: fault11, status: 500, wantCode: "soap:Client", wantString: "XML syntax error at line 1"},
		{name: "Fault12", body: fault12, status: 400, wantCode: "env:Sender/wsse:FailedAuthentication",
			wantString: "the certificate is not registered"},
		{name: "UnsignedResponse", body: response11, status: 200, wantSigError: true},
		{name: "UnsignedResponseWith500", body: response11, status: 500, wantSigError: true},
		{name: "FaultWithBadSignature", body: forged, status: 500, wantSigError: true},
		{name: "FaultSignedByAnother", body: signed(t, fault11, "client-rsa"), status: 500, wantSigError: true},
		{name: "SignedFault", body: serverSigned(fault11), status: 500},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			}))
			defer srv.Close()
			tr := &ClientTransport{ServerCert: server.cert, Now: func() time.Time { return testNow }}
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(soap11Envelope))
			resp, err := tr.Do(req)
			var uf *UnsignedFaultError
			switch {
			case c.wantSigError:
				if err == nil || errors.As(err, &uf) || !strings.Contains(err.Error(), "signature") {
					t.Errorf("got %v, want a signature error", err)
				}
			case c.wantCode != "":
				if !errors.As(err, &uf) {
					t.Fatalf("got %v, want an *UnsignedFaultError", err)
				}
				if uf.StatusCode != c.status || uf.Code != c.wantCode || uf.String != c.wantString || string(uf.Body) != c.body {
					t.Errorf("got %d %q %q, want %d %q %q", uf.StatusCode, uf.Code, uf.String, c.status, c.wantCode, c.wantString)
				}
				if !strings.Contains(err.Error(), "NOT signed") || !strings.Contains(err.Error(), c.wantCode) {
					t.Errorf("message %q does not say the fault is unsigned and give its code", err)
				}
			default:
				if err != nil {
					t.Fatalf("signed fault refused: %v", err)
				}
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != c.status || !strings.Contains(string(b), "XML syntax error") {
					t.Errorf("signed fault passed as %d %s", resp.StatusCode, b)
				}
			}
		})
	}
}
