package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// Order limits.
const (
	maxOrderLines = 500
	maxNote       = 1000
)

// Order statuses.
const (
	StatusPlaced    = store.OrderPlaced
	StatusPaid      = store.OrderPaid
	StatusShipped   = store.OrderShipped
	StatusDelivered = store.OrderDelivered
	StatusCancelled = store.OrderCancelled
)

// nextStatus lists the statuses each status may move to.
var nextStatus = map[string][]string{
	StatusPlaced:  {StatusPaid, StatusCancelled},
	StatusPaid:    {StatusShipped, StatusCancelled},
	StatusShipped: {StatusDelivered},
}

// OrderLineInput is one line of PlaceOrder: a product by ProductID or by SKU (exactly one), and a quantity.
type OrderLineInput struct {
	ProductID int64
	SKU       string
	Quantity  int64
}

// PlaceOrderRequest is one PlaceOrder call. Currency "" is the first product's currency.
type PlaceOrderRequest struct {
	CustomerID                 int64
	ExternalID, Currency, Note string
	Lines                      []OrderLineInput
}

// OrderLine is a placed line: name and unit price as they were when the order was placed.
type OrderLine struct {
	LineNo                int
	ProductID             int64
	SKU, ProductName      string
	Quantity              int64
	UnitPrice, LineAmount Money
}

// Order is a placed order.
type Order struct {
	ID, Version             int64
	OrderNumber, ExternalID string
	CustomerID              int64
	Status                  string
	PlacedAt, UpdatedAt     time.Time
	Currency                string
	Lines                   []OrderLine
	TotalAmount             Money
	Note                    string
}

// PlacedOrder is the answer of PlaceOrder and UpdateOrderStatus: the order and
// a LOW_STOCK warning per product that ended at or below its threshold.
type PlacedOrder struct {
	Order    Order
	Warnings []Warning
}

// PlaceOrder places an order in one transaction: the customer exists, every
// product exists, is active and priced in the order's currency, and the stock of
// every line is taken or none is. Errors: VALIDATION_FAILED, NOT_FOUND (customer,
// or a line's product), INSUFFICIENT_STOCK (the first short line and what it
// has), DUPLICATE (externalId: the message names the existing order), INTERNAL.
func (s *Service) PlaceOrder(ctx context.Context, req PlaceOrderRequest) (PlacedOrder, error) {
	op, err := placeOrderOp(req)
	if err != nil {
		return PlacedOrder{}, err
	}
	op.At, op.Actor = s.now(), CallerFrom(ctx)
	return s.orderWrite(ctx, op, func(idem *store.IdempotencyRecord) (store.OrderResult, error) {
		return s.db.PlaceOrder(ctx, op, idem)
	}, func(err error) error { return placeOrderError(err, req) })
}

func placeOrderOp(req PlaceOrderRequest) (store.PlaceOrderOp, error) {
	op := store.PlaceOrderOp{CustomerID: req.CustomerID}
	var err error
	if req.CustomerID <= 0 {
		return op, invalid("customerId", "must be a positive customer id")
	}
	if op.ExternalID, err = text("externalId", req.ExternalID, maxExternalID); err != nil {
		return op, err
	}
	if op.Currency = strings.TrimSpace(req.Currency); op.Currency != "" {
		if _, ok := currencyDigits[op.Currency]; !ok {
			return op, invalid("currency", "%q is not an ISO 4217 currency code this server knows", clip(op.Currency))
		}
	}
	if op.Note, err = longText("note", req.Note, maxNote); err != nil {
		return op, err
	}
	if len(req.Lines) == 0 || len(req.Lines) > maxOrderLines {
		return op, invalid("line", "an order has 1 to %d lines; this one has %d", maxOrderLines, len(req.Lines))
	}
	for i, l := range req.Lines {
		f := fmt.Sprintf("line[%d]", i)
		sku, err := text(f+"/sku", l.SKU, maxSKU)
		switch {
		case err != nil:
			return op, err
		case (l.ProductID == 0) == (sku == ""):
			return op, invalid(f, "give exactly one of productId and sku")
		case l.ProductID < 0:
			return op, invalid(f+"/productId", "must be a positive product id")
		case l.Quantity <= 0 || l.Quantity > maxQuantity:
			return op, invalid(f+"/quantity", "must be 1 to %d", maxQuantity)
		}
		op.Lines = append(op.Lines, store.LineRequest{ProductID: l.ProductID, SKU: sku, Quantity: l.Quantity})
	}
	return op, nil
}

// placeOrderError explains a store error of PlaceOrder in terms of the request.
func placeOrderError(err error, req PlaceOrderRequest) error {
	var (
		dup   *store.DuplicateError
		short *store.InsufficientStockError
		line  *store.OrderLineError
	)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Code: CodeNotFound, Field: "customerId", Message: customerName(req.CustomerID) + " does not exist", Err: err}
	case errors.As(err, &dup) && dup.Entity == store.EntityOrder:
		return &Error{Code: CodeDuplicate, Field: "externalId", Err: err, Message: fmt.Sprintf(
			"order %d already has externalId %q: nothing was placed (read it with GetOrder)", dup.ExistingID, clip(req.ExternalID))}
	case errors.As(err, &short) && short.Line > 0:
		i := short.Line - 1
		return &Error{Code: CodeInsufficientStock, Field: fmt.Sprintf("line[%d]/quantity", i), Err: err, Message: fmt.Sprintf(
			"line[%d]: product %d (sku %q) has %d in stock, %d ordered: nothing was placed", i, short.ProductID,
			clip(short.SKU), short.Available, req.Lines[i].Quantity)}
	case errors.As(err, &line):
		i := line.Line - 1
		f := fmt.Sprintf("line[%d]", i)
		what := fmt.Sprintf("product %d", line.ProductID)
		if line.ProductID == 0 {
			what = fmt.Sprintf("product with sku %q", clip(line.SKU))
		}
		switch line.Reason {
		case store.LineNoProduct:
			return &Error{Code: CodeNotFound, Field: f, Message: f + ": " + what + " does not exist", Err: err}
		case store.LineInactive:
			return &Error{Code: CodeValidationFailed, Field: f, Message: f + ": " + what + " is not active", Err: err}
		case store.LineCurrency:
			return &Error{Code: CodeValidationFailed, Field: f, Err: err, Message: fmt.Sprintf(
				"%s: %s is priced in %s, not in the order's currency: an order has one currency", f, what, line.Currency)}
		}
		return &Error{Code: CodeValidationFailed, Field: f + "/quantity", Message: f + ": the amount is too large", Err: err}
	}
	return fromStore(err, "order")
}

// orderWrite runs one order write through writeBatch (stored outcome under a
// request key) and turns its result into a PlacedOrder; explain maps its error.
func (s *Service) orderWrite(ctx context.Context, op store.PlaceOrderOp,
	exec func(idem *store.IdempotencyRecord) (store.OrderResult, error), explain func(error) error) (PlacedOrder, error) {
	written := false // this call's store write succeeded (not a replay of a stored outcome)
	out, err := single(writeBatch(ctx, s, singleBatch(op), true,
		func(_ []store.PlaceOrderOp, idem *store.IdempotencyRecord, encode func([]store.OrderResult) ([]byte, error)) ([]store.OrderResult, error) {
			if idem != nil {
				idem.EncodeOrders = encode
			}
			r, err := exec(idem)
			if err != nil {
				return nil, err
			}
			written = r.Err == nil
			return []store.OrderResult{r}, nil
		},
		func(_ store.PlaceOrderOp, r store.OrderResult) Outcome[PlacedOrder] {
			if r.Err != nil {
				return Outcome[PlacedOrder]{Err: asError(s.fail(explain(r.Err)))}
			}
			po := PlacedOrder{Order: orderFromStore(r.Order)}
			for _, p := range r.Products {
				if w := lowStockWarning(productFromStore(p)); w != nil {
					po.Warnings = append(po.Warnings, *w)
				}
			}
			return Outcome[PlacedOrder]{Value: po, Created: true}
		}))
	if err != nil {
		return PlacedOrder{}, err
	}
	if written && s.OnOrderStatus != nil {
		s.OnOrderStatus(out.Value.Order.Status)
	}
	return out.Value, nil
}

// GetOrder reads an order. Errors: VALIDATION_FAILED (id), NOT_FOUND, INTERNAL.
func (s *Service) GetOrder(ctx context.Context, id int64) (Order, error) {
	if id <= 0 {
		return Order{}, invalid("id", "must be a positive order id")
	}
	o, err := s.db.GetOrder(ctx, id)
	if err != nil {
		return Order{}, s.fail(fromStore(err, fmt.Sprintf("order %d", id)))
	}
	return orderFromStore(o), nil
}

// UpdateOrderStatus moves order id to status along PLACED -> PAID -> SHIPPED ->
// DELIVERED, or to CANCELLED from PLACED or PAID (putting the stock back in the
// same transaction). Errors: VALIDATION_FAILED, NOT_FOUND, CONFLICT (a move the
// state machine does not allow, naming both states; or a stale
// expectedVersion), INTERNAL.
func (s *Service) UpdateOrderStatus(ctx context.Context, id int64, status string, expectedVersion int64) (PlacedOrder, error) {
	switch status {
	case StatusPlaced, StatusPaid, StatusShipped, StatusDelivered, StatusCancelled:
	default:
		return PlacedOrder{}, invalid("status", "%q is not one of PLACED, PAID, SHIPPED, DELIVERED, CANCELLED", clip(status))
	}
	if key, keyed := RequestKeyFrom(ctx); keyed {
		// A retry is answered from its stored outcome before the state machine sees the moved order.
		if out, found, err := replay[PlacedOrder](ctx, s, key); err != nil {
			return PlacedOrder{}, err
		} else if found {
			if out[0].Err != nil {
				return PlacedOrder{}, out[0].Err
			}
			return out[0].Value, nil
		}
	}
	cur, err := s.GetOrder(ctx, id)
	if err != nil {
		return PlacedOrder{}, err
	}
	if err := validExpectedVersion(expectedVersion); err != nil {
		return PlacedOrder{}, err
	}
	allowed := false
	for _, next := range nextStatus[cur.Status] {
		allowed = allowed || next == status
	}
	if !allowed {
		return PlacedOrder{}, &Error{Code: CodeConflict, Field: "status", Message: fmt.Sprintf(
			"order %d is %s: it cannot become %s (PLACED -> PAID -> SHIPPED -> DELIVERED; CANCELLED from PLACED or PAID)",
			id, cur.Status, status)}
	}
	now, caller := s.now(), CallerFrom(ctx)
	return s.orderWrite(ctx, store.PlaceOrderOp{}, func(idem *store.IdempotencyRecord) (store.OrderResult, error) {
		return s.db.SetOrderStatus(ctx, id, cur.Status, status, expectedVersion, status == StatusCancelled, now, caller, idem)
	}, func(err error) error { return fromStore(err, fmt.Sprintf("order %d", id)) })
}

func orderFromStore(o store.Order) Order {
	out := Order{ID: o.ID, Version: o.Version, OrderNumber: o.OrderNumber, ExternalID: o.ExternalID,
		CustomerID: o.CustomerID, Status: o.Status, PlacedAt: o.PlacedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(),
		Currency: o.Currency, TotalAmount: moneyOf(o.TotalMinor, o.Currency), Note: o.Note}
	for _, l := range o.Lines {
		out.Lines = append(out.Lines, OrderLine{LineNo: l.LineNo, ProductID: l.ProductID, SKU: l.SKU,
			ProductName: l.ProductName, Quantity: l.Quantity, UnitPrice: moneyOf(l.UnitPriceMinor, o.Currency),
			LineAmount: moneyOf(l.AmountMinor, o.Currency)})
	}
	return out
}
