package wsdl

import (
	"context"
	"time"

	"github.com/crmsoap/crmsoap/service"
	xsd "github.com/hooklift/gowsdl/soap"
)

// AddCustomerContext creates a customer. Faults: VALIDATION_FAILED, DUPLICATE, INTERNAL.
func (a *Adapter) AddCustomerContext(ctx context.Context, req *AddCustomer) (*AddCustomerResponse, error) {
	c, err := a.svc.AddCustomer(withCaller(ctx), customerDataIn(req.Customer))
	if err != nil {
		return nil, faultOf(err)
	}
	return &AddCustomerResponse{Customer: customerOut(c)}, nil
}

// GetCustomerContext reads a customer. Faults: VALIDATION_FAILED, NOT_FOUND, INTERNAL.
func (a *Adapter) GetCustomerContext(ctx context.Context, req *GetCustomer) (*GetCustomerResponse, error) {
	c, err := a.svc.GetCustomer(withCaller(ctx), req.Id)
	if err != nil {
		return nil, faultOf(err)
	}
	return &GetCustomerResponse{Customer: customerOut(c)}, nil
}

// UpdateCustomerContext replaces every writable field of a customer. Faults:
// VALIDATION_FAILED, NOT_FOUND, CONFLICT, DUPLICATE, INTERNAL.
func (a *Adapter) UpdateCustomerContext(ctx context.Context, req *UpdateCustomer) (*UpdateCustomerResponse, error) {
	c, err := a.svc.UpdateCustomer(withCaller(ctx), req.Id, req.ExpectedVersion, customerDataIn(req.Customer))
	if err != nil {
		return nil, faultOf(err)
	}
	return &UpdateCustomerResponse{Customer: customerOut(c)}, nil
}

// DeleteCustomerContext deletes a customer. Faults: VALIDATION_FAILED, NOT_FOUND, CONFLICT, INTERNAL.
func (a *Adapter) DeleteCustomerContext(ctx context.Context, req *DeleteCustomer) (*DeleteCustomerResponse, error) {
	if err := a.svc.DeleteCustomer(withCaller(ctx), req.Id, req.ExpectedVersion); err != nil {
		return nil, faultOf(err)
	}
	return &DeleteCustomerResponse{Id: req.Id}, nil
}

// AddCustomer forwards to AddCustomerContext.
func (a *Adapter) AddCustomer(r *AddCustomer) (*AddCustomerResponse, error) {
	return a.AddCustomerContext(context.Background(), r)
}

// GetCustomer forwards to GetCustomerContext.
func (a *Adapter) GetCustomer(r *GetCustomer) (*GetCustomerResponse, error) {
	return a.GetCustomerContext(context.Background(), r)
}

// UpdateCustomer forwards to UpdateCustomerContext.
func (a *Adapter) UpdateCustomer(r *UpdateCustomer) (*UpdateCustomerResponse, error) {
	return a.UpdateCustomerContext(context.Background(), r)
}

// DeleteCustomer forwards to DeleteCustomerContext.
func (a *Adapter) DeleteCustomer(r *DeleteCustomer) (*DeleteCustomerResponse, error) {
	return a.DeleteCustomerContext(context.Background(), r)
}

// customerDataIn is the domain view of a request's CustomerData; nil stays nil
// (the service answers "customer is required").
func customerDataIn(d *CustomerData) *service.CustomerData {
	if d == nil {
		return nil
	}
	out := &service.CustomerData{
		ExternalID: d.ExternalId,
		Name:       d.Name,
		Email:      d.Email,
		Phone:      d.Phone,
		BirthDate:  dateIn(d.BirthDate),
		Company:    d.Company,
	}
	if d.Gender != nil {
		g := service.Gender(*d.Gender)
		out.Gender = &g
	}
	if d.Address != nil {
		out.Address = service.Address(*d.Address)
	}
	return out
}

// customerOut renders a customer in the contract's Customer type.
func customerOut(c service.Customer) *Customer {
	out := &Customer{
		Id:         c.ID,
		Version:    c.Version,
		CreatedAt:  dateTimeOut(c.CreatedAt),
		UpdatedAt:  dateTimeOut(c.UpdatedAt),
		ExternalId: c.ExternalID,
		Name:       c.Name,
		Email:      c.Email,
		Phone:      c.Phone,
		BirthDate:  dateOut(c.BirthDate),
		Company:    c.Company,
	}
	if c.Gender != "" {
		g := Gender(c.Gender)
		out.Gender = &g
	}
	if c.Address != (service.Address{}) {
		a := Address(c.Address)
		out.Address = &a
	}
	return out
}

// The gowsdl date types stop here: the service sees time.Time.

// dateIn is the calendar date d holds (UTC midnight), zero when it holds none.
func dateIn(d xsd.XSDDate) time.Time {
	if d == (xsd.XSDDate{}) {
		return time.Time{}
	}
	t := d.ToGoTime()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// dateOut is the xs:date of the calendar day t (no time zone); empty for zero.
func dateOut(t time.Time) xsd.XSDDate {
	if t.IsZero() {
		return xsd.XSDDate{}
	}
	return xsd.CreateXsdDate(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), false)
}

// dateTimeOut is the xs:dateTime of t, in UTC with its zone written.
func dateTimeOut(t time.Time) xsd.XSDDateTime {
	return xsd.CreateXsdDateTime(t.UTC(), true)
}

// dateTimeIn is the instant d holds, zero when it holds none.
func dateTimeIn(d xsd.XSDDateTime) time.Time {
	if d == (xsd.XSDDateTime{}) {
		return time.Time{}
	}
	return d.ToGoTime().UTC()
}
