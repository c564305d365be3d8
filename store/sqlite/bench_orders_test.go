package sqlite

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
	var ids []int64
	for i := range n {
		rs, err := db.WriteProducts(ctx, []store.ProductOp{{Kind: store.OpAdd, Product: store.Product{
			SKU: fmt.Sprint("B-", i), Name: "bench", PriceMinor: 199, Currency: "EUR", StockQuantity: 1 << 40,
			LowStockThreshold: 5, Active: true}}}, true, nil)
		if err != nil || rs[0].Err != nil {
			b.Fatal(err, rs)
		}
		ids = append(ids, rs[0].Product.ID)
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

// BenchmarkPlaceOrder5Lines is one caller at a time placing 5-line orders (durable commits), to set
// beside BenchmarkCreateCustomer.
func BenchmarkPlaceOrder5Lines(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b, Options{})
	cust, ids := benchCatalogue(b, db, 100)
	b.ReportAllocs()
	cpu0 := processCPU(b)
	k := 0
	for b.Loop() {
		if err := placeFive(ctx, db, cust, ids, k); err != nil {
			b.Fatal(err)
		}
		k += 5
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkPlaceOrderContended has 16 callers per CPU ordering from the same 10 products: every order
// touches the same rows, and the writer's group commit still serves many per fsync.
func BenchmarkPlaceOrderContended(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b, Options{})
	cust, ids := benchCatalogue(b, db, 10)
	b.ReportAllocs()
	b.SetParallelism(16)
	cpu0 := processCPU(b)
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
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
	reportGrouping(b, db)
}
