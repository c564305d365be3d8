package keypair

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRoundTrip writes each kind of key and its certificate as PEM files and
// reads them back as the commands do.
func TestRoundTrip(t *testing.T) {
	for _, useEC := range []bool{false, true} {
		key, err := New(useEC)
		if err != nil {
			t.Fatal(err)
		}
		der, err := SelfSigned(key, "alice", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][2]any{"key.pem": {"PRIVATE KEY", pkcs8}}
		switch k := key.(type) {
		case *rsa.PrivateKey:
			files["rsa.pem"] = [2]any{"RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k)}
		case *ecdsa.PrivateKey:
			sec1, err := x509.MarshalECPrivateKey(k)
			if err != nil {
				t.Fatal(err)
			}
			files["ec.pem"] = [2]any{"EC PRIVATE KEY", sec1}
		}
		for name, f := range files {
			path := filepath.Join(dir, name)
			if err := WritePEM(path, f[0].(string), f[1].([]byte), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := ReadPrivateKey(path)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if eq, ok := got.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(key.Public()) {
				t.Errorf("%s: read a different key", name)
			}
		}
		certPath := filepath.Join(dir, "cert.pem")
		if err := WritePEM(certPath, "CERTIFICATE", der, 0o644); err != nil {
			t.Fatal(err)
		}
		cert, err := ReadCertificate(certPath)
		if err != nil {
			t.Fatal(err)
		}
		if cert.Subject.CommonName != "alice" || !bytes.Equal(cert.Raw, der) || cert.NotAfter.Before(time.Now()) {
			t.Errorf("certificate %q valid to %v, want alice valid for an hour", cert.Subject.CommonName, cert.NotAfter)
		}
		if err := WritePEM(certPath, "CERTIFICATE", der, 0o644); err == nil {
			t.Error("WritePEM overwrote an existing file")
		}
		if _, err := ReadPrivateKey(certPath); err == nil || !strings.Contains(err.Error(), "no PEM private key") {
			t.Errorf("private key from a certificate file: %v, want no PEM private key", err)
		}
	}
}
