package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres"
)

// commerceRecords are the products, orders and reviews a store lists.
type commerceRecords struct {
	products []store.Product
	orders   []store.Order
	reviews  []store.Review
}

// pageAll reads every page of a keyset search (ID order) into one slice.
func pageAll[T any](search func(after int64) ([]T, error), id func(T) int64) ([]T, error) {
	var out []T
	var after int64
	for {
		page, err := search(after)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 10000 {
			return out, nil
		}
		after = id(page[len(page)-1])
	}
}

func readCommerce(ctx context.Context, db store.Store) (commerceRecords, error) {
	var c commerceRecords
	var err error
	if c.products, err = pageAll(func(after int64) ([]store.Product, error) {
		return db.SearchProducts(ctx, store.ProductFilter{}, after, 10000)
	}, func(p store.Product) int64 { return p.ID }); err != nil {
		return c, err
	}
	if c.orders, err = pageAll(func(after int64) ([]store.Order, error) {
		return db.SearchOrders(ctx, store.OrderFilter{}, after, 10000)
	}, func(o store.Order) int64 { return o.ID }); err != nil {
		return c, err
	}
	c.reviews, err = pageAll(func(after int64) ([]store.Review, error) {
		return db.SearchReviews(ctx, store.ReviewFilter{}, after, 10000)
	}, func(r store.Review) int64 { return r.ID })
	return c, err
}

// readCommerceSnapshot fills snap.Commerce from src and, for what the store does not list (stock
// movements, the highest ids ever used), from the SQLite file conn.
func readCommerceSnapshot(ctx context.Context, src store.Store, conn *sql.DB, snap *postgres.Snapshot) error {
	c, err := readCommerce(ctx, src)
	if err != nil {
		return err
	}
	snap.Commerce = postgres.Commerce{Products: c.products, Orders: c.orders, Reviews: c.reviews}
	for table, dst := range map[string]*int64{"products": &snap.Commerce.MaxProductID, "orders": &snap.Commerce.MaxOrderID,
		"reviews": &snap.Commerce.MaxReviewID} {
		var n sql.NullInt64
		err := conn.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = ?`, table).Scan(&n)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		*dst = n.Int64
	}
	rows, err := conn.QueryContext(ctx, `SELECT seq, product_id, delta, reason, at, coalesce(actor, '') FROM stock_movements ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var m postgres.StockMovement
		var at string
		if err := rows.Scan(&m.Seq, &m.ProductID, &m.Delta, &m.Reason, &at, &m.Actor); err != nil {
			return err
		}
		if m.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return fmt.Errorf("stock movement %d: %w", m.Seq, err)
		}
		snap.Commerce.StockMovements = append(snap.Commerce.StockMovements, m)
	}
	return rows.Err()
}

// readRetriesSnapshot fills snap.Retries with the idempotency and replay records of the SQLite file
// conn that are unexpired at now: a retried message id gets its stored outcome on PostgreSQL, and a
// replayed signed message is refused there.
func readRetriesSnapshot(ctx context.Context, conn *sql.DB, now time.Time, snap *postgres.Snapshot) error {
	rows, err := conn.QueryContext(ctx, `SELECT client, message_id, operation, request_hash, response, expires
		FROM idempotency ORDER BY client, message_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var rec store.IdempotencyRecord
		var hash []byte
		var expires string
		if err := rows.Scan(&rec.Client, &rec.MessageID, &rec.Operation, &hash, &rec.Response, &expires); err != nil {
			return err
		}
		if rec.Expires, err = time.Parse(time.RFC3339Nano, expires); err != nil {
			return fmt.Errorf("idempotency record %q: %w", rec.MessageID, err)
		}
		if !rec.Expires.After(now) || len(hash) != len(rec.RequestHash) {
			continue // expired: counts as absent
		}
		copy(rec.RequestHash[:], hash)
		snap.Retries.Idempotency = append(snap.Retries.Idempotency, rec)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	replays, err := conn.QueryContext(ctx, `SELECT key, expires_at FROM replay_seen WHERE expires_at > ? ORDER BY key`, now.UnixNano())
	if err != nil {
		return err
	}
	defer replays.Close()
	for replays.Next() {
		var r postgres.Replay
		var expires int64
		if err := replays.Scan(&r.Key, &expires); err != nil {
			return err
		}
		r.Expires = time.Unix(0, expires).UTC()
		snap.Retries.Replays = append(snap.Retries.Replays, r)
	}
	return replays.Err()
}

// verifyCommerce reads the products, orders and reviews of both databases back and compares them.
func verifyCommerce(ctx context.Context, src, dst store.Store) error {
	a, err := readCommerce(ctx, src)
	if err != nil {
		return err
	}
	b, err := readCommerce(ctx, dst)
	if err != nil {
		return err
	}
	return compareRecords([]recordSet{
		{"products", b.products, a.products, len(b.products), len(a.products)},
		{"orders", b.orders, a.orders, len(b.orders), len(a.orders)},
		{"reviews", b.reviews, a.reviews, len(b.reviews), len(a.reviews)},
	})
}

// verifyRetries checks that dst holds every idempotency and replay record of snap.
func verifyRetries(ctx context.Context, snap postgres.Snapshot, dst *postgres.DB, now time.Time) error {
	for _, want := range snap.Retries.Idempotency {
		got, err := dst.LookupIdempotency(ctx, want.Client, want.MessageID)
		if err != nil {
			return fmt.Errorf("idempotency record %q: %w", want.MessageID, err)
		}
		if got.Operation != want.Operation || got.RequestHash != want.RequestHash || !bytes.Equal(got.Response, want.Response) ||
			!got.Expires.Equal(want.Expires) {
			return fmt.Errorf("idempotency record %q differs", want.MessageID)
		}
	}
	replays, err := dst.Replays(ctx, now)
	if err != nil {
		return err
	}
	return compareRecords([]recordSet{{"replay records", replays, snap.Retries.Replays, len(replays), len(snap.Retries.Replays)}})
}

// recordSet is one kind of record as the copy and the source hold it.
type recordSet struct {
	what        string
	got, want   any
	nGot, nWant int
}

func compareRecords(sets []recordSet) error {
	for _, c := range sets {
		if c.nGot != c.nWant {
			return fmt.Errorf("%d %s, the source has %d", c.nGot, c.what, c.nWant)
		}
		if c.nGot > 0 && !reflect.DeepEqual(c.got, c.want) {
			return fmt.Errorf("the %s differ", c.what)
		}
	}
	return nil
}
