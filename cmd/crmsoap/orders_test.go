package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crmsoap/crmsoap/wsdl"
)

func orderStatus(s wsdl.OrderStatus) *wsdl.OrderStatus { return &s }

// orderFixture adds a customer and products P1 (EUR 2.50, 10, threshold 8) and P2 (EUR 0.99, 1).
func orderFixture(t *testing.T, c wsdl.CrmPortType, srv *server) (cust, p1, p2 int64) {
	t.Helper()
	ctx := waitCtx(t)
	cr, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "Buyer"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.AddProductContext(ctx, &wsdl.AddProduct{Product: &wsdl.ProductData{Sku: "P1", Name: "Pen",
		Price: money("2.5", "EUR"), StockQuantity: qty(10), LowStockThreshold: qty(8)}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.AddProductContext(ctx, &wsdl.AddProduct{Product: &wsdl.ProductData{Sku: "P2", Name: "Pad",
		Price: money("0.99", "EUR"), StockQuantity: qty(1)}})
	if err != nil {
		t.Fatal(err)
	}
	return cr.Customer.Id, a.Product.Id, b.Product.Id
}

func TestServe_OrderFlowWithGeneratedClient(t *testing.T) {
	forEachBackend(t, testOrderFlowWithGeneratedClient)
}

func testOrderFlowWithGeneratedClient(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c, ctx := srv.client(), waitCtx(t)
	cust, p1, p2 := orderFixture(t, c, srv)

	po, err := c.PlaceOrderContext(ctx, &wsdl.PlaceOrder{CustomerId: cust, ExternalId: "ERP-SO-1", Note: "rush",
		Line: []*wsdl.OrderLineRequest{{ProductId: p1, Quantity: qty(3)}, {Sku: "P2", Quantity: qty(1)}}})
	if err != nil {
		t.Fatalf("PlaceOrder: %v", err)
	}
	o := po.Order
	if !strings.HasPrefix(o.OrderNumber, "SO-") || *o.Status != wsdl.OrderStatusPLACED || o.Currency != "EUR" ||
		string(*o.TotalAmount.Amount) != "8.49" || len(o.Line) != 2 || string(*o.Line[0].LineAmount.Amount) != "7.50" ||
		o.Line[1].ProductName != "Pad" || string(*o.Line[1].UnitPrice.Amount) != "0.99" {
		t.Fatalf("placed %+v", o)
	}
	if len(po.Warning) != 2 || *po.Warning[0].Code != wsdl.WarningCodeLOW_STOCK || *po.Warning[0].StockQuantity != 7 ||
		*po.Warning[1].StockQuantity != 0 {
		t.Fatalf("warnings %+v", po.Warning)
	}

	before := productState(t, srv.DB)
	_, err = c.PlaceOrderContext(ctx, &wsdl.PlaceOrder{CustomerId: cust, ExternalId: "ERP-SO-1",
		Line: []*wsdl.OrderLineRequest{{ProductId: p1, Quantity: qty(1)}}})
	if f := faultOf(t, err); *f.Code != wsdl.FaultCodeDUPLICATE || !strings.Contains(f.Message, fmt.Sprintf("order %d", o.Id)) {
		t.Errorf("same externalId again: %s %q", *f.Code, f.Message)
	}
	_, err = c.PlaceOrderContext(ctx, &wsdl.PlaceOrder{CustomerId: cust,
		Line: []*wsdl.OrderLineRequest{{ProductId: p1, Quantity: qty(1)}, {ProductId: p2, Quantity: qty(1)}}})
	if f := faultOf(t, err); *f.Code != wsdl.FaultCodeINSUFFICIENT_STOCK || f.Field != "line[1]/quantity" || !strings.Contains(f.Message, "has 0 in stock") {
		t.Errorf("second line short: %s %q %q", *f.Code, f.Field, f.Message)
	}
	if after := productState(t, srv.DB); after != before {
		t.Errorf("refused orders wrote: %s -> %s", before, after)
	}

	_, err = c.UpdateOrderStatusContext(ctx, &wsdl.UpdateOrderStatus{Id: o.Id, Status: orderStatus(wsdl.OrderStatusDELIVERED)})
	if f := faultOf(t, err); *f.Code != wsdl.FaultCodeCONFLICT || !strings.Contains(f.Message, "PLACED") || !strings.Contains(f.Message, "DELIVERED") {
		t.Errorf("PLACED -> DELIVERED: %s %q", *f.Code, f.Message)
	}
	paid, err := c.UpdateOrderStatusContext(ctx, &wsdl.UpdateOrderStatus{Id: o.Id, Status: orderStatus(wsdl.OrderStatusPAID), ExpectedVersion: 1})
	if err != nil || *paid.Order.Status != wsdl.OrderStatusPAID || paid.Order.Version != 2 {
		t.Fatalf("pay: %+v, %v", paid, err)
	}
	if _, err := c.DeleteProductContext(ctx, &wsdl.DeleteProduct{Id: p2}); err == nil {
		t.Error("a product on an order was deleted")
	} else if f := faultOf(t, err); *f.Code != wsdl.FaultCodeCONFLICT || !strings.Contains(f.Message, "active=false") {
		t.Errorf("deleting a product on an order: %s %q", *f.Code, f.Message)
	}
	if _, err := c.DeleteCustomerContext(ctx, &wsdl.DeleteCustomer{Id: cust}); err == nil {
		t.Error("a customer with orders was deleted")
	} else if f := faultOf(t, err); *f.Code != wsdl.FaultCodeCONFLICT {
		t.Errorf("deleting a customer with orders: %s %q", *f.Code, f.Message)
	}
	if _, err := c.UpdateOrderStatusContext(ctx, &wsdl.UpdateOrderStatus{Id: o.Id, Status: orderStatus(wsdl.OrderStatusCANCELLED)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.GetProductContext(ctx, &wsdl.GetProduct{Id: p1}); *got.Product.StockQuantity != 10 {
		t.Errorf("stock after cancel %d, want 10", *got.Product.StockQuantity)
	}
	got, err := c.GetOrderContext(ctx, &wsdl.GetOrder{Id: o.Id})
	if err != nil || *got.Order.Status != wsdl.OrderStatusCANCELLED || len(got.Order.Line) != 2 {
		t.Fatalf("GetOrder: %+v, %v", got, err)
	}
	page, err := c.SearchOrdersContext(ctx, &wsdl.SearchOrders{Filter: &wsdl.OrderFilter{CustomerId: cust,
		Status: orderStatus(wsdl.OrderStatusCANCELLED)}})
	if err != nil || len(page.Order) != 1 || page.Order[0].Id != o.Id {
		t.Fatalf("SearchOrders: %+v, %v", page, err)
	}
	// The feed carries the order's latest state, and the products' stock moves.
	feed, err := c.GetChangesContext(ctx, &wsdl.GetChanges{})
	if err != nil {
		t.Fatal(err)
	}
	var orders, products int
	for _, ch := range feed.Change {
		switch *ch.Entity {
		case wsdl.EntityORDER:
			orders++
			if ch.Order == nil || *ch.Order.Status != wsdl.OrderStatusCANCELLED || len(ch.Order.Line) != 2 || ch.ExternalId != "ERP-SO-1" {
				t.Errorf("order change %+v", ch)
			}
		case wsdl.EntityPRODUCT:
			products++
		}
	}
	if orders != 1 || products != 2 {
		t.Errorf("feed: %d order and %d product entries, want 1 and 2", orders, products)
	}
}

// TestServe_OrderBadInput: each bad PlaceOrder over both SOAP versions is a
// fault with its code and field, and nothing is written.
func TestServe_OrderBadInput(t *testing.T) { forEachBackend(t, testOrderBadInput) }

func testOrderBadInput(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c := srv.client()
	cust, p1, _ := orderFixture(t, c, srv)
	line := func(product string, q string) string {
		return `<c:line>` + product + `<c:quantity>` + q + `</c:quantity></c:line>`
	}
	place := func(custID int64, extra, lines string) string {
		return fmt.Sprintf(`<c:PlaceOrder><c:customerId>%d</c:customerId>%s%s</c:PlaceOrder>`, custID, extra, lines)
	}
	pid := fmt.Sprintf(`<c:productId>%d</c:productId>`, p1)
	before := productState(t, srv.DB)
	for _, tc := range []struct{ name, body, code, field string }{
		{"no lines", place(cust, "", ""), "VALIDATION_FAILED", "line"},
		{"501 lines", place(cust, "", strings.Repeat(line(pid, "1"), 501)), "VALIDATION_FAILED", "line"},
		{"quantity 0", place(cust, "", line(pid, "0")), "VALIDATION_FAILED", "line[0]/quantity"},
		{"quantity negative", place(cust, "", line(pid, "-2")), "VALIDATION_FAILED", "line[0]/quantity"},
		{"both id and sku", place(cust, "", line(pid+`<c:sku>P1</c:sku>`, "1")), "VALIDATION_FAILED", "line[0]"},
		{"neither id nor sku", place(cust, "", line("", "1")), "VALIDATION_FAILED", "line[0]"},
		{"unknown product", place(cust, "", line(pid, "1")+line(`<c:sku>NOPE</c:sku>`, "1")), "NOT_FOUND", "line[1]"},
		{"other currency", place(cust, `<c:currency>USD</c:currency>`, line(pid, "1")), "VALIDATION_FAILED", "line[0]"},
		{"unknown currency", place(cust, `<c:currency>EUX</c:currency>`, line(pid, "1")), "VALIDATION_FAILED", "currency"},
		{"unknown customer", place(cust+100, "", line(pid, "1")), "NOT_FOUND", "customerId"},
		{"too many", place(cust, "", line(pid, "11")), "INSUFFICIENT_STOCK", "line[0]/quantity"},
		{"bad status", `<c:UpdateOrderStatus><c:id>1</c:id><c:status>LOST</c:status></c:UpdateOrderStatus>`, "VALIDATION_FAILED", "status"},
		{"unknown order", `<c:GetOrder><c:id>77</c:id></c:GetOrder>`, "NOT_FOUND", ""},
	} {
		for _, v := range []struct {
			ns, ct string
			status int
		}{{ns11, ct11, http.StatusInternalServerError}, {ns12, ct12, http.StatusBadRequest}} {
			status, _, resp := post(t, srv.URL, v.ct, "", envelope(v.ns, "", tc.body))
			if status != v.status || elementText(t, resp, "code") != tc.code || (tc.field != "" && elementText(t, resp, "field") != tc.field) {
				t.Errorf("%s (%s): HTTP %d code %q field %q, want %s on %q\n%s", tc.name, v.ns, status,
					elementText(t, resp, "code"), elementText(t, resp, "field"), tc.code, tc.field, resp)
			}
		}
	}
	if after := productState(t, srv.DB); after != before {
		t.Errorf("bad orders wrote: %s -> %s", before, after)
	}
}

// TestServe_RaceForTheLastUnit: many clients order the last unit at once:
// exactly one order is placed, the stock ends at 0, never below.
func TestServe_RaceForTheLastUnit(t *testing.T) { forEachBackend(t, testRaceForTheLastUnit) }

func testRaceForTheLastUnit(t *testing.T, db string) {
	srv := startDevServer(t, db)
	cust, _, p2 := orderFixture(t, srv.client(), srv) // P2 has 1
	raceForTheLastUnit(t, func(int) *server { return srv }, cust, p2)
}

// raceForTheLastUnit has 8 clients, client i of the server node(i), order product p2's last unit at
// once: exactly one order is placed, the others are INSUFFICIENT_STOCK, the stock ends at 0 and the
// placed order holds the unit.
func raceForTheLastUnit(t *testing.T, node func(i int) *server, cust, p2 int64) {
	t.Helper()
	ctx := waitCtx(t)
	const clients = 8
	var placed, short atomic.Int64
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			_, err := node(i).client().PlaceOrderContext(ctx, &wsdl.PlaceOrder{CustomerId: cust,
				Line: []*wsdl.OrderLineRequest{{ProductId: p2, Quantity: qty(1)}}})
			if err == nil {
				placed.Add(1)
			} else if f := faultOf(t, err); *f.Code == wsdl.FaultCodeINSUFFICIENT_STOCK {
				short.Add(1)
			} else {
				t.Errorf("client %d: fault %s %s", i, *f.Code, f.Message)
			}
		})
	}
	wg.Wait()
	c := node(clients - 1).client()
	got, err := c.GetProductContext(ctx, &wsdl.GetProduct{Id: p2})
	if err != nil || placed.Load() != 1 || short.Load() != clients-1 || *got.Product.StockQuantity != 0 {
		t.Fatalf("placed %d, short %d, stock %v, %v; want 1, %d, 0", placed.Load(), short.Load(), got, err, clients-1)
	}
	orders, err := c.SearchOrdersContext(ctx, &wsdl.SearchOrders{Filter: &wsdl.OrderFilter{CustomerId: cust}})
	if err != nil || len(orders.Order) != 1 || *orders.Order[0].Line[0].Quantity != 1 {
		t.Fatalf("orders after the race: %+v, %v; want the one placed, of 1 unit", orders, err)
	}
}

// TestServe_PlaceOrderRetryExecutesOnce: a PlaceOrder with a wsa:MessageID sent
// twice places one order and answers the same both times.
func TestServe_PlaceOrderRetryExecutesOnce(t *testing.T) {
	forEachBackend(t, testPlaceOrderRetryExecutesOnce)
}

func testPlaceOrderRetryExecutesOnce(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c := srv.client()
	cust, p1, _ := orderFixture(t, c, srv)
	env := envelope(ns12, messageID("urn:uuid:order-1"), fmt.Sprintf(`<c:PlaceOrder><c:customerId>%d</c:customerId>`+
		`<c:line><c:productId>%d</c:productId><c:quantity>2</c:quantity></c:line></c:PlaceOrder>`, cust, p1))
	s1, _, first := post(t, srv.URL, ct12, "", env)
	state := productState(t, srv.DB)
	s2, _, second := post(t, srv.URL, ct12, "", env)
	if s1 != http.StatusOK || s2 != s1 || !bytes.Equal(first, second) || elementText(t, first, "orderNumber") == "" {
		t.Fatalf("retry: HTTP %d then %d\n%s\n%s", s1, s2, first, second)
	}
	if after := productState(t, srv.DB); after != state {
		t.Errorf("the retry wrote: %s -> %s", state, after)
	}
}

// TestServe_ContendedOrders has 64 clients ordering at once from the same 10
// products over HTTP: every order is placed or refused with INSUFFICIENT_STOCK
// (never "database is locked" or INTERNAL), no stock goes below 0, and for each
// product the units on placed orders equal the stock removed.
func TestServe_ContendedOrders(t *testing.T) { forEachBackend(t, testContendedOrders) }

func testContendedOrders(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c, ctx := srv.client(), waitCtx(t)
	cr, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: "Buyer"}})
	if err != nil {
		t.Fatal(err)
	}
	const products, clients, perClient, stock = 10, 64, 3, 40
	var ids []int64
	for i := range products {
		p, err := c.AddProductContext(ctx, &wsdl.AddProduct{Product: &wsdl.ProductData{Sku: fmt.Sprint("HOT-", i),
			Name: "hot", Price: money("1.01", "EUR"), StockQuantity: qty(stock)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.Product.Id)
	}
	var mu sync.Mutex
	sold := make(map[int64]int64)
	var placed, short atomic.Int64
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := srv.client()
			for k := range perClient {
				var lines []*wsdl.OrderLineRequest
				for j := range 5 {
					lines = append(lines, &wsdl.OrderLineRequest{ProductId: ids[(w+k+j*3)%products], Quantity: qty(int64(1 + j%2))})
				}
				po, err := cl.PlaceOrderContext(ctx, &wsdl.PlaceOrder{CustomerId: cr.Customer.Id, Line: lines})
				if err != nil {
					if f := faultOf(t, err); *f.Code != wsdl.FaultCodeINSUFFICIENT_STOCK {
						t.Errorf("fault %s: %s", *f.Code, f.Message)
					}
					short.Add(1)
					continue
				}
				placed.Add(1)
				mu.Lock()
				for _, l := range po.Order.Line {
					sold[l.ProductId] += int64(*l.Quantity)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		p, err := c.GetProductContext(ctx, &wsdl.GetProduct{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		if left := int64(*p.Product.StockQuantity); left < 0 || left+sold[id] != stock {
			t.Errorf("product %d: %d left, %d sold; want them to add up to %d", id, left, sold[id], stock)
		}
	}
	if placed.Load()+short.Load() != clients*perClient || placed.Load() == 0 {
		t.Fatalf("placed %d, short %d of %d", placed.Load(), short.Load(), clients*perClient)
	}
	t.Logf("placed %d, refused for stock %d", placed.Load(), short.Load())
}
