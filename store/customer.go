package store

import "time"

// Address is a customer's postal address; empty fields are not set.
type Address struct{ Street, City, Region, PostalCode, Country string }

// Customer is one stored customer. Empty strings mean "not set". BirthDate zero = not set; only its
// calendar date is kept. Times are UTC.
type Customer struct {
	ID, Version          int64
	CreatedAt, UpdatedAt time.Time
	CreatedBy, UpdatedBy string // authenticated client names; "" when unauthenticated

	ExternalID, Name, Email, Phone, Gender, Company string

	BirthDate time.Time
	Address   Address
}

// OpKind says what a CustomerOp does.
type OpKind int

// The kinds of CustomerOp.
const (
	OpAdd    OpKind = iota + 1 // create Customer (its ID and Version are ignored)
	OpUpdate                   // replace customer Customer.ID, if at ExpectedVersion (0: any)
	OpUpsert                   // create or replace the customer with Customer.ExternalID (required)
	OpDelete                   // delete customer ID, if at ExpectedVersion (0: any), at At by Actor
)

func (k OpKind) String() string {
	switch k {
	case OpAdd:
		return "add"
	case OpUpdate:
		return "update"
	case OpUpsert:
		return "upsert"
	case OpDelete:
		return "delete"
	}
	return "unknown"
}

// CustomerOp is one write of a WriteCustomers call. For OpAdd, OpUpdate and OpUpsert the times and
// actors come from Customer (CreatedAt/CreatedBy for a create, UpdatedAt/UpdatedBy always).
type CustomerOp struct {
	Kind            OpKind
	Customer        Customer
	ID              int64 // OpDelete
	ExpectedVersion int64 // OpUpdate, OpUpsert, OpDelete; 0: any version
	At              time.Time
	Actor           string // OpDelete
}

// CustomerResult is the outcome of one CustomerOp: the customer as stored (for a delete, only its ID
// and the Version of its tombstone, one past the deleted version), Created for an insert, or Err:
// ErrNotFound, ErrConflict, *DuplicateError, ErrRolledBack, ... (then Customer is zero).
type CustomerResult struct {
	Customer Customer
	Created  bool
	Err      error
}

// CustomerFilter selects customers; zero fields do not filter. ExternalID, Email, Company and Country
// match exactly; NameContains is a case-insensitive (Unicode) substring of the name; UpdatedSince keeps
// customers updated at or after it.
type CustomerFilter struct {
	ExternalID, Email, NameContains, Company, Country string
	UpdatedSince                                      time.Time
}

// CustomerKey is a keyset position: a search continues with the customers whose ID is greater.
type CustomerKey struct{ ID int64 }

// Feed entry kinds.
const (
	FeedUpserted = "UPSERTED"
	FeedDeleted  = "DELETED"
)

// FeedEntry is the latest state of one record in the compacted change feed. Seq grows in commit order;
// a record appears once, at the Seq of its last write. The record's state is in the field of its
// entity (Customer, Product, Order or Review), nil for a deletion (a tombstone).
type FeedEntry struct {
	Seq        int64
	Entity     string // EntityCustomer, EntityProduct, EntityOrder or EntityReview
	Kind       string // FeedUpserted or FeedDeleted
	ID         int64
	ExternalID string
	Version    int64
	At         time.Time
	Actor      string
	Customer   *Customer
	Product    *Product
	Order      *Order
	Review     *Review
}
