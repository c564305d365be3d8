// Package service is the CRM: it validates requests, applies the business rules,
// and maps every failure to a CRM error code (see Error). It speaks in its own
// domain types (Customer, CustomerData, time.Time for dates) and persists
// through package store. It knows no transport: it must not import wsdl, soap,
// gowsdl or net/http; the SOAP adapter in package wsdl calls it.
package service

import (
	"context"
	"fmt"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// Store is what the service needs of a storage backend: customers with their
// change feed, the outcomes of keyed writes, and the secret that signs page
// tokens and feed cursors.
type Store interface {
	store.CustomerStore
	store.ProductStore
	store.OrderStore
	store.ReviewStore
	store.IdempotencyStore
	store.SecretStore
}

// Service is the CRM over a store.
type Service struct {
	db Store
	// Now is the clock; tests freeze it. Timestamps are kept to the millisecond.
	Now func() time.Time
	// OnStoreError, when set, is called for every unexpected store failure (metrics).
	// The failure itself is logged once, by the transport that reports it.
	OnStoreError func(error)
	// OnOrderStatus, when set, is called with the resulting status of every order
	// placed (PLACED) or moved to another status, once per write (not for replays).
	OnOrderStatus func(status string)
	// MaxBatch is the most items one bulk call may carry; 0: DefaultMaxBatch.
	MaxBatch int
	// IdempotencyTTL is how long a keyed write's outcome is kept for retries; 0: DefaultIdempotencyTTL.
	IdempotencyTTL time.Duration
	// TombstoneRetention is how long the change feed keeps deletions; 0: DefaultTombstoneRetention.
	TombstoneRetention time.Duration

	tokens tokenSource
}

// New returns a Service that stores customers in db.
func New(db Store) *Service {
	return &Service{db: db, Now: time.Now}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// AddCustomer creates a customer from d, recording the caller in ctx (see
// WithCaller) as its creator. Errors: VALIDATION_FAILED, DUPLICATE (externalId), INTERNAL.
func (s *Service) AddCustomer(ctx context.Context, d *CustomerData) (Customer, error) {
	now := s.now()
	c, err := customerFromData(d, now)
	if err != nil {
		return Customer{}, err
	}
	c.CreatedAt, c.UpdatedAt = now, now
	c.CreatedBy = CallerFrom(ctx)
	c.UpdatedBy = c.CreatedBy
	if _, keyed := RequestKeyFrom(ctx); keyed {
		o, err := s.writeOne(ctx, store.CustomerOp{Kind: store.OpAdd, Customer: c})
		return o.Value, err
	}
	c, err = s.db.CreateCustomer(ctx, c)
	if err != nil {
		return Customer{}, s.fail(fromStore(err, "customer"))
	}
	return customerFromStore(c), nil
}

// GetCustomer reads a customer. Errors: VALIDATION_FAILED (id), NOT_FOUND, INTERNAL.
func (s *Service) GetCustomer(ctx context.Context, id int64) (Customer, error) {
	if err := validID("id", id); err != nil {
		return Customer{}, err
	}
	c, err := s.db.GetCustomer(ctx, id)
	if err != nil {
		return Customer{}, s.fail(fromStore(err, customerName(id)))
	}
	return customerFromStore(c), nil
}

// UpdateCustomer replaces every writable field of customer id with d;
// expectedVersion 0 means unconditional. Errors: VALIDATION_FAILED, NOT_FOUND,
// CONFLICT (stale expectedVersion), DUPLICATE, INTERNAL.
func (s *Service) UpdateCustomer(ctx context.Context, id, expectedVersion int64, d *CustomerData) (Customer, error) {
	if err := validID("id", id); err != nil {
		return Customer{}, err
	}
	if err := validExpectedVersion(expectedVersion); err != nil {
		return Customer{}, err
	}
	now := s.now()
	c, err := customerFromData(d, now)
	if err != nil {
		return Customer{}, err
	}
	c.ID = id
	c.UpdatedAt = now
	c.UpdatedBy = CallerFrom(ctx)
	if _, keyed := RequestKeyFrom(ctx); keyed {
		o, err := s.writeOne(ctx, store.CustomerOp{Kind: store.OpUpdate, Customer: c, ExpectedVersion: expectedVersion})
		return o.Value, err
	}
	c, err = s.db.UpdateCustomer(ctx, c, expectedVersion)
	if err != nil {
		return Customer{}, s.fail(fromStore(err, customerName(id)))
	}
	return customerFromStore(c), nil
}

// DeleteCustomer deletes customer id and records the deletion; expectedVersion 0
// means unconditional. Errors: VALIDATION_FAILED, NOT_FOUND, CONFLICT, INTERNAL.
func (s *Service) DeleteCustomer(ctx context.Context, id, expectedVersion int64) error {
	if err := validID("id", id); err != nil {
		return err
	}
	if err := validExpectedVersion(expectedVersion); err != nil {
		return err
	}
	if _, keyed := RequestKeyFrom(ctx); keyed {
		op, _ := deleteOp(id, expectedVersion, s.now(), CallerFrom(ctx))
		_, err := s.writeOne(ctx, op)
		return err
	}
	if err := s.db.DeleteCustomer(ctx, id, expectedVersion, s.now(), CallerFrom(ctx)); err != nil {
		return s.fail(fromStore(err, customerName(id)))
	}
	return nil
}

func customerName(id int64) string { return fmt.Sprintf("customer %d", id) }

// fail reports an internal error to OnStoreError; the error itself (cause in
// Err) goes back to the transport, which logs it once.
func (s *Service) fail(err error) error {
	if e, ok := err.(*Error); ok && e.Code == CodeInternal && s.OnStoreError != nil {
		s.OnStoreError(e.Err)
	}
	return err
}
