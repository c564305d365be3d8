package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// AddClient registers c. Errors: *store.DuplicateError{Field: "name"} when the name is taken,
// *store.DuplicateError{Field: "cert"} when the same certificate is already registered,
// store.ErrRevoked when the certificate is revoked.
func (db *DB) AddClient(ctx context.Context, c store.Client) error {
	sum := sha256.Sum256(c.CertDER)
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		revoked, err := isRevoked(ctx, tx, sum)
		if err != nil {
			return fmt.Errorf("store: add client %q: %w", c.Name, err)
		}
		if revoked {
			return store.ErrRevoked
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO clients (name, cert_der, cert_sha256, enabled, created_at) VALUES (?, ?, ?, ?, ?)`,
			c.Name, c.CertDER, sum[:], c.Enabled, formatTime(c.CreatedAt))
		if err == nil {
			return nil
		}
		if !isUniqueViolation(err) {
			return fmt.Errorf("store: add client %q: %w", c.Name, err)
		}
		// The constraint code says "taken"; the table says which.
		if taken, qerr := exists(ctx, tx, `SELECT 1 FROM clients WHERE name = ?`, c.Name); qerr == nil && taken {
			return &store.DuplicateError{Entity: store.EntityClient, Field: "name"}
		}
		if taken, qerr := exists(ctx, tx, `SELECT 1 FROM clients WHERE cert_sha256 = ?`, sum[:]); qerr == nil && taken {
			return &store.DuplicateError{Entity: store.EntityClient, Field: "cert"}
		}
		return fmt.Errorf("store: add client %q: unexplained unique violation: %w", c.Name, err)
	})
}

// ListClients returns every registered client ordered by name.
func (db *DB) ListClients(ctx context.Context) ([]store.Client, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name, cert_der, enabled, created_at FROM clients ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list clients: %w", err)
	}
	defer rows.Close()
	var out []store.Client
	for rows.Next() {
		var c store.Client
		var created string
		if err := rows.Scan(&c.Name, &c.CertDER, &c.Enabled, &created); err != nil {
			return nil, fmt.Errorf("store: list clients: %w", err)
		}
		if c.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("store: list clients: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list clients: %w", err)
	}
	return out, nil
}

// SetClientEnabled enables or disables the client name. Errors: store.ErrNotFound.
func (db *DB) SetClientEnabled(ctx context.Context, name string, enabled bool) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE clients SET enabled = ? WHERE name = ?`, enabled, name)
		return oneRow(res, err, "set client enabled")
	})
}

// RemoveClient unregisters the client name and, in the same transaction, revokes its certificate
// (reason, at): a certificate that also chains to a trusted CA must not authenticate again under its
// subject name. Errors: store.ErrNotFound.
func (db *DB) RemoveClient(ctx context.Context, name, reason string, at time.Time) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var der []byte
		err := tx.QueryRowContext(ctx, `DELETE FROM clients WHERE name = ? RETURNING cert_der`, name).Scan(&der)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: remove client: %w", err)
		}
		r := store.NewRevocation(der, reason, at)
		r.Client = name
		var dup *store.DuplicateError
		if err := revokeTx(ctx, tx, r); err != nil && !errors.As(err, &dup) {
			return err
		}
		return nil
	})
}

// oneRow turns the result of a statement addressing one row by key into nil or store.ErrNotFound.
func oneRow(res sql.Result, err error, op string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func exists(ctx context.Context, tx *sql.Tx, query string, args ...any) (bool, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	return rows.Next(), rows.Err()
}
