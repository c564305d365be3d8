package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

func revocationArgs(r store.Revocation) []any {
	return []any{r.CertSHA256[:], r.Subject, r.Issuer, r.Serial, nullString(r.Client), nullString(r.Reason),
		nanos(r.RevokedAt)}
}

// Revoke records r. Errors: *store.DuplicateError{Entity: store.EntityRevocation, Field: "cert"} when
// the certificate is revoked already.
func (db *DB) Revoke(ctx context.Context, r store.Revocation) error {
	tag, err := db.pool.Exec(ctx, `INSERT INTO revocations (cert_sha256, subject, issuer, serial, client, reason, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (cert_sha256) DO NOTHING`, revocationArgs(r)...)
	if err != nil {
		return fmt.Errorf("store: revoke: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return &store.DuplicateError{Entity: store.EntityRevocation, Field: "cert"}
	}
	return nil
}

// ListRevocations returns every revoked certificate, oldest revocation first.
func (db *DB) ListRevocations(ctx context.Context) ([]store.Revocation, error) {
	rows, err := db.pool.Query(ctx, `SELECT cert_sha256, subject, issuer, serial, coalesce(client, ''),
		coalesce(reason, ''), revoked_at FROM revocations ORDER BY revoked_at, cert_sha256`)
	if err != nil {
		return nil, fmt.Errorf("store: list revocations: %w", err)
	}
	defer rows.Close()
	var out []store.Revocation
	for rows.Next() {
		var r store.Revocation
		var sum []byte
		var at int64
		if err := rows.Scan(&sum, &r.Subject, &r.Issuer, &r.Serial, &r.Client, &r.Reason, &at); err != nil {
			return nil, fmt.Errorf("store: list revocations: %w", err)
		}
		if len(sum) != len(r.CertSHA256) {
			return nil, fmt.Errorf("store: list revocations: stored digest of %d bytes", len(sum))
		}
		r.CertSHA256 = [32]byte(sum)
		r.RevokedAt = fromNanos(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list revocations: %w", err)
	}
	return out, nil
}

// RememberReplay records the signed message key until expires and reports whether it is fresh: false
// when an unexpired record of key exists, written by any node. It is one autocommitted statement:
// of concurrent calls with one key, on any nodes, the primary key lets exactly one insert (or take
// over an expired record), and the call returns once that is committed. Autocommitted on a pooled
// connection rather than through the group writer: PostgreSQL already flushes concurrent commits
// together, and the writer's serial round trips measured slower (BenchmarkRememberReplay: 154 against
// 257 µs per record, 32 callers). replay_seen is a logged table, so a record survives a crash of the
// database server (see migrations/0002).
func (db *DB) RememberReplay(ctx context.Context, key []byte, expires, now time.Time) (bool, error) {
	if len(key) != store.ReplayKeySize {
		return false, fmt.Errorf("store: remember replay: key of %d bytes, want %d", len(key), store.ReplayKeySize)
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO replay_seen (key, expires_at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE replay_seen.expires_at <= $3`,
		key, expires.UnixNano(), now.UnixNano())
	if err != nil {
		return false, fmt.Errorf("store: remember replay: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// replayPurgeBatch bounds the rows one purge statement deletes.
const replayPurgeBatch = 5000

// PurgeReplays deletes the replay records that expired by now, at most replayPurgeBatch per statement,
// and returns how many it deleted.
func (db *DB) PurgeReplays(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		// Two nodes purging at once may deadlock on each other's rows: retried.
		err := db.retry(ctx, func(ctx context.Context) error {
			tag, err := db.pool.Exec(ctx, `DELETE FROM replay_seen WHERE key IN
				(SELECT key FROM replay_seen WHERE expires_at <= $1 LIMIT $2)`, now.UnixNano(), replayPurgeBatch)
			n = tag.RowsAffected()
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
