package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"math/big"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap/wssec"
	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

// caClient is a client key and certificate issued by a test CA, the certificate written as PEM.
type caClient struct {
	key     crypto.Signer
	cert    *x509.Certificate
	certPEM string
}

func issueClient(tb testing.TB, dir string, ca *x509.Certificate, caKey crypto.Signer, cn string, serial int64) caClient {
	tb.Helper()
	key, err := newKey(false)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"Acme"}},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	c := caClient{key: key, cert: cert, certPEM: filepath.Join(dir, cn+".cert.pem")}
	if err := writePEM(c.certPEM, "CERTIFICATE", der, 0o644); err != nil {
		tb.Fatal(err)
	}
	return c
}

// seedCustomers creates n customers (ids 1..n, named "Seeded 1" ...) in the database file db.
func seedCustomers(tb testing.TB, db string, n int) {
	tb.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, db, sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	for i := range n {
		if _, err := s.CreateCustomer(ctx, store.Customer{Name: "Seeded " + strconv.Itoa(i+1), CreatedAt: now, UpdatedAt: now}); err != nil {
			tb.Fatal(err)
		}
	}
}

// soap11 wraps body in a SOAP 1.1 envelope of the crm namespace.
func soap11(body string) []byte {
	return []byte(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:crm="urn:crmsoap:v1">` +
		`<soapenv:Header/><soapenv:Body>` + body + `</soapenv:Body></soapenv:Envelope>`)
}

func getCustomerXML(id int) []byte {
	return soap11(`<crm:GetCustomer><crm:id>` + strconv.Itoa(id) + `</crm:id></crm:GetCustomer>`)
}

func addCustomerXML(name string) []byte {
	return soap11(`<crm:AddCustomer><crm:customer><crm:name>` + name + `</crm:name></crm:customer></crm:AddCustomer>`)
}

// updateCustomerXML replaces customer id unconditionally (no expectedVersion).
func updateCustomerXML(id int, name string) []byte {
	return soap11(`<crm:UpdateCustomer><crm:id>` + strconv.Itoa(id) + `</crm:id><crm:customer><crm:name>` + name +
		`</crm:name></crm:customer></crm:UpdateCustomer>`)
}

// signedGet is a GetCustomer envelope signed now by key and cert (a fresh Timestamp: never a replay).
func signedGet(tb testing.TB, key crypto.Signer, cert *x509.Certificate) []byte {
	tb.Helper()
	return signEnvelope(tb, key, cert, getCustomerXML(1))
}

func signEnvelope(tb testing.TB, key crypto.Signer, cert *x509.Certificate, envelope []byte) []byte {
	tb.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(envelope); err != nil {
		tb.Fatal(err)
	}
	if err := (&wssec.Signer{Key: key, Cert: cert}).Sign(doc); err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := doc.WriteTo(&b); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// soapFault is the SOAP 1.1 fault of a response body: faultcode and faultstring; empty when none.
func soapFault(tb testing.TB, body []byte) (code, reason string) {
	tb.Helper()
	var env struct {
		Body struct {
			Fault struct {
				Code   string `xml:"faultcode"`
				Reason string `xml:"faultstring"`
			} `xml:"Fault"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(body, &env); err != nil {
		tb.Fatalf("response is not XML: %v\n%s", err, body)
	}
	return env.Body.Fault.Code, env.Body.Fault.Reason
}

// untilRefused sends freshly signed GetCustomer requests until one is refused (the reload interval is
// 100ms; 10 s is the limit) and returns that response's fault.
func untilRefused(tb testing.TB, url string, key crypto.Signer, cert *x509.Certificate) (code, reason string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _, body := post(tb, url, "text/xml; charset=utf-8", "", signedGet(tb, key, cert))
		if status != 200 {
			return soapFault(tb, body)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("still served 10 s after the change:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServe_RemovedCAClientIsRevoked: a client registered with a certificate issued by the --trust-ca CA
// is refused once removed. Before revocation existed it came back through the chain, named by its subject.
func TestServe_RemovedCAClientIsRevoked(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "crm.db")
	caFile, _, caCert, caTLS := tlsIdentity(t, dir, "crm-ca")
	warehouse := issueClient(t, dir, caCert, caTLS.PrivateKey.(crypto.Signer), "warehouse", 77)
	if out, err := run(t, "clients", "add", "--db", db, "--name", "warehouse", "--cert", warehouse.certPEM); err != nil {
		t.Fatalf("clients add: %v\n%s", err, out)
	}
	seedCustomers(t, db, 1)
	srv := startServer(t, db, "--trust-ca", caFile, "--clients-reload", "100ms")
	if status, _, body := post(t, srv.URL, "text/xml; charset=utf-8", "", signedGet(t, warehouse.key, warehouse.cert)); status != 200 {
		t.Fatalf("registered CA-issued client refused: %d\n%s", status, body)
	}
	if !srv.logs.waitFor(`"principal":"warehouse"`) {
		t.Fatalf("the request was not served as the registered client:\n%s", srv.logs.String())
	}

	out, err := run(t, "clients", "remove", "--db", db, "--reason", "contract ended", "warehouse")
	if err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("clients remove: %v\n%s", err, out)
	}
	code, reason := untilRefused(t, srv.URL, warehouse.key, warehouse.cert)
	if code != "wsse:FailedAuthentication" || reason != "certificate is revoked" {
		t.Fatalf("removed client: fault %s %q, want wsse:FailedAuthentication \"certificate is revoked\"", code, reason)
	}
	if strings.Contains(srv.logs.String(), `"principal":"CN=warehouse,O=Acme"`) {
		t.Errorf("the removed client was served under its subject name")
	}
	out, err = run(t, "clients", "list", "--db", db)
	if err != nil || !strings.Contains(out, "CN=warehouse,O=Acme") || !strings.Contains(out, "contract ended") ||
		!strings.Contains(out, "Revoked certificates") {
		t.Errorf("clients list does not show the revocation: %v\n%s", err, out)
	}
	if out, err := run(t, "clients", "add", "--db", db, "--name", "warehouse-2", "--cert", warehouse.certPEM); err == nil ||
		!strings.Contains(out, "revoked") {
		t.Errorf("a revoked certificate was registered again: %v\n%s", err, out)
	}

	// A restarted server reads the revocation at start, before its first request.
	srv.stop(t)
	srv = startServer(t, db, "--trust-ca", caFile)
	status, _, body := post(t, srv.URL, "text/xml; charset=utf-8", "", signedGet(t, warehouse.key, warehouse.cert))
	if code, _ := soapFault(t, body); status != 500 || code != "wsse:FailedAuthentication" {
		t.Fatalf("after restart: %d %s\n%s", status, code, body)
	}
}

// TestServe_RevokeCAIssuedCertificate: `clients revoke --cert` refuses a CA-issued certificate that was
// never registered, in a running server after its next registry reload; other CA clients stay in.
func TestServe_RevokeCAIssuedCertificate(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "crm.db")
	caFile, _, caCert, caTLS := tlsIdentity(t, dir, "crm-ca")
	caKey := caTLS.PrivateKey.(crypto.Signer)
	lost := issueClient(t, dir, caCert, caKey, "laptop", 1001)
	other := issueClient(t, dir, caCert, caKey, "desktop", 1002)
	seedCustomers(t, db, 1)
	srv := startServer(t, db, "--trust-ca", caFile, "--clients-reload", "100ms")
	for _, c := range []caClient{lost, other} {
		if status, _, body := post(t, srv.URL, "text/xml; charset=utf-8", "", signedGet(t, c.key, c.cert)); status != 200 {
			t.Fatalf("%s before revocation: %d\n%s", c.cert.Subject, status, body)
		}
	}
	out, err := run(t, "clients", "revoke", "--db", db, "--cert", lost.certPEM, "--reason", "laptop stolen")
	if err != nil || !strings.Contains(out, "serial 1001") {
		t.Fatalf("clients revoke: %v\n%s", err, out)
	}
	code, reason := untilRefused(t, srv.URL, lost.key, lost.cert)
	if code != "wsse:FailedAuthentication" || reason != "certificate is revoked" {
		t.Fatalf("revoked certificate: fault %s %q", code, reason)
	}
	if status, _, body := post(t, srv.URL, "text/xml; charset=utf-8", "", signedGet(t, other.key, other.cert)); status != 200 {
		t.Errorf("another CA client is refused: %d\n%s", status, body)
	}
	if out, err := run(t, "clients", "revoke", "--db", db, "--cert", lost.certPEM); err == nil || !strings.Contains(out, "already") {
		t.Errorf("revoking twice: %v\n%s", err, out)
	}
	out, err = run(t, "clients", "list", "--db", db)
	if err != nil || !strings.Contains(out, "CN=laptop,O=Acme") || !strings.Contains(out, "laptop stolen") {
		t.Errorf("clients list: %v\n%s", err, out)
	}
}
