package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/crmsoap/crmsoap/wsdl"
	"github.com/crmsoap/crmsoap/wsdl/notify"
)

// exportedOrder is an order as a test reads it back from any export format: the notification
// contract's Order, whose names are the main contract's.
type exportedOrder struct{ notify.Order }

// spell is an order in one line, ids relative to the customer's and first product's.
func (o exportedOrder) spell(cust, p1 int64) string {
	s := fmt.Sprintf("%s c%d %s %s %v %v %t %q:", o.ExternalID, o.CustomerID-cust, o.Status, o.Currency,
		o.TotalAmount.Amount, o.TotalAmount.Currency, strings.HasPrefix(o.OrderNumber, "SO-"), o.Note)
	for _, l := range o.Line {
		s += fmt.Sprintf(" [%d p%d %s %q %d %s %s %s %s]", l.LineNo, l.ProductID-p1, l.SKU, l.ProductName, l.Quantity,
			l.UnitPrice.Amount, l.UnitPrice.Currency, l.LineAmount.Amount, l.LineAmount.Currency)
	}
	return s
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}

// readOrders reads an orders export: nested lines in XML and JSON Lines, one CSV row per line.
func readOrders(t *testing.T, format, path string) []exportedOrder {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []exportedOrder
	switch format {
	case "xml":
		var doc struct {
			XMLName xml.Name        `xml:"urn:crmsoap:v1 orders"`
			Order   []exportedOrder `xml:"order"`
		}
		if err := xml.NewDecoder(f).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		return doc.Order
	case "jsonl":
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var o exportedOrder
			if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			out = append(out, o)
		}
		return out
	}
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		v := map[string]string{}
		for i, h := range rows[0] {
			v[h] = r[i]
		}
		if id := atoi(t, v["id"]); len(out) == 0 || out[len(out)-1].ID != id {
			out = append(out, exportedOrder{notify.Order{ID: id, OrderNumber: v["orderNumber"], ExternalID: v["externalId"],
				CustomerID: atoi(t, v["customerId"]), Status: v["status"], Currency: v["currency"], Note: v["note"],
				TotalAmount: notify.Money{Amount: v["totalAmount.amount"], Currency: v["totalAmount.currency"]}}})
		}
		o := &out[len(out)-1]
		o.Line = append(o.Line, notify.OrderLine{LineNo: int(atoi(t, v["line.lineNo"])), ProductID: atoi(t, v["line.productId"]),
			SKU: v["line.sku"], ProductName: v["line.productName"], Quantity: atoi(t, v["line.quantity"]),
			UnitPrice:  notify.Money{Amount: v["line.unitPrice.amount"], Currency: v["line.unitPrice.currency"]},
			LineAmount: notify.Money{Amount: v["line.lineAmount.amount"], Currency: v["line.lineAmount.currency"]}})
	}
	return out
}

func TestExport_OrdersAndReviews(t *testing.T) {
	srv := startDevServer(t, "")
	c, ctx := srv.client(), waitCtx(t)
	cr, err := c.UpsertCustomersContext(ctx, &wsdl.UpsertCustomers{Customer: tricky[:2]})
	if err != nil {
		t.Fatal(err)
	}
	cust, cust2 := cr.Result[0].Id, cr.Result[1].Id
	pr, err := c.UpsertProductsContext(ctx, &wsdl.UpsertProducts{Product: append(trickyProducts[:3:3],
		&wsdl.ProductData{Sku: "SKU-KWD2", Name: "Dates", Price: money("1.5", "KWD"), StockQuantity: qty(5)})})
	if err != nil {
		t.Fatal(err)
	}
	p1 := pr.Result[0].Id
	if _, err := c.PlaceOrderContext(ctx, &wsdl.PlaceOrder{CustomerId: cust, ExternalId: "SO-EXT-1", Note: "ring, \"twice\"\nplease",
		Line: []*wsdl.OrderLineRequest{{ProductId: p1, Quantity: qty(3)}, {Sku: "SKU-EUR", Quantity: qty(1)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PlaceOrderContext(ctx, &wsdl.PlaceOrder{CustomerId: cust2,
		Line: []*wsdl.OrderLineRequest{{Sku: "SKU-KWD", Quantity: qty(0)}}}); err == nil {
		t.Fatal("an order of quantity 0 was placed")
	}
	po, err := c.PlaceOrderContext(ctx, &wsdl.PlaceOrder{CustomerId: cust2, Line: []*wsdl.OrderLineRequest{{Sku: "SKU-KWD2", Quantity: qty(2)}}})
	if err != nil {
		t.Fatal(err)
	}
	paid := wsdl.OrderStatusPAID
	if _, err := c.UpdateOrderStatusContext(ctx, &wsdl.UpdateOrderStatus{Id: po.Order.Id, Status: &paid}); err != nil {
		t.Fatal(err)
	}
	rw, err := c.AddReviewContext(ctx, &wsdl.AddReview{Review: &wsdl.ReviewData{CustomerId: cust, ProductId: p1, Stars: stars(4),
		Title: "Gut, \"sehr\"", Text: "汉字 & <b>\nzweite Zeile"}})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := c.AddReviewContext(ctx, &wsdl.AddReview{Review: &wsdl.ReviewData{CustomerId: cust2, ProductId: p1, Stars: stars(1)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteReviewContext(ctx, &wsdl.DeleteReview{Id: gone.Review.Id}); err != nil {
		t.Fatal(err)
	}

	wantOrders := []string{
		`SO-EXT-1 c0 PLACED EUR 49.20 EUR true "ring, \"twice\"\nplease":` +
			` [1 p0 SKU-EUR "Kaffee, \"gemahlen\" 😀" 3 12.30 EUR 36.90 EUR] [2 p0 SKU-EUR "Kaffee, \"gemahlen\" 😀" 1 12.30 EUR 12.30 EUR]`,
		`c1 PAID KWD 3.000 KWD true "": [1 p3 SKU-KWD2 "Dates" 2 1.500 KWD 3.000 KWD]`,
	}
	for _, format := range []string{"csv", "jsonl", "xml"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			orders := filepath.Join(dir, "orders."+format)
			_, stderr, err := runCmd(t, "export", "--url", srv.URL, "--entity", "orders", "--format", format, "--out", orders)
			if err != nil || !strings.Contains(stderr, "exported 2 rows") {
				t.Fatalf("export orders: %v\n%s", err, stderr)
			}
			got := readOrders(t, format, orders)
			if len(got) != len(wantOrders) {
				t.Fatalf("%d orders exported, want %d", len(got), len(wantOrders))
			}
			for i, o := range got {
				if s := strings.TrimPrefix(o.spell(cust, p1), " "); s != wantOrders[i] {
					t.Errorf("order %d:\n got %s\nwant %s", i, s, wantOrders[i])
				}
			}
			if format == "csv" {
				raw, _ := os.ReadFile(orders)
				header := "id,version,orderNumber,externalId,customerId,status,placedAt,updatedAt,currency,totalAmount.amount," +
					"totalAmount.currency,note,line.lineNo,line.productId,line.sku,line.productName,line.quantity," +
					"line.unitPrice.amount,line.unitPrice.currency,line.lineAmount.amount,line.lineAmount.currency\n"
				if !strings.HasPrefix(string(raw), header) || strings.Count(string(raw), "SO-EXT-1") != 2 {
					t.Errorf("CSV: want the header and the first order repeated on each of its 2 lines:\n%s", raw)
				}
			}

			reviews := filepath.Join(dir, "reviews."+format)
			_, stderr, err = runCmd(t, "export", "--url", srv.URL, "--entity", "reviews", "--format", format, "--out", reviews)
			if err != nil || !strings.Contains(stderr, "exported 1 rows") || !strings.Contains(stderr, "1 deletions skipped") {
				t.Fatalf("export reviews: %v\n%s", err, stderr)
			}
			rows := readEntityRows(t, reviewsFile, format, reviews)
			want := []string{fmt.Sprint(rw.Review.Id), "1", "", "", fmt.Sprint(cust), fmt.Sprint(p1), "4", "Gut, \"sehr\"", "汉字 & <b>\nzweite Zeile"}
			if len(rows) != 1 || rows[0][rCreatedAt] == "" || rows[0][rUpdatedAt] == "" {
				t.Fatalf("reviews: %q", rows)
			}
			rows[0][rCreatedAt], rows[0][rUpdatedAt] = "", ""
			if fmt.Sprintf("%q", rows[0]) != fmt.Sprintf("%q", want) {
				t.Errorf("review:\n got %q\nwant %q", rows[0], want)
			}
		})
	}
}
