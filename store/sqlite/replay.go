package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// RememberReplay records the signed message key until expires and reports whether it is fresh: false
// when an unexpired record of key exists already, written by this process before a restart or by
// another process sharing the database. Of two concurrent calls with the same key exactly one is fresh
// (the primary key decides). A record that expired by now is taken over. It returns once the record is
// committed (durable), like every write.
func (db *DB) RememberReplay(ctx context.Context, key []byte, expires, now time.Time) (fresh bool, err error) {
	if len(key) != store.ReplayKeySize {
		return false, fmt.Errorf("store: remember replay: key of %d bytes, want %d", len(key), store.ReplayKeySize)
	}
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO replay_seen (key, expires_at) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE replay_seen.expires_at <= ?`,
			key, expires.UnixNano(), now.UnixNano())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: remember replay: %w", err)
	}
	return fresh, nil
}

// replayPurgeBatch bounds the rows one purge write deletes, so that the requests' own writes queued
// behind it wait for a short transaction only.
const replayPurgeBatch = 5000

// PurgeReplays deletes the replay records that expired by now, in writes of at most replayPurgeBatch
// rows, and returns how many it deleted.
func (db *DB) PurgeReplays(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM replay_seen WHERE key IN
				(SELECT key FROM replay_seen WHERE expires_at <= ? LIMIT ?)`, now.UnixNano(), replayPurgeBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("store: purge replays: %w", err)
		}
		total += n
		if n < replayPurgeBatch {
			return total, nil
		}
	}
}
