package store

import (
	"context"
	"time"
)

// EntityReview names reviews in DuplicateError.
const EntityReview = "review"

// Review is one customer's review of one product. Times are UTC.
type Review struct {
	ID, Version           int64
	CreatedAt, UpdatedAt  time.Time
	CreatedBy, UpdatedBy  string
	CustomerID, ProductID int64
	Stars                 int
	Title, Text           string
}

// ReviewOp is one review write: OpAdd (Review), OpUpdate (Review.ID's stars, title and text, if at
// ExpectedVersion), OpDelete (ID, if at ExpectedVersion, at At by Actor).
type ReviewOp struct {
	Kind            OpKind
	Review          Review
	ID              int64
	ExpectedVersion int64
	At              time.Time
	Actor           string
}

// ReviewResult is the outcome of a ReviewOp: the review as stored, and its product's rating after the
// write; or Err: ErrNotFound (the review, or for OpAdd the customer or product: *MissingError),
// ErrConflict, *DuplicateError{Entity: EntityReview, Field: "productId"}.
type ReviewResult struct {
	Review  Review
	Product Product
	Err     error
}

// MissingError says which record a write refers to does not exist.
type MissingError struct{ Entity string }

func (e *MissingError) Error() string { return "store: " + e.Entity + " does not exist" }

// ReviewFilter selects reviews; zero fields do not filter.
type ReviewFilter struct {
	ProductID, CustomerID int64
	MinStars              int
}

// ReviewStore keeps reviews and, in the same transaction as every review write, the rating of the
// reviewed product (Product.RatingSum and RatingCount).
type ReviewStore interface {
	// WriteReview runs op in one transaction (idem as in WriteCustomers, with EncodeReviews).
	WriteReview(ctx context.Context, op ReviewOp, idem *IdempotencyRecord) (ReviewResult, error)
	// GetReview returns review id. Errors: ErrNotFound.
	GetReview(ctx context.Context, id int64) (Review, error)
	// SearchReviews returns at most limit reviews matching f with ID > after, in ID order.
	SearchReviews(ctx context.Context, f ReviewFilter, after int64, limit int) ([]Review, error)
}
