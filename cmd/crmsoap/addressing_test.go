package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

const (
	ct11 = "text/xml; charset=utf-8"
	ct12 = "application/soap+xml; charset=utf-8"
	ns12 = "http://www.w3.org/2003/05/soap-envelope"
	ns11 = "http://schemas.xmlsoap.org/soap/envelope/"
)

// envelope wraps body (and header blocks) in a SOAP envelope of namespace ns.
func envelope(ns, header, body string) []byte {
	return fmt.Appendf(nil, `<e:Envelope xmlns:e=%q xmlns:wsa="http://www.w3.org/2005/08/addressing" `+
		`xmlns:c="urn:crmsoap:v1"><e:Header>%s</e:Header><e:Body>%s</e:Body></e:Envelope>`, ns, header, body)
}

// elementText is the text of the first element named local (any namespace), "" when none.
func elementText(tb testing.TB, doc []byte, local string) string {
	tb.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		tb.Fatalf("response is not XML: %v\n%s", err, doc)
	}
	if e := d.FindElement("//" + local); e != nil {
		return e.Text()
	}
	return ""
}

// TestServe_ActionsOfGeneratedClients sends what the generated clients send:
// KDSoap's bare action parameter, gSOAP's WS-Addressing default actions, WCF's
// wsa headers, and checks what comes back from the real binary.
func TestServe_ActionsOfGeneratedClients(t *testing.T) {
	srv := startDevServer(t, "")
	add := `<c:AddCustomer><c:customer><c:name>王秀英 🚀</c:name></c:customer></c:AddCustomer>`
	status, _, resp := post(t, srv.URL, "application/soap+xml;charset=utf-8;action=urn:crmsoap:v1#AddCustomer", "",
		envelope(ns12, "", add))
	if status != http.StatusOK || elementText(t, resp, "name") != "王秀英 🚀" {
		t.Fatalf("bare action: HTTP %d\n%s", status, resp)
	}
	id := elementText(t, resp, "id")
	get := `<c:GetCustomer><c:id>` + id + `</c:id></c:GetCustomer>`

	for _, action := range []string{"urn:crmsoap:v1/CrmPortType/GetCustomer", "urn:crmsoap:v1/CrmPortType/GetCustomerRequest"} {
		status, _, resp = post(t, srv.URL, ct12+`; action="`+action+`"`, "", envelope(ns12, "", get))
		if status != http.StatusOK || elementText(t, resp, "id") != id {
			t.Errorf("action %s: HTTP %d\n%s", action, status, resp)
		}
		status, _, resp = post(t, srv.URL, ct11, `"`+action+`"`, envelope(ns11, "", get))
		if status != http.StatusOK {
			t.Errorf("SOAPAction %s: HTTP %d\n%s", action, status, resp)
		}
	}

	status, _, resp = post(t, srv.URL, ct12+"; action=urn:crmsoap:v1#DeleteCustomer", "", envelope(ns12, "", get))
	want := `the action parameter of the Content-Type "urn:crmsoap:v1#DeleteCustomer" does not match the body element ` +
		`GetCustomer: expected "urn:crmsoap:v1#GetCustomer", "urn:crmsoap:v1/CrmPortType/GetCustomer" or ` +
		`"urn:crmsoap:v1/CrmPortType/GetCustomerRequest"`
	if status != http.StatusBadRequest || elementText(t, resp, "message") != want {
		t.Errorf("disagreeing action: HTTP %d, message %q\nwant 400 %q", status, elementText(t, resp, "message"), want)
	}

	wsa := `<wsa:Action e:mustUnderstand="1">urn:crmsoap:v1#GetCustomer</wsa:Action>` +
		`<wsa:MessageID>urn:uuid:5a1e0c3e-4c55-4a3c-9a53-6f1f2a3b4c5d</wsa:MessageID>` +
		`<wsa:To e:mustUnderstand="1">` + srv.URL + `</wsa:To>`
	status, _, resp = post(t, srv.URL, ct12+`; action="urn:crmsoap:v1#GetCustomer"`, "", envelope(ns12, wsa, get))
	if status != http.StatusOK || elementText(t, resp, "RelatesTo") != "urn:uuid:5a1e0c3e-4c55-4a3c-9a53-6f1f2a3b4c5d" ||
		elementText(t, resp, "Action") != "urn:crmsoap:v1#GetCustomerResponse" {
		t.Errorf("wsa:MessageID: HTTP %d, want 200 with RelatesTo and the reply's Action\n%s", status, resp)
	}
	wrong := strings.Replace(wsa, "#GetCustomer<", "#AddCustomer<", 1)
	status, _, resp = post(t, srv.URL, ct11, "", envelope(ns11, wrong, get))
	if status != http.StatusInternalServerError || !strings.HasPrefix(elementText(t, resp, "message"),
		`the header wsa:Action "urn:crmsoap:v1#AddCustomer" does not match the body element GetCustomer`) ||
		elementText(t, resp, "RelatesTo") == "" {
		t.Errorf("disagreeing wsa:Action: HTTP %d\n%s", status, resp)
	}
}

// TestServe_SOAP12SenderStatus checks the largest xs:long id is a NOT_FOUND
// Sender fault, HTTP 400 by default and 500 with --soap12-sender-status 500.
func TestServe_SOAP12SenderStatus(t *testing.T) {
	get := envelope(ns12, "", `<c:GetCustomer><c:id>9223372036854775807</c:id></c:GetCustomer>`)
	for _, tc := range []struct {
		args   []string
		status int
	}{
		{nil, http.StatusBadRequest},
		{[]string{"--soap12-sender-status", "500"}, http.StatusInternalServerError},
	} {
		srv := startDevServer(t, "", tc.args...)
		status, _, resp := post(t, srv.URL, ct12, "", get)
		if status != tc.status || elementText(t, resp, "code") != "NOT_FOUND" || elementText(t, resp, "Value") != "env:Sender" {
			t.Errorf("%v: HTTP %d, want %d with a Sender NOT_FOUND fault\n%s", tc.args, status, tc.status, resp)
		}
		srv.stop(t)
	}
}
