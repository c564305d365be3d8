package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/crmsoap/crmsoap/store"
)

// WriteCustomers runs ops in one job of the writer (one transaction, shared with the other writes
// queued beside it), each op in its own savepoint, and returns one result per op (see
// store.CustomerStore). Two ops carrying the same external id are both refused before anything runs.
func (db *DB) WriteCustomers(ctx context.Context, ops []store.CustomerOp, allOrNone bool, idem *store.IdempotencyRecord) ([]store.CustomerResult, error) {
	dup := sharedKeys(ops, func(op store.CustomerOp) string {
		if op.Kind == store.OpDelete {
			return ""
		}
		return op.Customer.ExternalID
	})
	b := opBatch[store.CustomerOp, store.CustomerResult]{what: "customers", ops: ops, allOrNone: allOrNone, idem: idem,
		preFailed: func(i int) error {
			if dup[i] {
				return &store.DuplicateError{Entity: store.EntityCustomer, Field: "externalId"}
			}
			return nil
		},
		run:    runCustomerOp,
		errOf:  func(r store.CustomerResult) error { return r.Err },
		failed: func(err error) store.CustomerResult { return store.CustomerResult{Err: err} },
		changedNothing: func(op store.CustomerOp, err error) bool {
			// A delete removes the customer's reviews before the customer: its failure may follow writes.
			var dup *store.DuplicateError
			return op.Kind != store.OpDelete &&
				(errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.As(err, &dup))
		},
	}
	if idem != nil && idem.Encode != nil {
		b.encode = idem.Encode
	}
	return runBatch(ctx, db, b)
}

// runCustomerOp runs one op; its failure is in the result.
func runCustomerOp(ctx context.Context, tx *sql.Tx, op store.CustomerOp) (r store.CustomerResult) {
	switch op.Kind {
	case store.OpAdd:
		r.Customer, r.Err = addCustomer(ctx, tx, normalized(op.Customer))
		r.Created = r.Err == nil
	case store.OpUpdate:
		r.Customer, r.Err = updateCustomer(ctx, tx, normalized(op.Customer), op.ExpectedVersion)
	case store.OpUpsert:
		r.Customer, r.Created, r.Err = upsertCustomer(ctx, tx, normalized(op.Customer), op.ExpectedVersion)
	case store.OpDelete:
		r.Customer, r.Err = deleteCustomer(ctx, tx, op)
	default:
		r.Err = fmt.Errorf("store: unknown customer op kind %d", op.Kind)
	}
	if r.Err != nil {
		r.Customer, r.Created = store.Customer{}, false
	}
	return r
}

func addCustomer(ctx context.Context, tx *sql.Tx, c store.Customer) (store.Customer, error) {
	c.Version = 1
	args := append([]any{formatTime(c.CreatedAt), formatTime(c.UpdatedAt), nullString(c.CreatedBy),
		nullString(c.UpdatedBy)}, writableArgs(c)...)
	res, err := tx.ExecContext(ctx, `INSERT INTO customers (version, created_at, updated_at, created_by, updated_by,
		`+writableColumns+`) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return store.Customer{}, customerWriteError(ctx, tx, "create customer", 0, c.ExternalID, err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return store.Customer{}, fmt.Errorf("store: create customer: %w", err)
	}
	return c, customerWritten(ctx, tx, c, OpCreate)
}

// updateSet assigns writableColumns and the update's bookkeeping; its arguments are updateArgs(c).
const updateSet = `version = version + 1, updated_at = ?, updated_by = ?,
	external_id = ?, name = ?, name_fold = ?, email = ?, phone = ?, gender = ?, company = ?, birth_date = ?,
	street = ?, city = ?, region = ?, postal_code = ?, country = ?`

func updateArgs(c store.Customer) []any {
	return append([]any{formatTime(c.UpdatedAt), nullString(c.UpdatedBy)}, writableArgs(c)...)
}

func updateCustomer(ctx context.Context, tx *sql.Tx, c store.Customer, expectedVersion int64) (store.Customer, error) {
	args := append(updateArgs(c), c.ID, expectedVersion, expectedVersion)
	var createdAt string
	var createdBy sql.NullString
	err := tx.QueryRowContext(ctx, `UPDATE customers SET `+updateSet+`
		WHERE id = ? AND (? = 0 OR version = ?)
		RETURNING version, created_at, created_by`, args...).Scan(&c.Version, &createdAt, &createdBy)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Customer{}, missingOrStale(ctx, tx, `SELECT 1 FROM customers WHERE id = ?`, c.ID)
	}
	if err != nil {
		return store.Customer{}, customerWriteError(ctx, tx, "update customer", c.ID, c.ExternalID, err)
	}
	if c.CreatedAt, err = parseTime(createdAt); err != nil {
		return store.Customer{}, fmt.Errorf("store: update customer: %w", err)
	}
	c.CreatedBy = createdBy.String
	return c, customerWritten(ctx, tx, c, OpUpdate)
}

// upsertCustomer inserts c or, when its external id is taken, updates that customer. With an expected
// version it is an update by external id: the customer must exist at that version.
func upsertCustomer(ctx context.Context, tx *sql.Tx, c store.Customer, expectedVersion int64) (store.Customer, bool, error) {
	if c.ExternalID == "" {
		return store.Customer{}, false, errors.New("store: upsert customer: an external id is required")
	}
	var (
		createdAt string
		createdBy sql.NullString
		err       error
	)
	if expectedVersion != 0 {
		args := append(updateArgs(c), c.ExternalID, expectedVersion)
		err = tx.QueryRowContext(ctx, `UPDATE customers SET `+updateSet+`
			WHERE external_id = ? AND version = ?
			RETURNING id, version, created_at, created_by`, args...).Scan(&c.ID, &c.Version, &createdAt, &createdBy)
		if errors.Is(err, sql.ErrNoRows) {
			return store.Customer{}, false, missingOrStale(ctx, tx, `SELECT 1 FROM customers WHERE external_id = ?`, c.ExternalID)
		}
	} else {
		args := append([]any{formatTime(c.CreatedAt), formatTime(c.UpdatedAt), nullString(c.CreatedBy),
			nullString(c.UpdatedBy)}, writableArgs(c)...)
		err = tx.QueryRowContext(ctx, `INSERT INTO customers (version, created_at, updated_at, created_by, updated_by,
			`+writableColumns+`) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (external_id) DO UPDATE SET version = version + 1,
				updated_at = excluded.updated_at, updated_by = excluded.updated_by,
				name = excluded.name, name_fold = excluded.name_fold, email = excluded.email,
				phone = excluded.phone, gender = excluded.gender, company = excluded.company,
				birth_date = excluded.birth_date, street = excluded.street, city = excluded.city,
				region = excluded.region, postal_code = excluded.postal_code, country = excluded.country
			RETURNING id, version, created_at, created_by`, args...).Scan(&c.ID, &c.Version, &createdAt, &createdBy)
	}
	if err != nil {
		return store.Customer{}, false, customerWriteError(ctx, tx, "upsert customer", c.ID, c.ExternalID, err)
	}
	if c.CreatedAt, err = parseTime(createdAt); err != nil {
		return store.Customer{}, false, fmt.Errorf("store: upsert customer: %w", err)
	}
	c.CreatedBy = createdBy.String
	created := c.Version == 1 // an update always leaves version 2 or more
	op := OpUpdate
	if created {
		op = OpCreate
	}
	return c, created, customerWritten(ctx, tx, c, op)
}

// deleteCustomer deletes customer op.ID; the result holds its ID and the tombstone's version.
func deleteCustomer(ctx context.Context, tx *sql.Tx, op store.CustomerOp) (store.Customer, error) {
	if hasOrders, err := exists(ctx, tx, `SELECT 1 FROM orders WHERE customer_id = ?`, op.ID); err != nil {
		return store.Customer{}, fmt.Errorf("store: delete customer: %w", err)
	} else if hasOrders {
		return store.Customer{}, store.ErrReferenced
	}
	if err := deleteReviewsOf(ctx, tx, "customer_id", op.ID, store.ReviewOp{At: op.At, Actor: op.Actor}); err != nil {
		return store.Customer{}, err
	}
	var version int64
	var ext sql.NullString
	err := tx.QueryRowContext(ctx, `DELETE FROM customers WHERE id = ? AND (? = 0 OR version = ?) RETURNING version, external_id`,
		op.ID, op.ExpectedVersion, op.ExpectedVersion).Scan(&version, &ext)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Customer{}, missingOrStale(ctx, tx, `SELECT 1 FROM customers WHERE id = ?`, op.ID)
	}
	if err != nil {
		return store.Customer{}, fmt.Errorf("store: delete customer: %w", err)
	}
	tomb := feedRow{entity: entityCustomer, kind: store.FeedDeleted, id: op.ID, version: version + 1, at: op.At, actor: op.Actor,
		externalID: ext.String}
	if err := recordChange(ctx, tx, Change{Entity: entityCustomer, EntityID: op.ID, Op: OpDelete,
		Version: tomb.version, At: op.At, Actor: op.Actor}); err != nil {
		return store.Customer{}, err
	}
	if err := writeFeed(ctx, tx, tomb); err != nil {
		return store.Customer{}, err
	}
	return store.Customer{ID: op.ID, Version: tomb.version}, nil
}

// customerWritten logs the change of c and makes it the customer's feed entry.
func customerWritten(ctx context.Context, tx *sql.Tx, c store.Customer, op string) error {
	at, actor := c.UpdatedAt, c.UpdatedBy
	if op == OpCreate {
		at, actor = c.CreatedAt, c.CreatedBy
	}
	if err := recordChange(ctx, tx, Change{Entity: entityCustomer, EntityID: c.ID, Op: op,
		Version: c.Version, At: at, Actor: actor}); err != nil {
		return err
	}
	return writeFeed(ctx, tx, feedRow{entity: entityCustomer, kind: store.FeedUpserted, id: c.ID, version: c.Version, at: at, actor: actor,
		externalID: c.ExternalID})
}

// missingOrStale explains why a conditional write touched no row: probe finds the row by its key.
func missingOrStale(ctx context.Context, tx *sql.Tx, probe string, key any) error {
	found, err := exists(ctx, tx, probe, key)
	switch {
	case err != nil:
		return fmt.Errorf("store: customer %v: %w", key, err)
	case !found:
		return store.ErrNotFound
	default:
		return store.ErrConflict
	}
}

// customerWriteError turns a failed INSERT/UPDATE into *store.DuplicateError when SQLite's constraint
// code says a unique value is taken (see uniqueViolation).
func customerWriteError(ctx context.Context, tx *sql.Tx, op string, id int64, externalID string, err error) error {
	return uniqueViolation(ctx, tx, "store: "+op, err,
		uniqueKey{store.EntityCustomer, "externalId", `SELECT 1 FROM customers WHERE external_id = ? AND id <> ?`,
			[]any{nullString(externalID), id}})
}
