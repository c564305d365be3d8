package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/service"
	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/sqlite"
	"github.com/crmsoap/crmsoap/wsdl/notify"
)

// entityChanges writes one change of every entity through the service: a customer, two products
// (EUR with cents, JPY without), an order of both with two lines, a review, then a second review
// deleted again. It returns the feed after from and the ids written.
type entityIDs struct{ customer, eur, jpy, order, review, deletedReview int64 }

func entityChanges(t testing.TB, db *sqlite.DB, after int64) ([]store.FeedEntry, entityIDs) {
	t.Helper()
	ctx := service.WithCaller(context.Background(), "test")
	s := service.New(db)
	i64 := func(n int64) *int64 { return &n }
	var ids entityIDs
	c, err := s.AddCustomer(ctx, &service.CustomerData{ExternalID: "ENT-C", Name: "Zhang Wei"})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.AddCustomer(ctx, &service.CustomerData{Name: "Second"})
	if err != nil {
		t.Fatal(err)
	}
	eur, err := s.AddProduct(ctx, &service.ProductData{SKU: "SKU-EUR", Name: "Kaffee & <Tee>", Category: "drinks",
		Price: &service.Money{Amount: "12.3", Currency: "EUR"}, StockQuantity: i64(10), LowStockThreshold: i64(3)})
	if err != nil {
		t.Fatal(err)
	}
	jpy, err := s.AddProduct(ctx, &service.ProductData{SKU: "SKU-JPY", Name: "Matcha",
		Price: &service.Money{Amount: "500", Currency: "JPY"}, StockQuantity: i64(4)})
	if err != nil {
		t.Fatal(err)
	}
	po, err := s.PlaceOrder(ctx, service.PlaceOrderRequest{CustomerID: c.ID, ExternalID: "ENT-O", Note: "ring twice",
		Lines: []service.OrderLineInput{{ProductID: eur.ID, Quantity: 3}, {SKU: "SKU-EUR", Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	rw, err := s.AddReview(ctx, &service.ReviewData{CustomerID: c.ID, ProductID: eur.ID, Stars: 4, Title: "gut"})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := s.AddReview(ctx, &service.ReviewData{CustomerID: c2.ID, ProductID: jpy.ID, Stars: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteReview(ctx, rd.Review.ID, 0); err != nil {
		t.Fatal(err)
	}
	ids = entityIDs{customer: c.ID, eur: eur.ID, jpy: jpy.ID, order: po.Order.ID, review: rw.Review.ID, deletedReview: rd.Review.ID}
	feed, _, err := db.Feed(context.Background(), after, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return feed, ids
}

// find is the notification about entity id, or fails.
func find(t *testing.T, ns []notify.Notification, entity string, id int64) notify.Notification {
	t.Helper()
	for _, n := range ns {
		if n.Entity == entity && n.ID == id {
			return n
		}
	}
	t.Fatalf("no notification about %s %d", entity, id)
	return notify.Notification{}
}

func TestListenerDecodesEveryEntity(t *testing.T) {
	db := openDB(t)
	feed, ids := entityChanges(t, db, 0)
	l := &listener{seen: map[int64]bool{}}
	srv := httptest.NewServer(l)
	defer srv.Close()
	addSubscription(t, db, srv.URL)
	stop := run(t, db, notify.New(srv.URL, nil, nil, 10*time.Second))
	waitCursor(t, db, feed[len(feed)-1].Seq)
	stop()
	checkSame(t, l, feed)

	got := l.got
	p := find(t, got, store.EntityProduct, ids.jpy).Product
	if p == nil || p.SKU != "SKU-JPY" || p.Price != (notify.Money{Amount: "500", Currency: "JPY"}) || p.StockQuantity != 4 ||
		!p.Active || p.Rating != (notify.Rating{Average: "0.00"}) {
		t.Fatalf("JPY product: %+v", p)
	}
	p = find(t, got, store.EntityProduct, ids.eur).Product
	// The order took 4 of 10 and the review rated it 4: the feed holds the product's last state.
	if p == nil || p.Name != "Kaffee & <Tee>" || p.Category != "drinks" || p.Price != (notify.Money{Amount: "12.30", Currency: "EUR"}) ||
		p.StockQuantity != 6 || p.LowStockThreshold != 3 || p.LowStock || p.Rating != (notify.Rating{Average: "4.00", Count: 1}) {
		t.Fatalf("EUR product: %+v", p)
	}
	o := find(t, got, store.EntityOrder, ids.order).Order
	want := []notify.OrderLine{
		{LineNo: 1, ProductID: ids.eur, SKU: "SKU-EUR", ProductName: "Kaffee & <Tee>", Quantity: 3,
			UnitPrice: notify.Money{Amount: "12.30", Currency: "EUR"}, LineAmount: notify.Money{Amount: "36.90", Currency: "EUR"}},
		{LineNo: 2, ProductID: ids.eur, SKU: "SKU-EUR", ProductName: "Kaffee & <Tee>", Quantity: 1,
			UnitPrice: notify.Money{Amount: "12.30", Currency: "EUR"}, LineAmount: notify.Money{Amount: "12.30", Currency: "EUR"}},
	}
	if o == nil || o.CustomerID != ids.customer || o.ExternalID != "ENT-O" || o.Status != "PLACED" || o.Currency != "EUR" ||
		o.Note != "ring twice" || o.TotalAmount != (notify.Money{Amount: "49.20", Currency: "EUR"}) || o.OrderNumber == "" ||
		fmt.Sprint(o.Line) != fmt.Sprint(want) {
		t.Fatalf("order: %+v", o)
	}
	r := find(t, got, store.EntityReview, ids.review)
	if r.Review == nil || r.Kind != store.FeedUpserted || r.Review.Stars != 4 || r.Review.Title != "gut" ||
		r.Review.CustomerID != ids.customer || r.Review.ProductID != ids.eur {
		t.Fatalf("review: %+v %+v", r, r.Review)
	}
	d := find(t, got, store.EntityReview, ids.deletedReview)
	if d.Kind != store.FeedDeleted || d.Review != nil || d.Customer != nil || d.Product != nil || d.Order != nil {
		t.Fatalf("deleted review: %+v", d)
	}
	c := find(t, got, store.EntityCustomer, ids.customer)
	if c.Customer == nil || c.Customer.Name != "Zhang Wei" || c.Product != nil {
		t.Fatalf("customer: %+v", c)
	}
}

// TestNotificationJSON pins the JSON names (the NATS sink's body): the contract's, money as strings.
func TestNotificationJSON(t *testing.T) {
	db := openDB(t)
	feed, ids := entityChanges(t, db, 0)
	var o notify.Notification
	for _, e := range feed {
		if e.Entity == store.EntityOrder {
			o = notify.Of(e)
		}
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	order, _ := m["order"].(map[string]any)
	lines, _ := order["line"].([]any)
	total, _ := order["totalAmount"].(map[string]any)
	if m["entity"] != "order" || m["kind"] != "UPSERTED" || len(lines) != 2 || total["amount"] != "49.20" ||
		order["customerId"] != float64(ids.customer) || m["customer"] != nil {
		t.Fatalf("order JSON: %s", b)
	}
	first, _ := lines[0].(map[string]any)
	unit, _ := first["unitPrice"].(map[string]any)
	if first["sku"] != "SKU-EUR" || unit["amount"] != "12.30" || unit["currency"] != "EUR" {
		t.Fatalf("order line JSON: %s", b)
	}
}
