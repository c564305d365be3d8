package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
)

// Snapshot is a whole crmsoap database as another backend holds it, for Import: every customer (with
// its ID and Version), the compacted feed (with its seqs, tombstones included), the feed's tombstone
// horizon, the highest customer id and feed seq ever handed out (deleted and purged ones included),
// the clients, the revocations and the server secrets (name without the "secret." prefix); and the
// commerce records and retry records of Commerce and Retries (importcommerce.go).
type Snapshot struct {
	Customers   []store.Customer
	Feed        []store.FeedEntry
	Horizon     int64
	MaxID       int64
	MaxSeq      int64
	Clients     []store.Client
	Revocations []store.Revocation
	Secrets     map[string][]byte
	Commerce    Commerce
	Retries     Retries
}

// ErrNotEmpty is returned by Import when the database already holds data.
var ErrNotEmpty = errors.New("store: import: the database is not empty")

// Import copies s into this database, which must be empty, in one transaction, keeping customer ids
// and feed seqs (so that ids, page tokens and feed cursors handed out before stay valid), and moves the
// sequences past them. It takes the feed lock: no write can interleave.
func (db *DB) Import(ctx context.Context, s Snapshot) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, feedLock); err != nil {
			return err
		}
		var used bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customers) OR EXISTS (SELECT 1 FROM feed)
			OR EXISTS (SELECT 1 FROM clients) OR EXISTS (SELECT 1 FROM revocations) OR EXISTS (SELECT 1 FROM meta)
			OR EXISTS (SELECT 1 FROM products) OR EXISTS (SELECT 1 FROM orders) OR EXISTS (SELECT 1 FROM reviews)
			OR EXISTS (SELECT 1 FROM idempotency) OR EXISTS (SELECT 1 FROM replay_seen)`).Scan(&used); err != nil {
			return err
		}
		if used {
			return ErrNotEmpty
		}
		rows := make([][]any, len(s.Customers))
		for i, c := range s.Customers {
			c = normalized(c)
			rows[i] = append([]any{c.ID, c.Version, nanos(c.CreatedAt), nanos(c.UpdatedAt), nullString(c.CreatedBy),
				nullString(c.UpdatedBy)}, writableArgs(c)...)
		}
		cols := []string{"id", "version", "created_at", "updated_at", "created_by", "updated_by", "external_id", "name",
			"name_fold", "email", "phone", "gender", "company", "birth_date", "street", "city", "region", "postal_code", "country"}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"customers"}, cols, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("store: import customers: %w", err)
		}
		rows = rows[:0]
		for _, e := range s.Feed {
			rows = append(rows, []any{e.Seq, e.Entity, e.ID, e.Kind, e.Version, nanos(e.At), nullString(e.Actor),
				nullString(e.ExternalID)})
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"feed"},
			[]string{"seq", "entity", "entity_id", "kind", "version", "at", "actor", "external_id"}, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("store: import feed: %w", err)
		}
		for _, c := range s.Clients {
			if _, err := tx.Exec(ctx, `INSERT INTO clients (name, cert_der, cert_sha256, enabled, created_at)
				VALUES ($1, $2, sha256($2), $3, $4)`, c.Name, c.CertDER, c.Enabled, nanos(c.CreatedAt)); err != nil {
				return duplicate("import clients", err)
			}
		}
		for _, r := range s.Revocations {
			if _, err := tx.Exec(ctx, `INSERT INTO revocations (cert_sha256, subject, issuer, serial, client, reason, revoked_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, revocationArgs(r)...); err != nil {
				return fmt.Errorf("store: import revocations: %w", err)
			}
		}
		for name, v := range s.Secrets {
			if _, err := tx.Exec(ctx, `INSERT INTO meta (name, bytes) VALUES ($1, $2)`, "secret."+name, v); err != nil {
				return fmt.Errorf("store: import secrets: %w", err)
			}
		}
		if s.Horizon > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO meta (name, number) VALUES ($1, $2)`, metaFeedHorizon, s.Horizon); err != nil {
				return fmt.Errorf("store: import horizon: %w", err)
			}
		}
		if err := importCommerce(ctx, tx, s.Commerce); err != nil {
			return err
		}
		if err := importRetries(ctx, tx, s.Retries); err != nil {
			return err
		}
		// Past every id and seq ever handed out: the source's highest, or the horizon (purged seqs).
		// The third argument false means "nextval returns exactly this": 1 for a sequence nothing used.
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('customers', 'id'), m + 1, false)
			FROM (SELECT greatest((SELECT max(id) FROM customers), (SELECT max(entity_id) FROM feed WHERE entity = 'customer'), $1::bigint, 0) AS m) s`,
			s.MaxID); err != nil {
			return fmt.Errorf("store: import sequences: %w", err)
		}
		if _, err := tx.Exec(ctx, `SELECT setval('feed_seq', m + 1, false)
			FROM (SELECT greatest((SELECT max(seq) FROM feed), $1::bigint, $2::bigint, 0) AS m) s`,
			s.Horizon, s.MaxSeq); err != nil {
			return fmt.Errorf("store: import sequences: %w", err)
		}
		return nil
	})
}
