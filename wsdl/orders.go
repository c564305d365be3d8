package wsdl

import (
	"context"

	"github.com/crmsoap/crmsoap/service"
)

// PlaceOrderContext places an order. Faults: VALIDATION_FAILED, NOT_FOUND,
// INSUFFICIENT_STOCK, DUPLICATE, INTERNAL.
func (a *Adapter) PlaceOrderContext(ctx context.Context, req *PlaceOrder) (*PlaceOrderResponse, error) {
	in := service.PlaceOrderRequest{CustomerID: req.CustomerId, ExternalID: req.ExternalId, Currency: req.Currency,
		Note: req.Note, Lines: make([]service.OrderLineInput, len(req.Line))}
	for i, l := range req.Line {
		if l == nil {
			continue
		}
		in.Lines[i] = service.OrderLineInput{ProductID: l.ProductId, SKU: l.Sku}
		if l.Quantity != nil {
			in.Lines[i].Quantity = int64(*l.Quantity)
		}
	}
	po, err := a.svc.PlaceOrder(withCaller(ctx), in)
	if err != nil {
		return nil, faultOf(err)
	}
	resp := &PlaceOrderResponse{Order: orderOut(po.Order)}
	for i := range po.Warnings {
		resp.Warning = append(resp.Warning, warningOut(&po.Warnings[i]))
	}
	return resp, nil
}

// GetOrderContext reads an order. Faults: VALIDATION_FAILED, NOT_FOUND, INTERNAL.
func (a *Adapter) GetOrderContext(ctx context.Context, req *GetOrder) (*GetOrderResponse, error) {
	o, err := a.svc.GetOrder(withCaller(ctx), req.Id)
	if err != nil {
		return nil, faultOf(err)
	}
	return &GetOrderResponse{Order: orderOut(o)}, nil
}

// SearchOrdersContext returns a page of the orders matching the filter.
// Faults: VALIDATION_FAILED (filter, pageSize, pageToken), INTERNAL.
func (a *Adapter) SearchOrdersContext(ctx context.Context, req *SearchOrders) (*SearchOrdersResponse, error) {
	sr := service.OrderSearchRequest{PageToken: req.PageToken}
	if f := req.Filter; f != nil {
		sr.Filter = service.OrderFilter{CustomerID: f.CustomerId, PlacedFrom: dateTimeIn(f.PlacedFrom),
			PlacedTo: dateTimeIn(f.PlacedTo)}
		if f.Status != nil {
			sr.Filter.Status = string(*f.Status)
		}
	}
	if req.PageSize != nil {
		n := int(*req.PageSize)
		sr.PageSize = &n
	}
	page, err := a.svc.SearchOrders(withCaller(ctx), sr)
	if err != nil {
		return nil, faultOf(err)
	}
	resp := &SearchOrdersResponse{Order: make([]*Order, len(page.Orders)), NextPageToken: page.NextPageToken}
	for i, o := range page.Orders {
		resp.Order[i] = orderOut(o)
	}
	return resp, nil
}

// UpdateOrderStatusContext moves an order to another status. Faults:
// VALIDATION_FAILED, NOT_FOUND, CONFLICT, INTERNAL.
func (a *Adapter) UpdateOrderStatusContext(ctx context.Context, req *UpdateOrderStatus) (*UpdateOrderStatusResponse, error) {
	status := ""
	if req.Status != nil {
		status = string(*req.Status)
	}
	po, err := a.svc.UpdateOrderStatus(withCaller(ctx), req.Id, status, req.ExpectedVersion)
	if err != nil {
		return nil, faultOf(err)
	}
	return &UpdateOrderStatusResponse{Order: orderOut(po.Order)}, nil
}

// PlaceOrder forwards to PlaceOrderContext.
func (a *Adapter) PlaceOrder(r *PlaceOrder) (*PlaceOrderResponse, error) {
	return a.PlaceOrderContext(context.Background(), r)
}

// GetOrder forwards to GetOrderContext.
func (a *Adapter) GetOrder(r *GetOrder) (*GetOrderResponse, error) {
	return a.GetOrderContext(context.Background(), r)
}

// SearchOrders forwards to SearchOrdersContext.
func (a *Adapter) SearchOrders(r *SearchOrders) (*SearchOrdersResponse, error) {
	return a.SearchOrdersContext(context.Background(), r)
}

// UpdateOrderStatus forwards to UpdateOrderStatusContext.
func (a *Adapter) UpdateOrderStatus(r *UpdateOrderStatus) (*UpdateOrderStatusResponse, error) {
	return a.UpdateOrderStatusContext(context.Background(), r)
}

func moneyOut(m service.Money) *Money {
	amount := DecimalAmount(m.Amount)
	return &Money{Amount: &amount, Currency: m.Currency}
}

// orderOut renders an order in the contract's Order type.
func orderOut(o service.Order) *Order {
	status := OrderStatus(o.Status)
	out := &Order{Id: o.ID, Version: o.Version, OrderNumber: o.OrderNumber, ExternalId: o.ExternalID,
		CustomerId: o.CustomerID, Status: &status, PlacedAt: dateTimeOut(o.PlacedAt), UpdatedAt: dateTimeOut(o.UpdatedAt),
		Currency: o.Currency, TotalAmount: moneyOut(o.TotalAmount), Note: o.Note}
	for _, l := range o.Lines {
		q := Quantity(l.Quantity)
		out.Line = append(out.Line, &OrderLine{LineNo: int32(l.LineNo), ProductId: l.ProductID, Sku: l.SKU,
			ProductName: l.ProductName, Quantity: &q, UnitPrice: moneyOut(l.UnitPrice), LineAmount: moneyOut(l.LineAmount)})
	}
	return out
}
