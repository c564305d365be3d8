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

// testRatingInFeed: a review write moves its product's feed entry, so a follower of the feed reads the
// product with its new rating — also when a customer's deletion takes their reviews away — while the
// product's version stays.
func testRatingInFeed(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	c, err := db.CreateCustomer(ctx, customer("RF1", "one"))
	if err != nil {
		t.Fatal(err)
	}
	p := writeProduct(t, db, store.ProductOp{Kind: store.OpAdd, Product: product("RF")}).Product
	cursor := lastSeq(t, db)
	productAfter := func(what string, after int64, wantSum, wantCount int64) int64 {
		t.Helper()
		var got *store.FeedEntry
		for _, e := range feedAll(t, db, after, 100) {
			if e.Entity == store.EntityProduct && e.ID == p.ID {
				got = &e
			}
		}
		if got == nil || got.Product == nil {
			t.Fatalf("%s: no product entry after seq %d in the feed", what, after)
		}
		if got.Product.RatingSum != wantSum || got.Product.RatingCount != wantCount || got.Version != p.Version {
			t.Fatalf("%s: feed has product rating %d/%d version %d, want %d/%d version %d", what,
				got.Product.RatingSum, got.Product.RatingCount, got.Version, wantSum, wantCount, p.Version)
		}
		return lastSeq(t, db)
	}
	r, err := db.WriteReview(ctx, review(c.ID, p.ID, 4), nil)
	if err != nil || r.Err != nil {
		t.Fatalf("add review: %v %v", err, r.Err)
	}
	cursor = productAfter("add", cursor, 4, 1)
	upd := r.Review
	upd.Stars, upd.UpdatedAt = 2, t0
	if r, _ := db.WriteReview(ctx, store.ReviewOp{Kind: store.OpUpdate, Review: upd}, nil); r.Err != nil {
		t.Fatal(r.Err)
	}
	cursor = productAfter("update", cursor, 2, 1)
	if err := db.DeleteCustomer(ctx, c.ID, 0, t0, "erp"); err != nil {
		t.Fatal(err)
	}
	productAfter("customer deleted", cursor, 0, 0)
	// A refused review moves nothing.
	cursor = lastSeq(t, db)
	if r, _ := db.WriteReview(ctx, review(c.ID, p.ID, 5), nil); r.Err == nil {
		t.Fatal("review by a deleted customer accepted")
	}
	if n := len(feedAll(t, db, cursor, 100)); n != 0 {
		t.Fatalf("a refused review left %d feed entries", n)
	}
}

// lastSeq is the feed's highest seq.
func lastSeq(t *testing.T, db store.Store) int64 {
	t.Helper()
	var seq int64
	for _, e := range feedAll(t, db, 0, 100000) {
		seq = max(seq, e.Seq)
	}
	return seq
}
