package service_test

import (
	"strings"
	"testing"

	"github.com/crmsoap/crmsoap/service"
)

func TestReviewFlow(t *testing.T) {
	s := newService(t)
	cust, a, _ := orderSetup(t, s)
	c2, _ := s.AddCustomer(caller, &service.CustomerData{Name: "Second"})
	c3, _ := s.AddCustomer(caller, &service.CustomerData{Name: "Third"})
	w, err := s.AddReview(caller, &service.ReviewData{CustomerID: cust, ProductID: a, Stars: 5, Title: "great"})
	if err != nil || w.Rating != (service.Rating{Average: "5.00", Count: 1}) {
		t.Fatalf("first review: %+v, %v", w, err)
	}
	if _, err := s.AddReview(caller, &service.ReviewData{CustomerID: c2.ID, ProductID: a, Stars: 4}); err != nil {
		t.Fatal(err)
	}
	w3, err := s.AddReview(caller, &service.ReviewData{CustomerID: c3.ID, ProductID: a, Stars: 4})
	if err != nil || w3.Rating.Average != "4.33" {
		t.Fatalf("third review: %+v, %v", w3, err)
	}
	_, err = s.AddReview(caller, &service.ReviewData{CustomerID: cust, ProductID: a, Stars: 1})
	wantFault(t, err, service.CodeDuplicate, "review/productId")
	for _, tc := range []struct {
		d     service.ReviewData
		code  service.Code
		field string
	}{
		{service.ReviewData{CustomerID: cust, ProductID: a, Stars: 0}, service.CodeValidationFailed, "review/stars"},
		{service.ReviewData{CustomerID: cust, ProductID: a, Stars: 6}, service.CodeValidationFailed, "review/stars"},
		{service.ReviewData{CustomerID: cust, ProductID: a, Stars: 3, Title: strings.Repeat("t", 201)}, service.CodeValidationFailed, "review/title"},
		{service.ReviewData{CustomerID: cust, ProductID: a, Stars: 3, Text: strings.Repeat("t", 4001)}, service.CodeValidationFailed, "review/text"},
		{service.ReviewData{CustomerID: cust + 90, ProductID: a, Stars: 3}, service.CodeNotFound, "review/customerId"},
		{service.ReviewData{CustomerID: cust, ProductID: a + 90, Stars: 3}, service.CodeNotFound, "review/productId"},
	} {
		_, err := s.AddReview(caller, &tc.d)
		wantFault(t, err, tc.code, tc.field)
	}
	if p, _ := s.GetProduct(caller, a); p.Rating != (service.Rating{Average: "4.33", Count: 3}) {
		t.Fatalf("rating after refused reviews: %+v", p.Rating)
	}
	u, err := s.UpdateReview(caller, w3.Review.ID, 1, &service.ReviewData{Stars: 1})
	if err != nil || u.Rating.Average != "3.33" || u.Review.Version != 2 {
		t.Fatalf("update: %+v, %v", u, err)
	}
	d, err := s.DeleteReview(caller, w.Review.ID, 0)
	if err != nil || d.Rating != (service.Rating{Average: "2.50", Count: 2}) {
		t.Fatalf("delete: %+v, %v", d, err)
	}
	if err := s.DeleteCustomer(caller, c2.ID, 0); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.GetProduct(caller, a); p.Rating != (service.Rating{Average: "1.00", Count: 1}) {
		t.Fatalf("rating after deleting a reviewer: %+v", p.Rating)
	}
	page, err := s.SearchReviews(caller, service.ReviewSearchRequest{Filter: service.ReviewFilter{ProductID: a}})
	if err != nil || len(page.Reviews) != 1 || page.Reviews[0].ID != w3.Review.ID {
		t.Fatalf("search: %+v, %v", page, err)
	}
}
