package service

import (
	"context"
	"strconv"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// OrderFilter selects orders: CustomerID 0 and Status "" do not filter;
// PlacedFrom is inclusive, PlacedTo exclusive.
type OrderFilter struct {
	CustomerID           int64
	Status               string
	PlacedFrom, PlacedTo time.Time
}

// OrderSearchRequest is one SearchOrders call (paging as SearchRequest).
type OrderSearchRequest struct {
	Filter    OrderFilter
	PageSize  *int
	PageToken string
}

// OrderPage is one page of orders; NextPageToken is "" on the last page.
type OrderPage struct {
	Orders        []Order
	NextPageToken string
}

// SearchOrders returns a page of the orders matching the filter, in id order.
// Errors: VALIDATION_FAILED (filter, pageSize, pageToken), INTERNAL.
func (s *Service) SearchOrders(ctx context.Context, req OrderSearchRequest) (OrderPage, error) {
	limit, err := pageLimit("pageSize", req.PageSize, DefaultPageSize, MaxPageSize)
	if err != nil {
		return OrderPage{}, err
	}
	f := store.OrderFilter{CustomerID: req.Filter.CustomerID, Status: req.Filter.Status,
		PlacedFrom: req.Filter.PlacedFrom.UTC(), PlacedTo: req.Filter.PlacedTo.UTC()}
	switch f.Status {
	case "", StatusPlaced, StatusPaid, StatusShipped, StatusDelivered, StatusCancelled:
	default:
		return OrderPage{}, invalid("filter/status", "%q is not one of PLACED, PAID, SHIPPED, DELIVERED, CANCELLED", clip(f.Status))
	}
	if f.CustomerID < 0 {
		return OrderPage{}, invalid("filter/customerId", "must be a positive customer id")
	}
	codec, err := s.tokenCodec(ctx)
	if err != nil {
		return OrderPage{}, err
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return strconv.FormatInt(t.UnixNano(), 10)
	}
	bind := binding("orders", strconv.FormatInt(f.CustomerID, 10), f.Status, stamp(f.PlacedFrom), stamp(f.PlacedTo))
	var after int64
	if req.PageToken != "" {
		if after, err = codec.open(tokenSearchOrders, req.PageToken, bind); err != nil {
			return OrderPage{}, invalid("pageToken", "is not a token this server issued for this filter: "+
				"pass nextPageToken unchanged, with the same filter, or leave it out to start from the first page")
		}
	}
	rows, err := s.db.SearchOrders(ctx, f, after, limit+1)
	if err != nil {
		return OrderPage{}, s.fail(fromStore(err, "order search"))
	}
	var page OrderPage
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextPageToken = codec.seal(tokenSearchOrders, rows[limit-1].ID, bind)
	}
	page.Orders = make([]Order, len(rows))
	for i, o := range rows {
		page.Orders[i] = orderFromStore(o)
	}
	return page, nil
}
