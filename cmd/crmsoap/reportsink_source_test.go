package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

// reportWorkload writes customers, products (EUR, JPY, KWD), orders with lines and reviews into the
// source, with updates and deletions of each entity. Times carry nanoseconds on purpose.
type reportWorkload struct {
	db        *sqlite.DB
	customers []int64
	products  []int64 // EUR ones first, then JPY and KWD
	orders    []int64
	reviews   []int64
	round     int
	changed   int // orders and reviews already changed
}

func (w *reportWorkload) now() time.Time { return time.Now().UTC() }

// create adds n customers, 30 products, n/4 orders and n/8 reviews.
func (w *reportWorkload) create(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	w.round++
	ops := make([]store.CustomerOp, n)
	for i := range ops {
		at := w.now()
		ops[i] = store.CustomerOp{Kind: store.OpAdd, Customer: store.Customer{ExternalID: fmt.Sprintf("r%d-c%d", w.round, i),
			Name: fmt.Sprint("Customer ", i), Email: fmt.Sprintf("c%d@example.org", i), Company: "ACME", Gender: "F",
			BirthDate: time.Date(1970+i%40, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC),
			Address:   store.Address{Street: "Main St", City: "Köln", Country: "DE"}, CreatedAt: at, UpdatedAt: at, CreatedBy: "erp", UpdatedBy: "erp"}}
	}
	rs, err := w.db.WriteCustomers(ctx, ops, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		w.customers = append(w.customers, r.Customer.ID)
	}
	var pops []store.ProductOp
	for i, cur := range []string{"EUR", "JPY", "KWD"} {
		for j := range 10 {
			at := w.now()
			pops = append(pops, store.ProductOp{Kind: store.OpAdd, Product: store.Product{SKU: fmt.Sprintf("R%d-%s-%d", w.round, cur, j),
				Name: "Widget", Category: "tools", PriceMinor: int64(1234*(i+1) + j), Currency: cur, StockQuantity: 1_000_000,
				LowStockThreshold: 3, Active: true, CreatedAt: at, UpdatedAt: at, CreatedBy: "erp", UpdatedBy: "erp"}})
		}
	}
	prs, err := w.db.WriteProducts(ctx, pops, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := len(w.products)
	for _, r := range prs {
		w.products = append(w.products, r.Product.ID)
	}
	for i := range n / 4 {
		lines := []store.LineRequest{{ProductID: w.products[first+i%10], Quantity: int64(1 + i%3)}}
		if i%2 == 0 {
			lines = append(lines, store.LineRequest{ProductID: w.products[first+(i+1)%10], Quantity: 2})
		}
		r, err := w.db.PlaceOrder(ctx, store.PlaceOrderOp{CustomerID: w.customers[i], ExternalID: fmt.Sprintf("r%d-o%d", w.round, i),
			Note: "rush", Lines: lines, At: w.now(), Actor: "shop"}, nil)
		if err != nil || r.Err != nil {
			t.Fatalf("place order: %v %v", err, r.Err)
		}
		w.orders = append(w.orders, r.Order.ID)
	}
	for i := range n / 8 {
		at := w.now()
		r, err := w.db.WriteReview(ctx, store.ReviewOp{Kind: store.OpAdd, Review: store.Review{CustomerID: w.customers[i],
			ProductID: w.products[first+10+i%10], Stars: 1 + i%5, Title: "t", Text: "it's \"ok\"", CreatedAt: at, UpdatedAt: at,
			CreatedBy: "web", UpdatedBy: "web"}}, nil)
		if err != nil || r.Err != nil {
			t.Fatalf("review: %v %v", err, r.Err)
		}
		w.reviews = append(w.reviews, r.Review.ID)
	}
}

// change updates and deletes some records of every entity: customers with neither orders nor
// reviews are deleted, orders move on, reviews are rewritten or deleted, products repriced or
// (KWD ones of the last round, never ordered nor reviewed) deleted.
func (w *reportWorkload) change(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	n := len(w.customers)
	for i := n - 1; i >= n-40; i-- {
		at := w.now()
		if i%2 == 0 {
			if err := w.db.DeleteCustomer(ctx, w.customers[i], 0, at, "admin"); err != nil {
				t.Fatal(err)
			}
			continue
		}
		c, err := w.db.GetCustomer(ctx, w.customers[i])
		if err != nil {
			t.Fatal(err)
		}
		c.Name, c.Phone, c.UpdatedAt, c.UpdatedBy, c.BirthDate = c.Name+" (renamed)", "+49 221 1", at, "admin", time.Time{}
		if _, err := w.db.UpdateCustomer(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
	}
	w.customers = w.customers[:n-40]
	orders, reviews := w.orders[w.changed:min(len(w.orders), w.changed+30)], w.reviews[w.changed:min(len(w.reviews), w.changed+20)]
	w.changed += 30
	for i, id := range orders {
		to, restock := store.OrderPaid, false
		if i%3 == 0 {
			to, restock = store.OrderCancelled, true
		}
		if r, err := w.db.SetOrderStatus(ctx, id, store.OrderPlaced, to, 0, restock, w.now(), "shop", nil); err != nil || r.Err != nil {
			t.Fatalf("order %d -> %s: %v %v", id, to, err, r.Err)
		}
	}
	for i, id := range reviews {
		op := store.ReviewOp{Kind: store.OpDelete, ID: id, At: w.now(), Actor: "mod"}
		if i%2 == 1 {
			r, err := w.db.GetReview(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			r.Stars, r.Text, r.UpdatedAt = 5, "changed my mind", w.now()
			op = store.ReviewOp{Kind: store.OpUpdate, Review: r}
		}
		if r, err := w.db.WriteReview(ctx, op, nil); err != nil || r.Err != nil {
			t.Fatalf("review %d: %v %v", id, err, r.Err)
		}
	}
	last := w.products[len(w.products)-30:]
	ops := []store.ProductOp{}
	for i, id := range last[20:] { // KWD: neither ordered nor reviewed
		if i%2 == 0 {
			ops = append(ops, store.ProductOp{Kind: store.OpDelete, ID: id, At: w.now(), Actor: "admin"})
		}
	}
	for _, id := range last[:5] {
		p, err := w.db.GetProduct(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		p.PriceMinor, p.UpdatedAt = p.PriceMinor+1, w.now()
		ops = append(ops, store.ProductOp{Kind: store.OpUpdate, Product: p})
	}
	rs, err := w.db.WriteProducts(ctx, ops, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

// currencyDigitsOf are the minor-unit digits of the workload's currencies, kept here apart from the
// server's table so that the comparison does not reuse the code under test.
var currencyDigitsOf = map[string]int{"EUR": 2, "JPY": 0, "KWD": 3}

func decimal(minor int64, cur string) string {
	d := currencyDigitsOf[cur]
	if d == 0 {
		return strconv.FormatInt(minor, 10)
	}
	p := int64(1)
	for range d {
		p *= 10
	}
	return fmt.Sprintf("%d.%0*d", minor/p, d, minor%p)
}

// µs is t as PostgreSQL keeps it: UTC, microseconds.
func µs(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// expectedReport is every live record (products without their rating, see reportQueries) of the source as rows of the reporting tables, one line per
// row, fields separated by '|', ordered as the target queries order them.
func expectedReport(t *testing.T, db *sqlite.DB) map[string][]string {
	t.Helper()
	feed, more, err := db.Feed(context.Background(), 0, 10000)
	if err != nil || more {
		t.Fatalf("source feed: more %v, %v", more, err)
	}
	out := map[string][]string{}
	add := func(table string, fields ...any) {
		s := make([]string, len(fields))
		for i, f := range fields {
			s[i] = fmt.Sprint(f)
		}
		out[table] = append(out[table], strings.Join(s, "|"))
	}
	for _, e := range feed {
		switch {
		case e.Customer != nil:
			c := e.Customer
			add("customers", c.ID, c.Version, c.ExternalID, c.Name, c.Email, c.Phone, c.Gender, c.Company, day(c.BirthDate),
				c.Address.Street, c.Address.City, c.Address.Region, c.Address.PostalCode, c.Address.Country,
				µs(c.CreatedAt), µs(c.UpdatedAt), c.CreatedBy, c.UpdatedBy)
		case e.Product != nil:
			p := e.Product
			add("products", p.ID, p.Version, p.SKU, p.Name, p.Description, p.Category, decimal(p.PriceMinor, p.Currency),
				p.Currency, p.StockQuantity, p.LowStockThreshold, p.Active, p.RatingSum, p.RatingCount,
				µs(p.CreatedAt), µs(p.UpdatedAt), p.CreatedBy, p.UpdatedBy)
		case e.Order != nil:
			o := e.Order
			add("orders", o.ID, o.Version, o.OrderNumber, o.ExternalID, o.CustomerID, o.Status, o.Currency,
				decimal(o.TotalMinor, o.Currency), o.Note, µs(o.PlacedAt), µs(o.UpdatedAt), o.CreatedBy, o.UpdatedBy)
			for _, l := range o.Lines {
				add("order_lines", o.ID, l.LineNo, l.ProductID, l.SKU, l.ProductName, l.Quantity,
					decimal(l.UnitPriceMinor, o.Currency), decimal(l.AmountMinor, o.Currency), o.Currency)
			}
		case e.Review != nil:
			r := e.Review
			add("reviews", r.ID, r.Version, r.CustomerID, r.ProductID, r.Stars, r.Title, r.Text,
				µs(r.CreatedAt), µs(r.UpdatedAt), r.CreatedBy, r.UpdatedBy)
		}
	}
	return out
}

// reportQueries read each target table as expectedReport writes it.
var reportQueries = map[string]string{
	"customers": `SELECT concat_ws('|', id, version, external_id, name, email, phone, gender, company,
		coalesce(birth_date::text, ''), street, city, region, postal_code, country, %[2]s, %[3]s, created_by, updated_by)
		FROM %[1]s.customers ORDER BY feed_seq`,
	"products": `SELECT concat_ws('|', id, version, sku, name, description, category, price::text, currency,
		stock_quantity, low_stock_threshold, active::text, rating_sum, rating_count, %[2]s, %[3]s, created_by, updated_by)
		FROM %[1]s.products ORDER BY feed_seq`,
	"orders": `SELECT concat_ws('|', id, version, order_number, external_id, customer_id, status, currency,
		total::text, note, to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), %[3]s, created_by, updated_by)
		FROM %[1]s.orders ORDER BY feed_seq`,
	"order_lines": `SELECT concat_ws('|', l.order_id, l.line_no, l.product_id, l.sku, l.product_name, l.quantity,
		l.unit_price::text, l.amount::text, l.currency)
		FROM %[1]s.order_lines l JOIN %[1]s.orders o ON o.id = l.order_id ORDER BY o.feed_seq, l.line_no`,
	"reviews": `SELECT concat_ws('|', id, version, customer_id, product_id, stars, title, text, %[2]s, %[3]s,
		created_by, updated_by) FROM %[1]s.reviews ORDER BY feed_seq`,
}

// compareReport checks that every table of the target schema holds exactly the source's records.
func compareReport(t *testing.T, db *sqlite.DB, targetURL, schema string) {
	t.Helper()
	want := expectedReport(t, db)
	conn, err := pgx.Connect(context.Background(), targetURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	utc := func(col string) string {
		return fmt.Sprintf(`to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`, col)
	}
	for table, q := range reportQueries {
		rows, err := conn.Query(context.Background(), fmt.Sprintf(q, pgx.Identifier{schema}.Sanitize(), utc("created_at"), utc("updated_at")))
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want[table]) {
			t.Errorf("%s: target has %d rows, the source %d", table, len(got), len(want[table]))
			continue
		}
		for i := range got {
			if got[i] != want[table][i] {
				t.Errorf("%s row %d:\ntarget %s\nsource %s", table, i, got[i], want[table][i])
				break
			}
		}
	}
}
