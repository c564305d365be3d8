package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math/big"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap/wssec"
	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/wsdl"
	gowsdlsoap "github.com/hooklift/gowsdl/soap"
	_ "github.com/mattn/go-sqlite3"
)

// identity is a key pair with its self-signed certificate, written as PEM files.
type identity struct {
	key             crypto.Signer
	cert            *x509.Certificate
	keyPEM, certPEM string
	name            string
}

func newIdentity(tb testing.TB, dir, name string, validity time.Duration) identity {
	tb.Helper()
	key, err := newKey(false)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := selfSigned(key, name, validity)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	id := identity{key: key, cert: cert, name: name,
		keyPEM: filepath.Join(dir, name+".key.pem"), certPEM: filepath.Join(dir, name+".cert.pem")}
	if err := writePEM(id.keyPEM, "PRIVATE KEY", keyDER, 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := writePEM(id.certPEM, "CERTIFICATE", der, 0o644); err != nil {
		tb.Fatal(err)
	}
	return id
}

// registerClient stores a client directly, bypassing the CLI's checks.
func registerClient(tb testing.TB, db string, id identity, enabled bool) {
	tb.Helper()
	s, err := openDB(context.Background(), db)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	if err := s.AddClient(context.Background(), store.Client{Name: id.name, CertDER: id.cert.Raw, Enabled: enabled, CreatedAt: time.Now().UTC()}); err != nil {
		tb.Fatal(err)
	}
}

// run runs the crmsoap binary and returns its combined output.
func run(tb testing.TB, args ...string) (string, error) {
	tb.Helper()
	out, err := exec.Command(binary, args...).CombinedOutput()
	return string(out), err
}

// dbState is what an attack must not change: customers and the change log.
func dbState(tb testing.TB, db string) string {
	tb.Helper()
	if isPostgres(db) {
		return pgState(tb, db)
	}
	conn, err := sql.Open("sqlite3", "file:"+db+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	var customers, changes int
	var names sql.NullString
	err = conn.QueryRow(`SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM changes),
		(SELECT group_concat(name || ':' || version, ',') FROM customers)`).Scan(&customers, &changes, &names)
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("%d customers (%s), %d changes", customers, names.String, changes)
}

func signedClient(url string, signer *wssec.Signer, serverCert *x509.Certificate) wsdl.CrmPortType {
	t := &wssec.ClientTransport{Signer: signer, ServerCert: serverCert}
	return wsdl.NewCrmPortType(gowsdlsoap.NewClient(url, gowsdlsoap.WithHTTPClient(t)))
}

func TestServe_SignedClientsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "crm.db")
	erp, server := newIdentity(t, dir, "erp", time.Hour), newIdentity(t, dir, "server", time.Hour)
	stranger := newIdentity(t, dir, "stranger", time.Hour)
	if out, err := run(t, "clients", "add", "--db", db, "--name", "erp", "--cert", erp.certPEM); err != nil {
		t.Fatalf("clients add: %v\n%s", err, out)
	}
	if out, err := run(t, "clients", "add", "--db", db, "--name", "again", "--cert", erp.certPEM); err == nil {
		t.Errorf("registering the same certificate twice succeeded:\n%s", out)
	}
	srv := startServer(t, db, "--sign-key", server.keyPEM, "--sign-cert", server.certPEM, "--clients-reload", "100ms")
	ctx := waitCtx(t)

	c := signedClient(srv.URL, &wssec.Signer{Key: erp.key, Cert: erp.cert}, server.cert)
	added, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "Signed GmbH"}})
	if err != nil {
		t.Fatalf("signed AddCustomer: %v", err)
	}
	if _, err := c.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: added.Customer.Id}); err != nil {
		t.Fatalf("signed GetCustomer: %v", err)
	}
	var createdBy string
	conn, _ := sql.Open("sqlite3", "file:"+db+"?mode=ro")
	defer conn.Close()
	if err := conn.QueryRow(`SELECT created_by FROM customers WHERE id = ?`, added.Customer.Id).Scan(&createdBy); err != nil || createdBy != "erp" {
		t.Errorf("created_by = %q (%v), want the authenticated client erp", createdBy, err)
	}
	if !srv.logs.waitFor(`"principal":"erp"`) {
		t.Errorf("request log does not name the client")
	}

	// A response signed by someone else is refused by the SDK.
	wrongServer := signedClient(srv.URL, &wssec.Signer{Key: erp.key, Cert: erp.cert}, stranger.cert)
	if _, err := wrongServer.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: added.Customer.Id}); err == nil ||
		!strings.Contains(err.Error(), "signature") {
		t.Errorf("SDK accepted a response not signed by the expected server: %v", err)
	}

	// An unregistered certificate, then an unsigned request, are refused.
	_, err = signedClient(srv.URL, &wssec.Signer{Key: stranger.key, Cert: stranger.cert}, nil).GetCustomerContext(ctx, &wsdl.GetCustomer{Id: 1})
	if f := faultOf(t, err); *f.Code != wsdl.FaultCodeUNAUTHORIZED || !strings.Contains(f.Message, "certificate") {
		t.Errorf("unregistered certificate: %s %q, want UNAUTHORIZED naming the certificate", *f.Code, f.Message)
	}
	_, err = srv.client().GetCustomerContext(ctx, &wsdl.GetCustomer{Id: 1})
	if f := faultOf(t, err); *f.Code != wsdl.FaultCodeUNAUTHORIZED {
		t.Errorf("unsigned request: %s, want UNAUTHORIZED", *f.Code)
	}

	// Disabling the client takes effect in the running server.
	if out, err := run(t, "clients", "disable", "--db", db, "erp"); err != nil {
		t.Fatalf("clients disable: %v\n%s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = c.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: added.Customer.Id})
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err == nil {
		t.Fatalf("a disabled client is still served")
	}
	out, err := run(t, "clients", "list", "--db", db)
	if err != nil || !strings.Contains(out, "erp") || !strings.Contains(out, "false") {
		t.Errorf("clients list after disable:\n%s (%v)", out, err)
	}
}

// TestServe_SignatureAttacks sends forged and tampered messages to a real
// server: each must be refused with UNAUTHORIZED and change nothing.
func TestServe_SignatureAttacks(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "crm.db")
	erp := newIdentity(t, dir, "erp", time.Hour)
	stranger := newIdentity(t, dir, "stranger", time.Hour)
	disabled := newIdentity(t, dir, "disabled", time.Hour)
	expired := newIdentity(t, dir, "expired", -time.Minute)
	registerClient(t, db, erp, true)
	registerClient(t, db, disabled, false)
	registerClient(t, db, expired, true)
	srv := startServer(t, db)

	sign := func(id identity, now time.Time) *etree.Document {
		doc := etree.NewDocument()
		if err := doc.ReadFromString(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><crm:AddCustomer xmlns:crm="urn:crmsoap:v1"><crm:customer><crm:name>Alice</crm:name></crm:customer></crm:AddCustomer></soapenv:Body></soapenv:Envelope>`); err != nil {
			t.Fatal(err)
		}
		s := &wssec.Signer{Key: id.key, Cert: id.cert, Now: func() time.Time { return now }}
		if err := s.Sign(doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	find := func(doc *etree.Document, path string) *etree.Element {
		el := doc.FindElement(path)
		if el == nil {
			t.Fatalf("no %s in the signed envelope", path)
		}
		return el
	}
	bytesOf := func(doc *etree.Document) []byte {
		var b bytes.Buffer
		doc.WriteTo(&b)
		return b.Bytes()
	}
	now := time.Now()
	cases := []struct {
		name string
		msg  func() []byte
	}{
		{"BodyChangedAfterSigning", func() []byte {
			d := sign(erp, now)
			find(d, "//name").SetText("Mallory")
			return bytesOf(d)
		}},
		{"SignatureWrapping", func() []byte {
			d := sign(erp, now)
			body := find(d, "/Envelope/Body")
			env := d.Root()
			env.RemoveChild(body)
			wrapper := find(d, "/Envelope/Header").CreateElement("Wrapper")
			wrapper.AddChild(body)
			evil := env.CreateElement("soapenv:Body")
			evil.CreateElement("crm:AddCustomer").CreateAttr("xmlns:crm", "urn:crmsoap:v1")
			evil.FindElement("AddCustomer").CreateElement("crm:customer").CreateElement("crm:name").SetText("Evil")
			return bytesOf(d)
		}},
		{"DuplicateID", func() []byte {
			d := sign(erp, now)
			id := find(d, "/Envelope/Body").SelectAttrValue("wsu:Id", "")
			dup := find(d, "/Envelope/Header").CreateElement("Extra")
			dup.CreateAttr("xmlns:wsu", wssec.NamespaceWSU)
			dup.CreateAttr("wsu:Id", id)
			return bytesOf(d)
		}},
		{"UnregisteredCertificate", func() []byte { return bytesOf(sign(stranger, now)) }},
		{"DisabledCertificate", func() []byte { return bytesOf(sign(disabled, now)) }},
		{"ExpiredCertificate", func() []byte { return bytesOf(sign(expired, now)) }},
		{"ExpiredTimestamp", func() []byte { return bytesOf(sign(erp, now.Add(-time.Hour))) }},
		{"FutureTimestamp", func() []byte { return bytesOf(sign(erp, now.Add(time.Hour))) }},
		{"MissingTimestamp", func() []byte {
			d := sign(erp, now)
			ts := find(d, "//Timestamp")
			ts.Parent().RemoveChild(ts)
			return bytesOf(d)
		}},
		{"TwoSecurityHeaders", func() []byte {
			d := sign(erp, now)
			sec := find(d, "//Security")
			sec.Parent().AddChild(sec.Copy())
			return bytesOf(d)
		}},
		{"CorruptedSignatureValue", func() []byte {
			d := sign(erp, now)
			sv := find(d, "//SignatureValue")
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(sv.Text()))
			raw[10] ^= 0xff
			sv.SetText(base64.StdEncoding.EncodeToString(raw))
			return bytesOf(d)
		}},
		{"UnknownTransform", func() []byte {
			d := sign(erp, now)
			find(d, "//Reference/Transforms/Transform").CreateAttr("Algorithm", "http://www.w3.org/TR/1999/REC-xpath-19991116")
			return bytesOf(d)
		}},
		{"RetrievalMethod", func() []byte {
			d := sign(erp, now)
			rm := find(d, "//KeyInfo").CreateElement("ds:RetrievalMethod")
			rm.CreateAttr("URI", "http://attacker.example/key")
			return bytesOf(d)
		}},
		{"CommentInSignedText", func() []byte {
			d := sign(erp, now)
			name := find(d, "//name")
			name.SetText("Al")
			name.CreateComment("x")
			name.CreateText("ice")
			return bytesOf(d)
		}},
		{"TokenNotACertificate", func() []byte {
			d := sign(erp, now)
			find(d, "//BinarySecurityToken").SetText(base64.StdEncoding.EncodeToString([]byte("not a certificate at all")))
			return bytesOf(d)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := dbState(t, db)
			status, _, body := post(t, srv.URL, "text/xml; charset=utf-8", "", tc.msg())
			var env struct {
				Body struct {
					Fault struct {
						Code   string                           `xml:"faultcode"`
						Detail struct{ CrmFault wsdl.CrmFault } `xml:"detail"`
					} `xml:"Fault"`
				} `xml:"Body"`
			}
			if err := xml.Unmarshal(body, &env); err != nil {
				t.Fatalf("response is not XML: %v\n%s", err, body)
			}
			f := env.Body.Fault
			if status != 500 || !strings.HasPrefix(f.Code, "wsse:") && !strings.HasPrefix(f.Code, "wsu:") ||
				f.Detail.CrmFault.Code == nil || *f.Detail.CrmFault.Code != wsdl.FaultCodeUNAUTHORIZED {
				t.Fatalf("status %d faultcode %q, want 500 with a WS-Security faultcode and UNAUTHORIZED:\n%s", status, f.Code, body)
			}
			if after := dbState(t, db); after != before {
				t.Errorf("the database changed: %s -> %s", before, after)
			}
		})
	}
	t.Run("ByteForByteReplay", func(t *testing.T) {
		msg := func() []byte { var b bytes.Buffer; sign(erp, now).WriteTo(&b); return b.Bytes() }()
		if status, _, body := post(t, srv.URL, "text/xml; charset=utf-8", "", msg); status != 200 {
			t.Fatalf("first delivery: %d\n%s", status, body)
		}
		before := dbState(t, db)
		status, _, body := post(t, srv.URL, "text/xml; charset=utf-8", "", msg)
		if status != 500 || !bytes.Contains(body, []byte("UNAUTHORIZED")) {
			t.Fatalf("replay: %d\n%s", status, body)
		}
		if after := dbState(t, db); after != before {
			t.Errorf("the replay changed the database: %s -> %s", before, after)
		}
	})
}

// TestServe_TrustCA accepts a certificate issued by the --trust-ca CA without
// registering it; the client is named by the certificate subject.
func TestServe_TrustCA(t *testing.T) {
	dir := t.TempDir()
	caCertFile, _, caCert, caTLS := tlsIdentity(t, dir, "crm-ca")
	caKey := caTLS.PrivateKey.(crypto.Signer)
	key, err := newKey(false)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: "warehouse", Organization: []string{"Acme"}},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	srv := startServer(t, "", "--trust-ca", caCertFile)
	c := signedClient(srv.URL, &wssec.Signer{Key: key, Cert: cert}, nil)
	if _, err := c.AddCustomerContext(waitCtx(t), &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "From the CA"}}); err != nil {
		t.Fatalf("CA-issued certificate refused: %v", err)
	}
	if !srv.logs.waitFor(`"principal":"CN=warehouse,O=Acme"`) {
		t.Errorf("the client is not named by its certificate subject:\n%s", srv.logs.String())
	}
}
