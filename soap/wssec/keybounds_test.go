package wssec

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Key material in KeyInfo is read before anything authenticates the sender, so its cost must not grow
// faster than its size. These tests count bytes allocated and bytes retained (stable on a noisy machine),
// never time.

// allocatedBytes returns the bytes allocated while f runs. Tests using it must not run in parallel.
func allocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// selfSigned returns a certificate for key, self-signed, with serial and an opaque non-critical extension
// of pad bytes (0: none) to make it as large as a test needs.
func selfSigned(tb testing.TB, key crypto.Signer, serial int64, pad int) *x509.Certificate {
	tb.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "crmsoap test stranger"},
		NotBefore:    longBefore,
		NotAfter:     longAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if pad > 0 {
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 1}, Value: make([]byte, pad)}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return cert
}

// signedBy returns the test envelope signed by key with cert in a BinarySecurityToken, as received.
func signedBy(tb testing.TB, key crypto.Signer, cert *x509.Certificate) string {
	tb.Helper()
	doc := parseDoc(tb, soap11Envelope)
	if err := (&Signer{Key: key, Cert: cert, Now: func() time.Time { return testNow }}).Sign(doc); err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return docString(tb, doc)
}

// issuerSerialMessage returns a message signed by client-rsa whose key is given by X509IssuerSerial with
// the issuer and serial texts given ("" keeps the real one).
func issuerSerialMessage(tb testing.TB, issuer, serial string) string {
	tb.Helper()
	doc := parseDoc(tb, signed(tb, soap11Envelope, "client-rsa"))
	setKeyForm(tb, doc, formIssuerSerial, loadKey(tb, "client-rsa"))
	if issuer != "" {
		find(doc.Root(), "X509IssuerName").SetText(issuer)
	}
	if serial != "" {
		find(doc.Root(), "X509SerialNumber").SetText(serial)
	}
	return docString(tb, doc)
}

// TestVerifier_IssuerSerialBounds: an X509SerialNumber longer than 64 digits or an X509IssuerName longer
// than 4 KiB is refused before it is parsed (base-10 big.Int parsing is quadratic; a 4 MB serial used to
// cost half a minute), and refusing a 1 MiB value allocates less than the value's own size.
func TestVerifier_IssuerSerialBounds(t *testing.T) {
	const huge = 1 << 20
	issuer := "CN=crmsoap test client-rsa, O=crmsoap tests, C=DE"
	tests := []struct {
		name, issuer, serial string
		subcode, reason      string
	}{
		{name: "Serial64Digits", serial: strings.Repeat("9", 64),
			subcode: "SecurityTokenUnavailable", reason: "no registered certificate matches the key identifier"},
		{name: "Serial65Digits", serial: strings.Repeat("9", 65),
			subcode: "InvalidSecurityToken", reason: "X509SerialNumber is too long"},
		{name: "Serial1MiBDigits", serial: strings.Repeat("9", huge),
			subcode: "InvalidSecurityToken", reason: "X509SerialNumber is too long"},
		{name: "Issuer4KiB", issuer: issuer + ",OU=" + strings.Repeat("x", 4096-len(issuer)-4),
			subcode: "SecurityTokenUnavailable", reason: "no registered certificate matches the key identifier"},
		{name: "Issuer4KiBPlus1", issuer: issuer + ",OU=" + strings.Repeat("x", 4097-len(issuer)-4),
			subcode: "InvalidSecurityToken", reason: "X509IssuerName is too long"},
		{name: "Issuer1MiB", issuer: issuer + ",OU=" + strings.Repeat("x", huge),
			subcode: "InvalidSecurityToken", reason: "X509IssuerName is too long"},
		{name: "Issuer1MiBManyRDNs", issuer: strings.Repeat("OU=x,", huge/5) + issuer,
			subcode: "InvalidSecurityToken", reason: "X509IssuerName is too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := len(strings.TrimSpace(tt.issuer)); tt.name == "Issuer4KiB" && n != 4096 {
				t.Fatalf("issuer is %d bytes, want 4096", n)
			}
			doc := parseDoc(t, issuerSerialMessage(t, tt.issuer, tt.serial))
			v := testVerifier(t, nil)
			var err error
			alloc := allocatedBytes(func() { _, err = v.Verify(doc) })
			size := len(tt.issuer) + len(tt.serial)
			t.Logf("%d bytes of key identifier: %d bytes allocated", size, alloc)
			wantFault(t, err, tt.subcode, tt.reason)
			if size >= huge && alloc > uint64(size)/2 {
				t.Errorf("refusing %d bytes of key identifier allocated %d bytes, want < %d", size, alloc, size/2)
			}
		})
	}
}

// TestVerifier_UnknownTokensAreNotKept: certificates nobody registered or issued, presented in a
// BinarySecurityToken, are refused and leave nothing behind: the live heap after many of them (each
// distinct, as an attacker would send them) does not grow with their number. A 1 MiB token is refused
// before it is decoded; smaller unknown tokens are parsed at most (with a CA pool) and never cached.
func TestVerifier_UnknownTokensAreNotKept(t *testing.T) {
	tests := []struct {
		name            string
		withCA          bool
		messages, pad   int
		subcode, reason string
	}{
		{name: "1MiBTokens", withCA: true, messages: 12, pad: 1 << 20,
			subcode: "InvalidSecurityToken", reason: "security token is too large"},
		{name: "SmallTokensWithCA", withCA: true, messages: 400, pad: 8 << 10,
			subcode: "FailedAuthentication", reason: "unknown certificate"},
		{name: "SmallTokensWithoutCA", messages: 400, pad: 8 << 10,
			subcode: "FailedAuthentication", reason: "unknown certificate"},
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := testVerifier(t, func(c *Config) { c.Trust = testRegistry(t, tt.withCA) })
			// One message first, so that lazily built state (pools, tables) is not counted as growth.
			verifyStranger(t, v, key, 1, tt.pad, tt.subcode, tt.reason)
			base := liveHeap()
			presented := 0
			for i := range tt.messages {
				presented += verifyStranger(t, v, key, int64(i+2), tt.pad, tt.subcode, tt.reason)
			}
			grown := int64(liveHeap()) - int64(base)
			runtime.KeepAlive(v)
			t.Logf("%d distinct tokens, %d bytes presented: live heap grew by %d bytes", tt.messages, presented, grown)
			if limit := int64(presented / 16); grown > limit || grown > 1<<20 {
				t.Errorf("live heap grew by %d bytes after %d refused tokens of %d bytes in all; want < min(%d, %d)",
					grown, tt.messages, presented, limit, 1<<20)
			}
		})
	}
}

// verifyStranger sends one message signed by a fresh certificate (serial, pad) and checks the fault; it
// returns the DER size presented. With a 1 MiB token it also checks that the refusal allocated less than
// the token.
func verifyStranger(t *testing.T, v *Verifier, key crypto.Signer, serial int64, pad int, subcode, reason string) int {
	t.Helper()
	cert := selfSigned(t, key, serial, pad)
	doc := parseDoc(t, signedBy(t, key, cert))
	var err error
	alloc := allocatedBytes(func() { _, err = v.Verify(doc) })
	wantFault(t, err, subcode, reason)
	if pad >= 1<<20 && alloc > uint64(len(cert.Raw))/2 {
		t.Fatalf("refusing a %d-byte token allocated %d bytes, want < %d", len(cert.Raw), alloc, len(cert.Raw)/2)
	}
	return len(cert.Raw)
}
