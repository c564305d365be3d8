package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

const entityCustomer = store.EntityCustomer

// CreateCustomer stores c (ID and Version ignored; CreatedAt/UpdatedAt/CreatedBy/UpdatedBy taken from
// c) and returns it as stored, with ID set and Version 1.
// Errors: *store.DuplicateError{Entity: "customer", Field: "externalId"}.
func (db *DB) CreateCustomer(ctx context.Context, c store.Customer) (store.Customer, error) {
	r, err := db.writeOne(ctx, store.CustomerOp{Kind: store.OpAdd, Customer: c})
	return r.Customer, err
}

// UpdateCustomer replaces every writable field of customer c.ID; expectedVersion 0 = unconditional.
// It keeps CreatedAt/CreatedBy, takes UpdatedAt/UpdatedBy from c, sets Version+1 and returns the
// customer as stored. Errors: ErrNotFound, ErrConflict (the stored version is not expectedVersion),
// *DuplicateError.
func (db *DB) UpdateCustomer(ctx context.Context, c store.Customer, expectedVersion int64) (store.Customer, error) {
	r, err := db.writeOne(ctx, store.CustomerOp{Kind: store.OpUpdate, Customer: c, ExpectedVersion: expectedVersion})
	return r.Customer, err
}

// UpsertCustomer creates the customer with c.ExternalID or, if there is one, replaces its writable
// fields like UpdateCustomer (expectedVersion 0 = unconditional); created reports an insert.
// Errors: ErrNotFound (expectedVersion set but no such customer), ErrConflict, *DuplicateError.
func (db *DB) UpsertCustomer(ctx context.Context, c store.Customer, expectedVersion int64) (store.Customer, bool, error) {
	r, err := db.writeOne(ctx, store.CustomerOp{Kind: store.OpUpsert, Customer: c, ExpectedVersion: expectedVersion})
	return r.Customer, r.Created, err
}

// DeleteCustomer deletes customer id (expectedVersion 0 = unconditional) and leaves a tombstone in the
// feed at time at by actor, with version one past the deleted row's. The external id becomes free.
// Errors: ErrNotFound, ErrConflict.
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

// getCustomerSQL reads one customer by id, its text columns packed (see packedText); Open prepares it
// on the read pool.
var getCustomerSQL = `SELECT ` + packedColumns + ` FROM customers WHERE id = ?`

// GetCustomer returns the customer id. Errors: ErrNotFound.
func (db *DB) GetCustomer(ctx context.Context, id int64) (store.Customer, error) {
	// A lookup by primary key takes microseconds: it is not worth a goroutine (database/sql's) and a
	// callback (the driver's) per call to interrupt it, which a cancellable ctx costs. A ctx that has
	// already ended still stops it here.
	if err := ctx.Err(); err != nil {
		return store.Customer{}, fmt.Errorf("store: get customer %d: %w", id, err)
	}
	if ctx.Done() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	c, err := scanCustomer(db.getCustomer.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Customer{}, store.ErrNotFound
	}
	if err != nil {
		return store.Customer{}, fmt.Errorf("store: get customer %d: %w", id, err)
	}
	return c, nil
}

// customerRowPool holds customerRows for scanCustomer.
var customerRowPool = sync.Pool{New: func() any { return new(customerRow) }}

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
	var birth any
	if !c.BirthDate.IsZero() {
		birth = c.BirthDate.Format(dateLayout)
	}
	a := c.Address
	return []any{nullString(c.ExternalID), nullString(c.Name), nullString(fold(c.Name)), nullString(c.Email),
		nullString(c.Phone), nullString(c.Gender), nullString(c.Company), birth,
		nullString(a.Street), nullString(a.City), nullString(a.Region), nullString(a.PostalCode), nullString(a.Country)}
}

// scanCustomer reads a row of packedColumns.
func scanCustomer(row interface{ Scan(...any) error }) (store.Customer, error) {
	r := customerRowPool.Get().(*customerRow)
	defer customerRowPool.Put(r)
	if r.dest == nil {
		// The id and version of a customer row are never NULL: scanned as plain integers, which
		// database/sql converts without going through NullInt64's Scan.
		r.dest = []any{&r.id.Int64, &r.version.Int64, &r.packed}
	}
	if err := row.Scan(r.dest...); err != nil {
		return store.Customer{}, err
	}
	r.id.Valid, r.version.Valid = true, true
	if err := r.unpack(r.packed); err != nil {
		return store.Customer{}, err
	}
	return r.customer()
}

// customerRow receives a row of packedColumns (packed, then unpack); every column may be NULL (a LEFT
// JOIN that found no customer), which present reports.
type customerRow struct {
	id, version                               sql.NullInt64
	createdAt, updatedAt                      sql.NullString
	createdBy, updatedBy, ext, name, email    sql.NullString
	phone, gender, company, birth             sql.NullString
	street, city, region, postalCode, country sql.NullString
	packed                                    string
	dest                                      []any // scanCustomer's destinations, made once per pooled row
}

func (r *customerRow) present() bool { return r.id.Valid }

func (r *customerRow) customer() (c store.Customer, err error) {
	c.ID, c.Version = r.id.Int64, r.version.Int64
	if c.CreatedAt, err = parseTime(r.createdAt.String); err != nil {
		return store.Customer{}, err
	}
	if c.UpdatedAt, err = parseTime(r.updatedAt.String); err != nil {
		return store.Customer{}, err
	}
	if r.birth.Valid {
		if c.BirthDate, err = time.Parse(dateLayout, r.birth.String); err != nil {
			return store.Customer{}, fmt.Errorf("bad stored birth date %q: %w", r.birth.String, err)
		}
	}
	c.CreatedBy, c.UpdatedBy = r.createdBy.String, r.updatedBy.String
	c.ExternalID, c.Name, c.Email, c.Phone = r.ext.String, r.name.String, r.email.String, r.phone.String
	c.Gender, c.Company = r.gender.String, r.company.String
	c.Address = store.Address{Street: r.street.String, City: r.city.String, Region: r.region.String,
		PostalCode: r.postalCode.String, Country: r.country.String}
	return c, nil
}
