package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
)

// WriteProducts runs ops as WriteCustomers runs customer ops (see store.ProductStore): one job of the
// writer, a savepoint per op, allOrNone, the idempotency record in the same transaction. Two ops naming
// the same SKU are both refused before anything runs. Every op writes or fails without writing: a lone
// op without an idempotency record is a clean job.
func (db *DB) WriteProducts(ctx context.Context, ops []store.ProductOp, allOrNone bool, idem *store.IdempotencyRecord) ([]store.ProductResult, error) {
	dup := sharedSKUs(ops)
	c := opCall[store.ProductOp, store.ProductResult]{what: "products", ops: ops, allOrNone: allOrNone, idem: idem,
		preFailed: func(i int) error {
			if dup[i] {
				return &store.DuplicateError{Entity: store.EntityProduct, Field: "sku"}
			}
			return nil
		},
		run: func(ctx context.Context, w *wtx, op store.ProductOp) store.ProductResult {
			return w.runProductOp(ctx, op)
		},
		errOf:  func(r store.ProductResult) error { return r.Err },
		failed: func(err error) store.ProductResult { return store.ProductResult{Err: err} },
		clean:  true,
	}
	if idem != nil {
		c.encode = idem.EncodeProducts
	}
	return runCall(ctx, db, c)
}

// sharedSKUs marks the ops that carry a SKU another op of the call carries too.
func sharedSKUs(ops []store.ProductOp) []bool {
	first := make(map[string]int, len(ops))
	dup := make([]bool, len(ops))
	for i, op := range ops {
		if op.Kind == store.OpDelete || op.Kind == store.OpAdjustStock || op.Product.SKU == "" {
			continue
		}
		if j, ok := first[op.Product.SKU]; ok {
			dup[i], dup[j] = true, true
			continue
		}
		first[op.Product.SKU] = i
	}
	return dup
}

func (w *wtx) runProductOp(ctx context.Context, op store.ProductOp) (r store.ProductResult) {
	p := op.Product
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	p.RatingSum, p.RatingCount = 0, 0 // kept by review writes only
	switch op.Kind {
	case store.OpAdd:
		r.Product, r.Err = w.addProduct(ctx, p)
		r.Created = r.Err == nil
	case store.OpUpdate:
		r.Product, r.Err = w.updateProduct(ctx, p, `id`, p.ID, op.ExpectedVersion)
	case store.OpUpsert:
		r.Product, r.Created, r.Err = w.upsertProduct(ctx, p, op.ExpectedVersion)
	case store.OpDelete:
		r.Product, r.Err = w.deleteProduct(ctx, op)
	case store.OpAdjustStock:
		r.Product, r.Err = w.adjustStock(ctx, op)
	default:
		r.Err = fmt.Errorf("store: unknown product op kind %d", op.Kind)
	}
	if r.Err != nil {
		r.Product, r.Created = store.Product{}, false
	}
	return r
}

// productInsert inserts a product from productArgs ($1..$14); ON CONFLICT names what a taken SKU does.
const productInsert = `INSERT INTO products (version, created_at, updated_at, created_by, updated_by, sku, name,
	name_fold, description, category, price_minor, currency, stock, low_stock_threshold, active)
	VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`

func productArgs(p store.Product) []any {
	return []any{nanos(p.CreatedAt), nanos(p.UpdatedAt), nullString(p.CreatedBy), nullString(p.UpdatedBy),
		p.SKU, p.Name, store.Fold(p.Name), nullString(p.Description), nullString(p.Category), p.PriceMinor,
		p.Currency, p.StockQuantity, p.LowStockThreshold, p.Active}
}

func (w *wtx) addProduct(ctx context.Context, p store.Product) (store.Product, error) {
	err := w.QueryRow(ctx, productInsert+` ON CONFLICT (sku) DO NOTHING RETURNING id`, productArgs(p)...).Scan(&p.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Product{}, &store.DuplicateError{Entity: store.EntityProduct, Field: "sku"}
	}
	if err != nil {
		return store.Product{}, duplicate("create product", err)
	}
	p.Version = 1
	w.productWritten(p, opCreate)
	return p, nil
}

// updateProduct replaces every writable field of the product whose column key has value, if at
// expectedVersion (0: any): one conditional UPDATE.
func (w *wtx) updateProduct(ctx context.Context, p store.Product, key string, value any, expectedVersion int64) (store.Product, error) {
	a := productArgs(p)
	args := append([]any{a[1], a[3]}, a[4:]...) // updated_at, updated_by, then the writable columns
	args = append(args, value, expectedVersion)
	var createdAt int64
	err := w.QueryRow(ctx, `UPDATE products SET version = version + 1, updated_at = $1, updated_by = $2, sku = $3,
		name = $4, name_fold = $5, description = $6, category = $7, price_minor = $8, currency = $9, stock = $10,
		low_stock_threshold = $11, active = $12
		WHERE `+key+` = $13 AND ($14::bigint = 0 OR version = $14)
		RETURNING id, version, created_at, coalesce(created_by, ''), rating_sum, rating_count`, args...).
		Scan(&p.ID, &p.Version, &createdAt, &p.CreatedBy, &p.RatingSum, &p.RatingCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Product{}, w.missingOrStale(ctx, `SELECT EXISTS (SELECT 1 FROM products WHERE `+key+` = $1)`, value)
	}
	if err != nil {
		return store.Product{}, duplicate("update product", err)
	}
	p.CreatedAt = fromNanos(createdAt)
	w.productWritten(p, opUpdate)
	return p, nil
}

// upsertProduct inserts p or, when its SKU is taken, replaces that product (INSERT ... ON CONFLICT: two
// nodes upserting one SKU at once make one row). With an expected version it is an update by SKU.
func (w *wtx) upsertProduct(ctx context.Context, p store.Product, expectedVersion int64) (store.Product, bool, error) {
	if p.SKU == "" {
		return store.Product{}, false, errors.New("store: upsert product: a sku is required")
	}
	if expectedVersion != 0 {
		p, err := w.updateProduct(ctx, p, `sku`, p.SKU, expectedVersion)
		return p, false, err
	}
	var createdAt int64
	err := w.QueryRow(ctx, productInsert+` ON CONFLICT (sku) DO UPDATE SET version = products.version + 1,
		updated_at = excluded.updated_at, updated_by = excluded.updated_by, name = excluded.name,
		name_fold = excluded.name_fold, description = excluded.description, category = excluded.category,
		price_minor = excluded.price_minor, currency = excluded.currency, stock = excluded.stock,
		low_stock_threshold = excluded.low_stock_threshold, active = excluded.active
		RETURNING id, version, created_at, coalesce(created_by, ''), rating_sum, rating_count`, productArgs(p)...).
		Scan(&p.ID, &p.Version, &createdAt, &p.CreatedBy, &p.RatingSum, &p.RatingCount)
	if err != nil {
		return store.Product{}, false, duplicate("upsert product", err)
	}
	p.CreatedAt = fromNanos(createdAt)
	created := p.Version == 1 // an update always leaves version 2 or more
	op := opUpdate
	if created {
		op = opCreate
	}
	w.productWritten(p, op)
	return p, created, nil
}

// deleteProduct deletes product op.ID, then its reviews; the result holds its ID and the tombstone's
// version. A product on an order line is refused by order_lines_product_id_fkey (store.ErrReferenced),
// also when the order commits meanwhile on another node. The product goes first (see deleteCustomer).
func (w *wtx) deleteProduct(ctx context.Context, op store.ProductOp) (store.Product, error) {
	var version int64
	var sku string
	err := w.QueryRow(ctx, `DELETE FROM products WHERE id = $1 AND ($2::bigint = 0 OR version = $2)
		RETURNING version, sku`, op.ID, op.ExpectedVersion).Scan(&version, &sku)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Product{}, w.missingOrStale(ctx, `SELECT EXISTS (SELECT 1 FROM products WHERE id = $1)`, op.ID)
	}
	if err != nil {
		return store.Product{}, referenced("delete product", err)
	}
	if err := w.deleteReviewsOf(ctx, "product_id", op.ID, nanos(op.At), op.Actor); err != nil {
		return store.Product{}, err
	}
	w.feed = append(w.feed, feedRow{entity: store.EntityProduct, op: opDelete, kind: store.FeedDeleted, id: op.ID,
		version: version + 1, at: nanos(op.At), actor: nullString(op.Actor), externalID: nullString(sku)})
	return store.Product{ID: op.ID, Version: version + 1}, nil
}

// adjustStock adds op.Delta to the stock in one conditional UPDATE: the row changes only when the
// result stays at or above zero, so concurrent adjustments, on any node, never drive it negative.
func (w *wtx) adjustStock(ctx context.Context, op store.ProductOp) (store.Product, error) {
	p, err := scanProduct(w.QueryRow(ctx, `UPDATE products p SET stock = stock + $1, version = version + 1,
		updated_at = $2, updated_by = $3 WHERE id = $4 AND ($5::bigint = 0 OR version = $5) AND stock + $1 >= 0
		RETURNING `+productColumns, op.Delta, nanos(op.At), nullString(op.Actor), op.ID, op.ExpectedVersion))
	if errors.Is(err, pgx.ErrNoRows) {
		var version, stock int64
		err := w.QueryRow(ctx, `SELECT version, stock FROM products WHERE id = $1`, op.ID).Scan(&version, &stock)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return store.Product{}, store.ErrNotFound
		case err != nil:
			return store.Product{}, fmt.Errorf("store: adjust stock: %w", err)
		case op.ExpectedVersion != 0 && version != op.ExpectedVersion:
			return store.Product{}, store.ErrConflict
		}
		return store.Product{}, &store.InsufficientStockError{ProductID: op.ID, Available: stock}
	}
	if err != nil {
		return store.Product{}, fmt.Errorf("store: adjust stock: %w", err)
	}
	if _, err := w.Exec(ctx, `INSERT INTO stock_movements (product_id, delta, reason, at, actor)
		VALUES ($1, $2, $3, $4, $5)`, op.ID, op.Delta, op.Reason, nanos(op.At), nullString(op.Actor)); err != nil {
		return store.Product{}, fmt.Errorf("store: adjust stock: %w", err)
	}
	w.productWritten(p, opUpdate)
	return p, nil
}

// productWritten queues the change log row and the feed entry of p's write.
func (w *wtx) productWritten(p store.Product, op string) {
	at, actor := p.UpdatedAt, p.UpdatedBy
	if op == opCreate {
		at, actor = p.CreatedAt, p.CreatedBy
	}
	w.feed = append(w.feed, feedRow{entity: store.EntityProduct, op: op, kind: store.FeedUpserted, id: p.ID,
		version: p.Version, at: nanos(at), actor: nullString(actor), externalID: nullString(p.SKU)})
}
