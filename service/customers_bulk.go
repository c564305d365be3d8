package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// UpdateItem is one item of UpdateCustomers: customer ID's new data, if at
// ExpectedVersion (0: any version).
type UpdateItem struct {
	ID, ExpectedVersion int64
	Customer            *CustomerData
}

// DeleteItem is one item of DeleteCustomers.
type DeleteItem struct{ ID, ExpectedVersion int64 }

func (s *Service) maxBatch() int {
	if s.MaxBatch > 0 {
		return s.MaxBatch
	}
	return DefaultMaxBatch
}

// AddCustomers creates one customer per item, in one durable commit. Errors of
// the call: VALIDATION_FAILED (none, or more than MaxBatch), INTERNAL; each
// item's own error is in its Outcome (with allOrNone, ROLLED_BACK for the
// others). A successful Outcome's Value holds the ID and Version only.
func (s *Service) AddCustomers(ctx context.Context, allOrNone bool, items []*CustomerData) ([]Outcome[Customer], error) {
	if err := checkBatchSize("customer", len(items), s.maxBatch()); err != nil {
		return nil, err
	}
	now, caller := s.now(), CallerFrom(ctx)
	b := prepareBatch(items, func(_ int, d *CustomerData) (store.CustomerOp, error) { return addOp(d, now, caller) })
	return s.writeCustomers(ctx, b, allOrNone, false)
}

// UpsertCustomers creates or replaces one customer per item by its externalId
// (required), in one durable commit. Two items with the same externalId both
// fail with DUPLICATE. Errors as AddCustomers.
func (s *Service) UpsertCustomers(ctx context.Context, allOrNone bool, items []*CustomerData) ([]Outcome[Customer], error) {
	if err := checkBatchSize("customer", len(items), s.maxBatch()); err != nil {
		return nil, err
	}
	now, caller := s.now(), CallerFrom(ctx)
	b := prepareBatch(items, func(_ int, d *CustomerData) (store.CustomerOp, error) { return upsertOp(d, 0, now, caller) })
	failDuplicateExternalIDs(b)
	return s.writeCustomers(ctx, b, allOrNone, false)
}

// UpdateCustomers replaces every writable field of one customer per item, in
// one durable commit. Errors as AddCustomers.
func (s *Service) UpdateCustomers(ctx context.Context, allOrNone bool, items []UpdateItem) ([]Outcome[Customer], error) {
	if err := checkBatchSize("item", len(items), s.maxBatch()); err != nil {
		return nil, err
	}
	now, caller := s.now(), CallerFrom(ctx)
	b := prepareBatch(items, func(_ int, it UpdateItem) (store.CustomerOp, error) {
		return updateOp(it.ID, it.ExpectedVersion, it.Customer, now, caller)
	})
	return s.writeCustomers(ctx, b, allOrNone, false)
}

// DeleteCustomers deletes one customer per item, in one durable commit; a
// successful Outcome carries only the ID. Errors as AddCustomers.
func (s *Service) DeleteCustomers(ctx context.Context, allOrNone bool, items []DeleteItem) ([]Outcome[Customer], error) {
	if err := checkBatchSize("item", len(items), s.maxBatch()); err != nil {
		return nil, err
	}
	now, caller := s.now(), CallerFrom(ctx)
	b := prepareBatch(items, func(_ int, it DeleteItem) (store.CustomerOp, error) {
		return deleteOp(it.ID, it.ExpectedVersion, now, caller)
	})
	return s.writeCustomers(ctx, b, allOrNone, false)
}

// UpsertCustomer creates the customer with d.ExternalID (required) or replaces
// every writable field of it, if at expectedVersion (0: any). created reports an
// insert. Errors: VALIDATION_FAILED, NOT_FOUND (expectedVersion given, no such
// customer), CONFLICT, DUPLICATE, INTERNAL.
func (s *Service) UpsertCustomer(ctx context.Context, d *CustomerData, expectedVersion int64) (Customer, bool, error) {
	op, err := upsertOp(d, expectedVersion, s.now(), CallerFrom(ctx))
	if err != nil {
		return Customer{}, false, err
	}
	o, err := s.writeOne(ctx, op)
	return o.Value, o.Created, err
}

// writeOne runs one validated write through the bulk road (one commit, stored
// outcome for its request key) and returns its Outcome, the error as error.
func (s *Service) writeOne(ctx context.Context, op store.CustomerOp) (Outcome[Customer], error) {
	return single(s.writeCustomers(ctx, singleBatch(op), false, true))
}

// writeCustomers runs a batch of customer writes. A bulk call's Outcomes (full
// false) hold only each customer's ID and Version, what its result reports: a
// retry's stored outcome stays small.
func (s *Service) writeCustomers(ctx context.Context, b *batch[store.CustomerOp], allOrNone, full bool) ([]Outcome[Customer], error) {
	return writeBatch(ctx, s, b, allOrNone,
		func(ops []store.CustomerOp, idem *store.IdempotencyRecord, encode func([]store.CustomerResult) ([]byte, error)) ([]store.CustomerResult, error) {
			if idem != nil {
				idem.Encode = encode
			}
			return s.db.WriteCustomers(ctx, ops, allOrNone, idem)
		},
		func(op store.CustomerOp, r store.CustomerResult) Outcome[Customer] {
			if r.Err != nil {
				if isRolledBack(r.Err) {
					return Outcome[Customer]{Err: rolledBack()}
				}
				what := "customer"
				switch {
				case op.Kind == store.OpDelete:
					what = customerName(op.ID)
				case op.Kind == store.OpUpdate:
					what = customerName(op.Customer.ID)
				case op.Kind == store.OpUpsert:
					what = fmt.Sprintf("customer with externalId %q", clip(op.Customer.ExternalID))
				}
				return Outcome[Customer]{Err: asError(s.fail(fromStore(r.Err, what)))}
			}
			var c Customer
			switch {
			case op.Kind == store.OpDelete:
				c = Customer{ID: op.ID}
			case full:
				c = customerFromStore(r.Customer)
			default:
				c = Customer{ID: r.Customer.ID, Version: r.Customer.Version}
			}
			return Outcome[Customer]{Value: c, Created: r.Created}
		})
}

// addOp validates d into the store operation that creates it.
func addOp(d *CustomerData, now time.Time, caller string) (store.CustomerOp, error) {
	c, err := customerFromData(d, now)
	if err != nil {
		return store.CustomerOp{}, err
	}
	c.CreatedAt, c.UpdatedAt, c.CreatedBy, c.UpdatedBy = now, now, caller, caller
	return store.CustomerOp{Kind: store.OpAdd, Customer: c}, nil
}

// upsertOp validates d, whose externalId is required, into an upsert.
func upsertOp(d *CustomerData, expectedVersion int64, now time.Time, caller string) (store.CustomerOp, error) {
	if err := validExpectedVersion(expectedVersion); err != nil {
		return store.CustomerOp{}, err
	}
	if d != nil && strings.TrimSpace(d.ExternalID) == "" {
		return store.CustomerOp{}, invalid("customer/externalId", "is required to upsert: it is the key the customer is matched on")
	}
	c, err := customerFromData(d, now)
	if err != nil {
		return store.CustomerOp{}, err
	}
	c.CreatedAt, c.UpdatedAt, c.CreatedBy, c.UpdatedBy = now, now, caller, caller
	return store.CustomerOp{Kind: store.OpUpsert, Customer: c, ExpectedVersion: expectedVersion}, nil
}

// updateOp validates an update of customer id.
func updateOp(id, expectedVersion int64, d *CustomerData, now time.Time, caller string) (store.CustomerOp, error) {
	if err := validID("id", id); err != nil {
		return store.CustomerOp{}, err
	}
	if err := validExpectedVersion(expectedVersion); err != nil {
		return store.CustomerOp{}, err
	}
	c, err := customerFromData(d, now)
	if err != nil {
		return store.CustomerOp{}, err
	}
	c.ID, c.UpdatedAt, c.UpdatedBy = id, now, caller
	return store.CustomerOp{Kind: store.OpUpdate, Customer: c, ExpectedVersion: expectedVersion}, nil
}

// deleteOp validates a deletion of customer id.
func deleteOp(id, expectedVersion int64, now time.Time, caller string) (store.CustomerOp, error) {
	if err := validID("id", id); err != nil {
		return store.CustomerOp{}, err
	}
	if err := validExpectedVersion(expectedVersion); err != nil {
		return store.CustomerOp{}, err
	}
	return store.CustomerOp{Kind: store.OpDelete, ID: id, ExpectedVersion: expectedVersion, At: now, Actor: caller}, nil
}

// failDuplicateExternalIDs fails every upsert whose externalId another item of
// the same call has too: which of them should win is not the server's to guess.
func failDuplicateExternalIDs(b *batch[store.CustomerOp]) {
	failDuplicateKeys(b, "customer/externalId", "externalId appears in more than one item of this call; send each customer once",
		func(op store.CustomerOp) string { return op.Customer.ExternalID })
}

// failDuplicateKeys fails every op whose key another op of the batch has too,
// with DUPLICATE on field.
func failDuplicateKeys[Op any](b *batch[Op], field, message string, key func(Op) string) {
	seen := make(map[string]int, len(b.ops))
	var dup []int
	for k, op := range b.ops {
		id := key(op)
		if first, ok := seen[id]; ok {
			if first >= 0 {
				dup = append(dup, b.opItem[first])
				seen[id] = -1
			}
			dup = append(dup, b.opItem[k])
			continue
		}
		seen[id] = k
	}
	for _, i := range dup {
		b.fail(i, &Error{Code: CodeDuplicate, Field: field, Message: message})
	}
}

func isRolledBack(err error) bool { return errors.Is(err, store.ErrRolledBack) }
