package main

import (
	"testing"

	"github.com/crmsoap/crmsoap/wsdl"
)

// TestServe_CommerceMetrics: crmsoap_products_low_stock follows orders, stock adjustments and
// cancellations; crmsoap_orders_total counts each order written by its resulting status.
func TestServe_CommerceMetrics(t *testing.T) {
	srv := startDevServer(t, "", "--low-stock-interval", "20ms")
	c, ctx := srv.client(), waitCtx(t)
	cust, p1, p2 := orderFixture(t, c, srv) // P1: 10, threshold 8; P2: 1, threshold 0
	if _, err := c.AddProductContext(ctx, &wsdl.AddProduct{Product: &wsdl.ProductData{Sku: "P3", Name: "Old",
		Price: money("1", "EUR"), StockQuantity: qty(0), Active: wflag(false)}}); err != nil {
		t.Fatal(err) // out of stock but inactive: never counted
	}
	waitMetric(t, srv, `crmsoap_products_low_stock 0`+"\n")
	waitMetric(t, srv, `crmsoap_orders_total{status="PLACED"} 0`+"\n")

	po, err := c.PlaceOrderContext(ctx, &wsdl.PlaceOrder{CustomerId: cust,
		Line: []*wsdl.OrderLineRequest{{ProductId: p1, Quantity: qty(3)}, {ProductId: p2, Quantity: qty(1)}}})
	if err != nil {
		t.Fatal(err)
	}
	waitMetric(t, srv, `crmsoap_products_low_stock 2`+"\n") // P1 7 <= 8, P2 0 <= 0
	if _, err := c.PlaceOrderContext(ctx, &wsdl.PlaceOrder{CustomerId: cust,
		Line: []*wsdl.OrderLineRequest{{ProductId: p2, Quantity: qty(1)}}}); err == nil {
		t.Fatal("an order beyond the stock was placed")
	}
	if _, err := c.AdjustStockContext(ctx, &wsdl.AdjustStock{ProductId: p1, Delta: 10, Reason: "delivery"}); err != nil {
		t.Fatal(err)
	}
	waitMetric(t, srv, `crmsoap_products_low_stock 1`+"\n") // P1 17
	for _, st := range []wsdl.OrderStatus{wsdl.OrderStatusPAID, wsdl.OrderStatusCANCELLED} {
		if _, err := c.UpdateOrderStatusContext(ctx, &wsdl.UpdateOrderStatus{Id: po.Order.Id, Status: orderStatus(st)}); err != nil {
			t.Fatal(err)
		}
	}
	waitMetric(t, srv, `crmsoap_products_low_stock 0`+"\n") // the cancellation put P2's unit back
	for _, want := range []string{
		`crmsoap_orders_total{status="PLACED"} 1`,
		`crmsoap_orders_total{status="PAID"} 1`,
		`crmsoap_orders_total{status="CANCELLED"} 1`,
		`crmsoap_orders_total{status="SHIPPED"} 0`,
	} {
		waitMetric(t, srv, want+"\n")
	}
}
