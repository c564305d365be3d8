package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// putIdempotency stores rec inside the writer's transaction, with the response respond makes. A live record with the same client and message id makes it
// store.ErrIdempotencyRace; an expired one is replaced.
func (db *DB) putIdempotency(ctx context.Context, tx *sql.Tx, rec *store.IdempotencyRecord, respond func() ([]byte, error)) error {
	resp, err := respond()
	if err != nil {
		return fmt.Errorf("store: encode idempotent response: %w", err)
	}
	if resp == nil {
		resp = []byte{}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO idempotency (client, message_id, operation, request_hash, response, expires)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (client, message_id) DO UPDATE SET operation = excluded.operation,
			request_hash = excluded.request_hash, response = excluded.response, expires = excluded.expires
		WHERE idempotency.expires <= ?`,
		rec.Client, rec.MessageID, rec.Operation, rec.RequestHash[:], resp, formatTime(rec.Expires), formatTime(db.now()))
	if err != nil {
		return fmt.Errorf("store: idempotency record: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: idempotency record: %w", err)
	}
	if n == 0 {
		return store.ErrIdempotencyRace
	}
	return nil
}

// LookupIdempotency returns the unexpired record of client's message id. Errors: store.ErrNotFound.
func (db *DB) LookupIdempotency(ctx context.Context, client, messageID string) (store.IdempotencyRecord, error) {
	rec := store.IdempotencyRecord{Client: client, MessageID: messageID}
	var hash []byte
	var expires string
	err := db.read.QueryRowContext(ctx, `SELECT operation, request_hash, response, expires FROM idempotency
		WHERE client = ? AND message_id = ? AND expires > ?`, client, messageID, formatTime(db.now())).
		Scan(&rec.Operation, &hash, &rec.Response, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.IdempotencyRecord{}, store.ErrNotFound
	}
	if err != nil {
		return store.IdempotencyRecord{}, fmt.Errorf("store: lookup idempotency: %w", err)
	}
	if len(hash) != len(rec.RequestHash) {
		return store.IdempotencyRecord{}, fmt.Errorf("store: lookup idempotency: stored hash has %d bytes", len(hash))
	}
	copy(rec.RequestHash[:], hash)
	if rec.Expires, err = parseTime(expires); err != nil {
		return store.IdempotencyRecord{}, fmt.Errorf("store: lookup idempotency: %w", err)
	}
	return rec, nil
}

// PurgeIdempotency deletes the records that expire before before and returns how many.
func (db *DB) PurgeIdempotency(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM idempotency WHERE expires < ?`, formatTime(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: purge idempotency: %w", err)
	}
	return int(n), nil
}
