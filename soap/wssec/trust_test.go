package wssec

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

func TestDNKey(t *testing.T) {
	issuer := loadKey(t, "client-ca").cert.Issuer // C=DE, O=crmsoap tests, CN=crmsoap test ca
	want := nameKey(issuer)
	for _, s := range []string{
		issuer.String(),
		"CN=crmsoap test ca, O=crmsoap tests, C=DE",
		"C=DE,O=crmsoap tests,CN=crmsoap test ca",
		"cn=Crmsoap Test CA; o=crmsoap  tests; c=de",
		"2.5.4.3=crmsoap test ca,OID.2.5.4.10=crmsoap tests,C=DE",
		`CN="crmsoap test ca",O=crmsoap\20tests,C=DE`,
		"CN=#130f63726d736f61702074657374206361,O=crmsoap tests,C=DE",
	} {
		if got := dnKey(s); got != want {
			t.Errorf("dnKey(%q) = %q, want %q", s, got, want)
		}
	}
	for _, s := range []string{"CN=crmsoap test ca,O=crmsoap tests", "CN=other,O=crmsoap tests,C=DE", `CN="open`, "garbage", "CN=#zz"} {
		if got := dnKey(s); got == want {
			t.Errorf("dnKey(%q) matched", s)
		}
	}
}

// issue creates a certificate signed by the test CA.
func issue(t *testing.T, edit func(*x509.Certificate)) *x509.Certificate {
	t.Helper()
	ca := loadKey(t, "ca")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(4242),
		Subject:      pkix.Name{CommonName: "issued"},
		NotBefore:    longBefore,
		NotAfter:     longAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if edit != nil {
		edit(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestRegistry_ChainChecks(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*x509.Certificate)
		client  string
		subcode string
		reason  string
	}{
		{name: "ClientAuth", client: "CN=issued"},
		{name: "AnyExtKeyUsage", edit: func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageAny} }, client: "CN=issued"},
		{name: "ServerAuthOnly", edit: func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} },
			subcode: "FailedAuthentication", reason: "unknown certificate"},
		{name: "NoDigitalSignature", edit: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment },
			subcode: "FailedAuthentication", reason: "certificate key usage does not allow digital signatures"},
		{name: "Expired", edit: func(c *x509.Certificate) { c.NotAfter = testNow.Add(-time.Hour) },
			subcode: "FailedAuthentication", reason: "unknown certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRegistry(t, true)
			cert := issue(t, tt.edit)
			_, name, err := r.ClientForToken(cert.Raw)
			if tt.subcode != "" {
				wantFault(t, err, tt.subcode, tt.reason)
				return
			}
			if err != nil || name != tt.client {
				t.Fatalf("ClientForToken = %q, %v; want %q", name, err, tt.client)
			}
		})
	}
}

func TestRegistry_ChainCacheFollowsValidity(t *testing.T) {
	r := testRegistry(t, true)
	now := testNow
	r.Now = func() time.Time { return now }
	cert := issue(t, func(c *x509.Certificate) { c.NotAfter = testNow.Add(time.Hour) })
	if _, _, err := r.ClientForToken(cert.Raw); err != nil {
		t.Fatal(err)
	}
	if r.chains.len() != 1 {
		t.Fatalf("chain cache has %d entries, want 1", r.chains.len())
	}
	now = testNow.Add(2 * time.Hour)
	_, _, err := r.ClientForToken(cert.Raw)
	wantFault(t, err, "FailedAuthentication", "unknown certificate")
}

func TestRegistry_DisabledWinsOverChain(t *testing.T) {
	cert := loadKey(t, "client-ca").cert
	roots := x509.NewCertPool()
	roots.AddCert(loadKey(t, "ca").cert)
	r := NewRegistry([]RegisteredCert{{Name: "blocked", Cert: cert, Enabled: false}}, roots)
	r.Now = func() time.Time { return testNow }
	_, _, err := r.ClientForToken(cert.Raw)
	wantFault(t, err, "FailedAuthentication", "certificate is disabled")
}
