package wssec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"testing"
)

func TestCheckKey(t *testing.T) {
	gen := func(f func() (crypto.Signer, error)) crypto.PublicKey {
		k, err := f()
		if err != nil {
			t.Fatal(err)
		}
		return k.Public()
	}
	rsaKey := func(bits int) crypto.PublicKey {
		return gen(func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, bits) })
	}
	ecKey := func(c elliptic.Curve) crypto.PublicKey {
		return gen(func() (crypto.Signer, error) { return ecdsa.GenerateKey(c, rand.Reader) })
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, rsa2048 := rsaKey(1024), loadKey(t, "client-rsa").cert.PublicKey
	tests := []struct {
		name          string
		pub           crypto.PublicKey
		min           int
		reason, cause string // "" reason: accepted
	}{
		{name: "RSA1024Default", pub: rsa1024, reason: "certificate key is too small",
			cause: "RSA key of 1024 bits is below the minimum of 2048 bits"},
		{name: "RSA1024Min1024", pub: rsa1024, min: 1024},
		{name: "RSA2048Default", pub: rsa2048},
		{name: "RSA2048NegativeMinIsDefault", pub: rsa2048, min: -1},
		{name: "RSA2048Min3072", pub: rsa2048, min: 3072, reason: "certificate key is too small",
			cause: "RSA key of 2048 bits is below the minimum of 3072 bits"},
		{name: "P224", pub: ecKey(elliptic.P224()), reason: "certificate key curve is not allowed",
			cause: "ECDSA curve P-224 is not allowed: use P-256, P-384 or P-521"},
		{name: "P256", pub: ecKey(elliptic.P256())},
		{name: "P384", pub: ecKey(elliptic.P384())},
		{name: "P521", pub: ecKey(elliptic.P521())},
		{name: "Ed25519", pub: edPub, reason: "certificate key type is not supported",
			cause: "ed25519.PublicKey keys are not supported: use RSA or ECDSA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckKey(tt.pub, tt.min)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("CheckKey = %v, want nil", err)
				}
				return
			}
			wantFault(t, err, "InvalidSecurityToken", tt.reason)
			var e *Error
			errors.As(err, &e)
			if e.Err == nil || e.Err.Error() != tt.cause {
				t.Errorf("cause = %v, want %q", e.Err, tt.cause)
			}
		})
	}
}

func TestVerifier_MinRSABits(t *testing.T) {
	doc := parseDoc(t, signed(t, soap11Envelope, "client-rsa"))
	_, err := testVerifier(t, func(c *Config) { c.MinRSABits = 3072 }).Verify(doc)
	wantFault(t, err, "InvalidSecurityToken", "certificate key is too small")
	if _, err := testVerifier(t, func(c *Config) { c.MinRSABits = 2048 }).Verify(doc); err != nil {
		t.Fatalf("2048-bit key with MinRSABits 2048: %v", err)
	}
}

// TestRegistry_TokenLookupBeforeParse: a presented token is found among registered and revoked
// certificates by its hash, without being parsed; without a CA pool an unknown token is never parsed (bytes
// that are no certificate at all are merely unknown), and with one only certificates that chain are kept.
func TestRegistry_TokenLookupBeforeParse(t *testing.T) {
	reg := testRegistry(t, false)
	der, unknown := loadKey(t, "client-rsa").cert.Raw, loadKey(t, "unregistered").cert.Raw
	garbage := []byte("not a certificate, and nobody parses it")
	if n := testing.AllocsPerRun(100, func() { reg.ClientForToken(der) }); n != 0 {
		t.Errorf("registered token lookup: %v allocations, want 0 (no parse)", n)
	}
	if n := testing.AllocsPerRun(100, func() { reg.ClientForToken(unknown) }); n != 0 {
		t.Errorf("unknown token without CA pool: %v allocations, want 0 (no parse)", n)
	}
	_, _, err := reg.ClientForToken(garbage)
	wantFault(t, err, "FailedAuthentication", "unknown certificate")

	withCA := testRegistry(t, true)
	_, _, err = withCA.ClientForToken(garbage)
	var ce *CertificateError
	if !errors.As(err, &ce) {
		t.Fatalf("garbage with a CA pool: %v (%T), want *CertificateError", err, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		_, _, err := withCA.ClientForToken(selfSigned(t, key, int64(100+i), 0).Raw)
		wantFault(t, err, "FailedAuthentication", "unknown certificate")
	}
	if n := withCA.chains.len(); n != 0 {
		t.Fatalf("after 50 untrusted certificates the cache holds %d, want 0", n)
	}
	if _, _, err := withCA.ClientForToken(loadKey(t, "client-ca").cert.Raw); err != nil {
		t.Fatal(err)
	}
	if n := withCA.chains.len(); n != 1 {
		t.Fatalf("after one CA-issued certificate the cache holds %d, want 1", n)
	}
}

// TestRegistry_Revoke: a revoked certificate is refused before anything else: registered and enabled,
// chaining to the pool, or already verified and cached.
func TestRegistry_Revoke(t *testing.T) {
	reg := testRegistry(t, true)
	caIssued, registered := loadKey(t, "client-ca").cert, loadKey(t, "client-rsa").cert
	for _, c := range []*x509.Certificate{caIssued, registered} {
		if _, _, err := reg.ClientForToken(c.Raw); err != nil {
			t.Fatalf("%s before revocation: %v", c.Subject, err)
		}
	}
	reg.Revoke([][32]byte{sha256.Sum256(caIssued.Raw), sha256.Sum256(registered.Raw)})
	for _, c := range []*x509.Certificate{caIssued, registered} {
		_, _, err := reg.ClientForToken(c.Raw)
		wantFault(t, err, "FailedAuthentication", "certificate is revoked")
	}
	_, err := testVerifier(t, func(c *Config) { c.Trust = reg }).Verify(parseDoc(t, signed(t, soap11Envelope, "client-ca")))
	wantFault(t, err, "FailedAuthentication", "certificate is revoked")
	reg.Revoke(nil)
	if _, _, err := reg.ClientForToken(caIssued.Raw); err != nil {
		t.Fatalf("after the revocation is lifted: %v", err)
	}
}
