package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/soap/wssec"
	"github.com/crmsoap/crmsoap/wsdl"
)

// waitMetric waits until /metrics of the server's admin listener contains
// want: a request is counted after its response has gone out.
func waitMetric(tb testing.TB, s *server, want string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, body := getURL(tb, s.Admin+"/metrics")
		if strings.Contains(string(body), want) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("/metrics never showed %q:\n%s", want, grepLines(string(body), "crmsoap_"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServe_PreAuthFaultsAreNotSigned: with --sign-key, a 4-byte garbage
// request and a request signed by an unknown certificate cost no signature
// (counted by crmsoap_responses_signed_total); the SDK and `crmsoap call`
// with --server-cert report such a fault as unsigned; an authenticated call
// is signed and verified.
func TestServe_PreAuthFaultsAreNotSigned(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "crm.db")
	erp, server := newIdentity(t, dir, "erp", time.Hour), newIdentity(t, dir, "server", time.Hour)
	stranger := newIdentity(t, dir, "stranger", time.Hour)
	registerClient(t, db, erp, true)
	srv := startServer(t, db, "--sign-key", server.keyPEM, "--sign-cert", server.certPEM)
	ctx := waitCtx(t)

	status, _, body := post(t, srv.URL, "text/xml; charset=utf-8", "", []byte("abcd"))
	if status != http.StatusInternalServerError || strings.Contains(string(body), "Signature") {
		t.Errorf("garbage: status %d, want 500 and an unsigned fault:\n%s", status, body)
	}
	_, err := signedClient(srv.URL, &wssec.Signer{Key: stranger.key, Cert: stranger.cert}, server.cert).
		GetCustomerContext(ctx, &wsdl.GetCustomer{Id: 1})
	var uf *wssec.UnsignedFaultError
	if !errors.As(err, &uf) || !strings.Contains(uf.Code, "FailedAuthentication") || uf.String == "" {
		t.Errorf("unknown certificate through the SDK with the server certificate: %v, want an unsigned FailedAuthentication fault", err)
	}
	out, err := run(t, "call", "--url", srv.URL, "--key", stranger.keyPEM, "--cert", stranger.certPEM,
		"--server-cert", server.certPEM, "GetCustomer", "id=1")
	if err == nil || !strings.Contains(out, "UNAUTHORIZED") || !strings.Contains(out, "NOT signed by the server") {
		t.Errorf("crmsoap call with an unknown certificate: %v\n%s\nwant UNAUTHORIZED marked as NOT signed by the server", err, out)
	}
	waitMetric(t, srv, `crmsoap_requests_total{operation="none",outcome="UNAUTHORIZED"} 2`)
	waitMetric(t, srv, `crmsoap_requests_total{operation="none",outcome="MALFORMED_REQUEST"} 1`)
	waitMetric(t, srv, "crmsoap_responses_signed_total 0")

	c := signedClient(srv.URL, &wssec.Signer{Key: erp.key, Cert: erp.cert}, server.cert)
	if _, err := c.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: 4242}); err == nil || errors.As(err, &uf) {
		t.Errorf("authenticated GetCustomer of a missing id: %v, want a signed NOT_FOUND fault", err)
	} else if f := faultOf(t, err); *f.Code != wsdl.FaultCodeNOT_FOUND {
		t.Errorf("authenticated GetCustomer of a missing id: %s, want NOT_FOUND", *f.Code)
	}
	if _, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "Signed"}}); err != nil {
		t.Errorf("authenticated AddCustomer: %v", err)
	}
	waitMetric(t, srv, "crmsoap_responses_signed_total 2")
}

// TestServe_UploadLimits: with --max-inflight 2, two connections idling in
// their bodies leave a whole request served; they are cut with 408 once
// below --min-upload-rate after --upload-grace.
func TestServe_UploadLimits(t *testing.T) {
	srv := startDevServer(t, "", "--max-inflight", "2", "--max-uploads", "8",
		"--min-upload-rate", "1000", "--upload-grace", "300ms", "--memory-budget", "268435456")
	host := strings.TrimPrefix(strings.TrimSuffix(srv.URL, soapPath), "http://")
	var conns []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<", soapPath)
		conns = append(conns, c)
	}
	waitMetric(t, srv, "crmsoap_requests_in_flight 2") // both are in the handler, reading their bodies
	if _, err := srv.client().GetCustomerContext(waitCtx(t), &wsdl.GetCustomer{Id: 1}); err == nil {
		t.Errorf("GetCustomer of a missing id succeeded")
	} else if f := faultOf(t, err); *f.Code != wsdl.FaultCodeNOT_FOUND {
		t.Errorf("GetCustomer beside two idle uploads: %s, want NOT_FOUND (served, not shed)", *f.Code)
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("idle upload %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("idle upload %d: status %d, want 408", i, resp.StatusCode)
		}
	}
}
