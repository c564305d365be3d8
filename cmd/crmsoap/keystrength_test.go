package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// certFile writes a self-signed certificate of key to dir/name.crt.
func certFile(tb testing.TB, dir, name string, key crypto.Signer) string {
	tb.Helper()
	der, err := selfSigned(key, name, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	file := filepath.Join(dir, name+".crt")
	if err := writePEM(file, "CERTIFICATE", der, 0o644); err != nil {
		tb.Fatal(err)
	}
	return file
}

func TestClients_AddRefusesWeakKeys(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "crm.db")
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsa2048, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)

	refused := []struct {
		name  string
		key   crypto.Signer
		args  []string
		cause string
	}{
		{"RSA1024", rsa1024, nil, "RSA key of 1024 bits is below the minimum of 2048 bits"},
		{"RSA2048UnderRaisedMinimum", rsa2048, []string{"--min-rsa-bits", "3072"}, "RSA key of 2048 bits is below the minimum of 3072 bits"},
		{"P224", p224, nil, "ECDSA curve P-224 is not allowed: use P-256, P-384 or P-521"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			cert := certFile(t, dir, tt.name, tt.key)
			args := append([]string{"clients", "add", "--db", db, "--name", tt.name, "--cert", cert}, tt.args...)
			out, err := run(t, args...)
			if err == nil || !strings.Contains(out, tt.cause) {
				t.Fatalf("clients add = %v, output %q; want a refusal saying %q", err, out, tt.cause)
			}
		})
	}
	for name, key := range map[string]crypto.Signer{"RSA2048": rsa2048, "P384": p384} {
		cert := certFile(t, dir, name, key)
		if out, err := run(t, "clients", "add", "--db", db, "--name", name, "--cert", cert); err != nil {
			t.Fatalf("clients add %s: %v\n%s", name, err, out)
		}
	}
	out, err := run(t, "clients", "list", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range refused {
		if strings.Contains(out, tt.name) {
			t.Errorf("refused client %s is registered:\n%s", tt.name, out)
		}
	}
	for _, name := range []string{"RSA2048", "P384"} {
		if !strings.Contains(out, name) {
			t.Errorf("client %s missing from the list:\n%s", name, out)
		}
	}
}
