package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

const entityOrder = store.EntityOrder

// orderColumns are the orders columns every read selects, in scanOrder's order.
const orderColumns = `id, version, order_number, external_id, customer_id, status, placed_at, updated_at,
	created_by, updated_by, currency, total_minor, note`

// PlaceOrder places op in one job of the writer (see store.OrderStore): any failure rolls the whole
// order back, stock included.
func (db *DB) PlaceOrder(ctx context.Context, op store.PlaceOrderOp, idem *store.IdempotencyRecord) (store.OrderResult, error) {
	return db.orderWrite(ctx, idem, func(ctx context.Context, tx *sql.Tx) store.OrderResult { return placeOrder(ctx, tx, op) })
}

// SetOrderStatus moves an order along its states (see store.OrderStore).
func (db *DB) SetOrderStatus(ctx context.Context, id int64, from, to string, expectedVersion int64, restock bool,
	at time.Time, actor string, idem *store.IdempotencyRecord) (store.OrderResult, error) {
	return db.orderWrite(ctx, idem, func(ctx context.Context, tx *sql.Tx) store.OrderResult {
		return setOrderStatus(ctx, tx, id, from, to, expectedVersion, restock, at, actor)
	})
}

// orderWrite runs one order write through runBatch: one op, all or none, with its idempotency record.
func (db *DB) orderWrite(ctx context.Context, idem *store.IdempotencyRecord, run func(context.Context, *sql.Tx) store.OrderResult) (store.OrderResult, error) {
	b := opBatch[int, store.OrderResult]{what: "orders", ops: []int{0}, allOrNone: true, idem: idem,
		run:    func(ctx context.Context, tx *sql.Tx, _ int) store.OrderResult { return run(ctx, tx) },
		errOf:  func(r store.OrderResult) error { return r.Err },
		failed: func(err error) store.OrderResult { return store.OrderResult{Err: err} },
	}
	if idem != nil && idem.EncodeOrders != nil {
		b.encode = idem.EncodeOrders
	}
	rs, err := runBatch(ctx, db, b)
	if err != nil {
		return store.OrderResult{}, err
	}
	return rs[0], nil
}

func setOrderStatus(ctx context.Context, tx *sql.Tx, id int64, from, to string, expectedVersion int64, restock bool,
	at time.Time, actor string) store.OrderResult {
	fail := func(err error) store.OrderResult { return store.OrderResult{Err: err} }
	res, err := tx.ExecContext(ctx, `UPDATE orders SET status = ?, version = version + 1, updated_at = ?, updated_by = ?
		WHERE id = ? AND status = ? AND (? = 0 OR version = ?)`, to, formatTime(at), nullString(actor), id, from,
		expectedVersion, expectedVersion)
	if err != nil {
		return fail(fmt.Errorf("store: order status: %w", err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fail(fmt.Errorf("store: order status: %w", err))
	} else if n == 0 {
		return fail(missingOrStale(ctx, tx, `SELECT 1 FROM orders WHERE id = ?`, id))
	}
	o, err := getOrder(ctx, tx, id)
	if err != nil {
		return fail(err)
	}
	var products []store.Product
	if restock {
		products, err = restockOrder(ctx, tx, o, formatTime(at), actor)
	} else {
		err = logOrder(ctx, tx, o, OpUpdate, formatTime(at), nullString(actor), "[]")
	}
	if err != nil {
		return fail(err)
	}
	return store.OrderResult{Order: o, Products: products}
}

// GetOrder returns order id with its lines. Errors: store.ErrNotFound.
func (db *DB) GetOrder(ctx context.Context, id int64) (store.Order, error) {
	return getOrder(ctx, db.read, id)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func getOrder(ctx context.Context, q querier, id int64) (store.Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Order{}, store.ErrNotFound
	}
	if err != nil {
		return store.Order{}, fmt.Errorf("store: get order %d: %w", id, err)
	}
	if o.Lines, err = orderLines(ctx, q, id); err != nil {
		return store.Order{}, err
	}
	return o, nil
}

func orderLines(ctx context.Context, q querier, id int64) ([]store.OrderLine, error) {
	rows, err := q.QueryContext(ctx, `SELECT line_no, product_id, sku, product_name, quantity, unit_minor, amount_minor
		FROM order_lines WHERE order_id = ? ORDER BY line_no`, id)
	if err != nil {
		return nil, fmt.Errorf("store: order lines %d: %w", id, err)
	}
	defer rows.Close()
	var out []store.OrderLine
	for rows.Next() {
		var l store.OrderLine
		if err := rows.Scan(&l.LineNo, &l.ProductID, &l.SKU, &l.ProductName, &l.Quantity, &l.UnitPriceMinor, &l.AmountMinor); err != nil {
			return nil, fmt.Errorf("store: order lines %d: %w", id, err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func scanOrder(row interface{ Scan(...any) error }) (store.Order, error) {
	var o store.Order
	var num, ext, createdBy, updatedBy, note sql.NullString
	var placed, updated string
	if err := row.Scan(&o.ID, &o.Version, &num, &ext, &o.CustomerID, &o.Status, &placed, &updated, &createdBy,
		&updatedBy, &o.Currency, &o.TotalMinor, &note); err != nil {
		return store.Order{}, err
	}
	var err error
	if o.PlacedAt, err = parseTime(placed); err != nil {
		return store.Order{}, err
	}
	if o.UpdatedAt, err = parseTime(updated); err != nil {
		return store.Order{}, err
	}
	o.OrderNumber, o.ExternalID, o.Note = num.String, ext.String, note.String
	o.CreatedBy, o.UpdatedBy = createdBy.String, updatedBy.String
	return o, nil
}

// SearchOrders returns at most limit orders (<= 0: 100; at most 10000) matching f with ID > after, in
// ID order, each with its lines.
func (db *DB) SearchOrders(ctx context.Context, f store.OrderFilter, after int64, limit int) ([]store.Order, error) {
	if limit <= 0 {
		limit = defaultSearchPage
	}
	limit = min(limit, maxSearchPage)
	var where strings.Builder
	args := []any{after}
	where.WriteString("id > ?")
	if f.CustomerID != 0 {
		where.WriteString(" AND customer_id = ?")
		args = append(args, f.CustomerID)
	}
	if f.Status != "" {
		where.WriteString(" AND status = ?")
		args = append(args, f.Status)
	}
	if !f.PlacedFrom.IsZero() {
		where.WriteString(" AND placed_at >= ?")
		args = append(args, formatTime(f.PlacedFrom))
	}
	if !f.PlacedTo.IsZero() {
		where.WriteString(" AND placed_at < ?")
		args = append(args, formatTime(f.PlacedTo))
	}
	args = append(args, limit)
	rows, err := db.read.QueryContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE `+where.String()+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: search orders: %w", err)
	}
	var out []store.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: search orders: %w", err)
		}
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: search orders: %w", err)
	}
	for i := range out {
		if out[i].Lines, err = orderLines(ctx, db.read, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}
