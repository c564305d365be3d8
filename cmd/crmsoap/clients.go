package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/crmsoap/crmsoap/soap/wssec"
	"github.com/crmsoap/crmsoap/store"
)

const clientsUsage = `Usage:
  crmsoap clients add     --db PATH --name NAME --cert FILE.pem [--min-rsa-bits 2048]
  crmsoap clients list    --db PATH
  crmsoap clients disable --db PATH NAME
  crmsoap clients enable  --db PATH NAME
  crmsoap clients remove  --db PATH [--reason TEXT] NAME
  crmsoap clients revoke  --db PATH --cert FILE.pem [--reason TEXT]

Registered, enabled clients authenticate with WS-Security X.509 signatures made with
the key of their certificate. remove also revokes the client's certificate, so that it
is refused even when it chains to a --trust-ca CA; revoke refuses a certificate that
was never registered (one issued by a --trust-ca CA). A revocation is permanent. A
running server picks up changes within seconds (--clients-reload).
`

// clients manages the registry of API clients in the database.
func (m *Main) clients(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, clientsUsage)
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("clients "+args[0], flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { fmt.Fprint(m.Stderr, clientsUsage) }
	e := &envFlags{fs: fs, getenv: m.Getenv}
	var dbPath, name, certFile, reason string
	var minRSABits int
	e.String(&dbPath, "db", "CRMSOAP_DB", "./crm.db", dbHelp)
	fs.StringVar(&name, "name", "", "client name (add)")
	fs.StringVar(&certFile, "cert", "", "PEM certificate of the client (add, revoke)")
	fs.StringVar(&reason, "reason", "", "why the certificate is revoked, shown by list (remove, revoke)")
	e.Int(&minRSABits, "min-rsa-bits", "CRMSOAP_MIN_RSA_BITS", wssec.DefaultMinRSABits, "smallest RSA key accepted (add); the server's --min-rsa-bits")
	if err := e.parse(args[1:]); err != nil {
		return err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	}
	if args[0] != "list" && args[0] != "revoke" && name == "" {
		return fmt.Errorf("clients %s: a client name is required", args[0])
	}
	db, err := openDB(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "add":
		return m.clientsAdd(ctx, db, name, certFile, minRSABits)
	case "list":
		return m.clientsList(ctx, db)
	case "disable", "enable":
		if err := db.SetClientEnabled(ctx, name, args[0] == "enable"); err != nil {
			return clientErr(name, err)
		}
		fmt.Fprintf(m.Stdout, "client %q %sd\n", name, args[0])
		return nil
	case "remove":
		if err := db.RemoveClient(ctx, name, reason, time.Now().UTC()); err != nil {
			return clientErr(name, err)
		}
		fmt.Fprintf(m.Stdout, "client %q removed; its certificate is revoked\n", name)
		return nil
	case "revoke":
		return m.clientsRevoke(ctx, db, certFile, reason)
	}
	fmt.Fprint(m.Stderr, clientsUsage)
	return fmt.Errorf("unknown clients command %q", args[0])
}

func (m *Main) clientsAdd(ctx context.Context, db store.ClientStore, name, certFile string, minRSABits int) error {
	if certFile == "" {
		return errors.New("clients add: --cert FILE.pem is required")
	}
	cert, err := readCertificate(certFile)
	if err != nil {
		return err
	}
	// A key the server would refuse is refused here, saying why, rather than
	// registered to fail every call.
	if err := wssec.CheckKey(cert.PublicKey, minRSABits); err != nil {
		var werr *wssec.Error
		if errors.As(err, &werr) && werr.Err != nil {
			err = werr.Err
		}
		return fmt.Errorf("clients add: %w", err)
	}
	if time.Now().After(cert.NotAfter) {
		return fmt.Errorf("clients add: certificate expired on %s", cert.NotAfter.Format(time.DateOnly))
	}
	err = db.AddClient(ctx, store.Client{Name: name, CertDER: cert.Raw, Enabled: true, CreatedAt: time.Now().UTC()})
	if errors.Is(err, store.ErrRevoked) {
		return errors.New("clients add: this certificate is revoked; issue a new one")
	}
	var dup *store.DuplicateError
	if errors.As(err, &dup) {
		if dup.Field == "name" {
			return fmt.Errorf("clients add: a client named %q exists already", name)
		}
		return errors.New("clients add: this certificate is registered already")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "client %q added: %s, SHA-256 %s, valid until %s\n", name, cert.Subject,
		fingerprint(cert.Raw), cert.NotAfter.Format(time.DateOnly))
	return nil
}

func (m *Main) clientsList(ctx context.Context, db store.Store) error {
	list, err := db.ListClients(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tENABLED\tSUBJECT\tNOT AFTER\tSHA-256")
	for _, c := range list {
		subject, notAfter := "(unparseable)", ""
		if cert, err := x509.ParseCertificate(c.CertDER); err == nil {
			subject, notAfter = cert.Subject.String(), cert.NotAfter.Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%t\t%s\t%s\t%s\n", c.Name, c.Enabled, subject, notAfter, fingerprint(c.CertDER))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	revoked, err := db.ListRevocations(ctx)
	if err != nil || len(revoked) == 0 {
		return err
	}
	fmt.Fprintln(m.Stdout, "\nRevoked certificates (refused even when they chain to a --trust-ca CA):")
	fmt.Fprintln(tw, "REVOKED AT\tSUBJECT\tISSUER\tSERIAL\tWAS CLIENT\tREASON\tSHA-256")
	for _, r := range revoked {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.RevokedAt.Format(time.RFC3339), r.Subject, r.Issuer, r.Serial,
			orDash(r.Client), orDash(r.Reason), hex.EncodeToString(r.CertSHA256[:]))
	}
	return tw.Flush()
}

// clientsRevoke revokes the certificate in certFile, registered or not.
func (m *Main) clientsRevoke(ctx context.Context, db store.Store, certFile, reason string) error {
	if certFile == "" {
		return errors.New("clients revoke: --cert FILE.pem is required")
	}
	cert, err := readCertificate(certFile)
	if err != nil {
		return err
	}
	err = db.Revoke(ctx, store.NewRevocation(cert.Raw, reason, time.Now().UTC()))
	var dup *store.DuplicateError
	if errors.As(err, &dup) {
		return errors.New("clients revoke: this certificate is revoked already")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "certificate revoked: %s, issuer %s, serial %s, SHA-256 %s\n", cert.Subject, cert.Issuer,
		cert.SerialNumber, fingerprint(cert.Raw))
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clientErr(name string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no client named %q", name)
	}
	return err
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}
