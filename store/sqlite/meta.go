package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
)

// secretSize is the length of every Secret.
const secretSize = 32

// Secret returns the 32-byte secret called name, creating it from crypto/rand on first use. Creation
// is one insert-if-absent followed by a read in the same transaction, so concurrent first calls, in
// this process or another, all get the bytes that were stored first.
func (db *DB) Secret(ctx context.Context, name string) ([]byte, error) {
	if name == "" {
		return nil, errors.New("store: secret: empty name")
	}
	db.secretsMu.Lock()
	s, ok := db.secrets[name]
	db.secretsMu.Unlock()
	if ok {
		return append([]byte(nil), s...), nil
	}
	fresh := make([]byte, secretSize)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("store: secret: %w", err)
	}
	key := "secret." + name
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
			key, fresh); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, key).Scan(&s)
	})
	if err != nil {
		return nil, fmt.Errorf("store: secret %q: %w", name, err)
	}
	if len(s) != secretSize {
		return nil, fmt.Errorf("store: secret %q: stored value has %d bytes, want %d", name, len(s), secretSize)
	}
	db.secretsMu.Lock()
	db.secrets[name] = s
	db.secretsMu.Unlock()
	return append([]byte(nil), s...), nil
}
