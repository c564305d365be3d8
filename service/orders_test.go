package service_test

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/service"
)

// orderSetup stores a customer and two EUR products (A: 5 at 12.30, threshold 3; B: 2 at 0.10).
func orderSetup(t *testing.T, s *service.Service) (cust, a, b int64) {
	t.Helper()
	c, err := s.AddCustomer(caller, &service.CustomerData{Name: "Buyer"})
	if err != nil {
		t.Fatal(err)
	}
	pa, err := s.AddProduct(caller, productData("A"))
	if err != nil {
		t.Fatal(err)
	}
	d := productData("B")
	d.Price, d.StockQuantity, d.LowStockThreshold = &service.Money{Amount: "0.1", Currency: "EUR"}, i64(2), nil
	pb, err := s.AddProduct(caller, d)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID, pa.ID, pb.ID
}

func TestPlaceOrderFlow(t *testing.T) {
	s := newService(t)
	cust, a, b := orderSetup(t, s)
	po, err := s.PlaceOrder(caller, service.PlaceOrderRequest{CustomerID: cust, ExternalID: "ERP-O-1",
		Lines: []service.OrderLineInput{{ProductID: a, Quantity: 2}, {SKU: "B", Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	o := po.Order
	if o.TotalAmount != (service.Money{Amount: "24.70", Currency: "EUR"}) || o.Status != service.StatusPlaced ||
		!strings.HasPrefix(o.OrderNumber, "SO-") || o.Lines[0].LineAmount.Amount != "24.60" || o.Lines[1].UnitPrice.Amount != "0.10" {
		t.Fatalf("placed %+v", o)
	}
	if len(po.Warnings) != 1 || po.Warnings[0].ProductID != a || po.Warnings[0].StockQuantity != 3 {
		t.Fatalf("warnings %+v", po.Warnings)
	}
	// Later price changes do not rewrite the order.
	d := productData("A")
	d.Price = &service.Money{Amount: "99", Currency: "EUR"}
	if _, err := s.UpdateProduct(caller, a, 0, d); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetOrder(caller, o.ID); got.Lines[0].UnitPrice.Amount != "12.30" {
		t.Fatalf("order after a price change: %+v", got.Lines[0])
	}

	_, err = s.PlaceOrder(caller, service.PlaceOrderRequest{CustomerID: cust, ExternalID: "ERP-O-1",
		Lines: []service.OrderLineInput{{ProductID: a, Quantity: 1}}})
	if e := wantFault(t, err, service.CodeDuplicate, "externalId"); !strings.Contains(e.Message, "order "+itoa(o.ID)) {
		t.Fatalf("duplicate message %q does not name order %d", e.Message, o.ID)
	}
	_, err = s.PlaceOrder(caller, service.PlaceOrderRequest{CustomerID: cust,
		Lines: []service.OrderLineInput{{ProductID: a, Quantity: 1}, {ProductID: b, Quantity: 2}}})
	if e := wantFault(t, err, service.CodeInsufficientStock, "line[1]/quantity"); !strings.Contains(e.Message, "has 1 in stock") {
		t.Fatalf("short message %q", e.Message)
	}
	for _, tc := range []struct {
		req   service.PlaceOrderRequest
		code  service.Code
		field string
	}{
		{service.PlaceOrderRequest{CustomerID: 0, Lines: []service.OrderLineInput{{ProductID: a, Quantity: 1}}}, service.CodeValidationFailed, "customerId"},
		{service.PlaceOrderRequest{CustomerID: cust + 50, Lines: []service.OrderLineInput{{ProductID: a, Quantity: 1}}}, service.CodeNotFound, "customerId"},
		{service.PlaceOrderRequest{CustomerID: cust}, service.CodeValidationFailed, "line"},
		{service.PlaceOrderRequest{CustomerID: cust, Lines: []service.OrderLineInput{{ProductID: a, Quantity: 0}}}, service.CodeValidationFailed, "line[0]/quantity"},
		{service.PlaceOrderRequest{CustomerID: cust, Lines: []service.OrderLineInput{{ProductID: a, SKU: "A", Quantity: 1}}}, service.CodeValidationFailed, "line[0]"},
		{service.PlaceOrderRequest{CustomerID: cust, Lines: []service.OrderLineInput{{ProductID: a, Quantity: 1}, {SKU: "nope", Quantity: 1}}}, service.CodeNotFound, "line[1]"},
		{service.PlaceOrderRequest{CustomerID: cust, Currency: "USD", Lines: []service.OrderLineInput{{ProductID: a, Quantity: 1}}}, service.CodeValidationFailed, "line[0]"},
		{service.PlaceOrderRequest{CustomerID: cust, Currency: "XYZ", Lines: []service.OrderLineInput{{ProductID: a, Quantity: 1}}}, service.CodeValidationFailed, "currency"},
	} {
		_, err := s.PlaceOrder(caller, tc.req)
		wantFault(t, err, tc.code, tc.field)
	}
	if p, _ := s.GetProduct(caller, a); p.StockQuantity != 5 { // the update set it to 5
		t.Fatalf("refused orders changed the stock of A: %d", p.StockQuantity)
	}

	// The state machine, and stock back on CANCELLED.
	_, err = s.UpdateOrderStatus(caller, o.ID, service.StatusShipped, 0)
	if e := wantFault(t, err, service.CodeConflict, "status"); !strings.Contains(e.Message, "PLACED") || !strings.Contains(e.Message, "SHIPPED") {
		t.Fatalf("transition message %q", e.Message)
	}
	paid, err := s.UpdateOrderStatus(caller, o.ID, service.StatusPaid, 1)
	if err != nil || paid.Order.Status != service.StatusPaid || paid.Order.Version != 2 {
		t.Fatalf("pay: %+v, %v", paid, err)
	}
	if _, err := s.UpdateOrderStatus(caller, o.ID, service.StatusCancelled, 0); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.GetProduct(caller, a); p.StockQuantity != 7 {
		t.Fatalf("stock of A after cancel: %d, want 7", p.StockQuantity)
	}
	_, err = s.UpdateOrderStatus(caller, o.ID, service.StatusPaid, 0)
	wantFault(t, err, service.CodeConflict, "status")

	// Orders keep their products and customers.
	e := wantFault(t, s.DeleteProduct(caller, a, 0), service.CodeConflict, "")
	if !strings.Contains(e.Message, "active=false") {
		t.Fatalf("delete product message %q", e.Message)
	}
	wantFault(t, s.DeleteCustomer(caller, cust, 0), service.CodeConflict, "")

	page, err := s.SearchOrders(caller, service.OrderSearchRequest{Filter: service.OrderFilter{CustomerID: cust, Status: service.StatusCancelled}})
	if err != nil || len(page.Orders) != 1 || page.Orders[0].ID != o.ID {
		t.Fatalf("SearchOrders = %+v, %v", page, err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPlaceOrderRaceForLastUnit: many buyers race for the last units; exactly
// the stock is sold and every other order is INSUFFICIENT_STOCK.
func TestPlaceOrderRaceForLastUnit(t *testing.T) {
	s := newService(t)
	cust, _, b := orderSetup(t, s) // B has 2
	var ok, short atomic.Int64
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.PlaceOrder(caller, service.PlaceOrderRequest{CustomerID: cust, Lines: []service.OrderLineInput{{ProductID: b, Quantity: 1}}})
			if err == nil {
				ok.Add(1)
			} else if e, is := err.(*service.Error); is && e.Code == service.CodeInsufficientStock {
				short.Add(1)
			} else {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	p, _ := s.GetProduct(caller, b)
	if ok.Load() != 2 || short.Load() != 8 || p.StockQuantity != 0 {
		t.Fatalf("placed %d, short %d, stock %d", ok.Load(), short.Load(), p.StockQuantity)
	}
}

// TestOnOrderStatus: every order written reports its resulting status once; refused writes and the
// replay of a keyed retry report nothing.
func TestOnOrderStatus(t *testing.T) {
	s := newService(t)
	s.Now = time.Now // the store expires keyed outcomes by its own clock
	var got []string
	s.OnOrderStatus = func(status string) { got = append(got, status) }
	cust, a, _ := orderSetup(t, s)
	req := service.PlaceOrderRequest{CustomerID: cust, Lines: []service.OrderLineInput{{ProductID: a, Quantity: 1}}}
	ctx := keyed(caller, "urn:uuid:order-1", "PlaceOrder", "order-1")
	po, err := s.PlaceOrder(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.PlaceOrder(ctx, req); err != nil || again.Order.ID != po.Order.ID {
		t.Fatalf("retry: %+v, %v", again, err)
	}
	if _, err := s.PlaceOrder(caller, service.PlaceOrderRequest{CustomerID: cust,
		Lines: []service.OrderLineInput{{ProductID: a, Quantity: 99}}}); err == nil {
		t.Fatal("an order beyond the stock was placed")
	}
	if _, err := s.UpdateOrderStatus(caller, po.Order.ID, service.StatusPaid, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateOrderStatus(caller, po.Order.ID, service.StatusDelivered, 0); err == nil {
		t.Fatal("PAID -> DELIVERED was allowed")
	}
	if _, err := s.UpdateOrderStatus(caller, po.Order.ID, service.StatusCancelled, 0); err != nil {
		t.Fatal(err)
	}
	if want := "PLACED PAID CANCELLED"; strings.Join(got, " ") != want {
		t.Errorf("reported %q, want %q", got, want)
	}
}
