package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// The order scenarios: PlaceOrder of orderLines lines of quantity 1, over orderProducts products
// seeded in the database file before its server starts, or (contended) over the first
// contendedProducts of them only.
const (
	orderProducts     = 1000
	contendedProducts = 10
	orderLines        = 5
	// orderStock is each product's stock: the most a Quantity may be, far more than a window orders.
	orderStock = 1_000_000_000
)

var (
	actionPlaceOrder = soapHeader("urn:crmsoap:v1#PlaceOrder")
	actionGetProduct = soapHeader("urn:crmsoap:v1#GetProduct")
	orderOpen        = []byte("<order>")
)

// ordersWanted: a scenario places orders.
func (c *config) ordersWanted() bool {
	return c.scenarios["order-signed"] || c.scenarios["order-contended-signed"]
}

// placeOrder is order number i of customer cust: orderLines distinct products of products, quantity 1 each.
func placeOrder(cust int64, products []int64, i int) request {
	var b strings.Builder
	b.WriteString(`<crm:PlaceOrder><crm:customerId>`)
	b.WriteString(strconv.FormatInt(cust, 10))
	b.WriteString(`</crm:customerId>`)
	for j := range orderLines {
		b.WriteString(`<crm:line><crm:productId>`)
		b.WriteString(strconv.FormatInt(products[(i*orderLines+j)%len(products)], 10))
		b.WriteString(`</crm:productId><crm:quantity>1</crm:quantity></crm:line>`)
	}
	b.WriteString(`</crm:PlaceOrder>`)
	return request{actionPlaceOrder, envelope(b.String())}
}

// seedProducts writes n products with orderStock each into the database file path, before any
// server opens it, and returns their ids.
func seedProducts(ctx context.Context, path string, n int) ([]int64, error) {
	db, err := openStore(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	now := time.Now().UTC()
	ops := make([]store.ProductOp, n)
	for i := range ops {
		ops[i] = store.ProductOp{Kind: store.OpAdd, At: now, Product: store.Product{
			CreatedAt: now, UpdatedAt: now, SKU: fmt.Sprintf("BENCH-%05d", i), Name: fmt.Sprintf("Bench product %d", i),
			Category: "bench", PriceMinor: 1999, Currency: "EUR", StockQuantity: orderStock, Active: true}}
	}
	rs, err := db.WriteProducts(ctx, ops, true, nil)
	if err != nil {
		return nil, fmt.Errorf("seed products: %w", err)
	}
	ids := make([]int64, n)
	for i, r := range rs {
		if r.Err != nil {
			return nil, fmt.Errorf("seed product %d: %w", i, r.Err)
		}
		ids[i] = r.Product.ID
	}
	return ids, db.Close()
}

// runOrders runs an order scenario, signed. The contended one reads the stock of its products before
// and after the window and compares what left the stock with what the placed orders asked for.
func (m *Main) runOrders(ctx context.Context, cfg *config, env *environment, sc scenario, conns int) (reportRow, error) {
	if env.productIDs == nil {
		return reportRow{note: env.ordersNote}, nil
	}
	products := env.productIDs
	contended := sc.id == "order-contended-signed"
	if contended {
		products = products[:contendedProducts]
	}
	var placed atomic.Int64 // orders answered with an order, warm-up included
	sc.gen = func(ids []int64, i int) request { return placeOrder(pick(ids, i), products, i) }
	sc.check = func(body []byte) error {
		if !bytes.Contains(body, orderOpen) {
			return fmt.Errorf("no order in the answer: %.300s", body)
		}
		placed.Add(1)
		return nil
	}
	var before []int64
	if contended {
		var err error
		if before, err = env.stocks(ctx, products); err != nil {
			return reportRow{}, err
		}
	}
	row, err := m.runSigned(ctx, cfg, env, env.secure, env.secureIDs, sc, conns)
	if err != nil || !contended || row.run == nil {
		return row, err
	}
	after, err := env.stocks(ctx, products)
	if err != nil {
		return row, err
	}
	var removed int64
	for k := range before {
		removed += before[k] - after[k]
	}
	ordered := placed.Load() * orderLines
	lost := "yes"
	if removed != ordered {
		lost = "NO"
	}
	locked := "none"
	if row.run.errors > 0 {
		locked = "none in the first error"
		if strings.Contains(row.run.firstErr, "database is locked") {
			locked = "yes"
		}
	}
	note := fmt.Sprintf("no lost update: %s (stock removed from the %d products, read with GetProduct before and after: %d; "+
		"quantities of the %d orders placed, warm-up included: %d); \"database is locked\": %s",
		lost, len(products), removed, placed.Load(), ordered, locked)
	if row.note != "" {
		note = row.note + "; " + note
	}
	row.note = note
	return row, nil
}

// stocks reads the stock of products with signed GetProduct calls.
func (e *environment) stocks(ctx context.Context, products []int64) ([]int64, error) {
	out := make([]int64, len(products))
	for k, id := range products {
		req, err := signOne(e.signer, request{actionGetProduct,
			envelope(`<crm:GetProduct><crm:id>` + strconv.FormatInt(id, 10) + `</crm:id></crm:GetProduct>`)})
		if err != nil {
			return nil, err
		}
		status, body, err := post(ctx, e.tr, e.secure.url, req)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("HTTP %d: %.600s", status, body)
		}
		if err != nil {
			return nil, fmt.Errorf("GetProduct %d: %w", id, err)
		}
		v := lastElement(body, "stockQuantity")
		if out[k], err = strconv.ParseInt(string(v), 10, 64); err != nil {
			return nil, fmt.Errorf("GetProduct %d: no stockQuantity in %.300s", id, body)
		}
	}
	return out, nil
}
