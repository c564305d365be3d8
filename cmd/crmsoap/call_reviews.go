package main

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/crmsoap/crmsoap/wsdl"
)

// invokeReviews calls the review operations.
func invokeReviews(ctx context.Context, c wsdl.CrmPortType, op string, f fields) (any, error) {
	switch op {
	case "AddReview":
		d, err := f.reviewData()
		if err != nil {
			return nil, err
		}
		return c.AddReviewContext(ctx, &wsdl.AddReview{Review: d})
	case "GetReview":
		id, err := f.int("id")
		if err != nil {
			return nil, err
		}
		return c.GetReviewContext(ctx, &wsdl.GetReview{Id: id})
	case "UpdateReview":
		id, ev, err1 := f.idVersion()
		d, err2 := f.reviewData()
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		return c.UpdateReviewContext(ctx, &wsdl.UpdateReview{Id: id, ExpectedVersion: ev, Review: d})
	case "DeleteReview":
		id, ev, err := f.idVersion()
		if err != nil {
			return nil, err
		}
		return c.DeleteReviewContext(ctx, &wsdl.DeleteReview{Id: id, ExpectedVersion: ev})
	case "SearchReviews":
		product, err1 := f.int("productId")
		customer, err2 := f.int("customerId")
		minStars, err3 := f.int32("minStars")
		ps, err4 := f.pageSize()
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil, err
		}
		return c.SearchReviewsContext(ctx, &wsdl.SearchReviews{PageToken: f["pageToken"], PageSize: ps,
			Filter: &wsdl.ReviewFilter{ProductId: product, CustomerId: customer, MinStars: minStars}})
	}
	return nil, fmt.Errorf("unknown operation %q (want AddCustomer, GetCustomer, UpdateCustomer, DeleteCustomer, "+
		"UpsertCustomer, DeleteCustomers, SearchCustomers, GetChanges, AddProduct, GetProduct, UpdateProduct, "+
		"DeleteProduct, UpsertProduct, SearchProducts, AdjustStock, PlaceOrder, GetOrder, UpdateOrderStatus, "+
		"SearchOrders, AddReview, GetReview, UpdateReview, DeleteReview or SearchReviews)", op)
}

// reviewData builds ReviewData from customerId= productId= stars= title= text=; stars is left out
// when not given, so that the server says it is missing.
func (f fields) reviewData() (*wsdl.ReviewData, error) {
	customer, err1 := f.int("customerId")
	product, err2 := f.int("productId")
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	d := &wsdl.ReviewData{CustomerId: customer, ProductId: product, Title: f["title"], Text: f["text"]}
	if _, ok := f["stars"]; ok {
		n, err := f.int32("stars")
		if err != nil {
			return nil, err
		}
		s := wsdl.Stars(n)
		d.Stars = &s
	}
	return d, nil
}

// int32 is f.int for a field the contract makes a 32-bit integer: a larger one is refused here
// rather than cut short.
func (f fields) int32(name string) (int32, error) {
	n, err := f.int(name)
	if err == nil && (n < math.MinInt32 || n > math.MaxInt32) {
		err = fmt.Errorf("%s=%q: out of range", name, f[name])
	}
	return int32(n), err
}
