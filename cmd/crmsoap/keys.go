package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// keys creates a key pair and a self-signed certificate for signing SOAP messages.
func (m *Main) keys(_ context.Context, args []string) error {
	if len(args) == 0 || args[0] != "new" {
		fmt.Fprint(m.Stderr, "Usage: crmsoap keys new --name NAME [--out DIR] [--days N] [--ecdsa]\n")
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("keys new", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	name := fs.String("name", "", "subject common name, also the file name prefix")
	out := fs.String("out", ".", "directory for NAME.key.pem and NAME.cert.pem")
	days := fs.Int("days", 365, "validity in days")
	useEC := fs.Bool("ecdsa", false, "ECDSA P-256 instead of RSA-2048")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("keys new: --name is required")
	}
	key, err := newKey(*useEC)
	if err != nil {
		return err
	}
	certDER, err := selfSigned(key, *name, time.Duration(*days)*24*time.Hour)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	keyPath := filepath.Join(*out, *name+".key.pem")
	certPath := filepath.Join(*out, *name+".cert.pem")
	if err := writePEM(keyPath, "PRIVATE KEY", keyDER, 0o600); err != nil {
		return err
	}
	if err := writePEM(certPath, "CERTIFICATE", certDER, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote %s and %s\n", keyPath, certPath)
	return nil
}

func newKey(useEC bool) (crypto.Signer, error) {
	if useEC {
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return rsa.GenerateKey(rand.Reader, 2048)
}

func selfSigned(key crypto.Signer, name string, validity time.Duration) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	ski := sha1.Sum(pub)
	now := time.Now().UTC()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		SubjectKeyId:          ski[:],
		BasicConstraintsValid: true,
	}
	return x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: der}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
