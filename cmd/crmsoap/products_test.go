package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crmsoap/crmsoap/wsdl"
)

func qty(n int64) *wsdl.Quantity { q := wsdl.Quantity(n); return &q }

func money(amount, currency string) *wsdl.Money {
	a := wsdl.DecimalAmount(amount)
	return &wsdl.Money{Amount: &a, Currency: currency}
}

// productState is every product's sku, version, price, currency and stock, the
// stock movements and the change count: what a refused write must leave alone.
func productState(tb testing.TB, db string) string {
	tb.Helper()
	if isPostgres(db) {
		return pgProductState(tb, db)
	}
	conn, err := sql.Open("sqlite3", "file:"+db+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	var products, moves sql.NullString
	var changes int
	err = conn.QueryRow(`SELECT (SELECT group_concat(sku || ':' || version || ':' || price_minor || currency || ':' || stock || ':' || rating_sum || '/' || rating_count, ',') FROM products),
		(SELECT group_concat(delta || reason, ',') FROM stock_movements), (SELECT count(*) FROM changes)`).Scan(&products, &moves, &changes)
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("products %s, moves %s, %d changes", products.String, moves.String, changes)
}

func TestServe_ProductsWithGeneratedClient(t *testing.T) {
	forEachBackend(t, testProductsWithGeneratedClient)
}

func testProductsWithGeneratedClient(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c, ctx := srv.client(), waitCtx(t)

	add, err := c.AddProductContext(ctx, &wsdl.AddProduct{Product: &wsdl.ProductData{Sku: "SKU-1", Name: "Anvil",
		Category: "tools", Price: money("19.9", "EUR"), StockQuantity: qty(5), LowStockThreshold: qty(2)}})
	if err != nil {
		t.Fatalf("AddProduct: %v", err)
	}
	p := add.Product
	if p.Id <= 0 || p.Version != 1 || string(*p.Price.Amount) != "19.90" || p.Price.Currency != "EUR" ||
		*p.StockQuantity != 5 || *p.LowStockThreshold != 2 || bool(*p.LowStock) || !bool(*p.Active) ||
		string(*p.Rating.Average) != "0.00" || *p.Rating.Count != 0 {
		t.Fatalf("added product %+v", p)
	}
	yen, err := c.AddProductContext(ctx, &wsdl.AddProduct{Product: &wsdl.ProductData{Sku: "SKU-JP", Name: "Tea",
		Price: money("1500", "JPY"), StockQuantity: qty(0)}})
	if err != nil || string(*yen.Product.Price.Amount) != "1500" || *yen.Product.StockQuantity != 0 || !bool(*yen.Product.LowStock) {
		t.Fatalf("yen product with no stock: %+v, %v", yen, err)
	}
	got, err := c.GetProductContext(ctx, &wsdl.GetProduct{Id: p.Id})
	if err != nil || got.Product.Sku != "SKU-1" || string(*got.Product.Price.Amount) != "19.90" {
		t.Fatalf("GetProduct: %+v, %v", got, err)
	}

	adj, err := c.AdjustStockContext(ctx, &wsdl.AdjustStock{ProductId: p.Id, Delta: -3, Reason: "sold", ExpectedVersion: 1})
	if err != nil || *adj.Product.StockQuantity != 2 || !bool(*adj.Product.LowStock) || adj.Warning == nil ||
		*adj.Warning.Code != wsdl.WarningCodeLOW_STOCK || adj.Warning.ProductId != p.Id || adj.Warning.Sku != "SKU-1" ||
		*adj.Warning.StockQuantity != 2 || *adj.Warning.LowStockThreshold != 2 {
		t.Fatalf("AdjustStock to the threshold: %+v, %v", adj, err)
	}
	up, err := c.AdjustStockContext(ctx, &wsdl.AdjustStock{ProductId: p.Id, Delta: 10, Reason: "delivery"})
	if err != nil || *up.Product.StockQuantity != 12 || up.Warning != nil {
		t.Fatalf("AdjustStock above the threshold: %+v, %v", up, err)
	}
	before := productState(t, srv.DB)
	_, err = c.AdjustStockContext(ctx, &wsdl.AdjustStock{ProductId: p.Id, Delta: -13, Reason: "too many"})
	if f := faultOf(t, err); *f.Code != wsdl.FaultCodeINSUFFICIENT_STOCK || f.Field != "delta" ||
		!strings.Contains(f.Message, fmt.Sprintf("product %d has 12 in stock", p.Id)) {
		t.Errorf("taking 13 of 12: %s %q %q", *f.Code, f.Field, f.Message)
	}
	if after := productState(t, srv.DB); after != before {
		t.Errorf("INSUFFICIENT_STOCK wrote: %s -> %s", before, after)
	}

	upd, err := c.UpdateProductContext(ctx, &wsdl.UpdateProduct{Id: p.Id, ExpectedVersion: 3, Product: &wsdl.ProductData{
		Sku: "SKU-1", Name: "Anvil XL", Price: money("1.234", "KWD"), StockQuantity: qty(12), Active: wflag(false)}})
	if err != nil || upd.Product.Version != 4 || string(*upd.Product.Price.Amount) != "1.234" || bool(*upd.Product.Active) {
		t.Fatalf("UpdateProduct: %+v, %v", upd, err)
	}
	_, err = c.UpdateProductContext(ctx, &wsdl.UpdateProduct{Id: p.Id, ExpectedVersion: 3, Product: &wsdl.ProductData{
		Sku: "SKU-1", Name: "stale", Price: money("1", "EUR"), StockQuantity: qty(1)}})
	if f := faultOf(t, err); *f.Code != wsdl.FaultCodeCONFLICT {
		t.Errorf("stale update: %s", *f.Code)
	}

	ups, err := c.UpsertProductContext(ctx, &wsdl.UpsertProduct{Product: &wsdl.ProductData{Sku: "SKU-JP", Name: "Green tea",
		Price: money("1600", "JPY"), StockQuantity: qty(4)}})
	if err != nil || bool(*ups.Created) || ups.Product.Id != yen.Product.Id || ups.Product.Name != "Green tea" {
		t.Fatalf("UpsertProduct of a known sku: %+v, %v", ups, err)
	}
	bulk, err := c.UpsertProductsContext(ctx, &wsdl.UpsertProducts{Product: []*wsdl.ProductData{
		{Sku: "B-1", Name: "One", Price: money("1", "USD"), StockQuantity: qty(1), LowStockThreshold: qty(1)},
		{Sku: "B-2", Name: "Two", Price: money("1.001", "USD"), StockQuantity: qty(1)},
		{Sku: "B-3", Name: "Three", Price: money("1", "USD"), StockQuantity: qty(1)},
		{Sku: "B-3", Name: "Three again", Price: money("1", "USD"), StockQuantity: qty(1)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resultCodes(t, bulk.Result), "0:ok 1:VALIDATION_FAILED 2:DUPLICATE 3:DUPLICATE"; got != want {
		t.Errorf("UpsertProducts results %s, want %s", got, want)
	}
	if f := bulk.Result[1].Error.Field; f != "product[1]/price/amount" {
		t.Errorf("bulk price error field %q", f)
	}

	low, err := c.SearchProductsContext(ctx, &wsdl.SearchProducts{Filter: &wsdl.ProductFilter{LowStockOnly: true}})
	if err != nil || len(low.Product) != 1 || low.Product[0].Sku != "B-1" {
		t.Fatalf("low-stock search: %+v, %v", low, err)
	}
	var skus []string
	req := &wsdl.SearchProducts{PageSize: pageSize(1)}
	for {
		page, err := c.SearchProductsContext(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Product {
			skus = append(skus, p.Sku)
		}
		if page.NextPageToken == "" {
			break
		}
		req.PageToken = page.NextPageToken
	}
	if strings.Join(skus, ",") != "SKU-1,SKU-JP,B-1" {
		t.Errorf("paged search: %v", skus)
	}

	if _, err := c.DeleteProductContext(ctx, &wsdl.DeleteProduct{Id: yen.Product.Id}); err != nil {
		t.Fatal(err)
	}
	feed, err := c.GetChangesContext(ctx, &wsdl.GetChanges{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ch := range feed.Change {
		if *ch.Entity != wsdl.EntityPRODUCT || (*ch.Kind == wsdl.ChangeKindUPSERTED) != (ch.Product != nil) {
			t.Errorf("change %+v", ch)
		}
		kinds = append(kinds, ch.ExternalId+":"+string(*ch.Kind))
	}
	if got := strings.Join(kinds, " "); got != "SKU-1:UPSERTED B-1:UPSERTED SKU-JP:DELETED" {
		t.Errorf("feed %s", got)
	}
}

func wflag(b bool) *wsdl.Flag { f := wsdl.Flag(b); return &f }

// TestServe_ProductBadInput sends every kind of bad product input over both SOAP
// versions: each is a 400 fault with its code and field, and nothing is written.
func TestServe_ProductBadInput(t *testing.T) { forEachBackend(t, testProductBadInput) }

func testProductBadInput(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c, ctx := srv.client(), waitCtx(t)
	p, err := c.AddProductContext(ctx, &wsdl.AddProduct{Product: &wsdl.ProductData{Sku: "TAKEN", Name: "x",
		Price: money("1", "EUR"), StockQuantity: qty(1)}})
	if err != nil {
		t.Fatal(err)
	}
	product := func(sku, name, amount, currency, stock, extra string) string {
		return `<c:product><c:sku>` + sku + `</c:sku><c:name>` + name + `</c:name>` + extra + `<c:price><c:amount>` + amount +
			`</c:amount><c:currency>` + currency + `</c:currency></c:price><c:stockQuantity>` + stock + `</c:stockQuantity></c:product>`
	}
	add := func(body string) string { return `<c:AddProduct>` + body + `</c:AddProduct>` }
	id := fmt.Sprint(p.Product.Id)
	before := productState(t, srv.DB)
	for _, tc := range []struct{ name, body, code, field string }{
		{"no sku", add(product("", "n", "1", "EUR", "1", "")), "VALIDATION_FAILED", "product/sku"},
		{"sku of 65", add(product(strings.Repeat("s", 65), "n", "1", "EUR", "1", "")), "VALIDATION_FAILED", "product/sku"},
		{"duplicate sku", add(product("TAKEN", "n", "1", "EUR", "1", "")), "DUPLICATE", "product/sku"},
		{"no name", add(product("S", "", "1", "EUR", "1", "")), "VALIDATION_FAILED", "product/name"},
		{"description of 4001", add(product("S", "n", "1", "EUR", "1", `<c:description>`+strings.Repeat("d", 4001)+`</c:description>`)), "VALIDATION_FAILED", "product/description"},
		{"cents on JPY", add(product("S", "n", "100.5", "JPY", "1", "")), "VALIDATION_FAILED", "product/price/amount"},
		{"mills on EUR", add(product("S", "n", "1.005", "EUR", "1", "")), "VALIDATION_FAILED", "product/price/amount"},
		{"4 digits on KWD", add(product("S", "n", "1.0005", "KWD", "1", "")), "VALIDATION_FAILED", "product/price/amount"},
		{"negative price", add(product("S", "n", "-1.00", "EUR", "1", "")), "VALIDATION_FAILED", "product/price/amount"},
		{"exponent price", add(product("S", "n", "1e2", "EUR", "1", "")), "VALIDATION_FAILED", "product/price/amount"},
		{"unknown currency", add(product("S", "n", "1", "EUX", "1", "")), "VALIDATION_FAILED", "product/price/currency"},
		{"negative stock", add(product("S", "n", "1", "EUR", "-1", "")), "VALIDATION_FAILED", "product/stockQuantity"},
		{"stock not a number", add(product("S", "n", "1", "EUR", "many", "")), "VALIDATION_FAILED", ""},
		{"no price", add(`<c:product><c:sku>S</c:sku><c:name>n</c:name><c:stockQuantity>1</c:stockQuantity></c:product>`), "VALIDATION_FAILED", "product/price"},
		{"no stock", add(`<c:product><c:sku>S</c:sku><c:name>n</c:name><c:price><c:amount>1</c:amount><c:currency>EUR</c:currency></c:price></c:product>`), "VALIDATION_FAILED", "product/stockQuantity"},
		{"get id 0", `<c:GetProduct><c:id>0</c:id></c:GetProduct>`, "VALIDATION_FAILED", "id"},
		{"get unknown", `<c:GetProduct><c:id>999</c:id></c:GetProduct>`, "NOT_FOUND", ""},
		{"adjust zero", `<c:AdjustStock><c:productId>` + id + `</c:productId><c:delta>0</c:delta><c:reason>r</c:reason></c:AdjustStock>`, "VALIDATION_FAILED", "delta"},
		{"adjust without reason", `<c:AdjustStock><c:productId>` + id + `</c:productId><c:delta>1</c:delta><c:reason> </c:reason></c:AdjustStock>`, "VALIDATION_FAILED", "reason"},
		{"adjust below zero", `<c:AdjustStock><c:productId>` + id + `</c:productId><c:delta>-2</c:delta><c:reason>r</c:reason></c:AdjustStock>`, "INSUFFICIENT_STOCK", "delta"},
		{"adjust unknown", `<c:AdjustStock><c:productId>999</c:productId><c:delta>1</c:delta><c:reason>r</c:reason></c:AdjustStock>`, "NOT_FOUND", ""},
		{"adjust stale", `<c:AdjustStock><c:productId>` + id + `</c:productId><c:delta>1</c:delta><c:reason>r</c:reason><c:expectedVersion>7</c:expectedVersion></c:AdjustStock>`, "CONFLICT", "expectedVersion"},
		{"search pageSize 0", `<c:SearchProducts><c:pageSize>0</c:pageSize></c:SearchProducts>`, "VALIDATION_FAILED", "pageSize"},
		{"search bad token", `<c:SearchProducts><c:pageToken>' OR 1=1</c:pageToken></c:SearchProducts>`, "VALIDATION_FAILED", "pageToken"},
		{"bulk empty", `<c:UpsertProducts/>`, "VALIDATION_FAILED", "product"},
	} {
		// SOAP 1.1 sends every fault with 500, SOAP 1.2 a Sender fault with 400.
		for _, v := range []struct {
			ns, ct string
			status int
		}{{ns11, ct11, http.StatusInternalServerError}, {ns12, ct12, http.StatusBadRequest}} {
			status, _, resp := post(t, srv.URL, v.ct, "", envelope(v.ns, "", tc.body))
			if status != v.status || !bytes.Contains(resp, []byte("Client")) && !bytes.Contains(resp, []byte("Sender")) ||
				elementText(t, resp, "code") != tc.code || (tc.field != "" && elementText(t, resp, "field") != tc.field) {
				t.Errorf("%s (%s): HTTP %d code %q field %q, want %s on %q\n%s", tc.name, v.ns, status,
					elementText(t, resp, "code"), elementText(t, resp, "field"), tc.code, tc.field, resp)
			}
			if bytes.Contains(bytes.ToLower(resp), []byte("sql")) {
				t.Errorf("%s: fault mentions SQL\n%s", tc.name, resp)
			}
		}
	}
	if after := productState(t, srv.DB); after != before {
		t.Errorf("bad input wrote: %s -> %s", before, after)
	}
}

// TestServe_AdjustStockRace takes one unit at a time from many clients at once:
// exactly the stock is sold, the rest is INSUFFICIENT_STOCK, stock ends at 0.
func TestServe_AdjustStockRace(t *testing.T) { forEachBackend(t, testAdjustStockRace) }

func testAdjustStockRace(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c, ctx := srv.client(), waitCtx(t)
	const stock, clients, tries = 30, 12, 5
	p, err := c.AddProductContext(ctx, &wsdl.AddProduct{Product: &wsdl.ProductData{Sku: "LAST", Name: "Last units",
		Price: money("9.99", "EUR"), StockQuantity: qty(stock)}})
	if err != nil {
		t.Fatal(err)
	}
	var sold, short atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := srv.client()
			for range tries {
				_, err := c.AdjustStockContext(ctx, &wsdl.AdjustStock{ProductId: p.Product.Id, Delta: -1, Reason: "order"})
				if err == nil {
					sold.Add(1)
					continue
				}
				if f := faultOf(t, err); *f.Code == wsdl.FaultCodeINSUFFICIENT_STOCK {
					short.Add(1)
				} else {
					t.Errorf("fault %s: %s", *f.Code, f.Message)
				}
			}
		}()
	}
	wg.Wait()
	got, err := c.GetProductContext(ctx, &wsdl.GetProduct{Id: p.Product.Id})
	if err != nil || sold.Load() != stock || short.Load() != clients*tries-stock || *got.Product.StockQuantity != 0 {
		t.Fatalf("sold %d, short %d, stock left %v (%v); want %d, %d, 0", sold.Load(), short.Load(),
			got.Product.StockQuantity, err, stock, clients*tries-stock)
	}
}

// TestServe_AdjustStockRetryExecutesOnce: AdjustStock with a wsa:MessageID sent
// twice moves the stock once and answers the same both times.
func TestServe_AdjustStockRetryExecutesOnce(t *testing.T) {
	forEachBackend(t, testAdjustStockRetryExecutesOnce)
}

func testAdjustStockRetryExecutesOnce(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c, ctx := srv.client(), waitCtx(t)
	p, err := c.AddProductContext(ctx, &wsdl.AddProduct{Product: &wsdl.ProductData{Sku: "R", Name: "r",
		Price: money("1", "EUR"), StockQuantity: qty(10)}})
	if err != nil {
		t.Fatal(err)
	}
	env := envelope(ns12, messageID("urn:uuid:adjust-1"), fmt.Sprintf(
		`<c:AdjustStock><c:productId>%d</c:productId><c:delta>-4</c:delta><c:reason>order 1</c:reason></c:AdjustStock>`, p.Product.Id))
	s1, _, first := post(t, srv.URL, ct12, "", env)
	state := productState(t, srv.DB)
	s2, _, second := post(t, srv.URL, ct12, "", env)
	if s1 != http.StatusOK || s2 != s1 || !bytes.Equal(first, second) || elementText(t, first, "stockQuantity") != "6" {
		t.Fatalf("retry: HTTP %d then %d\n%s\n%s", s1, s2, first, second)
	}
	if after := productState(t, srv.DB); after != state {
		t.Errorf("the retry wrote: %s -> %s", state, after)
	}
}

func TestCall_ProductOperations(t *testing.T) {
	srv := startDevServer(t, "")
	out, err := run(t, "call", "--url", srv.URL, "AddProduct", "sku=CLI-P", "name=Anvil", "price=19.90", "currency=EUR",
		"stock=5", "lowStockThreshold=2")
	if err != nil || !strings.Contains(out, "<amount>19.90</amount>") || !strings.Contains(out, "<stockQuantity>5</stockQuantity>") {
		t.Fatalf("call AddProduct: %v\n%s", err, out)
	}
	out, err = run(t, "call", "--url", srv.URL, "AdjustStock", "productId=1", "delta=-3", "reason=sold")
	if err != nil || !strings.Contains(out, "<code>LOW_STOCK</code>") || !strings.Contains(out, "<stockQuantity>2</stockQuantity>") {
		t.Fatalf("call AdjustStock: %v\n%s", err, out)
	}
	out, err = run(t, "call", "--url", srv.URL, "AdjustStock", "productId=1", "delta=-3", "reason=sold")
	if err == nil || !strings.Contains(out, "INSUFFICIENT_STOCK") {
		t.Fatalf("call AdjustStock below zero: %v\n%s", err, out)
	}
	out, err = run(t, "call", "--url", srv.URL, "SearchProducts", "lowStockOnly=true")
	if err != nil || !strings.Contains(out, "CLI-P") {
		t.Fatalf("call SearchProducts: %v\n%s", err, out)
	}
	out, err = run(t, "call", "--url", srv.URL, "AddCustomer", "name=Buyer")
	if err != nil {
		t.Fatalf("call AddCustomer: %v\n%s", err, out)
	}
	out, err = run(t, "call", "--url", srv.URL, "PlaceOrder", "customerId=1", "lines=CLI-P:2", "externalId=CLI-O")
	if err != nil || !strings.Contains(out, "<orderNumber>SO-") || !strings.Contains(out, "<amount>39.80</amount>") {
		t.Fatalf("call PlaceOrder: %v\n%s", err, out)
	}
	out, err = run(t, "call", "--url", srv.URL, "UpdateOrderStatus", "id=1", "status=SHIPPED")
	if err == nil || !strings.Contains(out, "CONFLICT") {
		t.Fatalf("call UpdateOrderStatus PLACED -> SHIPPED: %v\n%s", err, out)
	}
	out, err = run(t, "call", "--url", srv.URL, "UpsertProduct", "sku=CLI-P", "name=Anvil", "price=100.5", "currency=JPY", "stock=1")
	if err == nil || !strings.Contains(out, "product/price/amount") {
		t.Fatalf("call UpsertProduct with sen: %v\n%s", err, out)
	}
}
