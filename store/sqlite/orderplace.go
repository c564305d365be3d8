package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/crmsoap/crmsoap/store"
)

// placeOrder places op in seven statements, whatever its number of lines. Two read: the customer
// check, the external id's order and the next order id; then every product the lines name. The checks
// of every line run on those rows in line order, each line seeing the stock the lines before it took,
// so the line reported is the first that fails, as if the lines were taken one by one. Five write:
// the stock of every product, the order, its lines, the change-log rows and the feed entries. The
// transaction is the writer's and holds the write lock from its start, so the rows read are the rows
// written; the stock update still refuses to go below zero.
func placeOrder(ctx context.Context, tx *sql.Tx, op store.PlaceOrderOp) store.OrderResult {
	fail := func(err error) store.OrderResult { return store.OrderResult{Err: err} }
	id, err := checkNewOrder(ctx, tx, op)
	if err != nil {
		return fail(err)
	}
	byID, bySKU, err := orderProducts(ctx, tx, op.Lines)
	if err != nil {
		return fail(err)
	}
	at := op.At.UTC()
	o := store.Order{ID: id, Version: 1, OrderNumber: fmt.Sprintf("SO-%06d", id), ExternalID: op.ExternalID,
		CustomerID: op.CustomerID, Status: store.OrderPlaced, PlacedAt: at, UpdatedAt: at, CreatedBy: op.Actor,
		UpdatedBy: op.Actor, Currency: op.Currency, Note: op.Note, Lines: make([]store.OrderLine, 0, len(op.Lines))}
	taken := make(map[int64]int64, len(op.Lines)) // quantity taken from each product by the lines so far
	var products []store.Product                  // each product once, in the order of its first line
	for i, l := range op.Lines {
		p := byID[l.ProductID]
		if l.ProductID == 0 {
			p = bySKU[l.SKU]
		}
		line, err := takeLine(i+1, l, p, &o.Currency, taken)
		if err != nil {
			return fail(err)
		}
		if o.TotalMinor > math.MaxInt64-line.AmountMinor {
			return fail(&store.OrderLineError{Line: i + 1, ProductID: p.ID, SKU: p.SKU, Reason: store.LineTooLarge})
		}
		if _, seen := taken[p.ID]; !seen {
			products = append(products, *p)
		}
		taken[p.ID] += l.Quantity
		o.TotalMinor += line.AmountMinor
		o.Lines = append(o.Lines, line)
	}
	for i := range products {
		p := &products[i]
		p.StockQuantity -= taken[p.ID]
		p.Version++
		p.UpdatedAt, p.UpdatedBy = at, op.Actor
	}
	if err := writeOrder(ctx, tx, o, products, taken); err != nil {
		return fail(err)
	}
	return store.OrderResult{Order: o, Products: products}
}

// checkNewOrder checks that op's customer exists (store.ErrNotFound) and that no order has op's
// external id (*store.DuplicateError), and returns the id the order gets: the one AUTOINCREMENT would
// give it, chosen before the insert so that the order number made of it is written with the order.
func checkNewOrder(ctx context.Context, tx *sql.Tx, op store.PlaceOrderOp) (int64, error) {
	var customer bool
	var existing sql.NullInt64
	var next int64
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM customers WHERE id = ?),
		(SELECT id FROM orders WHERE external_id = ?),
		max(ifnull((SELECT seq FROM sqlite_sequence WHERE name = 'orders'), 0), ifnull((SELECT max(id) FROM orders), 0)) + 1`,
		op.CustomerID, nullString(op.ExternalID)).Scan(&customer, &existing, &next)
	switch {
	case err != nil:
		return 0, fmt.Errorf("store: place order: %w", err)
	case !customer:
		return 0, store.ErrNotFound
	case existing.Valid:
		return 0, &store.DuplicateError{Entity: store.EntityOrder, Field: "externalId", ExistingID: existing.Int64}
	case next <= 0:
		return 0, errors.New("store: place order: no order id left")
	}
	return next, nil
}

// orderProducts reads, in one statement, the products the lines name by id and by SKU. The SKUs travel
// hex-encoded in a JSON array, so every byte of them reaches the comparison as it was given.
func orderProducts(ctx context.Context, tx *sql.Tx, lines []store.LineRequest) (byID map[int64]*store.Product,
	bySKU map[string]*store.Product, err error) {
	ids, skus := []byte{'['}, []byte{'['}
	for _, l := range lines {
		if l.ProductID != 0 {
			ids = strconv.AppendInt(jsonNext(ids), l.ProductID, 10)
		} else {
			skus = append(hex.AppendEncode(append(jsonNext(skus), '"'), []byte(l.SKU)), '"')
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+productColumns+` FROM products
		WHERE id IN (SELECT value FROM json_each(?)) OR sku IN (SELECT CAST(unhex(value) AS TEXT) FROM json_each(?))`,
		string(append(ids, ']')), string(append(skus, ']')))
	if err != nil {
		return nil, nil, fmt.Errorf("store: order products: %w", err)
	}
	defer rows.Close()
	byID, bySKU = make(map[int64]*store.Product, len(lines)), map[string]*store.Product{}
	for rows.Next() {
		var r productRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, nil, fmt.Errorf("store: order products: %w", err)
		}
		p, err := r.product()
		if err != nil {
			return nil, nil, fmt.Errorf("store: order products: %w", err)
		}
		byID[p.ID], bySKU[p.SKU] = &p, &p
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("store: order products: %w", err)
	}
	return byID, bySKU, nil
}

// jsonNext is b, a JSON array being written, ready for its next element.
func jsonNext(b []byte) []byte {
	if len(b) > 1 {
		return append(b, ',')
	}
	return b
}

// appendPair appends [x,y] to b, a JSON array being written.
func appendPair(b []byte, x, y int64) []byte {
	b = strconv.AppendInt(append(jsonNext(b), '['), x, 10)
	return append(strconv.AppendInt(append(b, ','), y, 10), ']')
}

// takeLine checks line n, asking for l, against its product p (nil: none), of which the lines before it
// took taken[p.ID], and returns the order line. currency is the order's, set by the first line when empty.
func takeLine(n int, l store.LineRequest, p *store.Product, currency *string, taken map[int64]int64) (store.OrderLine, error) {
	if p == nil {
		return store.OrderLine{}, &store.OrderLineError{Line: n, ProductID: l.ProductID, SKU: l.SKU, Reason: store.LineNoProduct}
	}
	if !p.Active {
		return store.OrderLine{}, &store.OrderLineError{Line: n, ProductID: p.ID, SKU: p.SKU, Reason: store.LineInactive}
	}
	if *currency == "" {
		*currency = p.Currency
	}
	if p.Currency != *currency {
		return store.OrderLine{}, &store.OrderLineError{Line: n, ProductID: p.ID, SKU: p.SKU, Reason: store.LineCurrency, Currency: p.Currency}
	}
	if p.PriceMinor != 0 && l.Quantity > math.MaxInt64/p.PriceMinor {
		return store.OrderLine{}, &store.OrderLineError{Line: n, ProductID: p.ID, SKU: p.SKU, Reason: store.LineTooLarge}
	}
	if left := p.StockQuantity - taken[p.ID]; l.Quantity > left {
		return store.OrderLine{}, &store.InsufficientStockError{ProductID: p.ID, Available: left, Line: n, SKU: p.SKU}
	}
	return store.OrderLine{LineNo: n, ProductID: p.ID, SKU: p.SKU, ProductName: p.Name, Quantity: l.Quantity,
		UnitPriceMinor: p.PriceMinor, AmountMinor: p.PriceMinor * l.Quantity}, nil
}

// writeOrder writes the checked order o: the stock taken from each of products (taken), the order, its
// lines (name, SKU and price copied from the product rows o was checked against), and the change-log
// rows and feed entries of the products and the order, one statement each.
func writeOrder(ctx context.Context, tx *sql.Tx, o store.Order, products []store.Product, taken map[int64]int64) error {
	moves := []byte{'['} // [[product id, quantity], ...]
	for _, p := range products {
		moves = appendPair(moves, p.ID, taken[p.ID])
	}
	movesJSON := string(append(moves, ']'))
	at, actor := formatTime(o.PlacedAt), nullString(o.CreatedBy)
	if err := moveStocks(ctx, tx, movesJSON, -1, at, actor, len(products)); err != nil {
		return fmt.Errorf("store: place order: stock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO orders (id, version, order_number, external_id, customer_id, status,
		placed_at, updated_at, created_by, updated_by, currency, total_minor, note) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.ID, o.OrderNumber, nullString(o.ExternalID), o.CustomerID, o.Status, at, at, actor, actor, o.Currency,
		o.TotalMinor, nullString(o.Note)); err != nil {
		return fmt.Errorf("store: place order: %w", err)
	}
	lines := []byte{'['} // [[product id, quantity], ...] in line order
	for _, l := range o.Lines {
		lines = appendPair(lines, l.ProductID, l.Quantity)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO order_lines (order_id, line_no, product_id, sku, product_name, quantity,
		unit_minor, amount_minor) SELECT ?, l.key + 1, p.id, p.sku, p.name, l.value ->> 1, p.price_minor,
		p.price_minor * (l.value ->> 1) FROM json_each(?) AS l JOIN products AS p ON p.id = l.value ->> 0`,
		o.ID, string(append(lines, ']')))
	if err := wrote(res, err, len(o.Lines)); err != nil {
		return fmt.Errorf("store: place order lines: %w", err)
	}
	return logOrder(ctx, tx, o, OpCreate, at, actor, movesJSON)
}

// moveStocks adds sign × quantity to the stock of each product of moves ([[product id, quantity], ...],
// want of them) in one statement, which changes no product whose stock would go below zero.
func moveStocks(ctx context.Context, tx *sql.Tx, moves string, sign int64, at string, actor any, want int) error {
	res, err := tx.ExecContext(ctx, `UPDATE products SET stock = stock + ?1 * (m.value ->> 1), version = version + 1,
		updated_at = ?2, updated_by = ?3 FROM json_each(?4) AS m
		WHERE products.id = m.value ->> 0 AND products.stock + ?1 * (m.value ->> 1) >= 0`, sign, at, actor, moves)
	return wrote(res, err, want)
}

// logOrder writes the change-log rows and the feed entries of the products of moves ([[product id,
// quantity], ...]) as they are now, then of order o (op: OpCreate or OpUpdate), one statement each.
func logOrder(ctx context.Context, tx *sql.Tx, o store.Order, op, at string, actor any, moves string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO changes (entity, entity_id, op, version, at, actor)
		SELECT ?1, id, ?2, version, ?3, ?4 FROM products WHERE id IN (SELECT value ->> 0 FROM json_each(?5))
		UNION ALL SELECT ?6, ?7, ?8, ?9, ?3, ?4`, entityProduct, OpUpdate, at, actor, moves,
		entityOrder, o.ID, op, o.Version); err != nil {
		return fmt.Errorf("store: record order %d: %w", o.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO feed (entity, entity_id, kind, version, at, actor, external_id)
		SELECT ?1, id, ?2, version, ?3, ?4, sku FROM products WHERE id IN (SELECT value ->> 0 FROM json_each(?5))
		UNION ALL SELECT ?6, ?7, ?2, ?8, ?3, ?4, ?9`, entityProduct, store.FeedUpserted, at, actor, moves,
		entityOrder, o.ID, o.Version, nullString(o.ExternalID)); err != nil {
		return fmt.Errorf("store: feed order %d: %w", o.ID, err)
	}
	return nil
}

// restockOrder puts the quantities of o's lines back in stock, each product once, and logs the products and
// o (an update); it returns the products as they are now, in the order of their first line.
func restockOrder(ctx context.Context, tx *sql.Tx, o store.Order, at, actor string) ([]store.Product, error) {
	qty := make(map[int64]int64, len(o.Lines))
	var ids []store.LineRequest
	for _, l := range o.Lines {
		if _, seen := qty[l.ProductID]; !seen {
			ids = append(ids, store.LineRequest{ProductID: l.ProductID})
		}
		qty[l.ProductID] += l.Quantity
	}
	moves := []byte{'['}
	for _, l := range ids {
		moves = appendPair(moves, l.ProductID, qty[l.ProductID])
	}
	movesJSON := string(append(moves, ']'))
	if err := moveStocks(ctx, tx, movesJSON, 1, at, nullString(actor), len(ids)); err != nil {
		return nil, fmt.Errorf("store: restock order %d: %w", o.ID, err)
	}
	byID, _, err := orderProducts(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	products := make([]store.Product, len(ids))
	for i, l := range ids {
		products[i] = *byID[l.ProductID]
	}
	return products, logOrder(ctx, tx, o, OpUpdate, at, nullString(actor), movesJSON)
}

// wrote checks that the statement that returned res and err changed want rows.
func wrote(res sql.Result, err error, want int) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != int64(want) {
		return fmt.Errorf("%d rows changed, want %d", n, want)
	}
	return nil
}
