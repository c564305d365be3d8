package store

import (
	"context"
	"errors"
	"time"
)

// EntityOrder names orders in DuplicateError.
const EntityOrder = "order"

// ErrReferenced refuses to delete a record that orders refer to (a product on an order line, a customer
// with orders): orders are financial records and keep what they name.
var ErrReferenced = errors.New("store: record is referenced by orders")

// Order statuses.
const (
	OrderPlaced    = "PLACED"
	OrderPaid      = "PAID"
	OrderShipped   = "SHIPPED"
	OrderDelivered = "DELIVERED"
	OrderCancelled = "CANCELLED"
)

// OrderLine is one line of an order: product name and unit price are copied when the order is placed.
// Amounts are in the order currency's minor unit.
type OrderLine struct {
	LineNo                      int
	ProductID                   int64
	SKU, ProductName            string
	Quantity                    int64
	UnitPriceMinor, AmountMinor int64
}

// Order is one stored order. OrderNumber is assigned by the store (SO-000123). Times are UTC.
type Order struct {
	ID, Version          int64
	OrderNumber          string
	ExternalID           string
	CustomerID           int64
	Status               string
	PlacedAt, UpdatedAt  time.Time
	CreatedBy, UpdatedBy string
	Currency             string
	Lines                []OrderLine
	TotalMinor           int64
	Note                 string
}

// LineRequest is one line a PlaceOrderOp asks for: a product by ID or, when ID is 0, by SKU.
type LineRequest struct {
	ProductID int64
	SKU       string
	Quantity  int64
}

// PlaceOrderOp places an order for CustomerID at At by Actor. Currency "" means the first line's product
// currency.
type PlaceOrderOp struct {
	CustomerID int64
	ExternalID string
	Currency   string
	Note       string
	Lines      []LineRequest
	At         time.Time
	Actor      string
}

// OrderResult is the outcome of PlaceOrder or UpdateOrderStatus: the order as stored and the products
// whose stock it changed (after the change), or Err.
type OrderResult struct {
	Order    Order
	Products []Product
	Err      error
}

// Reasons of an OrderLineError.
const (
	LineNoProduct = "no-product" // no product with that id or sku
	LineInactive  = "inactive"   // the product is not active
	LineCurrency  = "currency"   // the product is priced in another currency
	LineTooLarge  = "too-large"  // the line's or the order's amount does not fit 64 bits
)

// OrderLineError says why line Line (1-based) of a PlaceOrderOp cannot be placed.
type OrderLineError struct {
	Line      int
	ProductID int64
	SKU       string
	Reason    string
	Currency  string // LineCurrency: the product's currency
}

func (e *OrderLineError) Error() string { return "store: order line: " + e.Reason }

// OrderFilter selects orders; zero fields do not filter. PlacedFrom is inclusive, PlacedTo exclusive.
type OrderFilter struct {
	CustomerID           int64
	Status               string
	PlacedFrom, PlacedTo time.Time
}

// OrderStore keeps orders.
type OrderStore interface {
	// PlaceOrder places op in one transaction: the customer exists (else ErrNotFound), every line's
	// product exists, is active and priced in the order currency (else *OrderLineError), and the stock
	// of every line is decremented or none is (*InsufficientStockError with Line set). An external id
	// already used is *DuplicateError{Entity: EntityOrder, Field: "externalId", ExistingID}. idem as in
	// WriteCustomers, with EncodeOrders.
	PlaceOrder(ctx context.Context, op PlaceOrderOp, idem *IdempotencyRecord) (OrderResult, error)
	// GetOrder returns order id with its lines. Errors: ErrNotFound.
	GetOrder(ctx context.Context, id int64) (Order, error)
	// SearchOrders returns at most limit orders matching f with ID > after, in ID order, with lines.
	SearchOrders(ctx context.Context, f OrderFilter, after int64, limit int) ([]Order, error)
	// SetOrderStatus moves order id from status from to status to (if at expectedVersion; 0: any), at
	// at by actor; restock puts every line's quantity back in stock in the same transaction. Errors
	// (in the result): ErrNotFound, ErrConflict (the order is not in from, or not at expectedVersion).
	SetOrderStatus(ctx context.Context, id int64, from, to string, expectedVersion int64, restock bool,
		at time.Time, actor string, idem *IdempotencyRecord) (OrderResult, error)
}
