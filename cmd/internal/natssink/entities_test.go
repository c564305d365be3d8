package natssink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/cmd/internal/natssink"
	"github.com/crmsoap/crmsoap/cmd/internal/natssink/natstest"
	"github.com/crmsoap/crmsoap/service"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

// TestJetStreamCarriesEveryEntity publishes a customer, a product, an order with two lines and a
// review written and deleted, and reads the stream back as raw JSON: one format for every entity,
// the contract's names, money as exact decimal strings.
func TestJetStreamCarriesEveryEntity(t *testing.T) {
	url := natstest.URL(t)
	stream := fmt.Sprintf("CRMENT%d", time.Now().UnixNano())
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "crm.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := service.WithCaller(context.Background(), "test")
	s := service.New(db)
	stock := int64(10)
	c, err := s.AddCustomer(ctx, &service.CustomerData{ExternalID: "N-1", Name: "Zhang Wei", Address: service.Address{City: "北京"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.AddProduct(ctx, &service.ProductData{SKU: "N-SKU", Name: "Tee", Price: &service.Money{Amount: "0.1", Currency: "EUR"},
		StockQuantity: &stock})
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.PlaceOrder(ctx, service.PlaceOrderRequest{CustomerID: c.ID, Lines: []service.OrderLineInput{
		{ProductID: p.ID, Quantity: 3}, {SKU: "N-SKU", Quantity: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.AddReview(ctx, &service.ReviewData{CustomerID: c.ID, ProductID: p.ID, Stars: 5, Title: "top"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteReview(ctx, r.Review.ID, 0); err != nil {
		t.Fatal(err)
	}
	feed, _, err := db.Feed(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	sink := natssink.New(url, stream)
	defer sink.Close()
	if err := sink.Deliver(context.Background(), feed); err != nil {
		t.Fatal(err)
	}

	st := natstest.Stream(t, url, stream)
	want := map[string]string{ // subject -> the message's JSON, ids and times aside
		"crm.customer.upserted": `{"customer":{"address":{"city":"北京"},"externalId":"N-1","name":"Zhang Wei"},"entity":"customer","externalId":"N-1","kind":"UPSERTED"}`,
		"crm.product.upserted": `{"entity":"product","externalId":"N-SKU","kind":"UPSERTED","product":{"active":true,"lowStock":false,"lowStockThreshold":0,` +
			`"name":"Tee","price":{"amount":"0.10","currency":"EUR"},"rating":{"average":"0.00","count":0},"sku":"N-SKU","stockQuantity":5}}`,
		"crm.order.upserted": `{"entity":"order","kind":"UPSERTED","order":{"currency":"EUR","line":[` +
			`{"lineAmount":{"amount":"0.30","currency":"EUR"},"lineNo":1,"productName":"Tee","quantity":3,"sku":"N-SKU","unitPrice":{"amount":"0.10","currency":"EUR"}},` +
			`{"lineAmount":{"amount":"0.20","currency":"EUR"},"lineNo":2,"productName":"Tee","quantity":2,"sku":"N-SKU","unitPrice":{"amount":"0.10","currency":"EUR"}}],` +
			`"status":"PLACED","totalAmount":{"amount":"0.50","currency":"EUR"}}}`,
		"crm.review.deleted": `{"entity":"review","kind":"DELETED"}`,
	}
	for i, e := range feed {
		m, err := st.GetMsg(context.Background(), uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if err := json.Unmarshal(m.Data, &body); err != nil {
			t.Fatal(err)
		}
		if body["notificationId"] != float64(e.Seq) || body["id"] != float64(e.ID) || body["version"] != float64(e.Version) {
			t.Fatalf("message %d: %s, want feed entry %+v", i+1, m.Data, e)
		}
		if _, err := time.Parse(time.RFC3339Nano, body["at"].(string)); err != nil {
			t.Fatalf("message %d: at: %v", i+1, err)
		}
		w, ok := want[m.Subject]
		if !ok {
			t.Fatalf("message %d on unexpected subject %s", i+1, m.Subject)
		}
		delete(want, m.Subject)
		if got := strip(t, body); got != w {
			t.Fatalf("message %d on %s:\n got %s\nwant %s", i+1, m.Subject, got, w)
		}
	}
	if len(want) != 0 || o.Order.ID == 0 {
		t.Fatalf("subjects never published: %v", want)
	}
}

// strip drops the ids, versions and times (which vary) from a message and re-encodes it with sorted keys.
func strip(t *testing.T, v map[string]any) string {
	t.Helper()
	var walk func(m map[string]any)
	walk = func(m map[string]any) {
		for k, x := range m {
			switch k {
			case "notificationId", "id", "version", "at", "createdAt", "updatedAt", "placedAt", "orderNumber", "customerId", "productId":
				delete(m, k)
				continue
			}
			switch x := x.(type) {
			case map[string]any:
				walk(x)
			case []any:
				for _, e := range x {
					if em, ok := e.(map[string]any); ok {
						walk(em)
					}
				}
			}
		}
	}
	walk(v)
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
