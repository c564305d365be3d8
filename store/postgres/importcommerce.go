package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
)

// Commerce is the products (with their ratings), stock movements, orders (with their lines) and reviews
// of a Snapshot, with the highest product, order and review id ever handed out.
type Commerce struct {
	Products                              []store.Product
	StockMovements                        []StockMovement
	Orders                                []store.Order
	Reviews                               []store.Review
	MaxProductID, MaxOrderID, MaxReviewID int64
}

// StockMovement is one row of a product's stock history (AdjustStock).
type StockMovement struct {
	Seq, ProductID, Delta int64
	Reason                string
	At                    time.Time
	Actor                 string
}

// Retries is the unexpired idempotency records (stored outcomes of requests with a message id) and replay
// records (keys of accepted signed messages) of a Snapshot.
type Retries struct {
	Idempotency []store.IdempotencyRecord
	Replays     []Replay
}

// Replay is one replay record.
type Replay struct {
	Key     []byte
	Expires time.Time
}

// importCommerce copies c inside Import's transaction, keeping ids, and moves the identities and the
// order-number sequence past every id and number the source handed out.
func importCommerce(ctx context.Context, tx pgx.Tx, c Commerce) error {
	rows := make([][]any, 0, len(c.Products))
	for _, p := range c.Products {
		rows = append(rows, []any{p.ID, p.Version, nanos(p.CreatedAt), nanos(p.UpdatedAt), nullString(p.CreatedBy),
			nullString(p.UpdatedBy), p.SKU, p.Name, store.Fold(p.Name), nullString(p.Description), nullString(p.Category),
			p.PriceMinor, p.Currency, p.StockQuantity, p.LowStockThreshold, p.Active, p.RatingSum, p.RatingCount})
	}
	if err := copyRows(ctx, tx, "products", rows, "id", "version", "created_at", "updated_at", "created_by", "updated_by",
		"sku", "name", "name_fold", "description", "category", "price_minor", "currency", "stock", "low_stock_threshold",
		"active", "rating_sum", "rating_count"); err != nil {
		return err
	}
	rows = rows[:0]
	for _, m := range c.StockMovements {
		rows = append(rows, []any{m.Seq, m.ProductID, m.Delta, m.Reason, nanos(m.At), nullString(m.Actor)})
	}
	if err := copyRows(ctx, tx, "stock_movements", rows, "seq", "product_id", "delta", "reason", "at", "actor"); err != nil {
		return err
	}
	rows = rows[:0]
	var lines [][]any
	for _, o := range c.Orders {
		rows = append(rows, []any{o.ID, o.Version, o.OrderNumber, nullString(o.ExternalID), o.CustomerID, o.Status,
			nanos(o.PlacedAt), nanos(o.UpdatedAt), nullString(o.CreatedBy), nullString(o.UpdatedBy), o.Currency,
			o.TotalMinor, nullString(o.Note)})
		for _, l := range o.Lines {
			lines = append(lines, []any{o.ID, int32(l.LineNo), l.ProductID, l.SKU, l.ProductName, l.Quantity,
				l.UnitPriceMinor, l.AmountMinor})
		}
	}
	if err := copyRows(ctx, tx, "orders", rows, "id", "version", "order_number", "external_id", "customer_id", "status",
		"placed_at", "updated_at", "created_by", "updated_by", "currency", "total_minor", "note"); err != nil {
		return err
	}
	if err := copyRows(ctx, tx, "order_lines", lines, "order_id", "line_no", "product_id", "sku", "product_name",
		"quantity", "unit_minor", "amount_minor"); err != nil {
		return err
	}
	rows = rows[:0]
	for _, r := range c.Reviews {
		rows = append(rows, []any{r.ID, r.Version, nanos(r.CreatedAt), nanos(r.UpdatedAt), nullString(r.CreatedBy),
			nullString(r.UpdatedBy), r.CustomerID, r.ProductID, int16(r.Stars), nullString(r.Title), nullString(r.Text)})
	}
	if err := copyRows(ctx, tx, "reviews", rows, "id", "version", "created_at", "updated_at", "created_by", "updated_by",
		"customer_id", "product_id", "stars", "title", "text"); err != nil {
		return err
	}
	for _, seq := range []struct {
		table, column, entity string
		max                   int64
	}{
		{"products", "id", store.EntityProduct, c.MaxProductID},
		{"orders", "id", store.EntityOrder, c.MaxOrderID},
		{"reviews", "id", store.EntityReview, c.MaxReviewID},
		{"stock_movements", "seq", "", 0},
	} {
		// Past the highest id stored, in the feed (a deleted record's tombstone) or handed out.
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), m + 1, false)
			FROM (SELECT greatest((SELECT max(`+seq.column+`) FROM `+seq.table+`),
				(SELECT max(entity_id) FROM feed WHERE entity = $3), $4::bigint, 0) AS m) s`,
			seq.table, seq.column, seq.entity, seq.max); err != nil {
			return fmt.Errorf("store: import %s sequence: %w", seq.table, err)
		}
	}
	// store/sqlite numbers an order SO- and its id; the next number here comes after both.
	if _, err := tx.Exec(ctx, `SELECT setval('order_number_seq', m + 1, false)
		FROM (SELECT greatest((SELECT max(substring(order_number FROM 4)::bigint) FROM orders WHERE order_number ~ '^SO-[0-9]{1,18}$'),
			$1::bigint, 0) AS m) s`, c.MaxOrderID); err != nil {
		return fmt.Errorf("store: import order numbers: %w", err)
	}
	return nil
}

// importRetries copies the idempotency and replay records r inside Import's transaction.
func importRetries(ctx context.Context, tx pgx.Tx, r Retries) error {
	rows := make([][]any, 0, len(r.Idempotency))
	for _, rec := range r.Idempotency {
		resp := rec.Response
		if resp == nil {
			resp = []byte{}
		}
		rows = append(rows, []any{rec.Client, rec.MessageID, rec.Operation, rec.RequestHash[:], resp, rec.Expires.UTC()})
	}
	if err := copyRows(ctx, tx, "idempotency", rows, "client", "message_id", "operation", "request_hash", "response",
		"expires"); err != nil {
		return err
	}
	rows = rows[:0]
	for _, rp := range r.Replays {
		rows = append(rows, []any{rp.Key, rp.Expires.UnixNano()})
	}
	return copyRows(ctx, tx, "replay_seen", rows, "key", "expires_at")
}

func copyRows(ctx context.Context, tx pgx.Tx, table string, rows [][]any, columns ...string) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("store: import %s: %w", table, err)
	}
	return nil
}

// Replays returns the replay records unexpired at now, in key order (migrate-db compares them with
// the source's).
func (db *DB) Replays(ctx context.Context, now time.Time) ([]Replay, error) {
	rows, err := db.pool.Query(ctx, `SELECT key, expires_at FROM replay_seen WHERE expires_at > $1 ORDER BY key`, now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("store: replays: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Replay, error) {
		var r Replay
		var expires int64
		err := row.Scan(&r.Key, &expires)
		r.Expires = fromNanos(expires)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: replays: %w", err)
	}
	return out, nil
}
