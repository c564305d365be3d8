package main

import (
	"strings"
	"testing"
)

// TestCall_ReviewOperations runs every review operation through `crmsoap call` against the real
// binary: the rating each write answers, the faults of bad input (each leaving the reviews as they
// were), and the client-side refusal of a number the contract cannot carry.
func TestCall_ReviewOperations(t *testing.T) {
	srv := startDevServer(t, "")
	call := func(args ...string) (string, error) {
		t.Helper()
		return run(t, append([]string{"call", "--url", srv.URL}, args...)...)
	}
	mustCall := func(want []string, args ...string) string {
		t.Helper()
		out, err := call(args...)
		if err != nil {
			t.Fatalf("call %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Fatalf("call %s:\n%s\nwant %s", strings.Join(args, " "), out, w)
			}
		}
		return out
	}
	mustCall([]string{"<id>1</id>"}, "AddCustomer", "name=Reviewer")
	mustCall([]string{"<id>1</id>"}, "AddProduct", "sku=R-1", "name=Anvil", "price=19.90", "currency=EUR", "stock=5")
	reviews := func() string {
		t.Helper()
		return mustCall(nil, "SearchReviews", "productId=1")
	}

	mustCall([]string{"<stars>4</stars>", "<title>Solid anvil</title>", "<text>Heavy &amp; true.</text>",
		"<average>4.00</average>", "<count>1</count>"},
		"AddReview", "customerId=1", "productId=1", "stars=4", "title=Solid anvil", "text=Heavy & true.")
	before := reviews()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"AddReview", "customerId=1", "productId=1", "stars=5"}, "fault DUPLICATE"},
		{[]string{"AddReview", "customerId=1", "productId=1", "stars=9"}, "fault VALIDATION_FAILED: review/stars: must be 1 to 5 (field review/stars)"},
		{[]string{"AddReview", "customerId=1", "productId=1"}, "(field review/stars)"},
		{[]string{"AddReview", "customerId=1", "productId=7", "stars=3"}, "fault NOT_FOUND: product 7 does not exist (field review/productId)"},
		{[]string{"AddReview", "customerId=1", "productId=1", "stars=4294967300"}, `stars="4294967300": out of range`},
		{[]string{"AddReview", "customerId=x", "productId=1", "stars=4"}, `customerId="x": not an integer`},
		{[]string{"UpdateReview", "id=1", "expectedVersion=7", "stars=2"}, "fault CONFLICT"},
		{[]string{"DeleteReview", "id=1", "expectedVersion=7"}, "fault CONFLICT"},
		{[]string{"SearchReviews", "minStars=6"}, "(field filter/minStars)"},
	} {
		out, err := call(tc.args...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("call %s: %v\n%s\nwant %q", strings.Join(tc.args, " "), err, out, tc.want)
		}
		if after := reviews(); after != before {
			t.Fatalf("call %s wrote:\n%s\nthen\n%s", strings.Join(tc.args, " "), before, after)
		}
	}

	mustCall([]string{"<title>Solid anvil</title>", "<version>1</version>"}, "GetReview", "id=1")
	mustCall([]string{"<version>2</version>", "<stars>2</stars>", "<title>Dented</title>", "<average>2.00</average>"},
		"UpdateReview", "id=1", "expectedVersion=1", "stars=2", "title=Dented")
	mustCall([]string{"<title>Dented</title>"}, "SearchReviews", "productId=1", "customerId=1", "minStars=2", "pageSize=5")
	if out := mustCall(nil, "SearchReviews", "productId=1", "minStars=3"); strings.Contains(out, "<review>") {
		t.Errorf("SearchReviews minStars=3 found the 2-star review:\n%s", out)
	}
	mustCall([]string{"<id>1</id>", "<average>0.00</average>", "<count>0</count>"}, "DeleteReview", "id=1", "expectedVersion=2")
	if out, err := call("GetReview", "id=1"); err == nil || !strings.Contains(out, "fault NOT_FOUND") {
		t.Errorf("GetReview of the deleted review: %v\n%s", err, out)
	}
	if out, err := call("Review", "id=1"); err == nil || !strings.Contains(out, `unknown operation "Review"`) ||
		!strings.Contains(out, "SearchReviews)") {
		t.Errorf("an unknown operation: %v\n%s", err, out)
	}
}
