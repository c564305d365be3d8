package service

import (
	"context"
	"strconv"

	"github.com/crmsoap/crmsoap/store"
)

// ProductFilter selects products in SearchProducts: every field given must
// match. NameContains is a case-insensitive substring of the name; Active nil
// does not filter; LowStockOnly keeps products at or below their threshold.
type ProductFilter struct {
	SKU, NameContains, Category string
	Active                      *bool
	LowStockOnly                bool
}

// ProductSearchRequest is one SearchProducts call (paging as SearchRequest).
type ProductSearchRequest struct {
	Filter    ProductFilter
	PageSize  *int
	PageToken string
}

// ProductPage is one page of products; NextPageToken is "" on the last page.
type ProductPage struct {
	Products      []Product
	NextPageToken string
}

func (f ProductFilter) check() (store.ProductFilter, error) {
	out := store.ProductFilter{Active: f.Active, LowStockOnly: f.LowStockOnly}
	var err error
	if out.SKU, err = text("filter/sku", f.SKU, maxSKU); err != nil {
		return out, err
	}
	if out.NameContains, err = text("filter/nameContains", f.NameContains, maxName); err != nil {
		return out, err
	}
	if out.Category, err = text("filter/category", f.Category, maxCategory); err != nil {
		return out, err
	}
	return out, nil
}

func bindProductFilter(f store.ProductFilter) [tokenBindLen]byte {
	active := ""
	if f.Active != nil {
		active = strconv.FormatBool(*f.Active)
	}
	return binding("products", f.SKU, f.NameContains, f.Category, active, strconv.FormatBool(f.LowStockOnly))
}

// SearchProducts returns a page of the products matching the filter, in id
// order (keyset paging, as SearchCustomers). Errors: VALIDATION_FAILED (filter,
// pageSize, pageToken), INTERNAL.
func (s *Service) SearchProducts(ctx context.Context, req ProductSearchRequest) (ProductPage, error) {
	limit, err := pageLimit("pageSize", req.PageSize, DefaultPageSize, MaxPageSize)
	if err != nil {
		return ProductPage{}, err
	}
	f, err := req.Filter.check()
	if err != nil {
		return ProductPage{}, err
	}
	codec, err := s.tokenCodec(ctx)
	if err != nil {
		return ProductPage{}, err
	}
	bind := bindProductFilter(f)
	var after int64
	if req.PageToken != "" {
		if after, err = codec.open(tokenSearchProducts, req.PageToken, bind); err != nil {
			return ProductPage{}, invalid("pageToken", "is not a token this server issued for this filter: "+
				"pass nextPageToken unchanged, with the same filter, or leave it out to start from the first page")
		}
	}
	rows, err := s.db.SearchProducts(ctx, f, after, limit+1)
	if err != nil {
		return ProductPage{}, s.fail(fromStore(err, "product search"))
	}
	var page ProductPage
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextPageToken = codec.seal(tokenSearchProducts, rows[limit-1].ID, bind)
	}
	page.Products = make([]Product, len(rows))
	for i, p := range rows {
		page.Products[i] = productFromStore(p)
	}
	return page, nil
}
