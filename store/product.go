package store

import (
	"context"
	"fmt"
	"time"
)

// EntityProduct names products in DuplicateError and FeedEntry.
const EntityProduct = "product"

// Product is one stored product. Price is exact: PriceMinor is the amount in the currency's minor
// unit (cents for EUR, yen for JPY, fils for KWD); the store never scales it. Empty strings mean "not
// set". Times are UTC.
type Product struct {
	ID, Version          int64
	CreatedAt, UpdatedAt time.Time
	CreatedBy, UpdatedBy string

	SKU, Name, Description, Category string

	PriceMinor int64
	Currency   string // ISO 4217 code

	StockQuantity, LowStockThreshold int64
	Active                           bool

	// RatingSum and RatingCount sum the stars of the product's reviews and count them; the store keeps
	// them in the transaction of every review write. Writes of the product ignore them.
	RatingSum, RatingCount int64
}

// LowStock reports whether the stock is at or below the threshold.
func (p Product) LowStock() bool { return p.StockQuantity <= p.LowStockThreshold }

// OpAdjustStock adds ProductOp.Delta to the stock of product ProductOp.ID (if at ExpectedVersion; 0:
// any), at At by Actor; the stock never goes below zero (*InsufficientStockError).
const OpAdjustStock OpKind = 100

// ProductOp is one write of a WriteProducts call, shaped like CustomerOp: OpAdd, OpUpdate, OpUpsert
// (matched on Product.SKU), OpDelete and OpAdjustStock.
type ProductOp struct {
	Kind            OpKind
	Product         Product
	ID              int64  // OpDelete, OpAdjustStock
	ExpectedVersion int64  // 0: any version
	Delta           int64  // OpAdjustStock
	Reason          string // OpAdjustStock: why, kept with the stock movement
	At              time.Time
	Actor           string // OpDelete, OpAdjustStock
}

// ProductResult is the outcome of one ProductOp: the product as stored (for a delete only its ID and
// its tombstone's Version), Created for an insert, or Err (then Product is zero).
type ProductResult struct {
	Product Product
	Created bool
	Err     error
}

// ProductFilter selects products; zero fields do not filter. SKU and Category match exactly;
// NameContains is a case-insensitive substring of the name; Active, when set, must equal the
// product's; LowStockOnly keeps products whose stock is at or below their threshold.
type ProductFilter struct {
	SKU, NameContains, Category string
	Active                      *bool
	LowStockOnly                bool
}

// InsufficientStockError refuses a stock change that would leave product ProductID below zero;
// Available is its stock at the time.
type InsufficientStockError struct {
	ProductID, Available int64
	Line                 int    // the 1-based order line that asked for too much; 0 outside orders
	SKU                  string // set with Line
}

func (e *InsufficientStockError) Error() string {
	return fmt.Sprintf("store: product %d has %d in stock", e.ProductID, e.Available)
}

// ProductStore keeps products; their changes go to the same feed as customers'.
type ProductStore interface {
	// GetProduct returns product id. Errors: ErrNotFound.
	GetProduct(ctx context.Context, id int64) (Product, error)
	// WriteProducts is WriteCustomers for products (one transaction, a savepoint per op, allOrNone,
	// idem stored with the response idem.EncodeProducts makes). Two ops of one call naming the same
	// SKU both fail with *DuplicateError. Op errors: ErrNotFound, ErrConflict, *DuplicateError (Field
	// "sku"), *InsufficientStockError, ErrRolledBack.
	WriteProducts(ctx context.Context, ops []ProductOp, allOrNone bool, idem *IdempotencyRecord) ([]ProductResult, error)
	// SearchProducts returns at most limit products matching f with ID > after, in ID order.
	SearchProducts(ctx context.Context, f ProductFilter, after int64, limit int) ([]Product, error)
	// CountLowStockProducts counts the active products whose stock is at or below their threshold.
	CountLowStockProducts(ctx context.Context) (int64, error)
}
