package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmsoap/crmsoap/store"
)

// AddClient registers c. Errors: *store.DuplicateError{Field: "name"} when the name is taken,
// *store.DuplicateError{Field: "cert"} when the same certificate is already registered,
// store.ErrRevoked when the certificate is revoked.
func (db *DB) AddClient(ctx context.Context, c store.Client) error {
	sum := sha256.Sum256(c.CertDER)
	// One statement: the revocation check and the insert see one snapshot.
	tag, err := db.pool.Exec(ctx, `INSERT INTO clients (name, cert_der, cert_sha256, enabled, created_at)
		SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM revocations WHERE cert_sha256 = $3)`,
		c.Name, c.CertDER, sum[:], c.Enabled, nanos(c.CreatedAt))
	if err != nil {
		return duplicate(fmt.Sprintf("add client %q", c.Name), err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrRevoked
	}
	return nil
}

// ListClients returns every registered client ordered by name.
func (db *DB) ListClients(ctx context.Context) ([]store.Client, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, cert_der, enabled, created_at FROM clients ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("store: list clients: %w", err)
	}
	defer rows.Close()
	var out []store.Client
	for rows.Next() {
		var c store.Client
		var created int64
		if err := rows.Scan(&c.Name, &c.CertDER, &c.Enabled, &created); err != nil {
			return nil, fmt.Errorf("store: list clients: %w", err)
		}
		c.CreatedAt = fromNanos(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list clients: %w", err)
	}
	return out, nil
}

// SetClientEnabled enables or disables the client name. Errors: store.ErrNotFound.
func (db *DB) SetClientEnabled(ctx context.Context, name string, enabled bool) error {
	tag, err := db.pool.Exec(ctx, `UPDATE clients SET enabled = $1 WHERE name = $2`, enabled, name)
	return oneRow(tag, err, "set client enabled")
}

// RemoveClient unregisters the client name and, in the same transaction, revokes its certificate
// (reason, at). Errors: store.ErrNotFound.
func (db *DB) RemoveClient(ctx context.Context, name, reason string, at time.Time) error {
	return db.retry(ctx, func(ctx context.Context) error {
		return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			var der []byte
			err := tx.QueryRow(ctx, `DELETE FROM clients WHERE name = $1 RETURNING cert_der`, name).Scan(&der)
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			if err != nil {
				return fmt.Errorf("store: remove client: %w", err)
			}
			r := store.NewRevocation(der, reason, at)
			r.Client = name
			_, err = tx.Exec(ctx, `INSERT INTO revocations (cert_sha256, subject, issuer, serial, client, reason, revoked_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (cert_sha256) DO NOTHING`, revocationArgs(r)...)
			if err != nil {
				return fmt.Errorf("store: remove client: %w", err)
			}
			return nil
		})
	})
}

// retry runs fn, a transaction of its own, again (at most maxRetries times) when PostgreSQL aborts it
// as a serialization failure or deadlock.
func (db *DB) retry(ctx context.Context, fn func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := fn(ctx)
		if !retryable(err) || attempt >= db.maxRetries {
			return err
		}
		db.stats.retries.Add(1)
	}
}

// oneRow turns the result of a statement addressing one row by key into nil or store.ErrNotFound.
func oneRow(tag pgconn.CommandTag, err error, op string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
