package store

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrRevoked means the certificate is revoked: it cannot be registered again.
var ErrRevoked = errors.New("store: certificate is revoked")

// Revocation is a revoked client certificate. CertSHA256 identifies it; Subject, Issuer and Serial are
// read from the certificate for display ("(unparseable)" when it does not parse). Client is the name it
// was registered under when 'clients remove' revoked it, empty otherwise.
type Revocation struct {
	CertSHA256 [32]byte
	Subject    string
	Issuer     string
	Serial     string
	Client     string
	Reason     string
	RevokedAt  time.Time
}

// NewRevocation describes the certificate der revoked at at for reason.
func NewRevocation(der []byte, reason string, at time.Time) Revocation {
	r := Revocation{CertSHA256: sha256.Sum256(der), Subject: "(unparseable)", Issuer: "(unparseable)", Serial: "",
		Reason: reason, RevokedAt: at}
	if cert, err := x509.ParseCertificate(der); err == nil {
		r.Subject, r.Issuer, r.Serial = cert.Subject.String(), cert.Issuer.String(), cert.SerialNumber.String()
	}
	return r
}

// Revoke records r. Errors: *DuplicateError{Column: "cert"} when the certificate is revoked already.
func (db *DB) Revoke(ctx context.Context, r Revocation) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return revokeTx(ctx, tx, r)
	})
}

func revokeTx(ctx context.Context, tx *sql.Tx, r Revocation) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO revocations (cert_sha256, subject, issuer, serial, client, reason, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.CertSHA256[:], r.Subject, r.Issuer, r.Serial, nullString(r.Client),
		nullString(r.Reason), formatTime(r.RevokedAt))
	if isUniqueViolation(err) {
		return &DuplicateError{Column: "cert"}
	}
	if err != nil {
		return fmt.Errorf("store: revoke: %w", err)
	}
	return nil
}

// ListRevocations returns every revoked certificate, oldest revocation first.
func (db *DB) ListRevocations(ctx context.Context) ([]Revocation, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT cert_sha256, subject, issuer, serial, client, reason, revoked_at
		FROM revocations ORDER BY revoked_at, cert_sha256`)
	if err != nil {
		return nil, fmt.Errorf("store: list revocations: %w", err)
	}
	defer rows.Close()
	var out []Revocation
	for rows.Next() {
		var r Revocation
		var sum []byte
		var client, reason sql.NullString
		var at string
		if err := rows.Scan(&sum, &r.Subject, &r.Issuer, &r.Serial, &client, &reason, &at); err != nil {
			return nil, fmt.Errorf("store: list revocations: %w", err)
		}
		if len(sum) != len(r.CertSHA256) {
			return nil, fmt.Errorf("store: list revocations: stored digest of %d bytes", len(sum))
		}
		r.CertSHA256 = [32]byte(sum)
		r.Client, r.Reason = client.String, reason.String
		if r.RevokedAt, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("store: list revocations: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list revocations: %w", err)
	}
	return out, nil
}

// isRevoked reports whether the certificate with SHA-256 sum is revoked.
func isRevoked(ctx context.Context, tx *sql.Tx, sum [32]byte) (bool, error) {
	return exists(ctx, tx, `SELECT 1 FROM revocations WHERE cert_sha256 = ?`, sum[:])
}
