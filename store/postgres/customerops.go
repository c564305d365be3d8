package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store"
)

// errCallRolledBack makes the writer roll back a call whose results are already known.
var errCallRolledBack = errors.New("store: call rolled back")

// maxOps caps the ops of one WriteCustomers call: one call is one job of the writer.
const maxOps = 10000

// Change operations of the change log.
const (
	opCreate = "create"
	opUpdate = "update"
	opDelete = "delete"
)

// WriteCustomers runs ops in one job of the writer (one transaction, shared with the other writes
// queued beside it), each op in its own savepoint, and returns one result per op (see
// store.CustomerStore). Two ops carrying the same external id are both refused before anything runs.
func (db *DB) WriteCustomers(ctx context.Context, ops []store.CustomerOp, allOrNone bool, idem *store.IdempotencyRecord) ([]store.CustomerResult, error) {
	if len(ops) > maxOps {
		return nil, fmt.Errorf("store: write customers: %d ops, at most %d in one call", len(ops), maxOps)
	}
	dup := sharedExternalIDs(ops)
	results := make([]store.CustomerResult, len(ops))
	// A lone op needs no savepoint of its own when its failure rolls back the whole call anyway.
	opSavepoints := len(ops) > 1 || (!allOrNone && idem != nil)
	write := db.write
	if len(ops) == 1 && idem == nil {
		// One op either writes or fails without writing (a conditional write that matched no row, an
		// insert that met a taken external id) or fails on the server: a clean job.
		pipe := pipeable(ops[0], &results[0])
		write = func(ctx context.Context, fn writeFunc) error { return db.writeClean(ctx, fn, pipe) }
	}
	err := write(ctx, func(ctx context.Context, w *wtx) error {
		failed := false
		for i, op := range ops {
			if dup[i] {
				results[i] = store.CustomerResult{Err: &store.DuplicateError{Entity: store.EntityCustomer, Field: "externalId"}}
				failed = true
				continue
			}
			r, err := w.runOp(ctx, op, opSavepoints)
			if err != nil {
				return err // the transaction is unusable
			}
			if retryable(r.Err) {
				return r.Err // the writer runs the group again
			}
			results[i] = r
			failed = failed || r.Err != nil
		}
		if failed && (allOrNone || !opSavepoints) {
			for i := range results {
				if results[i].Err == nil {
					results[i] = store.CustomerResult{Err: store.ErrRolledBack}
				}
			}
			return errCallRolledBack
		}
		if idem != nil {
			return db.putIdempotency(ctx, w, idem, results)
		}
		return nil
	})
	switch {
	case errors.Is(err, errCallRolledBack):
		return results, nil
	case err != nil:
		return nil, err
	}
	return results, nil
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

// runOp runs op, inside SAVEPOINT op when savepoint is set: a failing op is rolled back alone and its
// error goes into the result. txErr means the transaction itself is unusable.
func (w *wtx) runOp(ctx context.Context, op store.CustomerOp, savepoint bool) (r store.CustomerResult, txErr error) {
	mark := len(w.feed)
	if savepoint {
		w.later("SAVEPOINT op")
	}
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
		w.feed = w.feed[:mark]
		if savepoint {
			if _, err := w.Exec(ctx, "ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op"); err != nil {
				return r, fmt.Errorf("store: rollback to savepoint: %w", errors.Join(err, r.Err))
			}
		}
		return r, nil
	}
	if savepoint {
		w.later("RELEASE SAVEPOINT op")
	}
	return r, nil
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

// deleteCustomer deletes customer op.ID; the result holds its ID and the tombstone's version.
func (w *wtx) deleteCustomer(ctx context.Context, op store.CustomerOp) (store.Customer, error) {
	var version int64
	var ext string
	err := w.QueryRow(ctx, `DELETE FROM customers WHERE id = $1 AND ($2::bigint = 0 OR version = $2)
		RETURNING version, coalesce(external_id, '')`, op.ID, op.ExpectedVersion).Scan(&version, &ext)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Customer{}, w.missingOrStale(ctx, `SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1)`, op.ID)
	}
	if err != nil {
		return store.Customer{}, fmt.Errorf("store: delete customer: %w", err)
	}
	w.feed = append(w.feed, feedRow{op: opDelete, kind: store.FeedDeleted, id: op.ID, version: version + 1,
		at: nanos(op.At), actor: nullString(op.Actor), externalID: nullString(ext)})
	return store.Customer{ID: op.ID, Version: version + 1}, nil
}

// customerWritten queues the change log row and the feed entry of c's write (see flushFeed).
func (w *wtx) customerWritten(c store.Customer, op string) {
	at, actor := c.UpdatedAt, c.UpdatedBy
	if op == opCreate {
		at, actor = c.CreatedAt, c.CreatedBy
	}
	w.feed = append(w.feed, feedRow{op: op, kind: store.FeedUpserted, id: c.ID, version: c.Version, at: nanos(at),
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
