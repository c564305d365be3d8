package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/crmsoap/crmsoap/wsdl"
)

// invokeProducts calls the product operations.
func invokeProducts(ctx context.Context, c wsdl.CrmPortType, op string, f fields) (any, error) {
	switch op {
	case "AddProduct":
		d, err := f.productData()
		if err != nil {
			return nil, err
		}
		return c.AddProductContext(ctx, &wsdl.AddProduct{Product: d})
	case "GetProduct":
		id, err := f.int("id")
		if err != nil {
			return nil, err
		}
		return c.GetProductContext(ctx, &wsdl.GetProduct{Id: id})
	case "UpdateProduct":
		id, ev, err1 := f.idVersion()
		d, err2 := f.productData()
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		return c.UpdateProductContext(ctx, &wsdl.UpdateProduct{Id: id, ExpectedVersion: ev, Product: d})
	case "DeleteProduct":
		id, ev, err := f.idVersion()
		if err != nil {
			return nil, err
		}
		return c.DeleteProductContext(ctx, &wsdl.DeleteProduct{Id: id, ExpectedVersion: ev})
	case "UpsertProduct":
		ev, err1 := f.int("expectedVersion")
		d, err2 := f.productData()
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		return c.UpsertProductContext(ctx, &wsdl.UpsertProduct{Product: d, ExpectedVersion: ev})
	case "SearchProducts":
		req := &wsdl.SearchProducts{PageToken: f["pageToken"], Filter: &wsdl.ProductFilter{Sku: f["sku"],
			NameContains: f["nameContains"], Category: f["category"], LowStockOnly: f["lowStockOnly"] == "true"}}
		if v, ok := f["active"]; ok {
			active := wsdl.Flag(v == "true")
			req.Filter.Active = &active
		}
		ps, err := f.pageSize()
		if err != nil {
			return nil, err
		}
		req.PageSize = ps
		return c.SearchProductsContext(ctx, req)
	case "AdjustStock":
		id, err1 := f.int("productId")
		delta, err2 := f.int("delta")
		ev, err3 := f.int("expectedVersion")
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, err
		}
		return c.AdjustStockContext(ctx, &wsdl.AdjustStock{ProductId: id, Delta: delta, Reason: f["reason"], ExpectedVersion: ev})
	}
	return invokeOrders(ctx, c, op, f)
}

// invokeOrders calls the order operations.
func invokeOrders(ctx context.Context, c wsdl.CrmPortType, op string, f fields) (any, error) {
	switch op {
	case "PlaceOrder":
		cust, err := f.int("customerId")
		if err != nil {
			return nil, err
		}
		req := &wsdl.PlaceOrder{CustomerId: cust, ExternalId: f["externalId"], Currency: f["currency"], Note: f["note"]}
		for _, item := range strings.Split(f["lines"], ",") {
			sku, n, ok := strings.Cut(strings.TrimSpace(item), ":")
			q, err := strconv.ParseInt(n, 10, 64)
			if !ok || err != nil || sku == "" {
				return nil, fmt.Errorf("lines=%q: want SKU:QUANTITY pairs separated by commas, e.g. A-1:2,B-7:1", f["lines"])
			}
			qq := wsdl.Quantity(q)
			req.Line = append(req.Line, &wsdl.OrderLineRequest{Sku: sku, Quantity: &qq})
		}
		return c.PlaceOrderContext(ctx, req)
	case "GetOrder":
		id, err := f.int("id")
		if err != nil {
			return nil, err
		}
		return c.GetOrderContext(ctx, &wsdl.GetOrder{Id: id})
	case "UpdateOrderStatus":
		id, ev, err := f.idVersion()
		if err != nil {
			return nil, err
		}
		status := wsdl.OrderStatus(f["status"])
		return c.UpdateOrderStatusContext(ctx, &wsdl.UpdateOrderStatus{Id: id, Status: &status, ExpectedVersion: ev})
	case "SearchOrders":
		cust, err := f.int("customerId")
		if err != nil {
			return nil, err
		}
		req := &wsdl.SearchOrders{PageToken: f["pageToken"], Filter: &wsdl.OrderFilter{CustomerId: cust}}
		if v, ok := f["status"]; ok {
			status := wsdl.OrderStatus(v)
			req.Filter.Status = &status
		}
		return c.SearchOrdersContext(ctx, req)
	}
	return invokeReviews(ctx, c, op, f)
}

// productData builds ProductData from sku= name= description= category= price= currency= stock=
// lowStockThreshold= active=; the amount is passed on as typed, never through a float.
func (f fields) productData() (*wsdl.ProductData, error) {
	d := &wsdl.ProductData{Sku: f["sku"], Name: f["name"], Description: f["description"], Category: f["category"]}
	if p, ok := f["price"]; ok {
		amount := wsdl.DecimalAmount(p)
		d.Price = &wsdl.Money{Amount: &amount, Currency: f["currency"]}
	}
	if _, ok := f["stock"]; ok {
		n, err := f.int("stock")
		if err != nil {
			return nil, err
		}
		q := wsdl.Quantity(n)
		d.StockQuantity = &q
	}
	if _, ok := f["lowStockThreshold"]; ok {
		n, err := f.int("lowStockThreshold")
		if err != nil {
			return nil, err
		}
		q := wsdl.Quantity(n)
		d.LowStockThreshold = &q
	}
	if v, ok := f["active"]; ok {
		active := wsdl.Flag(v == "true")
		d.Active = &active
	}
	return d, nil
}
