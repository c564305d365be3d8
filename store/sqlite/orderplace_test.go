package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/storetest"
)

var orderAt = time.Date(2026, 3, 4, 5, 6, 7, 890, time.UTC)

// orderShop stores a customer and the products of skus (EUR 2.50, stock 10 each) and returns their ids.
func orderShop(t *testing.T, db *DB, skus ...string) (cust int64, ids []int64) {
	t.Helper()
	ctx := context.Background()
	c, err := db.CreateCustomer(ctx, storetest.FullCustomer())
	if err != nil {
		t.Fatal(err)
	}
	for _, sku := range skus {
		rs, err := db.WriteProducts(ctx, []store.ProductOp{{Kind: store.OpAdd, Product: store.Product{SKU: sku,
			Name: "Name of " + sku, PriceMinor: 250, Currency: "EUR", StockQuantity: 10, LowStockThreshold: 2,
			Active: true, CreatedAt: orderAt, UpdatedAt: orderAt}}}, true, nil)
		if err != nil || rs[0].Err != nil {
			t.Fatalf("add product %q: %v, %v", sku, err, rs)
		}
		ids = append(ids, rs[0].Product.ID)
	}
	return c.ID, ids
}

func place(t *testing.T, db *DB, op store.PlaceOrderOp) store.OrderResult {
	t.Helper()
	op.At, op.Actor = orderAt, "erp"
	r, err := db.PlaceOrder(context.Background(), op, nil)
	if err != nil {
		t.Fatalf("PlaceOrder: %v", err)
	}
	return r
}

// tableState counts the rows every order writes to and sums the products' stock and versions.
func tableState(t *testing.T, db *DB) string {
	t.Helper()
	var stock, versions int64
	if err := db.read.QueryRow(`SELECT sum(stock), sum(version) FROM products`).Scan(&stock, &versions); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("orders %d, lines %d, changes %d, feed %d, stock %d, versions %d", countRows(t, db.read, "orders"),
		countRows(t, db.read, "order_lines"), countRows(t, db.read, "changes"), countRows(t, db.read, "feed"), stock, versions)
}

// A product on several lines is taken from once per line, each line seeing what the lines before it
// left; it is written, logged and returned once, at one new version.
func TestPlaceOrder_ProductOnSeveralLines(t *testing.T) {
	db, _ := openTest(t, Options{})
	cust, ids := orderShop(t, db, "A", "B")
	r := place(t, db, store.PlaceOrderOp{CustomerID: cust, Lines: []store.LineRequest{
		{ProductID: ids[0], Quantity: 4}, {SKU: "B", Quantity: 1}, {SKU: "A", Quantity: 5}}})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if len(r.Products) != 2 || r.Products[0].ID != ids[0] || r.Products[0].StockQuantity != 1 || r.Products[0].Version != 2 ||
		r.Products[1].ID != ids[1] || r.Products[1].StockQuantity != 9 || !r.Products[0].UpdatedAt.Equal(orderAt) ||
		r.Products[0].UpdatedBy != "erp" || r.Products[0].Name != "Name of A" {
		t.Fatalf("products %+v, want A at stock 1 version 2, then B at 9", r.Products)
	}
	for _, p := range r.Products {
		stored, err := db.GetProduct(context.Background(), p.ID)
		if err != nil || stored != p {
			t.Errorf("GetProduct(%d) = %+v, %v\nresult    %+v", p.ID, stored, err, p)
		}
	}
	got, err := db.GetOrder(context.Background(), r.Order.ID)
	if err != nil || len(got.Lines) != 3 || got.Lines[2].ProductID != ids[0] || got.Lines[2].Quantity != 5 ||
		got.Lines[2].AmountMinor != 1250 || got.Lines[2].SKU != "A" || got.Lines[1].ProductName != "Name of B" ||
		got.TotalMinor != 2500 || r.Order.TotalMinor != 2500 {
		t.Fatalf("GetOrder = %+v, %v", got, err)
	}

	before := tableState(t, db)
	r = place(t, db, store.PlaceOrderOp{CustomerID: cust, Lines: []store.LineRequest{
		{SKU: "A", Quantity: 1}, {ProductID: ids[1], Quantity: 1}, {ProductID: ids[0], Quantity: 1}}})
	var short *store.InsufficientStockError
	if !errors.As(r.Err, &short) || short.Line != 3 || short.Available != 0 || short.ProductID != ids[0] || short.SKU != "A" {
		t.Fatalf("A (1 left) on lines 1 and 3: %v %+v, want line 3 short with 0 available", r.Err, short)
	}
	if after := tableState(t, db); after != before {
		t.Errorf("a refused order wrote: %s -> %s", before, after)
	}
}

// The change log and the feed hold each product at the version the order left it at, then the order.
func TestPlaceOrder_ChangesAndFeed(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	cust, ids := orderShop(t, db, "A", "B")
	seq := lastChange(t, db)
	r := place(t, db, store.PlaceOrderOp{CustomerID: cust, ExternalID: "ERP-O-1", Lines: []store.LineRequest{
		{ProductID: ids[1], Quantity: 2}, {ProductID: ids[0], Quantity: 3}}})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	changes, err := db.Changes(ctx, seq, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{fmt.Sprint("product ", ids[0]): 2, fmt.Sprint("product ", ids[1]): 2,
		fmt.Sprint("order ", r.Order.ID): 1}
	if len(changes) != 3 || changes[2].Entity != store.EntityOrder || changes[2].Op != OpCreate {
		t.Fatalf("changes %+v, want the two products then the order", changes)
	}
	for _, ch := range changes {
		k := fmt.Sprint(ch.Entity, " ", ch.EntityID)
		if v, ok := want[k]; !ok || ch.Version != v || !ch.At.Equal(orderAt) || ch.Actor != "erp" {
			t.Errorf("change %+v, want %s at version %d", ch, k, v)
		}
		delete(want, k)
	}
	entries, _, err := db.Feed(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-3:]
	for _, e := range last[:2] {
		if e.Entity != store.EntityProduct || e.Product == nil || e.Version != 2 || e.Product.Version != 2 ||
			e.ExternalID != e.Product.SKU || e.Actor != "erp" {
			t.Errorf("feed entry %+v (product %+v), want a product at version 2", e, e.Product)
		}
	}
	if o := last[2]; o.Entity != store.EntityOrder || o.ID != r.Order.ID || o.Version != 1 || o.ExternalID != "ERP-O-1" ||
		o.Order == nil || len(o.Order.Lines) != 2 {
		t.Errorf("last feed entry %+v, want the order", o)
	}
}

func lastChange(t *testing.T, db *DB) int64 {
	t.Helper()
	var seq int64
	if err := db.read.QueryRow(`SELECT ifnull(max(seq), 0) FROM changes`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

// SKUs are compared byte for byte, whatever characters they hold; an order number follows its id, and
// a refused order uses up no id.
func TestPlaceOrder_SKUsAndNumbers(t *testing.T) {
	db, _ := openTest(t, Options{})
	odd := "Ä\"\\/,]-1 \u2028"
	cust, ids := orderShop(t, db, odd, "a")
	r := place(t, db, store.PlaceOrderOp{CustomerID: cust, Lines: []store.LineRequest{{SKU: odd, Quantity: 1}}})
	if r.Err != nil || r.Order.Lines[0].ProductID != ids[0] || r.Order.Lines[0].SKU != odd || r.Order.OrderNumber != "SO-000001" {
		t.Fatalf("order by SKU %q: %+v, %v", odd, r.Order, r.Err)
	}
	r = place(t, db, store.PlaceOrderOp{CustomerID: cust, Lines: []store.LineRequest{{SKU: "A", Quantity: 1}}})
	var le *store.OrderLineError
	if !errors.As(r.Err, &le) || le.Reason != store.LineNoProduct || le.SKU != "A" || le.Line != 1 {
		t.Fatalf("SKU A when only a exists: %v, want no-product", r.Err)
	}
	r = place(t, db, store.PlaceOrderOp{CustomerID: cust, Lines: []store.LineRequest{{SKU: "a", Quantity: 1}}})
	if r.Err != nil || r.Order.ID != 2 || r.Order.OrderNumber != "SO-000002" {
		t.Fatalf("next order: %+v, %v, want id 2, SO-000002", r.Order, r.Err)
	}
	got, err := db.GetOrder(context.Background(), 2)
	if err != nil || got.OrderNumber != "SO-000002" || got.Version != 1 || !got.PlacedAt.Equal(orderAt) {
		t.Fatalf("GetOrder(2) = %+v, %v", got, err)
	}
}

// Every refusal leaves every table as it was, alone and in a group of writes committed together.
func TestPlaceOrder_RefusalsWriteNothing(t *testing.T) {
	db, _ := openTest(t, Options{})
	cust, ids := orderShop(t, db, "A", "B", "C")
	rs, err := db.WriteProducts(context.Background(), []store.ProductOp{{Kind: store.OpUpdate, Product: store.Product{
		ID: ids[2], SKU: "C", Name: "C", PriceMinor: 100, Currency: "USD", StockQuantity: 10, UpdatedAt: orderAt}}}, true, nil)
	if err != nil || rs[0].Err != nil {
		t.Fatal(err, rs)
	}
	if r := place(t, db, store.PlaceOrderOp{CustomerID: cust, ExternalID: "TAKEN", Lines: []store.LineRequest{{ProductID: ids[0], Quantity: 1}}}); r.Err != nil {
		t.Fatal(r.Err)
	}
	first := []store.LineRequest{{ProductID: ids[0], Quantity: 1}}
	cases := []struct {
		name string
		op   store.PlaceOrderOp
		want func(error) bool
	}{
		{"no customer", store.PlaceOrderOp{CustomerID: cust + 1, Lines: first}, func(err error) bool { return errors.Is(err, store.ErrNotFound) }},
		{"external id taken", store.PlaceOrderOp{CustomerID: cust, ExternalID: "TAKEN", Lines: first}, func(err error) bool {
			var dup *store.DuplicateError
			return errors.As(err, &dup) && dup.ExistingID == 1
		}},
		{"no product", store.PlaceOrderOp{CustomerID: cust, Lines: append(first, store.LineRequest{ProductID: 999, Quantity: 1})},
			lineError(2, store.LineNoProduct)},
		{"inactive", store.PlaceOrderOp{CustomerID: cust, Lines: append(first, store.LineRequest{ProductID: ids[2], Quantity: 1})},
			lineError(2, store.LineInactive)},
		{"too large", store.PlaceOrderOp{CustomerID: cust, Lines: append(first, store.LineRequest{ProductID: ids[1], Quantity: 1 << 62})},
			lineError(2, store.LineTooLarge)},
		{"short", store.PlaceOrderOp{CustomerID: cust, Lines: append(first, store.LineRequest{SKU: "B", Quantity: 11})},
			func(err error) bool {
				var short *store.InsufficientStockError
				return errors.As(err, &short) && short.Line == 2 && short.Available == 10
			}},
		{"first failure wins", store.PlaceOrderOp{CustomerID: cust, Lines: []store.LineRequest{{ProductID: ids[1], Quantity: 11},
			{ProductID: 999, Quantity: 1}}}, func(err error) bool {
			var short *store.InsufficientStockError
			return errors.As(err, &short) && short.Line == 1
		}},
	}
	before := tableState(t, db)
	for _, tc := range cases {
		if r := place(t, db, tc.op); !tc.want(r.Err) {
			t.Errorf("%s: %v", tc.name, r.Err)
		}
	}
	if after := tableState(t, db); after != before {
		t.Fatalf("refused orders wrote: %s -> %s", before, after)
	}

	// The same refusals queued together with an order that succeeds, in one transaction.
	release := holdWriter(t, db)
	errs := make([]error, len(cases)+1)
	var wg sync.WaitGroup
	for i := range errs {
		op := store.PlaceOrderOp{CustomerID: cust, Lines: []store.LineRequest{{SKU: "A", Quantity: 3}, {ProductID: ids[0], Quantity: 1}}}
		if i < len(cases) {
			op = cases[i].op
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := db.PlaceOrder(context.Background(), op, nil)
			errs[i] = errors.Join(err, r.Err)
		}()
	}
	waitQueued(t, db, len(errs))
	release()
	wg.Wait()
	for i, tc := range cases {
		if !tc.want(errs[i]) {
			t.Errorf("%s in a group: %v", tc.name, errs[i])
		}
	}
	if errs[len(cases)] != nil {
		t.Fatalf("the order in the group: %v", errs[len(cases)])
	}
	var stockA, stockB int64
	err = db.read.QueryRow(`SELECT (SELECT stock FROM products WHERE id = ?), (SELECT stock FROM products WHERE id = ?)`,
		ids[0], ids[1]).Scan(&stockA, &stockB)
	if err != nil || stockA != 5 || stockB != 10 {
		t.Fatalf("stock of A and B after the group: %d, %d, %v, want 5 and 10", stockA, stockB, err)
	}
	if n := countRows(t, db.read, "orders"); n != 2 {
		t.Errorf("%d orders after the group, want 2", n)
	}
	integrityCheck(t, db.read)
}

func lineError(line int, reason string) func(error) bool {
	return func(err error) bool {
		var le *store.OrderLineError
		return errors.As(err, &le) && le.Line == line && le.Reason == reason
	}
}

// The writer's connection keeps its temporary files in memory (see Open).
func TestOpen_WriterTempStoreInMemory(t *testing.T) {
	db, _ := openTest(t, Options{})
	var mode int
	err := db.write(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&mode)
	})
	if err != nil || mode != 2 {
		t.Fatalf("PRAGMA temp_store on the writer = %d, %v, want 2 (MEMORY)", mode, err)
	}
}

// Cancelling puts each line's quantity back, a product on several lines once, at one new version,
// logged with the order; another move of status logs the order alone.
func TestSetOrderStatus_Restock(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	cust, ids := orderShop(t, db, "A", "B")
	o := place(t, db, store.PlaceOrderOp{CustomerID: cust, Lines: []store.LineRequest{
		{ProductID: ids[0], Quantity: 2}, {ProductID: ids[1], Quantity: 1}, {ProductID: ids[0], Quantity: 3}}}).Order
	seq := lastChange(t, db)
	r, err := db.SetOrderStatus(ctx, o.ID, store.OrderPlaced, store.OrderPaid, 1, false, orderAt, "erp", nil)
	if err != nil || r.Err != nil || r.Order.Status != store.OrderPaid || len(r.Products) != 0 || len(r.Order.Lines) != 3 {
		t.Fatalf("PLACED -> PAID: %+v, %v, %v", r, r.Err, err)
	}
	r, err = db.SetOrderStatus(ctx, o.ID, store.OrderPaid, store.OrderCancelled, 2, true, orderAt, "erp", nil)
	if err != nil || r.Err != nil || r.Order.Version != 3 || len(r.Products) != 2 || r.Products[0].ID != ids[0] ||
		r.Products[0].StockQuantity != 10 || r.Products[0].Version != 3 || r.Products[1].StockQuantity != 10 {
		t.Fatalf("cancel: %+v, %v, %v, want A then B back at 10, A at version 3", r.Products, r.Err, err)
	}
	changes, err := db.Changes(ctx, seq, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range changes {
		got = append(got, fmt.Sprintf("%s %d %s v%d", ch.Entity, ch.EntityID, ch.Op, ch.Version))
	}
	want := fmt.Sprintf("[order %[1]d update v2 product %[2]d update v3 product %[3]d update v3 order %[1]d update v3]",
		o.ID, ids[0], ids[1])
	if fmt.Sprint(got) != want {
		t.Errorf("changes %v\nwant    %s", got, want)
	}
}
