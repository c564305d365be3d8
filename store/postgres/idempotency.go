package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
)

// putResponse stores rec inside the writer's transaction, with the response encode makes from results
// when encode is set (rec.Response otherwise). A live record with the same client and message id,
// committed by any node, makes it store.ErrIdempotencyRace (ON CONFLICT waits for a concurrent insert of
// the same key and then sees it); an expired one is replaced.
func putResponse[R any](ctx context.Context, db *DB, w *wtx, rec *store.IdempotencyRecord, encode func([]R) ([]byte, error), results []R) error {
	resp := rec.Response
	if encode != nil {
		var err error
		if resp, err = encode(results); err != nil {
			return fmt.Errorf("store: encode idempotent response: %w", err)
		}
	}
	if resp == nil {
		resp = []byte{}
	}
	tag, err := w.Exec(ctx, `INSERT INTO idempotency (client, message_id, operation, request_hash, response, expires)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (client, message_id) DO UPDATE SET operation = excluded.operation,
			request_hash = excluded.request_hash, response = excluded.response, expires = excluded.expires
		WHERE idempotency.expires <= $7`,
		rec.Client, rec.MessageID, rec.Operation, rec.RequestHash[:], resp, rec.Expires.UTC(), db.now().UTC())
	if err != nil {
		if retryable(err) {
			return err
		}
		return fmt.Errorf("store: idempotency record: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrIdempotencyRace
	}
	return nil
}

// LookupIdempotency returns the unexpired record of client's message id. Errors: store.ErrNotFound.
func (db *DB) LookupIdempotency(ctx context.Context, client, messageID string) (store.IdempotencyRecord, error) {
	rec := store.IdempotencyRecord{Client: client, MessageID: messageID}
	var hash []byte
	err := db.pool.QueryRow(ctx, `SELECT operation, request_hash, response, expires FROM idempotency
		WHERE client = $1 AND message_id = $2 AND expires > $3`, client, messageID, db.now().UTC()).
		Scan(&rec.Operation, &hash, &rec.Response, &rec.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.IdempotencyRecord{}, store.ErrNotFound
	}
	if err != nil {
		return store.IdempotencyRecord{}, fmt.Errorf("store: lookup idempotency: %w", err)
	}
	if len(hash) != len(rec.RequestHash) {
		return store.IdempotencyRecord{}, fmt.Errorf("store: lookup idempotency: stored hash has %d bytes", len(hash))
	}
	copy(rec.RequestHash[:], hash)
	rec.Expires = rec.Expires.UTC()
	return rec, nil
}

// PurgeIdempotency deletes the records that expire before before and returns how many.
func (db *DB) PurgeIdempotency(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM idempotency WHERE expires < $1`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// secretSize is the length of every Secret.
const secretSize = 32

// Secret returns the 32-byte secret called name, creating it from crypto/rand on first use. Creation
// is an insert-if-absent followed by a read: concurrent first calls, on any node, all get the bytes
// that were stored first (the insert waits for a concurrent one and then does nothing, and the read,
// a new statement, sees the row that won).
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
	if _, err := db.pool.Exec(ctx, `INSERT INTO meta (name, bytes) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		key, fresh); err != nil {
		return nil, fmt.Errorf("store: secret %q: %w", name, err)
	}
	if err := db.pool.QueryRow(ctx, `SELECT bytes FROM meta WHERE name = $1`, key).Scan(&s); err != nil {
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
