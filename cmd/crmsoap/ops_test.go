package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/wsdl"
	gowsdlsoap "github.com/hooklift/gowsdl/soap"
)

func TestServe_AdminMetricsAndHealth(t *testing.T) {
	srv := startDevServer(t, "")
	ctx := waitCtx(t)
	c := srv.client()
	if _, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "Metered"}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: 4242})
	faultOf(t, err)
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, _, body := getURL(t, srv.Admin+path); status != 200 {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
	}
	status, _, metrics := getURL(t, srv.Admin+"/metrics")
	if status != 200 {
		t.Fatalf("GET /metrics: %d", status)
	}
	for _, want := range []string{
		`crmsoap_requests_total{operation="AddCustomer",outcome="ok"} 1`,
		`crmsoap_requests_total{operation="GetCustomer",outcome="NOT_FOUND"} 1`,
		`crmsoap_request_duration_seconds_count{operation="AddCustomer"} 1`,
		`crmsoap_requests_in_flight 0`,
		`crmsoap_database_errors_total 0`,
		`go_goroutines `,
		`process_cpu_seconds_total `,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestServe_SecurityFailuresAreCounted(t *testing.T) {
	srv := startServer(t, "")
	_, err := srv.client().GetCustomerContext(waitCtx(t), &wsdl.GetCustomer{Id: 1})
	faultOf(t, err)
	_, _, metrics := getURL(t, srv.Admin+"/metrics")
	want := `crmsoap_security_failures_total{reason="InvalidSecurity"} 1`
	if !strings.Contains(string(metrics), want) {
		t.Errorf("/metrics lacks %q", want)
	}
	if !srv.logs.waitFor(`"security_failure":"InvalidSecurity"`) {
		t.Errorf("the request log does not give the security failure")
	}
}

// tlsIdentity writes a self-signed certificate for 127.0.0.1 that may also act as a CA.
func tlsIdentity(tb testing.TB, dir, name string) (certFile, keyFile string, cert *x509.Certificate, tlsCert tls.Certificate) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := writePEM(certFile, "CERTIFICATE", der, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := writePEM(keyFile, "PRIVATE KEY", keyDER, 0o600); err != nil {
		tb.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	return certFile, keyFile, cert, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestServe_HTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert, _ := tlsIdentity(t, dir, "server")
	clientCertFile, _, _, clientTLS := tlsIdentity(t, dir, "client")
	srv := startDevServer(t, "", "--tls-cert", certFile, "--tls-key", keyFile, "--tls-client-ca", clientCertFile)
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("server URL %s, want https", srv.URL)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := func(cfg *tls.Config) *http.Client {
		cfg.RootCAs = pool
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
	}
	good := client(&tls.Config{Certificates: []tls.Certificate{clientTLS}})
	resp, err := good.Get(srv.URL + "?wsdl")
	if err != nil {
		t.Fatalf("GET ?wsdl over TLS with a client certificate: %v", err)
	}
	body := make([]byte, 1<<20)
	n, _ := resp.Body.Read(body)
	for n < len(body) {
		m, err := resp.Body.Read(body[n:])
		n += m
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	if !strings.Contains(string(body[:n]), `location="`+srv.URL+`"`) {
		t.Errorf("the WSDL served over TLS does not give the https address %s", srv.URL)
	}
	sdk := wsdl.NewCrmPortType(gowsdlsoap.NewClient(srv.URL, gowsdlsoap.WithHTTPClient(good)))
	if _, err := sdk.AddCustomerContext(waitCtx(t), &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "TLS"}}); err != nil {
		t.Errorf("AddCustomer over mutual TLS: %v", err)
	}
	if _, err := client(&tls.Config{}).Get(srv.URL + "?wsdl"); err == nil {
		t.Errorf("a client without a certificate was served though --tls-client-ca is set")
	}
	if _, err := client(&tls.Config{MaxVersion: tls.VersionTLS11, Certificates: []tls.Certificate{clientTLS}}).Get(srv.URL + "?wsdl"); err == nil {
		t.Errorf("TLS 1.1 was accepted")
	}
}

// TestBackup_DuringWriteLoad takes a backup while writers keep adding
// customers; the copy passes integrity_check, serves, and holds every customer
// acknowledged before the backup began.
func TestBackup_DuringWriteLoad(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "crm.db")
	srv := startDevServer(t, db)
	c := srv.client()
	var (
		mu    sync.Mutex
		acked []int64
		count atomic.Int64
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				resp, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: fmt.Sprintf("w%d-%d", w, i)}})
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("AddCustomer during backup: %v", err)
					}
					return
				}
				mu.Lock()
				acked = append(acked, resp.Customer.Id)
				mu.Unlock()
				count.Add(1)
			}
		})
	}
	for count.Load() < 200 {
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	before := append([]int64(nil), acked...)
	mu.Unlock()
	out := filepath.Join(dir, "copy.db")
	output, err := run(t, "backup", "--db", db, out)
	after := count.Load()
	cancel()
	wg.Wait()
	if err != nil || !strings.Contains(output, "integrity_check ok") {
		t.Fatalf("crmsoap backup: %v\n%s", err, output)
	}
	if after <= int64(len(before)) {
		t.Logf("no write completed during the backup (%d before, %d after)", len(before), after)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
	restored := startDevServer(t, out)
	rc := restored.client()
	for _, id := range before {
		if _, err := rc.GetCustomerContext(waitCtx(t), &wsdl.GetCustomer{Id: id}); err != nil {
			t.Fatalf("customer %d acknowledged before the backup is missing from the copy: %v", id, err)
		}
	}
	t.Logf("backup held all %d customers acknowledged before it began; %d writes were acknowledged by the end", len(before), after)
}
