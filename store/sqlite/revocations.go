package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/crmsoap/crmsoap/store"
)

// Revoke records r. Errors: *store.DuplicateError{Entity: store.EntityRevocation, Field: "cert"} when the
// certificate is revoked already.
func (db *DB) Revoke(ctx context.Context, r store.Revocation) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return revokeTx(ctx, tx, r)
	})
}

func revokeTx(ctx context.Context, tx *sql.Tx, r store.Revocation) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO revocations (cert_sha256, subject, issuer, serial, client, reason, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.CertSHA256[:], r.Subject, r.Issuer, r.Serial, nullString(r.Client),
		nullString(r.Reason), formatTime(r.RevokedAt))
	if isUniqueViolation(err) {
		return &store.DuplicateError{Entity: store.EntityRevocation, Field: "cert"}
	}
	if err != nil {
		return fmt.Errorf("store: revoke: %w", err)
	}
	return nil
}

// ListRevocations returns every revoked certificate, oldest revocation first.
func (db *DB) ListRevocations(ctx context.Context) ([]store.Revocation, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT cert_sha256, subject, issuer, serial, client, reason, revoked_at
		FROM revocations ORDER BY revoked_at, cert_sha256`)
	if err != nil {
		return nil, fmt.Errorf("store: list revocations: %w", err)
	}
	defer rows.Close()
	var out []store.Revocation
	for rows.Next() {
		var r store.Revocation
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
