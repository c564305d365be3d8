package postgres

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmsoap/crmsoap/store"
)

// AddClient registers c. Errors: *store.DuplicateError{Field: "name"} when the name is taken,
// *store.DuplicateError{Field: "cert"} when the same certificate is already registered.
func (db *DB) AddClient(ctx context.Context, c store.Client) error {
	sum := sha256.Sum256(c.CertDER)
	_, err := db.pool.Exec(ctx, `INSERT INTO clients (name, cert_der, cert_sha256, enabled, created_at)
		VALUES ($1, $2, $3, $4, $5)`, c.Name, c.CertDER, sum[:], c.Enabled, nanos(c.CreatedAt))
	if err != nil {
		return duplicate(fmt.Sprintf("add client %q", c.Name), err)
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

// RemoveClient unregisters the client name. Errors: store.ErrNotFound.
func (db *DB) RemoveClient(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM clients WHERE name = $1`, name)
	return oneRow(tag, err, "remove client")
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
