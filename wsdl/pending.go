package wsdl

import (
	"context"
	"errors"
)

// errPending answers the operations of the contract whose service side is not built yet.
var errPending = errors.New("operation not implemented yet")

// UpsertCustomerContext is not implemented yet.
func (a *Adapter) UpsertCustomerContext(context.Context, *UpsertCustomer) (*UpsertCustomerResponse, error) {
	return nil, errPending
}

// UpsertCustomer forwards to UpsertCustomerContext.
func (a *Adapter) UpsertCustomer(r *UpsertCustomer) (*UpsertCustomerResponse, error) {
	return a.UpsertCustomerContext(context.Background(), r)
}

// AddCustomersContext is not implemented yet.
func (a *Adapter) AddCustomersContext(context.Context, *AddCustomers) (*AddCustomersResponse, error) {
	return nil, errPending
}

// AddCustomers forwards to AddCustomersContext.
func (a *Adapter) AddCustomers(r *AddCustomers) (*AddCustomersResponse, error) {
	return a.AddCustomersContext(context.Background(), r)
}

// UpsertCustomersContext is not implemented yet.
func (a *Adapter) UpsertCustomersContext(context.Context, *UpsertCustomers) (*UpsertCustomersResponse, error) {
	return nil, errPending
}

// UpsertCustomers forwards to UpsertCustomersContext.
func (a *Adapter) UpsertCustomers(r *UpsertCustomers) (*UpsertCustomersResponse, error) {
	return a.UpsertCustomersContext(context.Background(), r)
}

// UpdateCustomersContext is not implemented yet.
func (a *Adapter) UpdateCustomersContext(context.Context, *UpdateCustomers) (*UpdateCustomersResponse, error) {
	return nil, errPending
}

// UpdateCustomers forwards to UpdateCustomersContext.
func (a *Adapter) UpdateCustomers(r *UpdateCustomers) (*UpdateCustomersResponse, error) {
	return a.UpdateCustomersContext(context.Background(), r)
}

// DeleteCustomersContext is not implemented yet.
func (a *Adapter) DeleteCustomersContext(context.Context, *DeleteCustomers) (*DeleteCustomersResponse, error) {
	return nil, errPending
}

// DeleteCustomers forwards to DeleteCustomersContext.
func (a *Adapter) DeleteCustomers(r *DeleteCustomers) (*DeleteCustomersResponse, error) {
	return a.DeleteCustomersContext(context.Background(), r)
}

// SearchCustomersContext is not implemented yet.
func (a *Adapter) SearchCustomersContext(context.Context, *SearchCustomers) (*SearchCustomersResponse, error) {
	return nil, errPending
}

// SearchCustomers forwards to SearchCustomersContext.
func (a *Adapter) SearchCustomers(r *SearchCustomers) (*SearchCustomersResponse, error) {
	return a.SearchCustomersContext(context.Background(), r)
}

// GetChangesContext is not implemented yet.
func (a *Adapter) GetChangesContext(context.Context, *GetChanges) (*GetChangesResponse, error) {
	return nil, errPending
}

// GetChanges forwards to GetChangesContext.
func (a *Adapter) GetChanges(r *GetChanges) (*GetChangesResponse, error) {
	return a.GetChangesContext(context.Background(), r)
}
