package service_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crmsoap/crmsoap/service"
)

func productData(sku string) *service.ProductData {
	return &service.ProductData{SKU: sku, Name: "Widget", Category: "tools", Description: "line one\nline two",
		Price: &service.Money{Amount: "12.3", Currency: "EUR"}, StockQuantity: i64(5), LowStockThreshold: i64(3)}
}

func i64(n int64) *int64 {
	return &n
}

func TestProductRules(t *testing.T) {
	s := newService(t)
	neg := int64(-1)
	for _, tc := range []struct {
		name  string
		edit  func(d *service.ProductData)
		field string
	}{
		{"no sku", func(d *service.ProductData) { d.SKU = "  " }, "product/sku"},
		{"long sku", func(d *service.ProductData) { d.SKU = strings.Repeat("s", 65) }, "product/sku"},
		{"no name", func(d *service.ProductData) { d.Name = "" }, "product/name"},
		{"long name", func(d *service.ProductData) { d.Name = strings.Repeat("n", 201) }, "product/name"},
		{"long description", func(d *service.ProductData) { d.Description = strings.Repeat("d", 4001) }, "product/description"},
		{"control in description", func(d *service.ProductData) { d.Description = "a\x00b" }, "product/description"},
		{"long category", func(d *service.ProductData) { d.Category = strings.Repeat("c", 101) }, "product/category"},
		{"no price", func(d *service.ProductData) { d.Price = nil }, "product/price"},
		{"negative price", func(d *service.ProductData) { d.Price.Amount = "-0.01" }, "product/price/amount"},
		{"cents on yen", func(d *service.ProductData) { d.Price = &service.Money{Amount: "100.5", Currency: "JPY"} }, "product/price/amount"},
		{"four digits on dinar", func(d *service.ProductData) { d.Price = &service.Money{Amount: "1.2345", Currency: "KWD"} }, "product/price/amount"},
		{"unknown currency", func(d *service.ProductData) { d.Price.Currency = "ABC" }, "product/price/currency"},
		{"negative stock", func(d *service.ProductData) { d.StockQuantity = i64(-1) }, "product/stockQuantity"},
		{"no stock", func(d *service.ProductData) { d.StockQuantity = nil }, "product/stockQuantity"},
		{"huge stock", func(d *service.ProductData) { d.StockQuantity = i64(1_000_000_001) }, "product/stockQuantity"},
		{"negative threshold", func(d *service.ProductData) { d.LowStockThreshold = &neg }, "product/lowStockThreshold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := productData("R-1")
			tc.edit(d)
			_, err := s.AddProduct(caller, d)
			wantFault(t, err, service.CodeValidationFailed, tc.field)
		})
	}
	page, err := s.SearchProducts(caller, service.ProductSearchRequest{})
	if err != nil || len(page.Products) != 0 {
		t.Fatalf("refused products were written: %+v, %v", page.Products, err)
	}
}

func TestProductLifecycle(t *testing.T) {
	s := newService(t)
	p, err := s.AddProduct(caller, productData("P-1"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Price != (service.Money{Amount: "12.30", Currency: "EUR"}) || p.Version != 1 || p.LowStock || !p.Active ||
		p.Description != "line one\nline two" || p.Rating.Average != "0.00" || !p.CreatedAt.Equal(frozen.Truncate(1e6)) {
		t.Fatalf("added %+v", p)
	}
	_, err = s.AddProduct(caller, productData("P-1"))
	wantFault(t, err, service.CodeDuplicate, "product/sku")

	p, w, err := s.AdjustStock(caller, p.ID, -2, "sold at the counter", 1)
	if err != nil || p.StockQuantity != 3 || !p.LowStock || w == nil || w.Code != service.WarningLowStock ||
		w.StockQuantity != 3 || w.LowStockThreshold != 3 || w.SKU != "P-1" {
		t.Fatalf("adjust = %+v, %+v, %v", p, w, err)
	}
	_, _, err = s.AdjustStock(caller, p.ID, -4, "too many", 0)
	e := wantFault(t, err, service.CodeInsufficientStock, "delta")
	if !strings.Contains(e.Message, "has 3 in stock") {
		t.Fatalf("message %q does not say what is left", e.Message)
	}
	_, _, err = s.AdjustStock(caller, p.ID, 1, "stale", 1)
	wantFault(t, err, service.CodeConflict, "expectedVersion")
	_, _, err = s.AdjustStock(caller, p.ID, 0, "nothing", 0)
	wantFault(t, err, service.CodeValidationFailed, "delta")
	_, _, err = s.AdjustStock(caller, p.ID, 1, " ", 0)
	wantFault(t, err, service.CodeValidationFailed, "reason")
	if got, _ := s.GetProduct(caller, p.ID); got.StockQuantity != 3 || got.Version != 2 {
		t.Fatalf("refused adjustments changed the product: %+v", got)
	}

	d := productData("P-1")
	d.Price = &service.Money{Amount: "1500", Currency: "JPY"}
	up, created, err := s.UpsertProduct(caller, d, 0)
	if err != nil || created || up.ID != p.ID || up.Price.Amount != "1500" || up.Version != 3 {
		t.Fatalf("upsert = %+v, %v, %v", up, created, err)
	}
	out, err := s.UpsertProducts(caller, true, []*service.ProductData{productData("B-1"), productData("B-1"), productData("B-2")})
	if err != nil || out[0].Err == nil || out[0].Err.Code != service.CodeDuplicate || out[2].Err.Code != service.CodeRolledBack {
		t.Fatalf("bulk with a repeated sku = %+v, %v", out, err)
	}
	bad := productData("B-3")
	bad.StockQuantity = i64(-5)
	out, err = s.UpsertProducts(caller, false, []*service.ProductData{productData("B-2"), bad})
	if err != nil || out[0].Err != nil || !out[0].Created || out[1].Err == nil || out[1].Err.Field != "product[1]/stockQuantity" {
		t.Fatalf("partial bulk = %+v, %v", out, err)
	}

	page, err := s.GetChanges(caller, "", nil)
	if err != nil || len(page.Changes) != 2 {
		t.Fatalf("feed = %+v, %v", page, err)
	}
	for _, ch := range page.Changes {
		if ch.Entity != "PRODUCT" || ch.Product == nil || ch.Customer != nil {
			t.Fatalf("change %+v", ch)
		}
	}
	if err := s.DeleteProduct(caller, p.ID, 0); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetProduct(caller, p.ID)
	wantFault(t, err, service.CodeNotFound, "")
}

func TestSearchProductsPages(t *testing.T) {
	s := newService(t)
	for i := range 5 {
		d := productData(string(rune('A' + i)))
		if i%2 == 0 {
			d.StockQuantity, d.LowStockThreshold = i64(0), i64(0)
		}
		if _, err := s.AddProduct(caller, d); err != nil {
			t.Fatal(err)
		}
	}
	size := 2
	req := service.ProductSearchRequest{Filter: service.ProductFilter{LowStockOnly: true}, PageSize: &size}
	var skus []string
	for {
		page, err := s.SearchProducts(caller, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Products {
			skus = append(skus, p.SKU)
		}
		if page.NextPageToken == "" {
			break
		}
		req.PageToken = page.NextPageToken
	}
	if strings.Join(skus, ",") != "A,C,E" {
		t.Fatalf("low-stock pages = %v", skus)
	}
	req.Filter.LowStockOnly = false
	_, err := s.SearchProducts(caller, req)
	wantFault(t, err, service.CodeValidationFailed, "pageToken")
}

// TestAdjustStockRace takes units from many goroutines: stock never below zero,
// units sold equal the stock removed.
func TestAdjustStockRace(t *testing.T) {
	s := newService(t)
	d := productData("HOT")
	d.StockQuantity = i64(20)
	p, err := s.AddProduct(caller, d)
	if err != nil {
		t.Fatal(err)
	}
	var sold, short atomic.Int64
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				_, _, err := s.AdjustStock(caller, p.ID, -1, "order", 0)
				if err == nil {
					sold.Add(1)
				} else if e, ok := err.(*service.Error); ok && e.Code == service.CodeInsufficientStock {
					short.Add(1)
				} else {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got, _ := s.GetProduct(caller, p.ID)
	if sold.Load() != 20 || short.Load() != 30 || got.StockQuantity != 0 {
		t.Fatalf("sold %d, short %d, left %d", sold.Load(), short.Load(), got.StockQuantity)
	}
}
