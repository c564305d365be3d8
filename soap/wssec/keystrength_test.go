package wssec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	dsig "github.com/russellhaering/goxmldsig"
)

// TestVerifier_KeyStrength: legacy SHA-1 support does not lower the RSA minimum (2048 bits), and ECDSA keys
// must be on P-256, P-384 or P-521, whatever the signature algorithm. Every key here is registered, so only
// the key policy can refuse it.
func TestVerifier_KeyStrength(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa2048 := loadKey(t, "client-rsa").key
	tests := []struct {
		name            string
		key             crypto.Signer
		legacy, sha1    bool
		subcode, reason string
	}{
		{name: "RSA1024", key: rsa1024, subcode: "InvalidSecurityToken", reason: "certificate key is too small"},
		{name: "RSA1024WithLegacySHA1", key: rsa1024, legacy: true,
			subcode: "InvalidSecurityToken", reason: "certificate key is too small"},
		{name: "RSA1024SigningRSASHA1WithLegacySHA1", key: rsa1024, legacy: true, sha1: true,
			subcode: "InvalidSecurityToken", reason: "certificate key is too small"},
		{name: "RSA2048", key: rsa2048},
		{name: "RSA2048WithLegacySHA1", key: rsa2048, legacy: true},
		{name: "RSA2048SigningRSASHA1WithLegacySHA1", key: rsa2048, legacy: true, sha1: true},
		{name: "ECDSAP224", key: p224, subcode: "InvalidSecurityToken", reason: "certificate key curve is not allowed"},
		{name: "ECDSAP224WithLegacySHA1", key: p224, legacy: true,
			subcode: "InvalidSecurityToken", reason: "certificate key curve is not allowed"},
		{name: "ECDSAP384", key: p384},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := selfSigned(t, tt.key, int64(7000+i), 0)
			doc := parseDoc(t, signedBy(t, tt.key, cert))
			if tt.sha1 {
				setAlgorithm(find(signedInfoOf(doc), "SignatureMethod"), dsig.RSASHA1SignatureMethod)
				resign(t, doc, tt.key)
				doc = wire(t, doc)
			}
			reg := NewRegistry([]RegisteredCert{{Name: "strength", Cert: cert, Enabled: true}}, nil)
			res, err := testVerifier(t, func(c *Config) { c.Trust = reg; c.AllowLegacySHA1 = tt.legacy }).Verify(doc)
			if tt.subcode == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if res.Client != "strength" {
					t.Fatalf("client = %q, want strength", res.Client)
				}
				return
			}
			if res != nil {
				t.Errorf("result = %+v, want nil", res)
			}
			wantFault(t, err, tt.subcode, tt.reason)
		})
	}
}
