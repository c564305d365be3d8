package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// AddProduct creates a product from d. Errors: VALIDATION_FAILED, DUPLICATE (sku), INTERNAL.
func (s *Service) AddProduct(ctx context.Context, d *ProductData) (Product, error) {
	p, err := productFromData(d)
	if err != nil {
		return Product{}, err
	}
	now, caller := s.now(), CallerFrom(ctx)
	p.CreatedAt, p.UpdatedAt, p.CreatedBy, p.UpdatedBy = now, now, caller, caller
	o, err := s.writeOneProduct(ctx, store.ProductOp{Kind: store.OpAdd, Product: p})
	return o.Value, err
}

// GetProduct reads a product. Errors: VALIDATION_FAILED (id), NOT_FOUND, INTERNAL.
func (s *Service) GetProduct(ctx context.Context, id int64) (Product, error) {
	if err := validProductID("id", id); err != nil {
		return Product{}, err
	}
	p, err := s.db.GetProduct(ctx, id)
	if err != nil {
		return Product{}, s.fail(fromStore(err, productName(id)))
	}
	return productFromStore(p), nil
}

// UpdateProduct replaces every writable field of product id, if at
// expectedVersion (0: any). Errors: VALIDATION_FAILED, NOT_FOUND, CONFLICT,
// DUPLICATE, INTERNAL.
func (s *Service) UpdateProduct(ctx context.Context, id, expectedVersion int64, d *ProductData) (Product, error) {
	if err := validProductID("id", id); err != nil {
		return Product{}, err
	}
	if err := validExpectedVersion(expectedVersion); err != nil {
		return Product{}, err
	}
	p, err := productFromData(d)
	if err != nil {
		return Product{}, err
	}
	p.ID, p.UpdatedAt, p.UpdatedBy = id, s.now(), CallerFrom(ctx)
	o, err := s.writeOneProduct(ctx, store.ProductOp{Kind: store.OpUpdate, Product: p, ExpectedVersion: expectedVersion})
	return o.Value, err
}

// DeleteProduct deletes product id, if at expectedVersion (0: any). Errors:
// VALIDATION_FAILED, NOT_FOUND, CONFLICT, INTERNAL.
func (s *Service) DeleteProduct(ctx context.Context, id, expectedVersion int64) error {
	if err := validProductID("id", id); err != nil {
		return err
	}
	if err := validExpectedVersion(expectedVersion); err != nil {
		return err
	}
	_, err := s.writeOneProduct(ctx, store.ProductOp{Kind: store.OpDelete, ID: id, ExpectedVersion: expectedVersion,
		At: s.now(), Actor: CallerFrom(ctx)})
	return err
}

// UpsertProduct creates the product with d.SKU or replaces every writable field
// of it, if at expectedVersion (0: any). Errors as UpdateProduct.
func (s *Service) UpsertProduct(ctx context.Context, d *ProductData, expectedVersion int64) (Product, bool, error) {
	op, err := productUpsertOp(d, expectedVersion, s.now(), CallerFrom(ctx))
	if err != nil {
		return Product{}, false, err
	}
	o, err := s.writeOneProduct(ctx, op)
	return o.Value, o.Created, err
}

// UpsertProducts upserts one product per item by sku, in one durable commit
// (the rules of UpsertCustomers: two items with one sku both fail with
// DUPLICATE; allOrNone; retries by request key).
func (s *Service) UpsertProducts(ctx context.Context, allOrNone bool, items []*ProductData) ([]Outcome[Product], error) {
	if err := checkBatchSize("product", len(items), s.maxBatch()); err != nil {
		return nil, err
	}
	now, caller := s.now(), CallerFrom(ctx)
	b := prepareBatch(items, func(i int, d *ProductData) (store.ProductOp, error) {
		op, err := productUpsertOp(d, 0, now, caller)
		if e, ok := err.(*Error); ok && strings.HasPrefix(e.Field, "product") {
			e.Field = fmt.Sprintf("product[%d]", i) + strings.TrimPrefix(e.Field, "product")
		}
		return op, err
	})
	failDuplicateKeys(b, "product/sku", "sku appears in more than one item of this call; send each product once",
		func(op store.ProductOp) string { return op.Product.SKU })
	return s.writeProducts(ctx, b, allOrNone, false)
}

// AdjustStock adds delta (non-zero; negative takes stock out) to the stock of
// product id, if at expectedVersion (0: any), recording reason. The stock never
// goes below zero: INSUFFICIENT_STOCK names the product and what it has, and
// nothing changes. The warning is LOW_STOCK when the product ends at or below
// its threshold. Errors: VALIDATION_FAILED, NOT_FOUND, CONFLICT,
// INSUFFICIENT_STOCK, INTERNAL.
func (s *Service) AdjustStock(ctx context.Context, id, delta int64, reason string, expectedVersion int64) (Product, *Warning, error) {
	if err := validProductID("productId", id); err != nil {
		return Product{}, nil, err
	}
	if delta == 0 || delta > maxQuantity || delta < -maxQuantity {
		return Product{}, nil, invalid("delta", "must be a non-zero number of units between -%d and %d", maxQuantity, maxQuantity)
	}
	reason, err := text("reason", reason, maxReason)
	if err != nil {
		return Product{}, nil, err
	}
	if reason == "" {
		return Product{}, nil, invalid("reason", "is required (1 to %d characters)", maxReason)
	}
	if err := validExpectedVersion(expectedVersion); err != nil {
		return Product{}, nil, err
	}
	o, err := s.writeOneProduct(ctx, store.ProductOp{Kind: store.OpAdjustStock, ID: id, Delta: delta, Reason: reason,
		ExpectedVersion: expectedVersion, At: s.now(), Actor: CallerFrom(ctx)})
	if err != nil {
		return Product{}, nil, err
	}
	return o.Value, lowStockWarning(o.Value), nil
}

func productUpsertOp(d *ProductData, expectedVersion int64, now time.Time, caller string) (store.ProductOp, error) {
	if err := validExpectedVersion(expectedVersion); err != nil {
		return store.ProductOp{}, err
	}
	p, err := productFromData(d)
	if err != nil {
		return store.ProductOp{}, err
	}
	p.CreatedAt, p.UpdatedAt, p.CreatedBy, p.UpdatedBy = now, now, caller, caller
	return store.ProductOp{Kind: store.OpUpsert, Product: p, ExpectedVersion: expectedVersion}, nil
}

// writeOneProduct runs one validated product write through the bulk road.
func (s *Service) writeOneProduct(ctx context.Context, op store.ProductOp) (Outcome[Product], error) {
	return single(s.writeProducts(ctx, singleBatch(op), true, true))
}

// writeProducts runs a batch of product writes through writeBatch; a bulk
// call's Outcomes (full false) hold each product's ID and Version only.
func (s *Service) writeProducts(ctx context.Context, b *batch[store.ProductOp], allOrNone, full bool) ([]Outcome[Product], error) {
	return writeBatch(ctx, s, b, allOrNone,
		func(ops []store.ProductOp, idem *store.IdempotencyRecord, encode func([]store.ProductResult) ([]byte, error)) ([]store.ProductResult, error) {
			if idem != nil {
				idem.EncodeProducts = encode
			}
			return s.db.WriteProducts(ctx, ops, allOrNone, idem)
		},
		func(op store.ProductOp, r store.ProductResult) Outcome[Product] {
			if r.Err != nil {
				if isRolledBack(r.Err) {
					return Outcome[Product]{Err: rolledBack()}
				}
				what := "product"
				switch op.Kind {
				case store.OpDelete, store.OpAdjustStock:
					what = productName(op.ID)
				case store.OpUpdate:
					what = productName(op.Product.ID)
				case store.OpUpsert:
					what = fmt.Sprintf("product with sku %q", clip(op.Product.SKU))
				}
				return Outcome[Product]{Err: asError(s.fail(fromStore(r.Err, what)))}
			}
			switch {
			case op.Kind == store.OpDelete:
				return Outcome[Product]{Value: Product{ID: op.ID}}
			case full:
				return Outcome[Product]{Value: productFromStore(r.Product), Created: r.Created}
			}
			return Outcome[Product]{Value: Product{ID: r.Product.ID, Version: r.Product.Version}, Created: r.Created}
		})
}

// insufficientStock is how a *store.InsufficientStockError reads.
func insufficientStock(err error) (*Error, bool) {
	var short *store.InsufficientStockError
	if !errors.As(err, &short) {
		return nil, false
	}
	return &Error{Code: CodeInsufficientStock, Field: "delta", Err: err,
		Message: fmt.Sprintf("%s has %d in stock: not enough for this change; nothing was changed", productName(short.ProductID), short.Available)}, true
}
