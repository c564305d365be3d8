package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
)

// orderColumns are the columns scanOrder reads, of the table aliased o.
const orderColumns = `o.id, o.version, o.order_number, coalesce(o.external_id, ''), o.customer_id, o.status,
	o.placed_at, o.updated_at, coalesce(o.created_by, ''), coalesce(o.updated_by, ''), o.currency, o.total_minor,
	coalesce(o.note, '')`

func scanOrder(row pgx.Row) (store.Order, error) {
	var o store.Order
	var placed, updated int64
	if err := row.Scan(&o.ID, &o.Version, &o.OrderNumber, &o.ExternalID, &o.CustomerID, &o.Status, &placed, &updated,
		&o.CreatedBy, &o.UpdatedBy, &o.Currency, &o.TotalMinor, &o.Note); err != nil {
		return store.Order{}, err
	}
	o.PlacedAt, o.UpdatedAt = fromNanos(placed), fromNanos(updated)
	return o, nil
}

// querier is what orderLines needs of a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// lineColumns are the order_lines columns scanLine reads, after order_id.
const lineColumns = `order_id, line_no, product_id, sku, product_name, quantity, unit_minor, amount_minor`

func scanLine(row pgx.CollectableRow) (orderLine, error) {
	var l orderLine
	err := row.Scan(&l.orderID, &l.LineNo, &l.ProductID, &l.SKU, &l.ProductName, &l.Quantity, &l.UnitPriceMinor, &l.AmountMinor)
	return l, err
}

type orderLine struct {
	orderID int64
	store.OrderLine
}

// orderLines returns the lines of order id.
func orderLines(ctx context.Context, q querier, id int64) ([]store.OrderLine, error) {
	rows, err := q.Query(ctx, `SELECT `+lineColumns+` FROM order_lines WHERE order_id = $1 ORDER BY line_no`, id)
	if err != nil {
		return nil, fmt.Errorf("store: order lines %d: %w", id, err)
	}
	lines, err := pgx.CollectRows(rows, scanLine)
	if err != nil {
		return nil, fmt.Errorf("store: order lines %d: %w", id, err)
	}
	out := make([]store.OrderLine, len(lines))
	for i, l := range lines {
		out[i] = l.OrderLine
	}
	return out, nil
}

// GetOrder returns order id with its lines, in one round trip. Errors: store.ErrNotFound.
func (db *DB) GetOrder(ctx context.Context, id int64) (store.Order, error) {
	got, err := db.ordersByID(ctx, []int64{id})
	if err != nil {
		return store.Order{}, err
	}
	o, ok := got[id]
	if !ok {
		return store.Order{}, store.ErrNotFound
	}
	return o, nil
}

// ordersByID reads those of the orders ids that exist, with their lines, in one round trip. Lines are
// written with their order and never change, so the two statements need no common snapshot: an order
// the first sees has all its lines committed for the second.
func (db *DB) ordersByID(ctx context.Context, ids []int64) (map[int64]store.Order, error) {
	out := make(map[int64]store.Order, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT `+orderColumns+` FROM orders o WHERE o.id = ANY($1)`, ids)
	b.Queue(`SELECT `+lineColumns+` FROM order_lines WHERE order_id = ANY($1) ORDER BY order_id, line_no`, ids)
	br := db.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("store: get orders: %w", err)
	}
	orders, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Order, error) { return scanOrder(row) })
	if err != nil {
		return nil, fmt.Errorf("store: get orders: %w", err)
	}
	for _, o := range orders {
		out[o.ID] = o
	}
	if rows, err = br.Query(); err != nil {
		return nil, fmt.Errorf("store: get order lines: %w", err)
	}
	if err := addLines(rows, out); err != nil {
		return nil, fmt.Errorf("store: get order lines: %w", err)
	}
	return out, nil
}

// addLines appends the lines rows holds to their orders (lines of other orders are skipped).
func addLines(rows pgx.Rows, orders map[int64]store.Order) error {
	lines, err := pgx.CollectRows(rows, scanLine)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if o, ok := orders[l.orderID]; ok {
			o.Lines = append(o.Lines, l.OrderLine)
			orders[l.orderID] = o
		}
	}
	return nil
}

// SearchOrders returns at most limit orders (<= 0: 100; at most 10000) matching f with ID > after, in
// ID order, each with its lines (read in the same snapshot).
func (db *DB) SearchOrders(ctx context.Context, f store.OrderFilter, after int64, limit int) ([]store.Order, error) {
	k := newKeyset("o.id", after)
	if f.CustomerID != 0 {
		k.and("o.customer_id = %s", f.CustomerID)
	}
	if f.Status != "" {
		k.and("o.status = %s", f.Status)
	}
	if !f.PlacedFrom.IsZero() {
		k.and("o.placed_at >= %s", nanos(f.PlacedFrom))
	}
	if !f.PlacedTo.IsZero() {
		k.and("o.placed_at < %s", nanos(f.PlacedTo))
	}
	query := k.query(`SELECT o.id FROM orders o`, limit)
	rows, err := db.pool.Query(ctx, query, k.args...)
	if err != nil {
		return nil, fmt.Errorf("store: search orders: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: search orders: %w", err)
	}
	byID, err := db.ordersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]store.Order, 0, len(ids))
	for _, id := range ids {
		if o, ok := byID[id]; ok {
			out = append(out, o)
		}
	}
	return out, nil
}
