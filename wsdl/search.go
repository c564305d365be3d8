package wsdl

import (
	"context"

	"github.com/crmsoap/crmsoap/service"
)

// SearchCustomersContext returns a page of the customers matching the filter.
// Faults: VALIDATION_FAILED (filter, pageSize, pageToken), INTERNAL.
func (a *Adapter) SearchCustomersContext(ctx context.Context, req *SearchCustomers) (*SearchCustomersResponse, error) {
	sr := service.SearchRequest{PageToken: req.PageToken}
	if f := req.Filter; f != nil {
		sr.Filter = service.CustomerFilter{ExternalID: f.ExternalId, Email: f.Email, NameContains: f.NameContains,
			Company: f.Company, Country: f.Country, UpdatedSince: dateTimeIn(f.UpdatedSince)}
	}
	if req.PageSize != nil {
		n := int(*req.PageSize)
		sr.PageSize = &n
	}
	page, err := a.svc.SearchCustomers(withCaller(ctx), sr)
	if err != nil {
		return nil, faultOf(err)
	}
	resp := &SearchCustomersResponse{Customer: make([]*Customer, len(page.Customers)), NextPageToken: page.NextPageToken}
	for i, c := range page.Customers {
		resp.Customer[i] = customerOut(c)
	}
	return resp, nil
}

// GetChangesContext reads the change feed after the cursor. Faults:
// VALIDATION_FAILED (cursor, maxChanges), CURSOR_EXPIRED, INTERNAL.
func (a *Adapter) GetChangesContext(ctx context.Context, req *GetChanges) (*GetChangesResponse, error) {
	var max *int
	if req.MaxChanges != nil {
		n := int(*req.MaxChanges)
		max = &n
	}
	page, err := a.svc.GetChanges(withCaller(ctx), req.Cursor, max)
	if err != nil {
		return nil, faultOf(err)
	}
	more := Flag(page.HasMore)
	resp := &GetChangesResponse{Change: make([]*Change, len(page.Changes)), NextCursor: page.NextCursor, HasMore: &more}
	for i, ch := range page.Changes {
		entity, kind := Entity(ch.Entity), ChangeKind(ch.Kind)
		out := &Change{Seq: ch.Seq, Entity: &entity, Kind: &kind, Id: ch.ID, ExternalId: ch.ExternalID,
			Version: ch.Version, At: dateTimeOut(ch.At), Actor: ch.Actor}
		if ch.Customer != nil {
			out.Customer = customerOut(*ch.Customer)
		}
		if ch.Product != nil {
			out.Product = productOut(*ch.Product)
		}
		if ch.Order != nil {
			out.Order = orderOut(*ch.Order)
		}
		if ch.Review != nil {
			out.Review = reviewOut(*ch.Review)
		}
		resp.Change[i] = out
	}
	return resp, nil
}

// SearchCustomers forwards to SearchCustomersContext.
func (a *Adapter) SearchCustomers(r *SearchCustomers) (*SearchCustomersResponse, error) {
	return a.SearchCustomersContext(context.Background(), r)
}

// GetChanges forwards to GetChangesContext.
func (a *Adapter) GetChanges(r *GetChanges) (*GetChangesResponse, error) {
	return a.GetChangesContext(context.Background(), r)
}
