package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/storetest"
)

// benchCatalogue stores a customer and n products with plenty of stock.
func benchCatalogue(b *testing.B, db *DB, n int) (int64, []int64) {
	b.Helper()
	ctx := context.Background()
	c, err := db.CreateCustomer(ctx, storetest.FullCustomer())
	if err != nil {
		b.Fatal(err)
	}
	ops := make([]store.ProductOp, n)
	for i := range ops {
		ops[i] = store.ProductOp{Kind: store.OpAdd, Product: store.Product{SKU: fmt.Sprint("B-", i), Name: "bench",
			PriceMinor: 199, Currency: "EUR", StockQuantity: 1 << 40, LowStockThreshold: 5, Active: true}}
	}
	rs, err := db.WriteProducts(ctx, ops, true, nil)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int64, n)
	for i, r := range rs {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
		ids[i] = r.Product.ID
	}
	return c.ID, ids
}

func placeFive(ctx context.Context, db *DB, cust int64, ids []int64, k int) error {
	lines := make([]store.LineRequest, 5)
	for j := range lines {
		lines[j] = store.LineRequest{ProductID: ids[(k+j)%len(ids)], Quantity: 1}
	}
	r, err := db.PlaceOrder(ctx, store.PlaceOrderOp{CustomerID: cust, Lines: lines}, nil)
	if err == nil {
		err = r.Err
	}
	return err
}

// reportRoundTrips adds the round trips to the server per op since before.
func reportRoundTrips(b *testing.B, db *DB, before int64) {
	b.ReportMetric(float64(db.Stats().RoundTrips-before)/float64(b.N), "round-trips/op")
}

// BenchmarkPlaceOrder5Lines is one caller at a time placing 5-line orders (durable commits); the same
// benchmark as store/sqlite's.
func BenchmarkPlaceOrder5Lines(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b, Options{})
	cust, ids := benchCatalogue(b, db, 100)
	b.ReportAllocs()
	before := db.Stats().RoundTrips
	k := 0
	for b.Loop() {
		if err := placeFive(ctx, db, cust, ids, k); err != nil {
			b.Fatal(err)
		}
		k += 5
	}
	reportRoundTrips(b, db, before)
}

// BenchmarkPlaceOrderContended has 16 callers per CPU ordering from the same 10 products: every order
// touches the same rows; the writer's group commit puts many in one transaction.
func BenchmarkPlaceOrderContended(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b, Options{})
	cust, ids := benchCatalogue(b, db, 10)
	b.ReportAllocs()
	b.SetParallelism(16)
	before := db.Stats().RoundTrips
	b.ResetTimer() // not the database's creation
	b.RunParallel(func(pb *testing.PB) {
		k := 0
		for pb.Next() {
			if err := placeFive(ctx, db, cust, ids, k); err != nil {
				b.Error(err)
				return
			}
			k++
		}
	})
	reportRoundTrips(b, db, before)
	reportGrouping(b, db)
}
