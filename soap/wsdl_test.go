package soap

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// addresses returns the location of every soap:address and soap12:address, and
// of the http:address that must be left alone.
func addresses(tb testing.TB, wsdl []byte) (soapLocs []string, httpLoc string) {
	tb.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(wsdl); err != nil {
		tb.Fatalf("served WSDL does not parse: %v\n%s", err, wsdl)
	}
	for _, port := range doc.FindElements("//service/port") {
		a := port.SelectElement("address")
		switch a.NamespaceURI() {
		case wsdlSOAP11, wsdlSOAP12:
			soapLocs = append(soapLocs, a.SelectAttrValue("location", ""))
		default:
			httpLoc = a.SelectAttrValue("location", "")
		}
	}
	return soapLocs, httpLoc
}

func TestHandler_WSDL(t *testing.T) {
	plain := httptest.NewServer(newToyHandler(t, nil))
	defer plain.Close()
	trusting := httptest.NewServer(newToyHandler(t, func(c *Config) { c.TrustProxy = true }))
	defer trusting.Close()
	tlsSrv := httptest.NewTLSServer(newToyHandler(t, nil))
	defer tlsSrv.Close()

	plainHost := strings.TrimPrefix(plain.URL, "http://")
	tests := []struct {
		name    string
		srv     *httptest.Server
		path    string
		host    string
		headers map[string]string
		want    string
	}{
		{name: "ClientURL", srv: plain, path: "/soap?wsdl", want: plain.URL + "/soap"},
		{name: "UpperCaseQuery", srv: plain, path: "/soap?WSDL", want: plain.URL + "/soap"},
		{name: "OtherPath", srv: plain, path: "/api/v1/crm?wsdl", want: plain.URL + "/api/v1/crm"},
		{name: "HostHeader", srv: plain, path: "/soap?wsdl", host: "crm.example.com:8443",
			want: "http://crm.example.com:8443/soap"},
		{name: "TLS", srv: tlsSrv, path: "/soap?wsdl", want: tlsSrv.URL + "/soap"},
		{name: "ForwardedIgnored", srv: plain, path: "/soap?wsdl",
			headers: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
			want:    plain.URL + "/soap"},
		{name: "ForwardedTrusted", srv: trusting, path: "/soap?wsdl",
			headers: map[string]string{"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "crm.example.com, proxy.internal"},
			want:    "https://crm.example.com/soap"},
		{name: "ForwardedHostInjectionRefused", srv: trusting, path: "/soap?wsdl",
			headers: map[string]string{"X-Forwarded-Host": `evil"/><x a="`, "X-Forwarded-Proto": "javascript"},
			want:    trusting.URL + "/soap"},
		{name: "EscapedPath", srv: plain, path: "/a%20b&c?wsdl", want: "http://" + plainHost + "/a%20b&c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tt.srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := tt.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body bytes.Buffer
			if _, err := body.ReadFrom(resp.Body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/xml; charset=utf-8" {
				t.Fatalf("status %d, content type %q, want 200 text/xml; charset=utf-8", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			locs, httpLoc := addresses(t, body.Bytes())
			if len(locs) != 2 {
				t.Fatalf("%d SOAP addresses, want 2", len(locs))
			}
			for _, got := range locs {
				if got != tt.want {
					t.Errorf("address location %q, want %q", got, tt.want)
				}
			}
			if httpLoc != "http://localhost:8080/not-soap" {
				t.Errorf("http:address rewritten to %q, want it untouched", httpLoc)
			}
			doc := etree.NewDocument()
			_ = doc.ReadFromBytes(body.Bytes())
			const note = `The address below says location="http://localhost:8080/soap" & must be rewritten.`
			if got := doc.FindElement("//documentation").Text(); got != note {
				t.Errorf("documentation %q, want it untouched: %q", got, note)
			}
		})
	}
}

func TestHandler_WSDLNotConfigured(t *testing.T) {
	srv := httptest.NewServer(newToyHandler(t, func(c *Config) { c.WSDL = nil }))
	defer srv.Close()
	resp, _ := do(t, srv.Client(), http.MethodGet, srv.URL+"/soap?wsdl", "", "", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
}

func TestHandler_GetWithoutQuery(t *testing.T) {
	srv := httptest.NewServer(newToyHandler(t, nil))
	defer srv.Close()
	resp, body := do(t, srv.Client(), http.MethodGet, srv.URL+"/soap", "", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d %q, want 200 text/plain", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(body), "/soap?wsdl") {
		t.Errorf("info page %q does not point at the WSDL", body)
	}
}

func TestNewHandler_BadWSDL(t *testing.T) {
	for name, wsdl := range map[string]string{
		"NotXML":      "<definitions><oops></definitions>",
		"Placeholder": `<definitions><address location="` + locationMark + `"/></definitions>`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewHandler(toyConfig(t, func(c *Config) { c.WSDL = []byte(wsdl) })); err == nil {
				t.Error("NewHandler accepted a broken WSDL")
			}
		})
	}
}
