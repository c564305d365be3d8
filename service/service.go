// Package service is the CRM: it validates requests, applies the business rules,
// and maps every failure to a contract fault code (see Error). It implements the
// generated wsdl.CrmPortType and persists through package store. It must not
// import package soap or know anything of HTTP or XML envelopes.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/wsdl"
)

// Service implements wsdl.CrmPortType over a store.
type Service struct {
	db *store.DB
	// Now is the clock; tests freeze it. Timestamps are kept to the millisecond.
	Now func() time.Time
	// Caller returns the authenticated client of a request ("" when none); it is
	// recorded on every customer the client creates, updates or deletes.
	Caller func(context.Context) string
	// Log receives the causes of internal errors.
	Log *slog.Logger
	// OnStoreError, when set, is called for every unexpected store failure (metrics).
	OnStoreError func(error)
}

var _ wsdl.CrmPortType = (*Service)(nil)

// New returns a Service that stores customers in db.
func New(db *store.DB) *Service {
	return &Service{
		db:     db,
		Now:    time.Now,
		Caller: func(context.Context) string { return "" },
		Log:    slog.Default(),
	}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// AddCustomerContext creates a customer. Errors: VALIDATION_FAILED, DUPLICATE (externalId), INTERNAL.
func (s *Service) AddCustomerContext(ctx context.Context, req *wsdl.AddCustomer) (*wsdl.AddCustomerResponse, error) {
	now := s.now()
	c, err := customerFromData(req.Customer, now)
	if err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = now, now
	c.CreatedBy = s.Caller(ctx)
	c.UpdatedBy = c.CreatedBy
	c, err = s.db.CreateCustomer(ctx, c)
	if err != nil {
		return nil, s.fail(ctx, fromStore(err, "customer"))
	}
	return &wsdl.AddCustomerResponse{Customer: customerToWire(c)}, nil
}

// GetCustomerContext reads a customer. Errors: VALIDATION_FAILED (id), NOT_FOUND, INTERNAL.
func (s *Service) GetCustomerContext(ctx context.Context, req *wsdl.GetCustomer) (*wsdl.GetCustomerResponse, error) {
	if err := validID("id", req.Id); err != nil {
		return nil, err
	}
	c, err := s.db.GetCustomer(ctx, req.Id)
	if err != nil {
		return nil, s.fail(ctx, fromStore(err, customerName(req.Id)))
	}
	return &wsdl.GetCustomerResponse{Customer: customerToWire(c)}, nil
}

// UpdateCustomerContext replaces every writable field of a customer. Errors:
// VALIDATION_FAILED, NOT_FOUND, CONFLICT (stale expectedVersion), DUPLICATE, INTERNAL.
func (s *Service) UpdateCustomerContext(ctx context.Context, req *wsdl.UpdateCustomer) (*wsdl.UpdateCustomerResponse, error) {
	if err := validID("id", req.Id); err != nil {
		return nil, err
	}
	if err := validExpectedVersion(req.ExpectedVersion); err != nil {
		return nil, err
	}
	now := s.now()
	c, err := customerFromData(req.Customer, now)
	if err != nil {
		return nil, err
	}
	c.ID = req.Id
	c.UpdatedAt = now
	c.UpdatedBy = s.Caller(ctx)
	c, err = s.db.UpdateCustomer(ctx, c, req.ExpectedVersion)
	if err != nil {
		return nil, s.fail(ctx, fromStore(err, customerName(req.Id)))
	}
	return &wsdl.UpdateCustomerResponse{Customer: customerToWire(c)}, nil
}

// DeleteCustomerContext deletes a customer and records the deletion. Errors:
// VALIDATION_FAILED, NOT_FOUND, CONFLICT, INTERNAL.
func (s *Service) DeleteCustomerContext(ctx context.Context, req *wsdl.DeleteCustomer) (*wsdl.DeleteCustomerResponse, error) {
	if err := validID("id", req.Id); err != nil {
		return nil, err
	}
	if err := validExpectedVersion(req.ExpectedVersion); err != nil {
		return nil, err
	}
	err := s.db.DeleteCustomer(ctx, req.Id, req.ExpectedVersion, s.now(), s.Caller(ctx))
	if err != nil {
		return nil, s.fail(ctx, fromStore(err, customerName(req.Id)))
	}
	return &wsdl.DeleteCustomerResponse{Id: req.Id}, nil
}

// AddCustomer forwards to AddCustomerContext.
func (s *Service) AddCustomer(r *wsdl.AddCustomer) (*wsdl.AddCustomerResponse, error) {
	return s.AddCustomerContext(context.Background(), r)
}

// GetCustomer forwards to GetCustomerContext.
func (s *Service) GetCustomer(r *wsdl.GetCustomer) (*wsdl.GetCustomerResponse, error) {
	return s.GetCustomerContext(context.Background(), r)
}

// UpdateCustomer forwards to UpdateCustomerContext.
func (s *Service) UpdateCustomer(r *wsdl.UpdateCustomer) (*wsdl.UpdateCustomerResponse, error) {
	return s.UpdateCustomerContext(context.Background(), r)
}

// DeleteCustomer forwards to DeleteCustomerContext.
func (s *Service) DeleteCustomer(r *wsdl.DeleteCustomer) (*wsdl.DeleteCustomerResponse, error) {
	return s.DeleteCustomerContext(context.Background(), r)
}

func customerName(id int64) string { return fmt.Sprintf("customer %d", id) }

// fail logs the cause of an internal error; the caller sees only the code and a fixed message.
func (s *Service) fail(ctx context.Context, err error) error {
	if e, ok := err.(*Error); ok && e.Code == CodeInternal {
		s.Log.ErrorContext(ctx, "store failure", "err", e.Err)
		if s.OnStoreError != nil {
			s.OnStoreError(e.Err)
		}
	}
	return err
}
