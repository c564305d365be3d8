package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/crmsoap/crmsoap/store"
)

// WriteProducts runs ops as WriteCustomers runs customer ops (see store.ProductStore): the same
// writer job, savepoints, allOrNone and idempotency record, through runBatch.
func (db *DB) WriteProducts(ctx context.Context, ops []store.ProductOp, allOrNone bool, idem *store.IdempotencyRecord) ([]store.ProductResult, error) {
	dup := sharedKeys(ops, func(op store.ProductOp) string {
		if op.Kind == store.OpDelete || op.Kind == store.OpAdjustStock {
			return ""
		}
		return op.Product.SKU
	})
	b := opBatch[store.ProductOp, store.ProductResult]{what: "products", ops: ops, allOrNone: allOrNone, idem: idem,
		preFailed: func(i int) error {
			if dup[i] {
				return &store.DuplicateError{Entity: store.EntityProduct, Field: "sku"}
			}
			return nil
		},
		run:    runProductOp,
		errOf:  func(r store.ProductResult) error { return r.Err },
		failed: func(err error) store.ProductResult { return store.ProductResult{Err: err} },
	}
	if idem != nil && idem.EncodeProducts != nil {
		b.encode = idem.EncodeProducts
	}
	return runBatch(ctx, db, b)
}

func runProductOp(ctx context.Context, tx *sql.Tx, op store.ProductOp) (r store.ProductResult) {
	p := op.Product
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	p.RatingSum, p.RatingCount = 0, 0 // kept by review writes only
	switch op.Kind {
	case store.OpAdd:
		r.Product, r.Err = insertProduct(ctx, tx, p)
		r.Created = r.Err == nil
	case store.OpUpdate:
		r.Product, r.Err = updateProduct(ctx, tx, p, `id = ?`, p.ID, op.ExpectedVersion)
	case store.OpUpsert:
		r.Product, r.Created, r.Err = upsertProduct(ctx, tx, p, op.ExpectedVersion)
	case store.OpDelete:
		r.Product, r.Err = deleteProduct(ctx, tx, op)
	case store.OpAdjustStock:
		r.Product, r.Err = adjustStock(ctx, tx, op)
	default:
		r.Err = fmt.Errorf("store: unknown product op kind %d", op.Kind)
	}
	if r.Err != nil {
		r.Product, r.Created = store.Product{}, false
	}
	return r
}

func productArgs(p store.Product) []any {
	return []any{p.SKU, p.Name, fold(p.Name), nullString(p.Description), nullString(p.Category), p.PriceMinor,
		p.Currency, p.StockQuantity, p.LowStockThreshold, p.Active}
}

func insertProduct(ctx context.Context, tx *sql.Tx, p store.Product) (store.Product, error) {
	args := append([]any{formatTime(p.CreatedAt), formatTime(p.UpdatedAt), nullString(p.CreatedBy),
		nullString(p.UpdatedBy)}, productArgs(p)...)
	err := tx.QueryRowContext(ctx, `INSERT INTO products (version, created_at, updated_at, created_by, updated_by,
		sku, name, name_fold, description, category, price_minor, currency, stock, low_stock_threshold, active)
		VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, args...).Scan(&p.ID)
	if err != nil {
		return store.Product{}, productWriteError(ctx, tx, "create product", 0, p.SKU, err)
	}
	p.Version = 1
	return p, productWritten(ctx, tx, p, OpCreate)
}

// updateProduct replaces every writable field of the product where (with key) holds, if at
// expectedVersion (0: any).
func updateProduct(ctx context.Context, tx *sql.Tx, p store.Product, where string, key any, expectedVersion int64) (store.Product, error) {
	args := append([]any{formatTime(p.UpdatedAt), nullString(p.UpdatedBy)}, productArgs(p)...)
	args = append(args, key, expectedVersion, expectedVersion)
	var createdAt string
	var createdBy sql.NullString
	err := tx.QueryRowContext(ctx, `UPDATE products SET version = version + 1, updated_at = ?, updated_by = ?,
		sku = ?, name = ?, name_fold = ?, description = ?, category = ?, price_minor = ?, currency = ?, stock = ?,
		low_stock_threshold = ?, active = ?
		WHERE `+where+` AND (? = 0 OR version = ?)
		RETURNING id, version, created_at, created_by, rating_sum, rating_count`, args...).Scan(&p.ID, &p.Version,
		&createdAt, &createdBy, &p.RatingSum, &p.RatingCount)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Product{}, missingOrStale(ctx, tx, `SELECT 1 FROM products WHERE `+where, key)
	}
	if err != nil {
		return store.Product{}, productWriteError(ctx, tx, "update product", p.ID, p.SKU, err)
	}
	if p.CreatedAt, err = parseTime(createdAt); err != nil {
		return store.Product{}, fmt.Errorf("store: update product: %w", err)
	}
	p.CreatedBy = createdBy.String
	return p, productWritten(ctx, tx, p, OpUpdate)
}

// upsertProduct inserts p or replaces the product with its SKU; with an expected version it is an
// update by SKU.
func upsertProduct(ctx context.Context, tx *sql.Tx, p store.Product, expectedVersion int64) (store.Product, bool, error) {
	if p.SKU == "" {
		return store.Product{}, false, errors.New("store: upsert product: a sku is required")
	}
	if expectedVersion != 0 {
		p, err := updateProduct(ctx, tx, p, `sku = ?`, p.SKU, expectedVersion)
		return p, false, err
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM products WHERE sku = ?`, p.SKU).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		p, err := insertProduct(ctx, tx, p)
		return p, err == nil, err
	case err != nil:
		return store.Product{}, false, fmt.Errorf("store: upsert product: %w", err)
	}
	p, err = updateProduct(ctx, tx, p, `id = ?`, id, 0)
	return p, false, err
}

func deleteProduct(ctx context.Context, tx *sql.Tx, op store.ProductOp) (store.Product, error) {
	if onOrder, err := exists(ctx, tx, `SELECT 1 FROM order_lines WHERE product_id = ?`, op.ID); err != nil {
		return store.Product{}, fmt.Errorf("store: delete product: %w", err)
	} else if onOrder {
		return store.Product{}, store.ErrReferenced
	}
	if err := deleteReviewsOf(ctx, tx, "product_id", op.ID, store.ReviewOp{At: op.At, Actor: op.Actor}); err != nil {
		return store.Product{}, err
	}
	var version int64
	var sku string
	err := tx.QueryRowContext(ctx, `DELETE FROM products WHERE id = ? AND (? = 0 OR version = ?) RETURNING version, sku`,
		op.ID, op.ExpectedVersion, op.ExpectedVersion).Scan(&version, &sku)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Product{}, missingOrStale(ctx, tx, `SELECT 1 FROM products WHERE id = ?`, op.ID)
	}
	if err != nil {
		return store.Product{}, fmt.Errorf("store: delete product: %w", err)
	}
	tomb := feedRow{entity: entityProduct, kind: store.FeedDeleted, id: op.ID, version: version + 1, at: op.At,
		actor: op.Actor, externalID: sku}
	if err := recordChange(ctx, tx, Change{Entity: entityProduct, EntityID: op.ID, Op: OpDelete,
		Version: tomb.version, At: op.At, Actor: op.Actor}); err != nil {
		return store.Product{}, err
	}
	if err := writeFeed(ctx, tx, tomb); err != nil {
		return store.Product{}, err
	}
	return store.Product{ID: op.ID, Version: tomb.version}, nil
}

// adjustStock adds op.Delta to the stock in one conditional UPDATE: the row is changed only when the
// result stays at or above zero, so concurrent adjustments can never drive it negative.
func adjustStock(ctx context.Context, tx *sql.Tx, op store.ProductOp) (store.Product, error) {
	var r productRow
	err := tx.QueryRowContext(ctx, `UPDATE products SET stock = stock + ?, version = version + 1, updated_at = ?,
		updated_by = ? WHERE id = ? AND (? = 0 OR version = ?) AND stock + ? >= 0 RETURNING `+productColumns,
		op.Delta, formatTime(op.At), nullString(op.Actor), op.ID, op.ExpectedVersion, op.ExpectedVersion, op.Delta).
		Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		var version, stock int64
		err := tx.QueryRowContext(ctx, `SELECT version, stock FROM products WHERE id = ?`, op.ID).Scan(&version, &stock)
		switch {
		case errors.Is(err, sql.ErrNoRows):
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
	p, err := r.product()
	if err != nil {
		return store.Product{}, fmt.Errorf("store: adjust stock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO stock_movements (product_id, delta, reason, at, actor)
		VALUES (?, ?, ?, ?, ?)`, op.ID, op.Delta, op.Reason, formatTime(op.At), nullString(op.Actor)); err != nil {
		return store.Product{}, fmt.Errorf("store: adjust stock: %w", err)
	}
	return p, productWritten(ctx, tx, p, OpUpdate)
}

// productWritten logs the change of p and makes it the product's feed entry.
func productWritten(ctx context.Context, tx *sql.Tx, p store.Product, op string) error {
	at, actor := p.UpdatedAt, p.UpdatedBy
	if op == OpCreate {
		at, actor = p.CreatedAt, p.CreatedBy
	}
	if err := recordChange(ctx, tx, Change{Entity: entityProduct, EntityID: p.ID, Op: op,
		Version: p.Version, At: at, Actor: actor}); err != nil {
		return err
	}
	return writeFeed(ctx, tx, feedRow{entity: entityProduct, kind: store.FeedUpserted, id: p.ID, version: p.Version,
		at: at, actor: actor, externalID: p.SKU})
}

func productWriteError(ctx context.Context, tx *sql.Tx, op string, id int64, sku string, err error) error {
	return uniqueViolation(ctx, tx, "store: "+op, err,
		uniqueKey{store.EntityProduct, "sku", `SELECT 1 FROM products WHERE sku = ? AND id <> ?`, []any{sku, id}})
}
