package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crmsoap/crmsoap/store"
)

// orderSetup stores customer "C" and products A (10 EUR 12.34) and B (stock 1, EUR 0.99), returning
// their ids.
func orderSetup(t *testing.T, db store.Store) (cust, a, b int64) {
	t.Helper()
	c, err := db.CreateCustomer(context.Background(), customer("C", "Customer"))
	if err != nil {
		t.Fatal(err)
	}
	pa := writeProduct(t, db, store.ProductOp{Kind: store.OpAdd, Product: product("A")}).Product
	pb := product("B")
	pb.StockQuantity, pb.PriceMinor = 1, 99
	return c.ID, pa.ID, writeProduct(t, db, store.ProductOp{Kind: store.OpAdd, Product: pb}).Product.ID
}

func testPlaceOrder(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	cust, a, b := orderSetup(t, db)
	r, err := db.PlaceOrder(ctx, store.PlaceOrderOp{CustomerID: cust, ExternalID: "EXT-1", Note: "n",
		Lines: []store.LineRequest{{ProductID: a, Quantity: 3}, {SKU: "B", Quantity: 1}}, At: t0, Actor: "erp"}, nil)
	if err != nil || r.Err != nil {
		t.Fatalf("PlaceOrder = %v, %v", r.Err, err)
	}
	o := r.Order
	if o.ID <= 0 || o.OrderNumber == "" || o.Status != store.OrderPlaced || o.Currency != "EUR" || o.TotalMinor != 3*1234+99 ||
		len(o.Lines) != 2 || o.Lines[1].SKU != "B" || o.Lines[1].AmountMinor != 99 || o.Lines[0].ProductName != "Widget A" {
		t.Fatalf("placed %+v", o)
	}
	if len(r.Products) != 2 || r.Products[0].StockQuantity != 7 || r.Products[1].StockQuantity != 0 || !r.Products[1].LowStock() {
		t.Fatalf("products after the order %+v", r.Products)
	}
	got, err := db.GetOrder(ctx, o.ID)
	if err != nil || got.OrderNumber != o.OrderNumber || len(got.Lines) != 2 || got.TotalMinor != o.TotalMinor {
		t.Fatalf("GetOrder = %+v, %v", got, err)
	}

	// Each failure leaves the stock as it was.
	for _, tc := range []struct {
		name  string
		op    store.PlaceOrderOp
		check func(error) bool
	}{
		{"duplicate externalId", store.PlaceOrderOp{CustomerID: cust, ExternalID: "EXT-1", Lines: []store.LineRequest{{ProductID: a, Quantity: 1}}},
			func(err error) bool {
				var dup *store.DuplicateError
				return errors.As(err, &dup) && dup.Entity == store.EntityOrder && dup.ExistingID == o.ID
			}},
		{"second line short", store.PlaceOrderOp{CustomerID: cust, Lines: []store.LineRequest{{ProductID: a, Quantity: 1}, {ProductID: b, Quantity: 1}}},
			func(err error) bool {
				var short *store.InsufficientStockError
				return errors.As(err, &short) && short.Line == 2 && short.Available == 0 && short.SKU == "B"
			}},
		{"no customer", store.PlaceOrderOp{CustomerID: cust + 99, Lines: []store.LineRequest{{ProductID: a, Quantity: 1}}},
			func(err error) bool { return errors.Is(err, store.ErrNotFound) }},
		{"no product", store.PlaceOrderOp{CustomerID: cust, Lines: []store.LineRequest{{ProductID: a, Quantity: 1}, {SKU: "nope", Quantity: 1}}},
			func(err error) bool {
				var le *store.OrderLineError
				return errors.As(err, &le) && le.Line == 2 && le.Reason == store.LineNoProduct
			}},
		{"other currency", store.PlaceOrderOp{CustomerID: cust, Currency: "USD", Lines: []store.LineRequest{{ProductID: a, Quantity: 1}}},
			func(err error) bool {
				var le *store.OrderLineError
				return errors.As(err, &le) && le.Line == 1 && le.Reason == store.LineCurrency && le.Currency == "EUR"
			}},
	} {
		r, err := db.PlaceOrder(ctx, tc.op, nil)
		if err != nil || !tc.check(r.Err) {
			t.Errorf("%s: %v, %v", tc.name, r.Err, err)
		}
		if p, _ := db.GetProduct(ctx, a); p.StockQuantity != 7 {
			t.Errorf("%s: stock of A is %d, want 7", tc.name, p.StockQuantity)
		}
	}

	// Products and customers on orders are not deleted.
	if r := writeProduct(t, db, store.ProductOp{Kind: store.OpDelete, ID: a}); !errors.Is(r.Err, store.ErrReferenced) {
		t.Errorf("deleting a product on an order: %v, want ErrReferenced", r.Err)
	}
	if err := db.DeleteCustomer(ctx, cust, 0, t0, "erp"); !errors.Is(err, store.ErrReferenced) {
		t.Errorf("deleting a customer with orders: %v, want ErrReferenced", err)
	}

	// Cancelling restores the stock; a status the order is not in is a conflict.
	if r, _ := db.SetOrderStatus(ctx, o.ID, store.OrderPaid, store.OrderShipped, 0, false, t0, "erp", nil); !errors.Is(r.Err, store.ErrConflict) {
		t.Errorf("from a status the order is not in: %v, want ErrConflict", r.Err)
	}
	r, err = db.SetOrderStatus(ctx, o.ID, store.OrderPlaced, store.OrderCancelled, 1, true, t0, "erp", nil)
	if err != nil || r.Err != nil || r.Order.Status != store.OrderCancelled || r.Order.Version != 2 || len(r.Products) != 2 {
		t.Fatalf("cancel = %+v, %v", r, err)
	}
	if p, _ := db.GetProduct(ctx, a); p.StockQuantity != 10 {
		t.Errorf("stock of A after cancel %d, want 10", p.StockQuantity)
	}
	var orderEntries []store.FeedEntry
	for _, e := range feedAll(t, db, 0, 100) {
		if e.Entity == store.EntityOrder {
			orderEntries = append(orderEntries, e)
		}
	}
	if len(orderEntries) != 1 || orderEntries[0].Order == nil || orderEntries[0].Order.Status != store.OrderCancelled ||
		len(orderEntries[0].Order.Lines) != 2 || orderEntries[0].ExternalID != "EXT-1" || orderEntries[0].Version != 2 {
		t.Errorf("order feed entries %+v", orderEntries)
	}
	found, err := db.SearchOrders(ctx, store.OrderFilter{CustomerID: cust, Status: store.OrderCancelled}, 0, 10)
	if err != nil || len(found) != 1 || found[0].ID != o.ID || len(found[0].Lines) != 2 {
		t.Errorf("SearchOrders = %+v, %v", found, err)
	}
}

// testOrderRaceForLastUnits: many orders race for few units: exactly the stock is sold, never more.
func testOrderRaceForLastUnits(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	cust, a, _ := orderSetup(t, db) // A has 10
	var placed, short, sold atomic.Int64
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := int64(1 + i%3)
			r, err := db.PlaceOrder(ctx, store.PlaceOrderOp{CustomerID: cust, Lines: []store.LineRequest{{ProductID: a, Quantity: q}}, At: t0}, nil)
			var s *store.InsufficientStockError
			switch {
			case err != nil:
				t.Error(err)
			case r.Err == nil:
				placed.Add(1)
				sold.Add(q)
			case errors.As(r.Err, &s):
				short.Add(1)
			default:
				t.Error(r.Err)
			}
		}()
	}
	wg.Wait()
	p, _ := db.GetProduct(ctx, a)
	if p.StockQuantity < 0 || sold.Load()+p.StockQuantity != 10 || placed.Load()+short.Load() != 16 || short.Load() == 0 {
		t.Fatalf("placed %d (sold %d), short %d, stock left %d", placed.Load(), sold.Load(), short.Load(), p.StockQuantity)
	}
}
