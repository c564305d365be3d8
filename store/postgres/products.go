package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
)

// productColumns are the columns productRow reads, of the table aliased p. Every one is made non-NULL
// except id (NULL when a LEFT JOIN found no product).
const productColumns = `p.id, coalesce(p.version, 0), coalesce(p.created_at, 0), coalesce(p.updated_at, 0),
	coalesce(p.created_by, ''), coalesce(p.updated_by, ''), coalesce(p.sku, ''), coalesce(p.name, ''),
	coalesce(p.description, ''), coalesce(p.category, ''), coalesce(p.price_minor, 0), coalesce(p.currency, ''),
	coalesce(p.stock, 0), coalesce(p.low_stock_threshold, 0), coalesce(p.active, false),
	coalesce(p.rating_sum, 0), coalesce(p.rating_count, 0)`

// productRow receives productColumns.
type productRow struct {
	id                              *int64
	version, createdAt, updatedAt   int64
	createdBy, updatedBy, sku, name string
	description, category, currency string
	price, stock, threshold         int64
	active                          bool
	ratingSum, ratingCount          int64
}

func (r *productRow) dest() []any {
	return []any{&r.id, &r.version, &r.createdAt, &r.updatedAt, &r.createdBy, &r.updatedBy, &r.sku, &r.name,
		&r.description, &r.category, &r.price, &r.currency, &r.stock, &r.threshold, &r.active, &r.ratingSum,
		&r.ratingCount}
}

func (r *productRow) present() bool { return r.id != nil }

func (r *productRow) product() store.Product {
	p := store.Product{Version: r.version, CreatedAt: fromNanos(r.createdAt), UpdatedAt: fromNanos(r.updatedAt),
		CreatedBy: r.createdBy, UpdatedBy: r.updatedBy, SKU: r.sku, Name: r.name, Description: r.description,
		Category: r.category, PriceMinor: r.price, Currency: r.currency, StockQuantity: r.stock,
		LowStockThreshold: r.threshold, Active: r.active, RatingSum: r.ratingSum, RatingCount: r.ratingCount}
	if r.id != nil {
		p.ID = *r.id
	}
	return p
}

// scanProduct reads one row of productColumns.
func scanProduct(row pgx.Row) (store.Product, error) {
	var r productRow
	if err := row.Scan(r.dest()...); err != nil {
		return store.Product{}, err
	}
	return r.product(), nil
}

// GetProduct returns the product id in one round trip. Errors: store.ErrNotFound.
func (db *DB) GetProduct(ctx context.Context, id int64) (store.Product, error) {
	p, err := scanProduct(db.pool.QueryRow(ctx, `SELECT `+productColumns+` FROM products p WHERE p.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Product{}, store.ErrNotFound
	}
	if err != nil {
		return store.Product{}, fmt.Errorf("store: get product %d: %w", id, err)
	}
	return p, nil
}

// SearchProducts returns at most limit products (<= 0: 100; at most 10000) matching f with ID >
// after, in ID order (keyset paging, as SearchCustomers; NameContains as there).
func (db *DB) SearchProducts(ctx context.Context, f store.ProductFilter, after int64, limit int) ([]store.Product, error) {
	k := newKeyset("p.id", after)
	if f.SKU != "" {
		k.and("p.sku = %s", f.SKU)
	}
	if f.Category != "" {
		k.and("p.category = %s", f.Category)
	}
	if f.Active != nil {
		k.and("p.active = %s", *f.Active)
	}
	if f.LowStockOnly {
		k.and("p.stock <= p.low_stock_threshold", nil)
	}
	if f.NameContains != "" {
		k.and("strpos(p.name_fold, %s) > 0", store.Fold(f.NameContains))
	}
	query := k.query(`SELECT `+productColumns+` FROM products p`, limit)
	rows, err := db.pool.Query(ctx, query, k.args...)
	if err != nil {
		return nil, fmt.Errorf("store: search products: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Product, error) { return scanProduct(row) })
	if err != nil {
		return nil, fmt.Errorf("store: search products: %w", err)
	}
	return out, nil
}

// CountLowStockProducts counts the active products whose stock is at or below their threshold.
func (db *DB) CountLowStockProducts(ctx context.Context) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM products WHERE active AND stock <= low_stock_threshold`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count low-stock products: %w", err)
	}
	return n, nil
}
