package wsdl

import (
	"context"

	"github.com/crmsoap/crmsoap/service"
	"github.com/crmsoap/crmsoap/soap"
)

// UpsertCustomerContext creates or replaces the customer with the request's
// externalId. Faults: VALIDATION_FAILED, NOT_FOUND (expectedVersion given, no
// such customer), CONFLICT, DUPLICATE, INTERNAL.
func (a *Adapter) UpsertCustomerContext(ctx context.Context, req *UpsertCustomer) (*UpsertCustomerResponse, error) {
	c, created, err := a.svc.UpsertCustomer(withCaller(ctx), customerDataIn(req.Customer), req.ExpectedVersion)
	if err != nil {
		return nil, faultOf(err)
	}
	f := Flag(created)
	return &UpsertCustomerResponse{Customer: customerOut(c), Created: &f}, nil
}

// AddCustomersContext creates customers, one SaveResult per item. Faults:
// VALIDATION_FAILED (no item, over the batch limit), INTERNAL.
func (a *Adapter) AddCustomersContext(ctx context.Context, req *AddCustomers) (*AddCustomersResponse, error) {
	out, err := a.svc.AddCustomers(withCaller(ctx), req.AllOrNone, customerDataList(req.Customer))
	if err != nil {
		return nil, faultOf(err)
	}
	return &AddCustomersResponse{Result: saveResults(ctx, out, false, customerKey)}, nil
}

// UpsertCustomersContext upserts customers by externalId, one SaveResult per
// item. Faults: as AddCustomers.
func (a *Adapter) UpsertCustomersContext(ctx context.Context, req *UpsertCustomers) (*UpsertCustomersResponse, error) {
	out, err := a.svc.UpsertCustomers(withCaller(ctx), req.AllOrNone, customerDataList(req.Customer))
	if err != nil {
		return nil, faultOf(err)
	}
	return &UpsertCustomersResponse{Result: saveResults(ctx, out, true, customerKey)}, nil
}

// UpdateCustomersContext replaces customers, one SaveResult per item. Faults: as AddCustomers.
func (a *Adapter) UpdateCustomersContext(ctx context.Context, req *UpdateCustomers) (*UpdateCustomersResponse, error) {
	items := make([]service.UpdateItem, len(req.Item))
	for i, it := range req.Item {
		if it != nil {
			items[i] = service.UpdateItem{ID: it.Id, ExpectedVersion: it.ExpectedVersion, Customer: customerDataIn(it.Customer)}
		}
	}
	out, err := a.svc.UpdateCustomers(withCaller(ctx), req.AllOrNone, items)
	if err != nil {
		return nil, faultOf(err)
	}
	return &UpdateCustomersResponse{Result: saveResults(ctx, out, false, customerKey)}, nil
}

// DeleteCustomersContext deletes customers, one SaveResult per item. Faults: as AddCustomers.
func (a *Adapter) DeleteCustomersContext(ctx context.Context, req *DeleteCustomers) (*DeleteCustomersResponse, error) {
	items := make([]service.DeleteItem, len(req.Item))
	for i, it := range req.Item {
		if it != nil {
			items[i] = service.DeleteItem{ID: it.Id, ExpectedVersion: it.ExpectedVersion}
		}
	}
	out, err := a.svc.DeleteCustomers(withCaller(ctx), req.AllOrNone, items)
	if err != nil {
		return nil, faultOf(err)
	}
	return &DeleteCustomersResponse{Result: saveResults(ctx, out, false, customerKey)}, nil
}

// UpsertCustomer forwards to UpsertCustomerContext.
func (a *Adapter) UpsertCustomer(r *UpsertCustomer) (*UpsertCustomerResponse, error) {
	return a.UpsertCustomerContext(context.Background(), r)
}

// AddCustomers forwards to AddCustomersContext.
func (a *Adapter) AddCustomers(r *AddCustomers) (*AddCustomersResponse, error) {
	return a.AddCustomersContext(context.Background(), r)
}

// UpsertCustomers forwards to UpsertCustomersContext.
func (a *Adapter) UpsertCustomers(r *UpsertCustomers) (*UpsertCustomersResponse, error) {
	return a.UpsertCustomersContext(context.Background(), r)
}

// UpdateCustomers forwards to UpdateCustomersContext.
func (a *Adapter) UpdateCustomers(r *UpdateCustomers) (*UpdateCustomersResponse, error) {
	return a.UpdateCustomersContext(context.Background(), r)
}

// DeleteCustomers forwards to DeleteCustomersContext.
func (a *Adapter) DeleteCustomers(r *DeleteCustomers) (*DeleteCustomersResponse, error) {
	return a.DeleteCustomersContext(context.Background(), r)
}

func customerDataList(in []*CustomerData) []*service.CustomerData {
	out := make([]*service.CustomerData, len(in))
	for i, d := range in {
		out[i] = customerDataIn(d)
	}
	return out
}

// saveResults renders the outcomes of a bulk call, one SaveResult per item in
// request order; created is reported for upserts. An item's INTERNAL error is
// logged here, the transport's edge, with the request id.
func saveResults[T any](ctx context.Context, out []service.Outcome[T], upsert bool, key func(T) (id, version int64)) []*SaveResult {
	res := make([]*SaveResult, len(out))
	for i, o := range out {
		idx, ok := Index(i), Flag(o.Err == nil)
		r := &SaveResult{Index: &idx, Success: &ok}
		if o.Err != nil {
			if o.Err.Code == service.CodeInternal {
				soap.ReportInternal(ctx, o.Err) // its message says nothing of the cause; the log does
			}
			code := FaultCode(o.Err.Code)
			r.Error = &ItemError{Code: &code, Message: o.Err.Message, Field: o.Err.Field}
		} else {
			r.Id, r.Version = key(o.Value)
			if upsert {
				created := Flag(o.Created)
				r.Created = &created
			}
		}
		res[i] = r
	}
	return res
}

func customerKey(c service.Customer) (int64, int64) { return c.ID, c.Version }
