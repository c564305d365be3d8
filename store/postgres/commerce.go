package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// Products, orders and reviews have no PostgreSQL tables yet: their methods say so with
// errors.ErrUnsupported, which the service turns into an UNAVAILABLE fault naming the backend. They
// exist so that one store.Store serves both backends; store/sqlite holds these entities today.

var errNoCommerce = fmt.Errorf("products, orders and reviews are not stored on PostgreSQL yet: %w", errors.ErrUnsupported)

// GetProduct is not supported yet (errors.ErrUnsupported).
func (db *DB) GetProduct(context.Context, int64) (store.Product, error) {
	return store.Product{}, errNoCommerce
}

// WriteProducts is not supported yet (errors.ErrUnsupported).
func (db *DB) WriteProducts(context.Context, []store.ProductOp, bool, *store.IdempotencyRecord) ([]store.ProductResult, error) {
	return nil, errNoCommerce
}

// SearchProducts is not supported yet (errors.ErrUnsupported).
func (db *DB) SearchProducts(context.Context, store.ProductFilter, int64, int) ([]store.Product, error) {
	return nil, errNoCommerce
}

// CountLowStockProducts is not supported yet (errors.ErrUnsupported).
func (db *DB) CountLowStockProducts(context.Context) (int64, error) {
	return 0, errNoCommerce
}

// PlaceOrder is not supported yet (errors.ErrUnsupported).
func (db *DB) PlaceOrder(context.Context, store.PlaceOrderOp, *store.IdempotencyRecord) (store.OrderResult, error) {
	return store.OrderResult{}, errNoCommerce
}

// GetOrder is not supported yet (errors.ErrUnsupported).
func (db *DB) GetOrder(context.Context, int64) (store.Order, error) {
	return store.Order{}, errNoCommerce
}

// SearchOrders is not supported yet (errors.ErrUnsupported).
func (db *DB) SearchOrders(context.Context, store.OrderFilter, int64, int) ([]store.Order, error) {
	return nil, errNoCommerce
}

// WriteReview is not supported yet (errors.ErrUnsupported).
func (db *DB) WriteReview(context.Context, store.ReviewOp, *store.IdempotencyRecord) (store.ReviewResult, error) {
	return store.ReviewResult{}, errNoCommerce
}

// GetReview is not supported yet (errors.ErrUnsupported).
func (db *DB) GetReview(context.Context, int64) (store.Review, error) {
	return store.Review{}, errNoCommerce
}

// SearchReviews is not supported yet (errors.ErrUnsupported).
func (db *DB) SearchReviews(context.Context, store.ReviewFilter, int64, int) ([]store.Review, error) {
	return nil, errNoCommerce
}

// SetOrderStatus is not supported yet (errors.ErrUnsupported).
func (db *DB) SetOrderStatus(context.Context, int64, string, string, int64, bool, time.Time, string,
	*store.IdempotencyRecord) (store.OrderResult, error) {
	return store.OrderResult{}, errNoCommerce
}
