package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres"
	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

// migrate-db copies products (ratings), stock movements, orders (lines, numbers), reviews, and the
// unexpired retry outcomes and replay records: on PostgreSQL a retried MessageID gets the answer the
// SQLite server gave and writes nothing, a replayed signed message is refused, and new ids and order
// numbers come after the copied ones.
func TestMigrateDB_CommerceAndRetries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	from := filepath.Join(dir, "crm.db")
	src, err := sqlite.Open(ctx, from, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	cust, err := src.CreateCustomer(ctx, store.Customer{Name: "Buyer", CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	var products []store.Product
	for _, sku := range []string{"P1", "P2", "GONE"} {
		rs, err := src.WriteProducts(ctx, []store.ProductOp{{Kind: store.OpAdd, Product: store.Product{SKU: sku, Name: "Pen " + sku,
			PriceMinor: 250, Currency: "EUR", StockQuantity: 10, Active: true, CreatedAt: now, UpdatedAt: now}}}, true, nil)
		if err != nil || rs[0].Err != nil {
			t.Fatalf("add product: %v %v", err, rs)
		}
		products = append(products, rs[0].Product)
	}
	rs, err := src.WriteProducts(ctx, []store.ProductOp{
		{Kind: store.OpAdjustStock, ID: products[1].ID, Delta: -3, Reason: "broken", At: now, Actor: "wh"},
		{Kind: store.OpDelete, ID: products[2].ID, At: now, Actor: "erp"}, // the highest product id: deleted
	}, true, nil)
	if err != nil || rs[0].Err != nil || rs[1].Err != nil {
		t.Fatalf("adjust and delete: %v %+v", err, rs)
	}
	rv, err := src.WriteReview(ctx, store.ReviewOp{Kind: store.OpAdd, Review: store.Review{CustomerID: cust.ID,
		ProductID: products[0].ID, Stars: 4, Title: "good", CreatedAt: now, UpdatedAt: now}}, nil)
	if err != nil || rv.Err != nil {
		t.Fatalf("review: %v %v", err, rv.Err)
	}
	src.Close()

	// A signed write leaves a replay record, a write with a MessageID an idempotency record.
	erp := newIdentity(t, dir, "erp", time.Hour)
	registerClient(t, from, erp, true)
	update := signEnvelope(t, erp.key, erp.cert, updateCustomerXML(int(cust.ID), "Signed"))
	secure := startServer(t, from)
	if status, _, body := post(t, secure.URL, "text/xml; charset=utf-8", "", update); status != 200 {
		t.Fatalf("signed update on SQLite: %d\n%s", status, body)
	}
	secure.stop(t)
	order := envelope(ns12, messageID("urn:uuid:order-before-the-move"), fmt.Sprintf(`<c:PlaceOrder><c:customerId>%d</c:customerId>`+
		`<c:line><c:productId>%d</c:productId><c:quantity>2</c:quantity></c:line></c:PlaceOrder>`, cust.ID, products[0].ID))
	dev := startDevServer(t, from)
	status, _, first := post(t, dev.URL, ct12, "", order)
	if status != 200 {
		t.Fatalf("PlaceOrder on SQLite: %d\n%s", status, first)
	}
	dev.stop(t)

	to := pgtest.Database(t)
	out, err := run(t, "migrate-db", "--from", from, "--to", to)
	if err != nil || !strings.Contains(out, "copied 1 customers, 2 products, 1 stock movements, 1 orders, 1 reviews") ||
		!strings.Contains(out, "1 retry outcomes, 1 replay records") {
		t.Fatalf("migrate-db: %v\n%s", err, out)
	}

	before := productState(t, to)
	pg := startDevServer(t, to)
	status, _, again := post(t, pg.URL, ct12, "", order)
	if status != 200 || !bytes.Equal(again, first) {
		t.Fatalf("the retried MessageID on PostgreSQL: %d\n%s\nwant the SQLite answer\n%s", status, again, first)
	}
	if after := productState(t, to); after != before {
		t.Errorf("the retry wrote on PostgreSQL: %s -> %s", before, after)
	}
	pg.stop(t)
	securePG := startServer(t, to)
	status, _, body := post(t, securePG.URL, "text/xml; charset=utf-8", "", update)
	if code, reason := soapFault(t, body); status != 500 || code != "wsse:InvalidSecurity" || reason != "message replayed" {
		t.Fatalf("the replayed signed message on PostgreSQL: %d %s %q, want wsse:InvalidSecurity \"message replayed\"\n%s",
			status, code, reason, body)
	}
	securePG.stop(t)

	src, err = sqlite.Open(ctx, from, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, to, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	orders, err := src.SearchOrders(ctx, store.OrderFilter{}, 0, 10)
	if err != nil || len(orders) != 1 {
		t.Fatalf("source orders: %+v, %v", orders, err)
	}
	got, err := dst.GetOrder(ctx, orders[0].ID)
	if err != nil || !reflect.DeepEqual(got, orders[0]) {
		t.Fatalf("order on PostgreSQL:\n got %+v, %v\nwant %+v", got, err, orders[0])
	}
	if p, err := dst.GetProduct(ctx, products[0].ID); err != nil || p.RatingSum != 4 || p.RatingCount != 1 || p.StockQuantity != 8 {
		t.Errorf("product with its rating and stock on PostgreSQL: %+v, %v", p, err)
	}
	next, err := dst.PlaceOrder(ctx, store.PlaceOrderOp{CustomerID: cust.ID, Lines: []store.LineRequest{{ProductID: products[1].ID, Quantity: 1}},
		At: now}, nil)
	if err != nil || next.Err != nil || next.Order.ID <= orders[0].ID || next.Order.OrderNumber <= orders[0].OrderNumber {
		t.Fatalf("first order after the move: %+v, %v; want id and number past %d %s", next, err, orders[0].ID, orders[0].OrderNumber)
	}
	add, err := dst.WriteProducts(ctx, []store.ProductOp{{Kind: store.OpAdd, Product: store.Product{SKU: "NEW", Name: "new",
		Currency: "EUR", Active: true}}}, true, nil)
	if err != nil || add[0].Err != nil || add[0].Product.ID <= products[2].ID {
		t.Fatalf("first product after the move: %+v, %v; want an id past the deleted %d", add, err, products[2].ID)
	}
}
