package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// Review limits.
const (
	maxReviewTitle = 200
	maxReviewText  = 4000
)

// ReviewData is what clients write: stars 1 to 5, title <= 200, text <= 4,000.
type ReviewData struct {
	CustomerID, ProductID int64
	Stars                 int
	Title, Text           string
}

// Review is a stored review.
type Review struct {
	ID, Version           int64
	CreatedAt, UpdatedAt  time.Time
	CustomerID, ProductID int64
	Stars                 int
	Title, Text           string
}

// ReviewWrite is the answer of a review write: the review and its product's
// rating after the write.
type ReviewWrite struct {
	Review Review
	Rating Rating
}

// ratingOf is the exact average of sum/count rounded half-even to 2 places,
// from integers only ("0.00" without reviews).
func ratingOf(sum, count int64) Rating {
	if count <= 0 {
		return Rating{Average: "0.00"}
	}
	x := sum * 100
	q, r := x/count, x%count
	if 2*r > count || 2*r == count && q%2 == 1 {
		q++
	}
	return Rating{Average: formatMinor(q, 2), Count: count}
}

func reviewFields(d *ReviewData, needRefs bool) (store.Review, error) {
	if d == nil {
		return store.Review{}, invalid("review", "is required")
	}
	r := store.Review{CustomerID: d.CustomerID, ProductID: d.ProductID, Stars: d.Stars}
	if needRefs {
		if d.CustomerID <= 0 {
			return r, invalid("review/customerId", "must be a positive customer id")
		}
		if d.ProductID <= 0 {
			return r, invalid("review/productId", "must be a positive product id")
		}
	}
	if d.Stars < 1 || d.Stars > 5 {
		return r, invalid("review/stars", "must be 1 to 5")
	}
	var err error
	if r.Title, err = text("review/title", d.Title, maxReviewTitle); err != nil {
		return r, err
	}
	if r.Text, err = longText("review/text", d.Text, maxReviewText); err != nil {
		return r, err
	}
	return r, nil
}

// AddReview stores a review: one per customer and product. Errors:
// VALIDATION_FAILED, NOT_FOUND (customer or product), DUPLICATE, INTERNAL.
func (s *Service) AddReview(ctx context.Context, d *ReviewData) (ReviewWrite, error) {
	r, err := reviewFields(d, true)
	if err != nil {
		return ReviewWrite{}, err
	}
	now, caller := s.now(), CallerFrom(ctx)
	r.CreatedAt, r.UpdatedAt, r.CreatedBy, r.UpdatedBy = now, now, caller, caller
	return s.reviewWrite(ctx, store.ReviewOp{Kind: store.OpAdd, Review: r}, "review")
}

// UpdateReview replaces stars, title and text of review id (customer and
// product stay). Errors: VALIDATION_FAILED, NOT_FOUND, CONFLICT, INTERNAL.
func (s *Service) UpdateReview(ctx context.Context, id, expectedVersion int64, d *ReviewData) (ReviewWrite, error) {
	if id <= 0 {
		return ReviewWrite{}, invalid("id", "must be a positive review id")
	}
	if err := validExpectedVersion(expectedVersion); err != nil {
		return ReviewWrite{}, err
	}
	r, err := reviewFields(d, false)
	if err != nil {
		return ReviewWrite{}, err
	}
	r.ID, r.UpdatedAt, r.UpdatedBy = id, s.now(), CallerFrom(ctx)
	return s.reviewWrite(ctx, store.ReviewOp{Kind: store.OpUpdate, Review: r, ExpectedVersion: expectedVersion},
		fmt.Sprintf("review %d", id))
}

// DeleteReview deletes review id. Errors: VALIDATION_FAILED, NOT_FOUND, CONFLICT, INTERNAL.
func (s *Service) DeleteReview(ctx context.Context, id, expectedVersion int64) (ReviewWrite, error) {
	if id <= 0 {
		return ReviewWrite{}, invalid("id", "must be a positive review id")
	}
	if err := validExpectedVersion(expectedVersion); err != nil {
		return ReviewWrite{}, err
	}
	return s.reviewWrite(ctx, store.ReviewOp{Kind: store.OpDelete, ID: id, ExpectedVersion: expectedVersion,
		At: s.now(), Actor: CallerFrom(ctx)}, fmt.Sprintf("review %d", id))
}

// GetReview reads a review. Errors: VALIDATION_FAILED, NOT_FOUND, INTERNAL.
func (s *Service) GetReview(ctx context.Context, id int64) (Review, error) {
	if id <= 0 {
		return Review{}, invalid("id", "must be a positive review id")
	}
	r, err := s.db.GetReview(ctx, id)
	if err != nil {
		return Review{}, s.fail(fromStore(err, fmt.Sprintf("review %d", id)))
	}
	return reviewFromStore(r), nil
}

// reviewWrite runs one review write through writeBatch (stored outcome under a request key).
func (s *Service) reviewWrite(ctx context.Context, op store.ReviewOp, what string) (ReviewWrite, error) {
	out, err := single(writeBatch(ctx, s, singleBatch(op), true,
		func(ops []store.ReviewOp, idem *store.IdempotencyRecord, encode func([]store.ReviewResult) ([]byte, error)) ([]store.ReviewResult, error) {
			if idem != nil {
				idem.EncodeReviews = encode
			}
			r, err := s.db.WriteReview(ctx, ops[0], idem)
			if err != nil {
				return nil, err
			}
			return []store.ReviewResult{r}, nil
		},
		func(_ store.ReviewOp, r store.ReviewResult) Outcome[ReviewWrite] {
			if r.Err != nil {
				return Outcome[ReviewWrite]{Err: asError(s.fail(reviewError(r.Err, op, what)))}
			}
			return Outcome[ReviewWrite]{Value: ReviewWrite{Review: reviewFromStore(r.Review),
				Rating: ratingOf(r.Product.RatingSum, r.Product.RatingCount)}, Created: op.Kind == store.OpAdd}
		}))
	if err != nil {
		return ReviewWrite{}, err
	}
	return out.Value, nil
}

func reviewError(err error, op store.ReviewOp, what string) error {
	var (
		missing *store.MissingError
		dup     *store.DuplicateError
	)
	switch {
	case errors.As(err, &missing) && missing.Entity == store.EntityCustomer:
		return &Error{Code: CodeNotFound, Field: "review/customerId", Message: customerName(op.Review.CustomerID) + " does not exist", Err: err}
	case errors.As(err, &missing):
		return &Error{Code: CodeNotFound, Field: "review/productId", Message: productName(op.Review.ProductID) + " does not exist", Err: err}
	case errors.As(err, &dup) && dup.Entity == store.EntityReview:
		return &Error{Code: CodeDuplicate, Field: "review/productId", Err: err, Message: fmt.Sprintf(
			"%s has already reviewed %s: update that review instead", customerName(op.Review.CustomerID), productName(op.Review.ProductID))}
	}
	return fromStore(err, what)
}

func reviewFromStore(r store.Review) Review {
	return Review{ID: r.ID, Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		CustomerID: r.CustomerID, ProductID: r.ProductID, Stars: r.Stars, Title: r.Title, Text: r.Text}
}

// ReviewFilter selects reviews; zero fields do not filter.
type ReviewFilter struct {
	ProductID, CustomerID int64
	MinStars              int
}

// ReviewSearchRequest is one SearchReviews call (paging as SearchRequest).
type ReviewSearchRequest struct {
	Filter    ReviewFilter
	PageSize  *int
	PageToken string
}

// ReviewPage is one page of reviews.
type ReviewPage struct {
	Reviews       []Review
	NextPageToken string
}

// SearchReviews returns a page of the reviews matching the filter, in id order.
// Errors: VALIDATION_FAILED (filter, pageSize, pageToken), INTERNAL.
func (s *Service) SearchReviews(ctx context.Context, req ReviewSearchRequest) (ReviewPage, error) {
	limit, err := pageLimit("pageSize", req.PageSize, DefaultPageSize, MaxPageSize)
	if err != nil {
		return ReviewPage{}, err
	}
	f := store.ReviewFilter(req.Filter)
	if f.MinStars < 0 || f.MinStars > 5 {
		return ReviewPage{}, invalid("filter/minStars", "must be 1 to 5")
	}
	codec, err := s.tokenCodec(ctx)
	if err != nil {
		return ReviewPage{}, err
	}
	bind := binding("reviews", fmt.Sprint(f.ProductID), fmt.Sprint(f.CustomerID), fmt.Sprint(f.MinStars))
	var after int64
	if req.PageToken != "" {
		if after, err = codec.open(tokenSearchReviews, req.PageToken, bind); err != nil {
			return ReviewPage{}, invalid("pageToken", "is not a token this server issued for this filter: "+
				"pass nextPageToken unchanged, with the same filter, or leave it out to start from the first page")
		}
	}
	rows, err := s.db.SearchReviews(ctx, f, after, limit+1)
	if err != nil {
		return ReviewPage{}, s.fail(fromStore(err, "review search"))
	}
	var page ReviewPage
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextPageToken = codec.seal(tokenSearchReviews, rows[limit-1].ID, bind)
	}
	for _, r := range rows {
		page.Reviews = append(page.Reviews, reviewFromStore(r))
	}
	return page, nil
}
