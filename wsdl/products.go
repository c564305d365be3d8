package wsdl

import (
	"context"

	"github.com/crmsoap/crmsoap/service"
)

// AddProductContext creates a product. Faults: VALIDATION_FAILED, DUPLICATE, INTERNAL.
func (a *Adapter) AddProductContext(ctx context.Context, req *AddProduct) (*AddProductResponse, error) {
	p, err := a.svc.AddProduct(withCaller(ctx), productDataIn(req.Product))
	if err != nil {
		return nil, faultOf(err)
	}
	return &AddProductResponse{Product: productOut(p)}, nil
}

// GetProductContext reads a product. Faults: VALIDATION_FAILED, NOT_FOUND, INTERNAL.
func (a *Adapter) GetProductContext(ctx context.Context, req *GetProduct) (*GetProductResponse, error) {
	p, err := a.svc.GetProduct(withCaller(ctx), req.Id)
	if err != nil {
		return nil, faultOf(err)
	}
	return &GetProductResponse{Product: productOut(p)}, nil
}

// UpdateProductContext replaces a product. Faults: VALIDATION_FAILED, NOT_FOUND, CONFLICT, DUPLICATE, INTERNAL.
func (a *Adapter) UpdateProductContext(ctx context.Context, req *UpdateProduct) (*UpdateProductResponse, error) {
	p, err := a.svc.UpdateProduct(withCaller(ctx), req.Id, req.ExpectedVersion, productDataIn(req.Product))
	if err != nil {
		return nil, faultOf(err)
	}
	return &UpdateProductResponse{Product: productOut(p)}, nil
}

// DeleteProductContext deletes a product. Faults: VALIDATION_FAILED, NOT_FOUND, CONFLICT, INTERNAL.
func (a *Adapter) DeleteProductContext(ctx context.Context, req *DeleteProduct) (*DeleteProductResponse, error) {
	if err := a.svc.DeleteProduct(withCaller(ctx), req.Id, req.ExpectedVersion); err != nil {
		return nil, faultOf(err)
	}
	return &DeleteProductResponse{Id: req.Id}, nil
}

// UpsertProductContext creates or replaces a product by sku. Faults: as UpdateProduct.
func (a *Adapter) UpsertProductContext(ctx context.Context, req *UpsertProduct) (*UpsertProductResponse, error) {
	p, created, err := a.svc.UpsertProduct(withCaller(ctx), productDataIn(req.Product), req.ExpectedVersion)
	if err != nil {
		return nil, faultOf(err)
	}
	c := Flag(created)
	return &UpsertProductResponse{Product: productOut(p), Created: &c}, nil
}

// UpsertProductsContext upserts products by sku, one SaveResult per item.
// Faults: VALIDATION_FAILED (none, or too many), INTERNAL.
func (a *Adapter) UpsertProductsContext(ctx context.Context, req *UpsertProducts) (*UpsertProductsResponse, error) {
	items := make([]*service.ProductData, len(req.Product))
	for i, d := range req.Product {
		items[i] = productDataIn(d)
	}
	out, err := a.svc.UpsertProducts(withCaller(ctx), req.AllOrNone, items)
	if err != nil {
		return nil, faultOf(err)
	}
	return &UpsertProductsResponse{Result: saveResults(ctx, out, true,
		func(p service.Product) (int64, int64) { return p.ID, p.Version })}, nil
}

// SearchProductsContext returns a page of the products matching the filter.
// Faults: VALIDATION_FAILED (filter, pageSize, pageToken), INTERNAL.
func (a *Adapter) SearchProductsContext(ctx context.Context, req *SearchProducts) (*SearchProductsResponse, error) {
	sr := service.ProductSearchRequest{PageToken: req.PageToken}
	if f := req.Filter; f != nil {
		sr.Filter = service.ProductFilter{SKU: f.Sku, NameContains: f.NameContains, Category: f.Category,
			LowStockOnly: f.LowStockOnly}
		if f.Active != nil {
			active := bool(*f.Active)
			sr.Filter.Active = &active
		}
	}
	if req.PageSize != nil {
		n := int(*req.PageSize)
		sr.PageSize = &n
	}
	page, err := a.svc.SearchProducts(withCaller(ctx), sr)
	if err != nil {
		return nil, faultOf(err)
	}
	resp := &SearchProductsResponse{Product: make([]*Product, len(page.Products)), NextPageToken: page.NextPageToken}
	for i, p := range page.Products {
		resp.Product[i] = productOut(p)
	}
	return resp, nil
}

// AdjustStockContext changes a product's stock. Faults: VALIDATION_FAILED,
// NOT_FOUND, CONFLICT, INSUFFICIENT_STOCK, INTERNAL.
func (a *Adapter) AdjustStockContext(ctx context.Context, req *AdjustStock) (*AdjustStockResponse, error) {
	p, w, err := a.svc.AdjustStock(withCaller(ctx), req.ProductId, req.Delta, req.Reason, req.ExpectedVersion)
	if err != nil {
		return nil, faultOf(err)
	}
	return &AdjustStockResponse{Product: productOut(p), Warning: warningOut(w)}, nil
}

// AddProduct forwards to AddProductContext.
func (a *Adapter) AddProduct(r *AddProduct) (*AddProductResponse, error) {
	return a.AddProductContext(context.Background(), r)
}

// GetProduct forwards to GetProductContext.
func (a *Adapter) GetProduct(r *GetProduct) (*GetProductResponse, error) {
	return a.GetProductContext(context.Background(), r)
}

// UpdateProduct forwards to UpdateProductContext.
func (a *Adapter) UpdateProduct(r *UpdateProduct) (*UpdateProductResponse, error) {
	return a.UpdateProductContext(context.Background(), r)
}

// DeleteProduct forwards to DeleteProductContext.
func (a *Adapter) DeleteProduct(r *DeleteProduct) (*DeleteProductResponse, error) {
	return a.DeleteProductContext(context.Background(), r)
}

// UpsertProduct forwards to UpsertProductContext.
func (a *Adapter) UpsertProduct(r *UpsertProduct) (*UpsertProductResponse, error) {
	return a.UpsertProductContext(context.Background(), r)
}

// UpsertProducts forwards to UpsertProductsContext.
func (a *Adapter) UpsertProducts(r *UpsertProducts) (*UpsertProductsResponse, error) {
	return a.UpsertProductsContext(context.Background(), r)
}

// SearchProducts forwards to SearchProductsContext.
func (a *Adapter) SearchProducts(r *SearchProducts) (*SearchProductsResponse, error) {
	return a.SearchProductsContext(context.Background(), r)
}

// AdjustStock forwards to AdjustStockContext.
func (a *Adapter) AdjustStock(r *AdjustStock) (*AdjustStockResponse, error) {
	return a.AdjustStockContext(context.Background(), r)
}

// productDataIn is the domain view of a request's ProductData; nil stays nil.
func productDataIn(d *ProductData) *service.ProductData {
	if d == nil {
		return nil
	}
	out := &service.ProductData{SKU: d.Sku, Name: d.Name, Description: d.Description, Category: d.Category}
	if d.Price != nil {
		out.Price = &service.Money{Currency: d.Price.Currency}
		if d.Price.Amount != nil {
			out.Price.Amount = string(*d.Price.Amount)
		}
	}
	if d.StockQuantity != nil {
		n := int64(*d.StockQuantity)
		out.StockQuantity = &n
	}
	if d.LowStockThreshold != nil {
		n := int64(*d.LowStockThreshold)
		out.LowStockThreshold = &n
	}
	if d.Active != nil {
		active := bool(*d.Active)
		out.Active = &active
	}
	return out
}

// productOut renders a product in the contract's Product type.
func productOut(p service.Product) *Product {
	amount := DecimalAmount(p.Price.Amount)
	stock, threshold := Quantity(p.StockQuantity), Quantity(p.LowStockThreshold)
	low, active := Flag(p.LowStock), Flag(p.Active)
	return &Product{Id: p.ID, Version: p.Version, CreatedAt: dateTimeOut(p.CreatedAt), UpdatedAt: dateTimeOut(p.UpdatedAt),
		Sku: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category,
		Price: &Money{Amount: &amount, Currency: p.Price.Currency}, StockQuantity: &stock,
		LowStockThreshold: &threshold, LowStock: &low, Active: &active,
		Rating: ratingOut(p.Rating)}
}

// warningOut renders w; nil stays nil.
func warningOut(w *service.Warning) *Warning {
	if w == nil {
		return nil
	}
	code := WarningCode(w.Code)
	stock, threshold := Quantity(w.StockQuantity), Quantity(w.LowStockThreshold)
	return &Warning{Code: &code, ProductId: w.ProductID, Sku: w.SKU, StockQuantity: &stock, LowStockThreshold: &threshold}
}
