package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/crmsoap/crmsoap/store"
)

const entityProduct = store.EntityProduct

// productColumns are the products columns every read selects, in productRow's order.
const productColumns = `id, version, created_at, updated_at, created_by, updated_by, sku, name, description,
	category, price_minor, currency, stock, low_stock_threshold, active, rating_sum, rating_count`

// productColumnsOf is productColumns of the products table aliased p (for the feed's join).
const productColumnsOf = `p.id, p.version, p.created_at, p.updated_at, p.created_by, p.updated_by, p.sku, p.name,
	p.description, p.category, p.price_minor, p.currency, p.stock, p.low_stock_threshold, p.active, p.rating_sum,
	p.rating_count`

// GetProduct returns the product id. Errors: store.ErrNotFound.
func (db *DB) GetProduct(ctx context.Context, id int64) (store.Product, error) {
	var r productRow
	err := db.read.QueryRowContext(ctx, `SELECT `+productColumns+` FROM products WHERE id = ?`, id).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Product{}, store.ErrNotFound
	}
	if err != nil {
		return store.Product{}, fmt.Errorf("store: get product %d: %w", id, err)
	}
	return r.product()
}

// SearchProducts returns at most limit products (<= 0: 100; at most 10000) matching f with ID >
// after, in ID order (keyset paging, as SearchCustomers).
func (db *DB) SearchProducts(ctx context.Context, f store.ProductFilter, after int64, limit int) ([]store.Product, error) {
	if limit <= 0 {
		limit = defaultSearchPage
	}
	limit = min(limit, maxSearchPage)
	var where strings.Builder
	args := []any{after}
	where.WriteString("id > ?")
	if f.SKU != "" {
		where.WriteString(" AND sku = ?")
		args = append(args, f.SKU)
	}
	if f.Category != "" {
		where.WriteString(" AND category = ?")
		args = append(args, f.Category)
	}
	if f.Active != nil {
		where.WriteString(" AND active = ?")
		args = append(args, *f.Active)
	}
	if f.LowStockOnly {
		where.WriteString(" AND stock <= low_stock_threshold")
	}
	if f.NameContains != "" {
		where.WriteString(" AND instr(name_fold, ?) > 0")
		args = append(args, fold(f.NameContains))
	}
	args = append(args, limit)
	rows, err := db.read.QueryContext(ctx, `SELECT `+productColumns+` FROM products WHERE `+where.String()+
		` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: search products: %w", err)
	}
	defer rows.Close()
	out := make([]store.Product, 0, min(limit, 1024))
	for rows.Next() {
		var r productRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("store: search products: %w", err)
		}
		p, err := r.product()
		if err != nil {
			return nil, fmt.Errorf("store: search products: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: search products: %w", err)
	}
	return out, nil
}

// productRow receives productColumns; every column may be NULL (a LEFT JOIN that found no product).
type productRow struct {
	id, version, price, stock, threshold, active sql.NullInt64
	ratingSum, ratingCount                       sql.NullInt64
	createdAt, updatedAt, createdBy, updatedBy   sql.NullString
	sku, name, description, category, currency   sql.NullString
}

func (r *productRow) dest() []any {
	return []any{&r.id, &r.version, &r.createdAt, &r.updatedAt, &r.createdBy, &r.updatedBy, &r.sku, &r.name,
		&r.description, &r.category, &r.price, &r.currency, &r.stock, &r.threshold, &r.active, &r.ratingSum, &r.ratingCount}
}

func (r *productRow) present() bool { return r.id.Valid }

func (r *productRow) product() (p store.Product, err error) {
	p.ID, p.Version = r.id.Int64, r.version.Int64
	if p.CreatedAt, err = parseTime(r.createdAt.String); err != nil {
		return store.Product{}, err
	}
	if p.UpdatedAt, err = parseTime(r.updatedAt.String); err != nil {
		return store.Product{}, err
	}
	p.CreatedBy, p.UpdatedBy = r.createdBy.String, r.updatedBy.String
	p.SKU, p.Name, p.Description, p.Category = r.sku.String, r.name.String, r.description.String, r.category.String
	p.PriceMinor, p.Currency = r.price.Int64, r.currency.String
	p.StockQuantity, p.LowStockThreshold, p.Active = r.stock.Int64, r.threshold.Int64, r.active.Int64 == 1
	p.RatingSum, p.RatingCount = r.ratingSum.Int64, r.ratingCount.Int64
	return p, nil
}

// CountLowStockProducts counts the active products whose stock is at or below their threshold.
func (db *DB) CountLowStockProducts(ctx context.Context) (int64, error) {
	var n int64
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM products WHERE active = 1 AND stock <= low_stock_threshold`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count low-stock products: %w", err)
	}
	return n, nil
}
