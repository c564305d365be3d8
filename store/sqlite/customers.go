package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

const entityCustomer = store.EntityCustomer

const customerColumns = `id, version, created_at, updated_at, created_by, updated_by,
	external_id, name, email, phone, gender, company, birth_date,
	street, city, region, postal_code, country`

// CreateCustomer stores c (ID and Version ignored; CreatedAt/UpdatedAt/CreatedBy/UpdatedBy taken from
// c) and returns it as stored, with ID set and Version 1. A "create" change is recorded with it.
// Errors: *store.DuplicateError{Entity: "customer", Field: "externalId"}.
func (db *DB) CreateCustomer(ctx context.Context, c store.Customer) (store.Customer, error) {
	c = normalized(c)
	c.Version = 1
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		args := append([]any{formatTime(c.CreatedAt), formatTime(c.UpdatedAt), nullString(c.CreatedBy),
			nullString(c.UpdatedBy)}, writableArgs(c)...)
		res, err := tx.ExecContext(ctx, `INSERT INTO customers (version, created_at, updated_at, created_by, updated_by,
			external_id, name, email, phone, gender, company, birth_date, street, city, region, postal_code, country)
			VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
		if err != nil {
			return customerWriteError(ctx, tx, "create customer", 0, c.ExternalID, err)
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: create customer: %w", err)
		}
		return recordChange(ctx, tx, Change{Entity: entityCustomer, EntityID: c.ID, Op: OpCreate,
			Version: 1, At: c.CreatedAt, Actor: c.CreatedBy})
	})
	if err != nil {
		return store.Customer{}, err
	}
	return c, nil
}

// GetCustomer returns the customer id. Errors: ErrNotFound.
func (db *DB) GetCustomer(ctx context.Context, id int64) (store.Customer, error) {
	row := db.read.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = ?`, id)
	c, err := scanCustomer(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Customer{}, store.ErrNotFound
	}
	if err != nil {
		return store.Customer{}, fmt.Errorf("store: get customer %d: %w", id, err)
	}
	return c, nil
}

// UpdateCustomer replaces every writable field of customer c.ID; expectedVersion 0 = unconditional.
// It keeps CreatedAt/CreatedBy, takes UpdatedAt/UpdatedBy from c, sets Version+1, records an "update"
// change and returns the customer as stored.
// Errors: ErrNotFound, ErrConflict (the stored version is not expectedVersion), *DuplicateError.
func (db *DB) UpdateCustomer(ctx context.Context, c store.Customer, expectedVersion int64) (store.Customer, error) {
	c = normalized(c)
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		args := append([]any{formatTime(c.UpdatedAt), nullString(c.UpdatedBy)}, writableArgs(c)...)
		args = append(args, c.ID, expectedVersion, expectedVersion)
		var createdAt string
		var createdBy sql.NullString
		err := tx.QueryRowContext(ctx, `UPDATE customers SET version = version + 1, updated_at = ?, updated_by = ?,
			external_id = ?, name = ?, email = ?, phone = ?, gender = ?, company = ?, birth_date = ?,
			street = ?, city = ?, region = ?, postal_code = ?, country = ?
			WHERE id = ? AND (? = 0 OR version = ?)
			RETURNING version, created_at, created_by`, args...).Scan(&c.Version, &createdAt, &createdBy)
		if errors.Is(err, sql.ErrNoRows) {
			return missingOrStale(ctx, tx, c.ID)
		}
		if err != nil {
			return customerWriteError(ctx, tx, "update customer", c.ID, c.ExternalID, err)
		}
		if c.CreatedAt, err = parseTime(createdAt); err != nil {
			return fmt.Errorf("store: update customer: %w", err)
		}
		c.CreatedBy = createdBy.String
		return recordChange(ctx, tx, Change{Entity: entityCustomer, EntityID: c.ID, Op: OpUpdate,
			Version: c.Version, At: c.UpdatedAt, Actor: c.UpdatedBy})
	})
	if err != nil {
		return store.Customer{}, err
	}
	return c, nil
}

// DeleteCustomer deletes customer id (expectedVersion 0 = unconditional) and records a "delete"
// change at time at by actor, with version one past the deleted row's. The external id becomes free.
// Errors: ErrNotFound, ErrConflict.
func (db *DB) DeleteCustomer(ctx context.Context, id, expectedVersion int64, at time.Time, actor string) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var version int64
		err := tx.QueryRowContext(ctx, `DELETE FROM customers WHERE id = ? AND (? = 0 OR version = ?) RETURNING version`,
			id, expectedVersion, expectedVersion).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return missingOrStale(ctx, tx, id)
		}
		if err != nil {
			return fmt.Errorf("store: delete customer: %w", err)
		}
		return recordChange(ctx, tx, Change{Entity: entityCustomer, EntityID: id, Op: OpDelete,
			Version: version + 1, At: at, Actor: actor})
	})
}

// missingOrStale explains why a conditional write touched no row.
func missingOrStale(ctx context.Context, tx *sql.Tx, id int64) error {
	found, err := exists(ctx, tx, `SELECT 1 FROM customers WHERE id = ?`, id)
	switch {
	case err != nil:
		return fmt.Errorf("store: customer %d: %w", id, err)
	case !found:
		return store.ErrNotFound
	default:
		return store.ErrConflict
	}
}

// customerWriteError turns a failed INSERT/UPDATE into *store.DuplicateError when SQLite's constraint code says
// a unique value is taken, naming the column by asking the table, not by reading the message.
func customerWriteError(ctx context.Context, tx *sql.Tx, op string, id int64, externalID string, err error) error {
	if !isUniqueViolation(err) {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if externalID != "" {
		taken, qerr := exists(ctx, tx, `SELECT 1 FROM customers WHERE external_id = ? AND id <> ?`, externalID, id)
		if qerr == nil && taken {
			return &store.DuplicateError{Entity: store.EntityCustomer, Field: "externalId"}
		}
	}
	return fmt.Errorf("store: %s: unexplained unique violation: %w", op, err)
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

// writableArgs are the values for external_id ... country, in customerColumns order.
func writableArgs(c store.Customer) []any {
	var birth any
	if !c.BirthDate.IsZero() {
		birth = c.BirthDate.Format(dateLayout)
	}
	a := c.Address
	return []any{nullString(c.ExternalID), nullString(c.Name), nullString(c.Email), nullString(c.Phone),
		nullString(c.Gender), nullString(c.Company), birth,
		nullString(a.Street), nullString(a.City), nullString(a.Region), nullString(a.PostalCode), nullString(a.Country)}
}

func scanCustomer(row interface{ Scan(...any) error }) (store.Customer, error) {
	var (
		c                                         store.Customer
		createdAt, updatedAt                      string
		createdBy, updatedBy, ext, name, email    sql.NullString
		phone, gender, company, birth             sql.NullString
		street, city, region, postalCode, country sql.NullString
	)
	err := row.Scan(&c.ID, &c.Version, &createdAt, &updatedAt, &createdBy, &updatedBy,
		&ext, &name, &email, &phone, &gender, &company, &birth,
		&street, &city, &region, &postalCode, &country)
	if err != nil {
		return store.Customer{}, err
	}
	if c.CreatedAt, err = parseTime(createdAt); err != nil {
		return store.Customer{}, err
	}
	if c.UpdatedAt, err = parseTime(updatedAt); err != nil {
		return store.Customer{}, err
	}
	if birth.Valid {
		if c.BirthDate, err = time.Parse(dateLayout, birth.String); err != nil {
			return store.Customer{}, fmt.Errorf("bad stored birth date %q: %w", birth.String, err)
		}
	}
	c.CreatedBy, c.UpdatedBy = createdBy.String, updatedBy.String
	c.ExternalID, c.Name, c.Email, c.Phone = ext.String, name.String, email.String, phone.String
	c.Gender, c.Company = gender.String, company.String
	c.Address = store.Address{Street: street.String, City: city.String, Region: region.String,
		PostalCode: postalCode.String, Country: country.String}
	return c, nil
}
