package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
)

// Change operations of the change log.
const (
	opCreate = "create"
	opUpdate = "update"
	opDelete = "delete"
)

// WriteCustomers runs ops in one job of the writer (one transaction, shared with the other writes
// queued beside it), each op in its own savepoint, and returns one result per op (see
// store.CustomerStore and runCall). Two ops carrying the same external id are both refused before
// anything runs. One op either writes or fails without writing (a conditional write that matched no
// row, an insert that met a taken external id) or fails on the server: a lone op is a clean job, and an
// add or plain upsert may be sent pipelined (pipeline.go).
func (db *DB) WriteCustomers(ctx context.Context, ops []store.CustomerOp, allOrNone bool, idem *store.IdempotencyRecord) ([]store.CustomerResult, error) {
	dup := sharedExternalIDs(ops)
	c := opCall[store.CustomerOp, store.CustomerResult]{what: "customers", ops: ops, allOrNone: allOrNone, idem: idem,
		preFailed: func(i int) error {
			if dup[i] {
				return &store.DuplicateError{Entity: store.EntityCustomer, Field: "externalId"}
			}
			return nil
		},
		run: func(ctx context.Context, w *wtx, op store.CustomerOp) store.CustomerResult {
			return w.runCustomerOp(ctx, op)
		},
		errOf:  func(r store.CustomerResult) error { return r.Err },
		failed: func(err error) store.CustomerResult { return store.CustomerResult{Err: err} },
		clean:  true,
		pipe:   func(results []store.CustomerResult) *pipedOp { return pipeable(ops[0], &results[0]) },
	}
	if idem != nil {
		c.encode = idem.Encode
	}
	return runCall(ctx, db, c)
}

// sharedExternalIDs marks the ops that carry an external id another op of the call carries too.
func sharedExternalIDs(ops []store.CustomerOp) []bool {
	first := make(map[string]int, len(ops))
	dup := make([]bool, len(ops))
	for i, op := range ops {
		ext := op.Customer.ExternalID
		if op.Kind == store.OpDelete || ext == "" {
			continue
		}
		if j, ok := first[ext]; ok {
			dup[i], dup[j] = true, true
			continue
		}
		first[ext] = i
	}
	return dup
}

// runCustomerOp runs op; its error is in the result.
func (w *wtx) runCustomerOp(ctx context.Context, op store.CustomerOp) (r store.CustomerResult) {
	switch op.Kind {
	case store.OpAdd:
		r.Customer, r.Err = w.addCustomer(ctx, normalized(op.Customer))
		r.Created = r.Err == nil
	case store.OpUpdate:
		r.Customer, r.Err = w.updateCustomer(ctx, normalized(op.Customer), op.ExpectedVersion)
	case store.OpUpsert:
		r.Customer, r.Created, r.Err = w.upsertCustomer(ctx, normalized(op.Customer), op.ExpectedVersion)
	case store.OpDelete:
		r.Customer, r.Err = w.deleteCustomer(ctx, op)
	default:
		r.Err = fmt.Errorf("store: unknown customer op kind %d", op.Kind)
	}
	if r.Err != nil {
		r.Customer, r.Created = store.Customer{}, false
	}
	return r
}

func (w *wtx) addCustomer(ctx context.Context, c store.Customer) (store.Customer, error) {
	return w.added(c, w.QueryRow(ctx, addSQL, addArgs(c)...))
}

// addSQL inserts a customer from addArgs; it returns no row when the external id is taken.
const addSQL = addInsert + ` RETURNING id`

// addInsert is addSQL without its RETURNING clause.
const addInsert = `INSERT INTO customers (version, created_at, updated_at, created_by, updated_by,
	` + writableColumns + `) VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
	ON CONFLICT (external_id) DO NOTHING`

func addArgs(c store.Customer) []any {
	return append([]any{nanos(c.CreatedAt), nanos(c.UpdatedAt), nullString(c.CreatedBy), nullString(c.UpdatedBy)},
		writableArgs(c)...)
}

// added reads addSQL's row for c.
func (w *wtx) added(c store.Customer, row pgx.Row) (store.Customer, error) {
	c.Version = 1
	err := row.Scan(&c.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		// A taken external id is reported without an error on the server, so the transaction goes on.
		return store.Customer{}, &store.DuplicateError{Entity: store.EntityCustomer, Field: "externalId"}
	}
	if err != nil {
		return store.Customer{}, duplicate("create customer", err)
	}
	w.customerWritten(c, opCreate)
	return c, nil
}

// updateSet assigns writableColumns and the update's bookkeeping from $1..$15 (updateArgs).
const updateSet = `version = version + 1, updated_at = $1, updated_by = $2,
	external_id = $3, name = $4, name_fold = $5, email = $6, phone = $7, gender = $8, company = $9,
	birth_date = $10, street = $11, city = $12, region = $13, postal_code = $14, country = $15`

func updateArgs(c store.Customer) []any {
	return append([]any{nanos(c.UpdatedAt), nullString(c.UpdatedBy)}, writableArgs(c)...)
}

// updateCustomer is a conditional UPDATE: under READ COMMITTED a concurrent writer's newer version is
// re-checked against the condition, so a stale expectedVersion touches no row (ErrConflict).
func (w *wtx) updateCustomer(ctx context.Context, c store.Customer, expectedVersion int64) (store.Customer, error) {
	var createdAt int64
	err := w.QueryRow(ctx, `UPDATE customers SET `+updateSet+`
		WHERE id = $16 AND ($17::bigint = 0 OR version = $17)
		RETURNING version, created_at, coalesce(created_by, '')`, append(updateArgs(c), c.ID, expectedVersion)...).
		Scan(&c.Version, &createdAt, &c.CreatedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Customer{}, w.missingOrStale(ctx, `SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1)`, c.ID)
	}
	if err != nil {
		return store.Customer{}, duplicate("update customer", err)
	}
	c.CreatedAt = fromNanos(createdAt)
	w.customerWritten(c, opUpdate)
	return c, nil
}

// upsertCustomer inserts c or, when its external id is taken, updates that customer (INSERT ... ON
// CONFLICT: two nodes upserting one external id at once make one row, the later waiting for the earlier
// and then updating it). With an expected version it is an update by external id.
func (w *wtx) upsertCustomer(ctx context.Context, c store.Customer, expectedVersion int64) (store.Customer, bool, error) {
	if c.ExternalID == "" {
		return store.Customer{}, false, errors.New("store: upsert customer: an external id is required")
	}
	var createdAt int64
	var err error
	if expectedVersion != 0 {
		err = w.QueryRow(ctx, `UPDATE customers SET `+updateSet+`
			WHERE external_id = $16 AND version = $17
			RETURNING id, version, created_at, coalesce(created_by, '')`, append(updateArgs(c), c.ExternalID, expectedVersion)...).
			Scan(&c.ID, &c.Version, &createdAt, &c.CreatedBy)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.Customer{}, false, w.missingOrStale(ctx,
				`SELECT EXISTS (SELECT 1 FROM customers WHERE external_id = $1)`, c.ExternalID)
		}
	} else {
		return w.upserted(c, w.QueryRow(ctx, upsertSQL, addArgs(c)...))
	}
	if err != nil {
		return store.Customer{}, false, duplicate("upsert customer", err)
	}
	return w.upsertDone(c, createdAt)
}

// upsertSQL inserts a customer from addArgs or, when its external id is taken, updates that customer.
const upsertSQL = upsertInsert + ` RETURNING ` + upsertReturning

// upsertInsert is upsertSQL without its RETURNING clause, upsertReturning that clause's columns.
const (
	upsertReturning = `id, version, created_at, coalesce(created_by, '')`
	upsertInsert    = `INSERT INTO customers (version, created_at, updated_at, created_by, updated_by,
	` + writableColumns + `) VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
	ON CONFLICT (external_id) DO UPDATE SET version = customers.version + 1,
		updated_at = excluded.updated_at, updated_by = excluded.updated_by,
		name = excluded.name, name_fold = excluded.name_fold, email = excluded.email,
		phone = excluded.phone, gender = excluded.gender, company = excluded.company,
		birth_date = excluded.birth_date, street = excluded.street, city = excluded.city,
		region = excluded.region, postal_code = excluded.postal_code, country = excluded.country`
)

// upserted reads upsertSQL's row for c.
func (w *wtx) upserted(c store.Customer, row pgx.Row) (store.Customer, bool, error) {
	var createdAt int64
	if err := row.Scan(&c.ID, &c.Version, &createdAt, &c.CreatedBy); err != nil {
		return store.Customer{}, false, duplicate("upsert customer", err)
	}
	return w.upsertDone(c, createdAt)
}

func (w *wtx) upsertDone(c store.Customer, createdAt int64) (store.Customer, bool, error) {
	c.CreatedAt = fromNanos(createdAt)
	created := c.Version == 1 // an update always leaves version 2 or more
	op := opUpdate
	if created {
		op = opCreate
	}
	w.customerWritten(c, op)
	return c, created, nil
}

// deleteCustomer deletes customer op.ID and then its reviews (each with its tombstone and its product's
// rating); the result holds its ID and the tombstone's version. A customer with orders is refused by
// orders_customer_id_fkey (store.ErrReferenced), also when an order for them commits meanwhile on
// another node. The customer goes first, so a refused or stale delete has written nothing (the job
// stays clean); a review added meanwhile holds the customer's row (FOR KEY SHARE, addReview) until it
// commits, and the reviews' DELETE, a later statement, then sees it.
func (w *wtx) deleteCustomer(ctx context.Context, op store.CustomerOp) (store.Customer, error) {
	var version int64
	var ext string
	err := w.QueryRow(ctx, `DELETE FROM customers WHERE id = $1 AND ($2::bigint = 0 OR version = $2)
		RETURNING version, coalesce(external_id, '')`, op.ID, op.ExpectedVersion).Scan(&version, &ext)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Customer{}, w.missingOrStale(ctx, `SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1)`, op.ID)
	}
	if err != nil {
		return store.Customer{}, referenced("delete customer", err)
	}
	if err := w.deleteReviewsOf(ctx, "customer_id", op.ID, nanos(op.At), op.Actor); err != nil {
		return store.Customer{}, err
	}
	w.feed = append(w.feed, feedRow{entity: store.EntityCustomer, op: opDelete, kind: store.FeedDeleted, id: op.ID, version: version + 1,
		at: nanos(op.At), actor: nullString(op.Actor), externalID: nullString(ext)})
	return store.Customer{ID: op.ID, Version: version + 1}, nil
}

// customerWritten queues the change log row and the feed entry of c's write (see flushFeed).
func (w *wtx) customerWritten(c store.Customer, op string) {
	at, actor := c.UpdatedAt, c.UpdatedBy
	if op == opCreate {
		at, actor = c.CreatedAt, c.CreatedBy
	}
	w.feed = append(w.feed, feedRow{entity: store.EntityCustomer, op: op, kind: store.FeedUpserted, id: c.ID, version: c.Version, at: nanos(at),
		actor: nullString(actor), externalID: nullString(c.ExternalID)})
}

// missingOrStale explains why a conditional write touched no row: probe finds the row by its key.
func (w *wtx) missingOrStale(ctx context.Context, probe string, key any) error {
	var found bool
	if err := w.QueryRow(ctx, probe, key).Scan(&found); err != nil {
		return fmt.Errorf("store: customer %v: %w", key, err)
	}
	if !found {
		return store.ErrNotFound
	}
	return store.ErrConflict
}
