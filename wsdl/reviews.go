package wsdl

import (
	"context"

	"github.com/crmsoap/crmsoap/service"
)

// AddReviewContext adds a review. Faults: VALIDATION_FAILED, NOT_FOUND, DUPLICATE, INTERNAL.
func (a *Adapter) AddReviewContext(ctx context.Context, req *AddReview) (*AddReviewResponse, error) {
	w, err := a.svc.AddReview(withCaller(ctx), reviewDataIn(req.Review))
	if err != nil {
		return nil, faultOf(err)
	}
	return &AddReviewResponse{Review: reviewOut(w.Review), Rating: ratingOut(w.Rating)}, nil
}

// GetReviewContext reads a review. Faults: VALIDATION_FAILED, NOT_FOUND, INTERNAL.
func (a *Adapter) GetReviewContext(ctx context.Context, req *GetReview) (*GetReviewResponse, error) {
	r, err := a.svc.GetReview(withCaller(ctx), req.Id)
	if err != nil {
		return nil, faultOf(err)
	}
	return &GetReviewResponse{Review: reviewOut(r)}, nil
}

// UpdateReviewContext changes a review. Faults: VALIDATION_FAILED, NOT_FOUND, CONFLICT, INTERNAL.
func (a *Adapter) UpdateReviewContext(ctx context.Context, req *UpdateReview) (*UpdateReviewResponse, error) {
	w, err := a.svc.UpdateReview(withCaller(ctx), req.Id, req.ExpectedVersion, reviewDataIn(req.Review))
	if err != nil {
		return nil, faultOf(err)
	}
	return &UpdateReviewResponse{Review: reviewOut(w.Review), Rating: ratingOut(w.Rating)}, nil
}

// DeleteReviewContext deletes a review. Faults: VALIDATION_FAILED, NOT_FOUND, CONFLICT, INTERNAL.
func (a *Adapter) DeleteReviewContext(ctx context.Context, req *DeleteReview) (*DeleteReviewResponse, error) {
	w, err := a.svc.DeleteReview(withCaller(ctx), req.Id, req.ExpectedVersion)
	if err != nil {
		return nil, faultOf(err)
	}
	return &DeleteReviewResponse{Id: req.Id, Rating: ratingOut(w.Rating)}, nil
}

// SearchReviewsContext returns a page of reviews. Faults: VALIDATION_FAILED, INTERNAL.
func (a *Adapter) SearchReviewsContext(ctx context.Context, req *SearchReviews) (*SearchReviewsResponse, error) {
	sr := service.ReviewSearchRequest{PageToken: req.PageToken}
	if f := req.Filter; f != nil {
		sr.Filter = service.ReviewFilter{ProductID: f.ProductId, CustomerID: f.CustomerId, MinStars: int(f.MinStars)}
	}
	if req.PageSize != nil {
		n := int(*req.PageSize)
		sr.PageSize = &n
	}
	page, err := a.svc.SearchReviews(withCaller(ctx), sr)
	if err != nil {
		return nil, faultOf(err)
	}
	resp := &SearchReviewsResponse{NextPageToken: page.NextPageToken}
	for _, r := range page.Reviews {
		resp.Review = append(resp.Review, reviewOut(r))
	}
	return resp, nil
}

// AddReview forwards to AddReviewContext.
func (a *Adapter) AddReview(r *AddReview) (*AddReviewResponse, error) {
	return a.AddReviewContext(context.Background(), r)
}

// GetReview forwards to GetReviewContext.
func (a *Adapter) GetReview(r *GetReview) (*GetReviewResponse, error) {
	return a.GetReviewContext(context.Background(), r)
}

// UpdateReview forwards to UpdateReviewContext.
func (a *Adapter) UpdateReview(r *UpdateReview) (*UpdateReviewResponse, error) {
	return a.UpdateReviewContext(context.Background(), r)
}

// DeleteReview forwards to DeleteReviewContext.
func (a *Adapter) DeleteReview(r *DeleteReview) (*DeleteReviewResponse, error) {
	return a.DeleteReviewContext(context.Background(), r)
}

// SearchReviews forwards to SearchReviewsContext.
func (a *Adapter) SearchReviews(r *SearchReviews) (*SearchReviewsResponse, error) {
	return a.SearchReviewsContext(context.Background(), r)
}

func reviewDataIn(d *ReviewData) *service.ReviewData {
	if d == nil {
		return nil
	}
	out := &service.ReviewData{CustomerID: d.CustomerId, ProductID: d.ProductId, Title: d.Title, Text: d.Text}
	if d.Stars != nil {
		out.Stars = int(*d.Stars)
	}
	return out
}

func reviewOut(r service.Review) *Review {
	stars := Stars(r.Stars)
	return &Review{Id: r.ID, Version: r.Version, CreatedAt: dateTimeOut(r.CreatedAt), UpdatedAt: dateTimeOut(r.UpdatedAt),
		CustomerId: r.CustomerID, ProductId: r.ProductID, Stars: &stars, Title: r.Title, Text: r.Text}
}

func ratingOut(r service.Rating) *Rating {
	avg, count := DecimalAmount(r.Average), Quantity(r.Count)
	return &Rating{Average: &avg, Count: &count}
}
