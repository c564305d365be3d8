package storetest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// product is a product with sku, priced 12.34 EUR (1234 cents), 10 in stock, threshold 2.
func product(sku string) store.Product {
	return store.Product{SKU: sku, Name: "Widget " + sku, PriceMinor: 1234, Currency: "EUR", StockQuantity: 10,
		LowStockThreshold: 2, Active: true, CreatedAt: t0, UpdatedAt: t0, CreatedBy: "erp", UpdatedBy: "erp"}
}

// writeProduct runs one op and returns its result, failing the test on a call error.
func writeProduct(t *testing.T, db store.Store, op store.ProductOp) store.ProductResult {
	t.Helper()
	rs, err := db.WriteProducts(context.Background(), []store.ProductOp{op}, true, nil)
	if err != nil || len(rs) != 1 {
		t.Fatalf("WriteProducts(%v) = %v, %v", op.Kind, rs, err)
	}
	return rs[0]
}

func testProductRoundTrip(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	in := product("SKU-1")
	in.Description, in.Category = "a fine widget", "tools"
	r := writeProduct(t, db, store.ProductOp{Kind: store.OpAdd, Product: in})
	if r.Err != nil || !r.Created || r.Product.ID <= 0 || r.Product.Version != 1 {
		t.Fatalf("add = %+v", r)
	}
	want := in
	want.ID, want.Version = r.Product.ID, 1
	got, err := db.GetProduct(ctx, want.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetProduct:\n got %+v, %v\nwant %+v", got, err, want)
	}
	if _, err := db.GetProduct(ctx, want.ID+100); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetProduct(unknown) = %v, want ErrNotFound", err)
	}
	// Duplicate sku, by add and by update of another product.
	if r := writeProduct(t, db, store.ProductOp{Kind: store.OpAdd, Product: product("SKU-1")}); !isDupSKU(r.Err) {
		t.Fatalf("add with a taken sku: %v, want DuplicateError sku", r.Err)
	}
	other := writeProduct(t, db, store.ProductOp{Kind: store.OpAdd, Product: product("SKU-2")}).Product
	upd := product("SKU-1")
	upd.ID = other.ID
	if r := writeProduct(t, db, store.ProductOp{Kind: store.OpUpdate, Product: upd}); !isDupSKU(r.Err) {
		t.Fatalf("update to a taken sku: %v, want DuplicateError sku", r.Err)
	}
	// Update with a stale version, then a good one.
	upd = product("SKU-2")
	upd.ID, upd.Name, upd.UpdatedAt, upd.UpdatedBy = other.ID, "renamed", t0.Add(time.Hour), "erp-2"
	if r := writeProduct(t, db, store.ProductOp{Kind: store.OpUpdate, Product: upd, ExpectedVersion: 5}); !errors.Is(r.Err, store.ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict", r.Err)
	}
	r = writeProduct(t, db, store.ProductOp{Kind: store.OpUpdate, Product: upd, ExpectedVersion: 1})
	if r.Err != nil || r.Product.Version != 2 || r.Product.CreatedAt != t0 || r.Product.CreatedBy != "erp" {
		t.Fatalf("update = %+v", r)
	}
	// Upsert by sku: the known one is replaced, a new one created.
	up := product("SKU-2")
	up.PriceMinor = 999
	r = writeProduct(t, db, store.ProductOp{Kind: store.OpUpsert, Product: up})
	if r.Err != nil || r.Created || r.Product.ID != other.ID || r.Product.Version != 3 || r.Product.PriceMinor != 999 {
		t.Fatalf("upsert of a known sku = %+v", r)
	}
	r = writeProduct(t, db, store.ProductOp{Kind: store.OpUpsert, Product: product("SKU-3")})
	if r.Err != nil || !r.Created || r.Product.Version != 1 {
		t.Fatalf("upsert of a new sku = %+v", r)
	}
	// Delete leaves a tombstone in the feed under the product entity.
	r = writeProduct(t, db, store.ProductOp{Kind: store.OpDelete, ID: r.Product.ID, At: t0, Actor: "erp"})
	if r.Err != nil || r.Product.Version != 2 {
		t.Fatalf("delete = %+v", r)
	}
	if r := writeProduct(t, db, store.ProductOp{Kind: store.OpDelete, ID: r.Product.ID}); !errors.Is(r.Err, store.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", r.Err)
	}
	entries := feedAll(t, db, 0, 100)
	kinds := map[int64]string{}
	for _, e := range entries {
		if e.Entity != store.EntityProduct {
			t.Fatalf("feed entry %+v: want entity product", e)
		}
		kinds[e.ID] = e.Kind
		if e.Kind == store.FeedUpserted && (e.Product == nil || e.Product.ID != e.ID || e.Customer != nil || e.ExternalID != e.Product.SKU) {
			t.Fatalf("feed entry %+v: product %+v", e, e.Product)
		}
	}
	if len(entries) != 3 || kinds[want.ID] != store.FeedUpserted || kinds[other.ID] != store.FeedUpserted {
		t.Fatalf("feed = %+v", entries)
	}
}

func isDupSKU(err error) bool {
	var dup *store.DuplicateError
	return errors.As(err, &dup) && dup.Entity == store.EntityProduct && dup.Field == "sku"
}

func testWriteProductsAllOrNone(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	ops := []store.ProductOp{
		{Kind: store.OpAdd, Product: product("A")},
		{Kind: store.OpAdd, Product: product("B")},
		{Kind: store.OpAdd, Product: product("A")},
	}
	rs, err := db.WriteProducts(ctx, ops, true, nil)
	if err != nil || !isDupSKU(rs[0].Err) || !errors.Is(rs[1].Err, store.ErrRolledBack) || !isDupSKU(rs[2].Err) {
		t.Fatalf("all-or-none with a shared sku = %+v, %v", rs, err)
	}
	if got, _ := db.SearchProducts(ctx, store.ProductFilter{}, 0, 10); len(got) != 0 {
		t.Fatalf("rolled-back call wrote %d products", len(got))
	}
	rs, err = db.WriteProducts(ctx, ops, false, nil)
	if err != nil || rs[1].Err != nil || !rs[1].Created || rs[0].Err == nil {
		t.Fatalf("partial call = %+v, %v", rs, err)
	}
}

func testAdjustStock(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	p := writeProduct(t, db, store.ProductOp{Kind: store.OpAdd, Product: product("S")}).Product
	r := writeProduct(t, db, store.ProductOp{Kind: store.OpAdjustStock, ID: p.ID, Delta: -8, At: t0.Add(time.Minute), Actor: "wh"})
	if r.Err != nil || r.Product.StockQuantity != 2 || !r.Product.LowStock() || r.Product.Version != 2 || r.Product.UpdatedBy != "wh" {
		t.Fatalf("adjust -8 = %+v", r)
	}
	r = writeProduct(t, db, store.ProductOp{Kind: store.OpAdjustStock, ID: p.ID, Delta: -3, At: t0, Actor: "wh"})
	var short *store.InsufficientStockError
	if !errors.As(r.Err, &short) || short.Available != 2 || short.ProductID != p.ID {
		t.Fatalf("adjust below zero: %v, want InsufficientStockError{available 2}", r.Err)
	}
	if r := writeProduct(t, db, store.ProductOp{Kind: store.OpAdjustStock, ID: p.ID, Delta: 1, ExpectedVersion: 1}); !errors.Is(r.Err, store.ErrConflict) {
		t.Fatalf("stale adjust: %v, want ErrConflict", r.Err)
	}
	if r := writeProduct(t, db, store.ProductOp{Kind: store.OpAdjustStock, ID: p.ID + 9, Delta: 1}); !errors.Is(r.Err, store.ErrNotFound) {
		t.Fatalf("adjust unknown: %v, want ErrNotFound", r.Err)
	}
	if got, _ := db.GetProduct(ctx, p.ID); got.StockQuantity != 2 || got.Version != 2 {
		t.Fatalf("after refused adjustments: %+v", got)
	}
	low, err := db.SearchProducts(ctx, store.ProductFilter{LowStockOnly: true}, 0, 10)
	if err != nil || len(low) != 1 || low[0].ID != p.ID {
		t.Fatalf("low stock search = %+v, %v", low, err)
	}
	off := product("OFF") // out of stock but inactive: not counted
	off.StockQuantity, off.Active = 0, false
	writeProduct(t, db, store.ProductOp{Kind: store.OpAdd, Product: off})
	writeProduct(t, db, store.ProductOp{Kind: store.OpAdd, Product: product("FULL")})
	if n, err := db.CountLowStockProducts(ctx); err != nil || n != 1 {
		t.Fatalf("CountLowStockProducts = %d, %v; want 1", n, err)
	}
}

// testAdjustStockConcurrent takes one unit at a time from many goroutines: exactly the stock is
// sold, never more, and the stock ends at zero.
func testAdjustStockConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	const stock, workers, tries = 25, 8, 10
	in := product("HOT")
	in.StockQuantity = stock
	p := writeProduct(t, db, store.ProductOp{Kind: store.OpAdd, Product: in}).Product
	var sold, refused atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range tries {
				rs, err := db.WriteProducts(ctx, []store.ProductOp{{Kind: store.OpAdjustStock, ID: p.ID, Delta: -1, At: t0}}, true, nil)
				var short *store.InsufficientStockError
				switch {
				case err != nil:
					t.Error(err)
					return
				case rs[0].Err == nil:
					sold.Add(1)
				case errors.As(rs[0].Err, &short):
					refused.Add(1)
				default:
					t.Error(rs[0].Err)
				}
			}
		}()
	}
	wg.Wait()
	got, _ := db.GetProduct(ctx, p.ID)
	if sold.Load() != stock || refused.Load() != workers*tries-stock || got.StockQuantity != 0 {
		t.Fatalf("sold %d, refused %d, stock left %d; want %d, %d, 0", sold.Load(), refused.Load(), got.StockQuantity,
			stock, workers*tries-stock)
	}
}

func testSearchProducts(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	var ids []int64
	for i, name := range []string{"Ärger Hammer", "small hammer", "Saw"} {
		p := product(string(rune('a' + i)))
		p.Name, p.Category, p.Active = name, "tools", i != 1
		ids = append(ids, writeProduct(t, db, store.ProductOp{Kind: store.OpAdd, Product: p}).Product.ID)
	}
	inactive := false
	for _, tc := range []struct {
		f    store.ProductFilter
		want []int64
	}{
		{store.ProductFilter{NameContains: "HAMMER"}, ids[:2]},
		{store.ProductFilter{NameContains: "ärger"}, ids[:1]},
		{store.ProductFilter{SKU: "c"}, ids[2:]},
		{store.ProductFilter{Category: "tools", Active: &inactive}, ids[1:2]},
		{store.ProductFilter{Category: "none"}, nil},
	} {
		got, err := db.SearchProducts(ctx, tc.f, 0, 10)
		var gotIDs []int64
		for _, p := range got {
			gotIDs = append(gotIDs, p.ID)
		}
		if err != nil || !reflect.DeepEqual(gotIDs, tc.want) {
			t.Errorf("SearchProducts(%+v) = %v, %v; want %v", tc.f, gotIDs, err, tc.want)
		}
	}
	page, err := db.SearchProducts(ctx, store.ProductFilter{}, ids[0], 1)
	if err != nil || len(page) != 1 || page[0].ID != ids[1] {
		t.Fatalf("keyset page after %d = %+v, %v", ids[0], page, err)
	}
}
