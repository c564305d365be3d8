package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/crmsoap/crmsoap/store"
)

func review(cust, prod int64, stars int) store.ReviewOp {
	return store.ReviewOp{Kind: store.OpAdd, Review: store.Review{CustomerID: cust, ProductID: prod, Stars: stars,
		Title: "t", CreatedAt: t0, UpdatedAt: t0, CreatedBy: "web", UpdatedBy: "web"}}
}

func testReviews(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	c1, err := db.CreateCustomer(ctx, customer("R1", "one"))
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := db.CreateCustomer(ctx, customer("R2", "two"))
	p := writeProduct(t, db, store.ProductOp{Kind: store.OpAdd, Product: product("RV")}).Product

	r1, err := db.WriteReview(ctx, review(c1.ID, p.ID, 5), nil)
	if err != nil || r1.Err != nil || r1.Product.RatingSum != 5 || r1.Product.RatingCount != 1 {
		t.Fatalf("first review: %+v, %v", r1, err)
	}
	r2, _ := db.WriteReview(ctx, review(c2.ID, p.ID, 2), nil)
	if r2.Err != nil || r2.Product.RatingSum != 7 || r2.Product.RatingCount != 2 {
		t.Fatalf("second review: %+v", r2)
	}
	var dup *store.DuplicateError
	if r, _ := db.WriteReview(ctx, review(c1.ID, p.ID, 1), nil); !errors.As(r.Err, &dup) || dup.Entity != store.EntityReview {
		t.Fatalf("second review by one customer: %v, want DuplicateError", r.Err)
	}
	var missing *store.MissingError
	if r, _ := db.WriteReview(ctx, review(c1.ID, p.ID+50, 1), nil); !errors.As(r.Err, &missing) || missing.Entity != store.EntityProduct {
		t.Fatalf("review of a missing product: %v", r.Err)
	}
	upd := r2.Review
	upd.Stars, upd.UpdatedAt = 4, t0
	if r, _ := db.WriteReview(ctx, store.ReviewOp{Kind: store.OpUpdate, Review: upd, ExpectedVersion: 1}, nil); r.Err != nil ||
		r.Review.Version != 2 || r.Product.RatingSum != 9 || r.Product.RatingCount != 2 {
		t.Fatalf("update: %+v", r)
	}
	if r, _ := db.WriteReview(ctx, store.ReviewOp{Kind: store.OpUpdate, Review: upd, ExpectedVersion: 1}, nil); !errors.Is(r.Err, store.ErrConflict) {
		t.Fatalf("stale update: %v", r.Err)
	}
	got, _ := db.SearchReviews(ctx, store.ReviewFilter{ProductID: p.ID, MinStars: 5}, 0, 10)
	if len(got) != 1 || got[0].ID != r1.Review.ID {
		t.Fatalf("search min 5 stars: %+v", got)
	}
	// Deleting a customer deletes their reviews and takes them out of the rating.
	if err := db.DeleteCustomer(ctx, c1.ID, 0, t0, "erp"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetReview(ctx, r1.Review.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("review of a deleted customer: %v", err)
	}
	if pp, _ := db.GetProduct(ctx, p.ID); pp.RatingSum != 4 || pp.RatingCount != 1 {
		t.Fatalf("rating after the customer left: %d/%d", pp.RatingSum, pp.RatingCount)
	}
	if r, _ := db.WriteReview(ctx, store.ReviewOp{Kind: store.OpDelete, ID: r2.Review.ID, At: t0}, nil); r.Err != nil ||
		r.Product.RatingSum != 0 || r.Product.RatingCount != 0 {
		t.Fatalf("delete review: %+v", r)
	}
	// Both reviews are tombstones in the feed.
	tombs := 0
	for _, e := range feedAll(t, db, 0, 100) {
		if e.Entity == store.EntityReview {
			if e.Kind != store.FeedDeleted || e.Review != nil {
				t.Errorf("review feed entry %+v", e)
			}
			tombs++
		}
	}
	if tombs != 2 {
		t.Errorf("%d review tombstones, want 2", tombs)
	}
}
