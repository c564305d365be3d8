package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
)

// PlaceOrder places op in one job of the writer (see store.OrderStore): any failure rolls the whole
// order back, stock included. Each line's stock is taken by one conditional UPDATE (stock - q >= 0),
// so orders racing on any number of nodes never sell more than there is; two orders taking the same
// products in another order may deadlock, and the writer runs the group again.
func (db *DB) PlaceOrder(ctx context.Context, op store.PlaceOrderOp, idem *store.IdempotencyRecord) (store.OrderResult, error) {
	return db.orderWrite(ctx, idem, func(ctx context.Context, w *wtx) store.OrderResult { return w.placeOrder(ctx, op) })
}

// SetOrderStatus moves an order along its states (see store.OrderStore) with one conditional UPDATE.
func (db *DB) SetOrderStatus(ctx context.Context, id int64, from, to string, expectedVersion int64, restock bool,
	at time.Time, actor string, idem *store.IdempotencyRecord) (store.OrderResult, error) {
	return db.orderWrite(ctx, idem, func(ctx context.Context, w *wtx) store.OrderResult {
		return w.setOrderStatus(ctx, id, from, to, expectedVersion, restock, at, actor)
	})
}

// orderWrite runs one order write as a call of one op with its idempotency record.
func (db *DB) orderWrite(ctx context.Context, idem *store.IdempotencyRecord, run func(context.Context, *wtx) store.OrderResult) (store.OrderResult, error) {
	c := opCall[int, store.OrderResult]{what: "orders", ops: []int{0}, idem: idem,
		run:    func(ctx context.Context, w *wtx, _ int) store.OrderResult { return run(ctx, w) },
		errOf:  func(r store.OrderResult) error { return r.Err },
		failed: func(err error) store.OrderResult { return store.OrderResult{Err: err} },
	}
	if idem != nil {
		c.encode = idem.EncodeOrders
	}
	return one(ctx, db, c)
}

// placeOrder takes three round trips whatever the number of lines: the customer's lock, the external
// id's check and every line's stock UPDATE in one (the first line alone when the order's currency is
// the first product's, the others then in a second), and the order with its lines in one statement.
func (w *wtx) placeOrder(ctx context.Context, op store.PlaceOrderOp) store.OrderResult {
	fail := func(err error) store.OrderResult { return store.OrderResult{Err: err} }
	o := store.Order{ExternalID: op.ExternalID, CustomerID: op.CustomerID, Status: store.OrderPlaced,
		PlacedAt: op.At.UTC(), UpdatedAt: op.At.UTC(), CreatedBy: op.Actor, UpdatedBy: op.Actor, Currency: op.Currency,
		Note: op.Note}
	b := &pgx.Batch{}
	// FOR KEY SHARE holds the customer until the order commits: a deletion on another node waits, then
	// meets the order (orders_customer_id_fkey).
	b.Queue(`SELECT 1 FROM customers WHERE id = $1 FOR KEY SHARE`, op.CustomerID)
	if op.ExternalID != "" {
		b.Queue(`SELECT id FROM orders WHERE external_id = $1`, op.ExternalID)
	}
	first := len(op.Lines)
	if o.Currency == "" {
		first = min(first, 1) // the others need the currency the first line's product sets
	}
	for _, l := range op.Lines[:first] {
		queueLine(b, l, o.Currency, op.At, op.Actor)
	}
	br, err := w.sendBatch(ctx, b)
	if err != nil {
		return fail(fmt.Errorf("store: place order: %w", err))
	}
	err = w.placeChecks(br, op)
	rows := readLines(w, br, first)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.note(err)
		return fail(err)
	}
	if o.Currency == "" && len(rows) > 0 && rows[0].err == nil {
		o.Currency = rows[0].p.Currency
	}
	if first < len(op.Lines) {
		b = &pgx.Batch{}
		for _, l := range op.Lines[first:] {
			queueLine(b, l, o.Currency, op.At, op.Actor)
		}
		br, err := w.sendBatch(ctx, b)
		if err != nil {
			return fail(fmt.Errorf("store: place order: %w", err))
		}
		rows = append(rows, readLines(w, br, len(op.Lines)-first)...)
		if err := br.Close(); err != nil {
			w.note(err)
			return fail(fmt.Errorf("store: place order: %w", err))
		}
	}
	var products []store.Product
	for i, l := range op.Lines {
		line, p, err := w.orderLine(ctx, i+1, l, rows[i], o.Currency)
		if err != nil {
			return fail(err)
		}
		if o.TotalMinor > math.MaxInt64-line.AmountMinor {
			return fail(&store.OrderLineError{Line: i + 1, ProductID: p.ID, SKU: p.SKU, Reason: store.LineTooLarge})
		}
		o.TotalMinor += line.AmountMinor
		o.Lines = append(o.Lines, line)
		products = append(products, p)
	}
	if err := w.insertOrder(ctx, &o); err != nil {
		return fail(err)
	}
	for _, p := range products {
		w.productWritten(p, opUpdate)
	}
	w.orderWritten(o, opCreate, o.PlacedAt, o.CreatedBy)
	return store.OrderResult{Order: o, Products: products}
}

// placeChecks reads the customer's lock and the external id's check from br.
func (w *wtx) placeChecks(br pgx.BatchResults, op store.PlaceOrderOp) error {
	var found int
	err := br.QueryRow().Scan(&found)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: place order: %w", err)
	}
	if op.ExternalID == "" {
		return nil
	}
	var existing int64
	err = br.QueryRow().Scan(&existing)
	switch {
	case err == nil:
		return &store.DuplicateError{Entity: store.EntityOrder, Field: "externalId", ExistingID: existing}
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	}
	return fmt.Errorf("store: place order: %w", err)
}

// lineRow is the outcome of a line's stock UPDATE: the product after it, or pgx.ErrNoRows.
type lineRow struct {
	p   store.Product
	err error
}

// queueLine queues line l's stock UPDATE: one conditional statement that also checks that the product
// is active, priced in currency (any when empty) and that the amount fits.
func queueLine(b *pgx.Batch, l store.LineRequest, currency string, at time.Time, actor string) {
	key, value := lineKey(l)
	b.Queue(`UPDATE products p SET stock = stock - $2, version = version + 1, updated_at = $3, updated_by = $4
		WHERE `+key+` = $1 AND active AND ($5::text = '' OR currency = $5) AND stock >= $2
			AND (price_minor = 0 OR $2 <= $6::bigint / price_minor)
		RETURNING `+productColumns, value, l.Quantity, nanos(at), nullString(actor), currency, int64(math.MaxInt64))
}

func lineKey(l store.LineRequest) (string, any) {
	if l.ProductID == 0 {
		return `sku`, l.SKU
	}
	return `id`, l.ProductID
}

// readLines reads n lines' UPDATEs from br (after a failed statement, every one has its error).
func readLines(w *wtx, br pgx.BatchResults, n int) []lineRow {
	rows := make([]lineRow, n)
	for i := range rows {
		rows[i].p, rows[i].err = scanProduct(br.QueryRow())
		w.note(rows[i].err)
	}
	return rows
}

// orderLine is line n made from its UPDATE's outcome; when the UPDATE matched no row, a read says
// which check failed.
func (w *wtx) orderLine(ctx context.Context, n int, l store.LineRequest, row lineRow, currency string) (store.OrderLine, store.Product, error) {
	if errors.Is(row.err, pgx.ErrNoRows) {
		key, value := lineKey(l)
		return store.OrderLine{}, store.Product{}, w.lineRefused(ctx, n, l, key, value, currency)
	}
	if row.err != nil {
		return store.OrderLine{}, store.Product{}, fmt.Errorf("store: order line %d: %w", n, row.err)
	}
	p := row.p
	return store.OrderLine{LineNo: n, ProductID: p.ID, SKU: p.SKU, ProductName: p.Name, Quantity: l.Quantity,
		UnitPriceMinor: p.PriceMinor, AmountMinor: p.PriceMinor * l.Quantity}, p, nil
}

// insertOrder inserts o and its lines in one statement, setting o's ID, Version and OrderNumber. The
// number comes from order_number_seq: unique across nodes, gaps where a placement rolled back.
func (w *wtx) insertOrder(ctx context.Context, o *store.Order) error {
	n := len(o.Lines)
	nos, qty := make([]int32, n), make([]int64, n)
	pids, units, amounts := make([]int64, n), make([]int64, n), make([]int64, n)
	skus, names := make([]string, n), make([]string, n)
	for i, l := range o.Lines {
		nos[i], pids[i], skus[i], names[i], qty[i], units[i], amounts[i] = int32(l.LineNo), l.ProductID, l.SKU,
			l.ProductName, l.Quantity, l.UnitPriceMinor, l.AmountMinor
	}
	err := w.QueryRow(ctx, `WITH o AS (
			INSERT INTO orders (version, order_number, external_id, customer_id, status, placed_at, updated_at,
				created_by, updated_by, currency, total_minor, note)
			SELECT 1, 'SO-' || lpad(n::text, greatest(6, length(n::text)), '0'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
			FROM nextval('order_number_seq') AS n
			ON CONFLICT (external_id) DO NOTHING
			RETURNING id, order_number),
		l AS (
			INSERT INTO order_lines (order_id, line_no, product_id, sku, product_name, quantity, unit_minor, amount_minor)
			SELECT o.id, u.* FROM o, unnest($11::int[], $12::bigint[], $13::text[], $14::text[], $15::bigint[],
				$16::bigint[], $17::bigint[]) AS u)
		SELECT id, order_number FROM o`,
		nullString(o.ExternalID), o.CustomerID, o.Status, nanos(o.PlacedAt), nanos(o.UpdatedAt), nullString(o.CreatedBy),
		nullString(o.UpdatedBy), o.Currency, o.TotalMinor, nullString(o.Note),
		nos, pids, skus, names, qty, units, amounts).Scan(&o.ID, &o.OrderNumber)
	if errors.Is(err, pgx.ErrNoRows) {
		// Another node placed an order with this external id since the check, and committed.
		var existing int64
		if err := w.QueryRow(ctx, `SELECT id FROM orders WHERE external_id = $1`, o.ExternalID).Scan(&existing); err != nil {
			return fmt.Errorf("store: place order: %w", err)
		}
		return &store.DuplicateError{Entity: store.EntityOrder, Field: "externalId", ExistingID: existing}
	}
	if err != nil {
		return fmt.Errorf("store: place order: %w", err)
	}
	o.Version = 1
	return nil
}

// lineRefused says why line n's UPDATE matched no row, in the order store/sqlite checks.
func (w *wtx) lineRefused(ctx context.Context, n int, l store.LineRequest, key string, value any, currency string) error {
	var id, price, stock int64
	var sku, cur string
	var active bool
	err := w.QueryRow(ctx, `SELECT id, sku, price_minor, currency, active, stock FROM products WHERE `+key+` = $1`, value).
		Scan(&id, &sku, &price, &cur, &active, &stock)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return &store.OrderLineError{Line: n, ProductID: l.ProductID, SKU: l.SKU, Reason: store.LineNoProduct}
	case err != nil:
		return fmt.Errorf("store: order line %d: %w", n, err)
	case !active:
		return &store.OrderLineError{Line: n, ProductID: id, SKU: sku, Reason: store.LineInactive}
	case currency != "" && cur != currency:
		return &store.OrderLineError{Line: n, ProductID: id, SKU: sku, Reason: store.LineCurrency, Currency: cur}
	case price != 0 && l.Quantity > math.MaxInt64/price:
		return &store.OrderLineError{Line: n, ProductID: id, SKU: sku, Reason: store.LineTooLarge}
	}
	return &store.InsufficientStockError{ProductID: id, Available: stock, Line: n, SKU: sku}
}

func (w *wtx) setOrderStatus(ctx context.Context, id int64, from, to string, expectedVersion int64, restock bool,
	at time.Time, actor string) store.OrderResult {
	fail := func(err error) store.OrderResult { return store.OrderResult{Err: err} }
	o, err := scanOrder(w.QueryRow(ctx, `UPDATE orders o SET status = $1, version = version + 1, updated_at = $2,
		updated_by = $3 WHERE id = $4 AND status = $5 AND ($6::bigint = 0 OR version = $6)
		RETURNING `+orderColumns, to, nanos(at), nullString(actor), id, from, expectedVersion))
	if errors.Is(err, pgx.ErrNoRows) {
		return fail(w.missingOrStale(ctx, `SELECT EXISTS (SELECT 1 FROM orders WHERE id = $1)`, id))
	}
	if err != nil {
		return fail(fmt.Errorf("store: order status: %w", err))
	}
	if o.Lines, err = orderLines(ctx, w, id); err != nil {
		w.note(err)
		return fail(err)
	}
	var products []store.Product
	if restock {
		for _, l := range o.Lines {
			p, err := scanProduct(w.QueryRow(ctx, `UPDATE products p SET stock = stock + $1, version = version + 1,
				updated_at = $2, updated_by = $3 WHERE id = $4 RETURNING `+productColumns,
				l.Quantity, nanos(at), nullString(actor), l.ProductID))
			if err != nil {
				return fail(fmt.Errorf("store: restock product %d: %w", l.ProductID, err))
			}
			w.productWritten(p, opUpdate)
			products = append(products, p)
		}
	}
	w.orderWritten(o, opUpdate, at, actor)
	return store.OrderResult{Order: o, Products: products}
}

// orderWritten queues the change log row and the feed entry of o's write.
func (w *wtx) orderWritten(o store.Order, op string, at time.Time, actor string) {
	w.feed = append(w.feed, feedRow{entity: store.EntityOrder, op: op, kind: store.FeedUpserted, id: o.ID,
		version: o.Version, at: nanos(at), actor: nullString(actor), externalID: nullString(o.ExternalID)})
}
