package main

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
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
