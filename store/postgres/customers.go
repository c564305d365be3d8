package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/crmsoap/crmsoap/store"
)

// customerColumns are the columns scanCustomer reads, of the table aliased c. Every one is made non-NULL
// except id (NULL when a LEFT JOIN found no customer) and birth_date.
const customerColumns = `c.id, coalesce(c.version, 0), coalesce(c.created_at, 0), coalesce(c.updated_at, 0),
	coalesce(c.created_by, ''), coalesce(c.updated_by, ''), coalesce(c.external_id, ''), coalesce(c.name, ''),
	coalesce(c.email, ''), coalesce(c.phone, ''), coalesce(c.gender, ''), coalesce(c.company, ''), c.birth_date,
	coalesce(c.street, ''), coalesce(c.city, ''), coalesce(c.region, ''), coalesce(c.postal_code, ''),
	coalesce(c.country, '')`

// CreateCustomer stores c (ID and Version ignored; times and actors taken from c) and returns it as
// stored, with ID set and Version 1. Errors: *store.DuplicateError.
func (db *DB) CreateCustomer(ctx context.Context, c store.Customer) (store.Customer, error) {
	r, err := db.writeOne(ctx, store.CustomerOp{Kind: store.OpAdd, Customer: c})
	return r.Customer, err
}

// UpdateCustomer replaces every writable field of customer c.ID; expectedVersion 0 = unconditional.
// Errors: store.ErrNotFound, store.ErrConflict, *store.DuplicateError.
func (db *DB) UpdateCustomer(ctx context.Context, c store.Customer, expectedVersion int64) (store.Customer, error) {
	r, err := db.writeOne(ctx, store.CustomerOp{Kind: store.OpUpdate, Customer: c, ExpectedVersion: expectedVersion})
	return r.Customer, err
}

// UpsertCustomer creates the customer with c.ExternalID or replaces the one that has it (at
// expectedVersion; 0 = any); created reports an insert. Errors: store.ErrNotFound (expectedVersion set
// but no such customer), store.ErrConflict, *store.DuplicateError.
func (db *DB) UpsertCustomer(ctx context.Context, c store.Customer, expectedVersion int64) (store.Customer, bool, error) {
	r, err := db.writeOne(ctx, store.CustomerOp{Kind: store.OpUpsert, Customer: c, ExpectedVersion: expectedVersion})
	return r.Customer, r.Created, err
}

// DeleteCustomer deletes customer id (expectedVersion 0 = unconditional) and leaves a tombstone in the
// feed at time at by actor. Errors: store.ErrNotFound, store.ErrConflict.
func (db *DB) DeleteCustomer(ctx context.Context, id, expectedVersion int64, at time.Time, actor string) error {
	_, err := db.writeOne(ctx, store.CustomerOp{Kind: store.OpDelete, ID: id, ExpectedVersion: expectedVersion,
		At: at, Actor: actor})
	return err
}

// writeOne is WriteCustomers with a single op: one road for every customer write.
func (db *DB) writeOne(ctx context.Context, op store.CustomerOp) (store.CustomerResult, error) {
	rs, err := db.WriteCustomers(ctx, []store.CustomerOp{op}, true, nil)
	if err != nil {
		return store.CustomerResult{}, err
	}
	if rs[0].Err != nil {
		return store.CustomerResult{}, rs[0].Err
	}
	return rs[0], nil
}

// GetCustomer returns the customer id in one round trip. Errors: store.ErrNotFound.
func (db *DB) GetCustomer(ctx context.Context, id int64) (store.Customer, error) {
	row := db.pool.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers c WHERE c.id = $1`, id)
	var r customerRow
	err := row.Scan(r.dest()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Customer{}, store.ErrNotFound
	}
	if err != nil {
		return store.Customer{}, fmt.Errorf("store: get customer %d: %w", id, err)
	}
	return r.customer(), nil
}

// normalized is c as it reads back: times in UTC, BirthDate reduced to its calendar date.
func normalized(c store.Customer) store.Customer {
	c.CreatedAt = c.CreatedAt.UTC()
	c.UpdatedAt = c.UpdatedAt.UTC()
	if !c.BirthDate.IsZero() {
		y, m, d := c.BirthDate.Date()
		c.BirthDate = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return c
}

// writableColumns are the columns a create, update or upsert sets from the customer's fields.
const writableColumns = `external_id, name, name_fold, email, phone, gender, company, birth_date,
	street, city, region, postal_code, country`

// writableArgs are the values for writableColumns, in order.
func writableArgs(c store.Customer) []any {
	birth := pgtype.Date{}
	if !c.BirthDate.IsZero() {
		birth = pgtype.Date{Time: c.BirthDate, Valid: true}
	}
	a := c.Address
	return []any{nullString(c.ExternalID), nullString(c.Name), nullString(store.Fold(c.Name)), nullString(c.Email),
		nullString(c.Phone), nullString(c.Gender), nullString(c.Company), birth,
		nullString(a.Street), nullString(a.City), nullString(a.Region), nullString(a.PostalCode), nullString(a.Country)}
}

// customerRow receives customerColumns.
type customerRow struct {
	id                                        *int64
	version, createdAt, updatedAt             int64
	createdBy, updatedBy, ext, name, email    string
	phone, gender, company                    string
	birth                                     pgtype.Date
	street, city, region, postalCode, country string
}

func (r *customerRow) dest() []any {
	return []any{&r.id, &r.version, &r.createdAt, &r.updatedAt, &r.createdBy, &r.updatedBy,
		&r.ext, &r.name, &r.email, &r.phone, &r.gender, &r.company, &r.birth,
		&r.street, &r.city, &r.region, &r.postalCode, &r.country}
}

func (r *customerRow) present() bool { return r.id != nil }

func (r *customerRow) customer() store.Customer {
	c := store.Customer{Version: r.version, CreatedAt: fromNanos(r.createdAt), UpdatedAt: fromNanos(r.updatedAt),
		CreatedBy: r.createdBy, UpdatedBy: r.updatedBy, ExternalID: r.ext, Name: r.name, Email: r.email,
		Phone: r.phone, Gender: r.gender, Company: r.company,
		Address: store.Address{Street: r.street, City: r.city, Region: r.region, PostalCode: r.postalCode,
			Country: r.country}}
	if r.id != nil {
		c.ID = *r.id
	}
	if r.birth.Valid {
		y, m, d := r.birth.Time.Date()
		c.BirthDate = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return c
}
