package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/crmsoap/crmsoap/wsdl"
)

func stars(n int32) *wsdl.Stars { s := wsdl.Stars(n); return &s }

// TestServe_ReviewsAndRating runs reviews over the generated client: the
// product's rating is exact (4+4+5 = 4.33), follows every change, and bad input
// of each kind is a fault that writes nothing.
func TestServe_ReviewsAndRating(t *testing.T) { forEachBackend(t, testReviewsAndRating) }

func testReviewsAndRating(t *testing.T, db string) {
	srv := startDevServer(t, db)
	c, ctx := srv.client(), waitCtx(t)
	cust, p1, _ := orderFixture(t, c, srv)
	var custs []int64
	for i := range 2 {
		r, err := c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: fmt.Sprint("Reviewer ", i)}})
		if err != nil {
			t.Fatal(err)
		}
		custs = append(custs, r.Customer.Id)
	}
	first, err := c.AddReviewContext(ctx, &wsdl.AddReview{Review: &wsdl.ReviewData{CustomerId: cust, ProductId: p1, Stars: stars(4), Title: "ok"}})
	if err != nil || string(*first.Rating.Average) != "4.00" || *first.Rating.Count != 1 || *first.Review.Stars != 4 {
		t.Fatalf("AddReview: %+v, %v", first, err)
	}
	for i, n := range []int32{4, 5} {
		if _, err := c.AddReviewContext(ctx, &wsdl.AddReview{Review: &wsdl.ReviewData{CustomerId: custs[i], ProductId: p1, Stars: stars(n)}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.GetProductContext(ctx, &wsdl.GetProduct{Id: p1})
	if err != nil || string(*got.Product.Rating.Average) != "4.33" || *got.Product.Rating.Count != 3 {
		t.Fatalf("rating read back: %+v, %v", got.Product.Rating, err)
	}
	upd, err := c.UpdateReviewContext(ctx, &wsdl.UpdateReview{Id: first.Review.Id, ExpectedVersion: 1, Review: &wsdl.ReviewData{Stars: stars(1)}})
	if err != nil || string(*upd.Rating.Average) != "3.33" || upd.Review.Version != 2 {
		t.Fatalf("UpdateReview: %+v, %v", upd, err)
	}
	del, err := c.DeleteReviewContext(ctx, &wsdl.DeleteReview{Id: first.Review.Id})
	if err != nil || string(*del.Rating.Average) != "4.50" || *del.Rating.Count != 2 {
		t.Fatalf("DeleteReview: %+v, %v", del, err)
	}
	feed, err := c.GetChangesContext(ctx, &wsdl.GetChanges{})
	if err != nil {
		t.Fatal(err)
	}
	var live, gone int
	for _, ch := range feed.Change {
		if *ch.Entity == wsdl.EntityREVIEW {
			if *ch.Kind == wsdl.ChangeKindDELETED {
				gone++
			} else if ch.Review != nil && ch.Review.ProductId == p1 {
				live++
			}
		}
	}
	if live != 2 || gone != 1 {
		t.Errorf("feed: %d live reviews, %d deleted; want 2 and 1", live, gone)
	}
	page, err := c.SearchReviewsContext(ctx, &wsdl.SearchReviews{Filter: &wsdl.ReviewFilter{ProductId: p1, MinStars: 5}})
	if err != nil || len(page.Review) != 1 || *page.Review[0].Stars != 5 {
		t.Fatalf("SearchReviews: %+v, %v", page, err)
	}

	body := func(custID, prodID int64, extra string) string {
		return fmt.Sprintf(`<c:AddReview><c:review><c:customerId>%d</c:customerId><c:productId>%d</c:productId>%s</c:review></c:AddReview>`, custID, prodID, extra)
	}
	before := productState(t, srv.DB)
	for _, tc := range []struct{ name, body, code, field string }{
		{"stars 0", body(cust, p1, `<c:stars>0</c:stars>`), "VALIDATION_FAILED", "review/stars"},
		{"stars 6", body(cust, p1, `<c:stars>6</c:stars>`), "VALIDATION_FAILED", "review/stars"},
		{"no stars", body(cust, p1, ``), "VALIDATION_FAILED", "review/stars"},
		{"title of 201", body(cust, p1, `<c:stars>3</c:stars><c:title>`+strings.Repeat("t", 201)+`</c:title>`), "VALIDATION_FAILED", "review/title"},
		{"text of 4001", body(cust, p1, `<c:stars>3</c:stars><c:text>`+strings.Repeat("t", 4001)+`</c:text>`), "VALIDATION_FAILED", "review/text"},
		{"second review", body(custs[0], p1, `<c:stars>3</c:stars>`), "DUPLICATE", "review/productId"},
		{"unknown product", body(cust, p1+99, `<c:stars>3</c:stars>`), "NOT_FOUND", "review/productId"},
		{"unknown customer", body(cust+99, p1, `<c:stars>3</c:stars>`), "NOT_FOUND", "review/customerId"},
	} {
		for _, v := range []struct {
			ns, ct string
			status int
		}{{ns11, ct11, http.StatusInternalServerError}, {ns12, ct12, http.StatusBadRequest}} {
			status, _, resp := post(t, srv.URL, v.ct, "", envelope(v.ns, "", tc.body))
			if status != v.status || elementText(t, resp, "code") != tc.code || elementText(t, resp, "field") != tc.field {
				t.Errorf("%s (%s): HTTP %d code %q field %q, want %s on %q\n%s", tc.name, v.ns, status,
					elementText(t, resp, "code"), elementText(t, resp, "field"), tc.code, tc.field, resp)
			}
		}
	}
	if after := productState(t, srv.DB); after != before {
		t.Errorf("bad reviews wrote: %s -> %s", before, after)
	}
}
