package service

import (
	"fmt"
	"strings"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// Field limits of products, in characters after trimming.
const (
	maxSKU         = 64
	maxDescription = 4000
	maxCategory    = 100
	maxReason      = 200
	// maxQuantity bounds stock quantities, thresholds and adjustments.
	maxQuantity = 1_000_000_000
)

// ProductData is what clients write about a product. StockQuantity is
// required; LowStockThreshold nil is 0; Active nil is true.
type ProductData struct {
	SKU, Name, Description, Category string
	Price                            *Money
	StockQuantity                    *int64
	LowStockThreshold                *int64
	Active                           *bool
}

// Rating is a product's review summary: Average is a decimal with 2 fraction
// digits ("0.00" without reviews).
type Rating struct {
	Average string
	Count   int64
}

// Product is a stored product as the CRM reports it. LowStock is computed:
// StockQuantity <= LowStockThreshold.
type Product struct {
	ID, Version                      int64
	CreatedAt, UpdatedAt             time.Time
	SKU, Name, Description, Category string
	Price                            Money
	StockQuantity, LowStockThreshold int64
	LowStock, Active                 bool
	Rating                           Rating
}

// Warning codes.
const (
	// WarningLowStock: the product ended at or below its low-stock threshold.
	WarningLowStock = "LOW_STOCK"
)

// Warning is something a successful write wants the caller to know.
type Warning struct {
	Code                             string
	ProductID                        int64
	SKU                              string
	StockQuantity, LowStockThreshold int64
}

// lowStockWarning is the LOW_STOCK warning of p, nil when its stock is above the threshold.
func lowStockWarning(p Product) *Warning {
	if !p.LowStock {
		return nil
	}
	return &Warning{Code: WarningLowStock, ProductID: p.ID, SKU: p.SKU, StockQuantity: p.StockQuantity,
		LowStockThreshold: p.LowStockThreshold}
}

// productFromData validates d; every failing rule is VALIDATION_FAILED naming
// the first offending field under "product/".
func productFromData(d *ProductData) (store.Product, error) {
	if d == nil {
		return store.Product{}, invalid("product", "is required")
	}
	var p store.Product
	var err error
	if p.SKU, err = text("product/sku", d.SKU, maxSKU); err != nil {
		return p, err
	}
	if p.SKU == "" {
		return p, invalid("product/sku", "is required (1 to %d characters)", maxSKU)
	}
	if p.Name, err = text("product/name", d.Name, maxName); err != nil {
		return p, err
	}
	if p.Name == "" {
		return p, invalid("product/name", "is required (1 to %d characters)", maxName)
	}
	if p.Description, err = longText("product/description", d.Description, maxDescription); err != nil {
		return p, err
	}
	if p.Category, err = text("product/category", d.Category, maxCategory); err != nil {
		return p, err
	}
	if p.PriceMinor, p.Currency, err = minorUnits("product/price", d.Price); err != nil {
		return p, err
	}
	if d.StockQuantity == nil {
		return p, invalid("product/stockQuantity", "is required")
	}
	if p.StockQuantity, err = quantity("product/stockQuantity", *d.StockQuantity); err != nil {
		return p, err
	}
	if d.LowStockThreshold != nil {
		if p.LowStockThreshold, err = quantity("product/lowStockThreshold", *d.LowStockThreshold); err != nil {
			return p, err
		}
	}
	p.Active = d.Active == nil || *d.Active
	return p, nil
}

// longText is text that may span lines: tabs and line breaks are allowed, other
// control characters are not.
func longText(field, s string, max int) (string, error) {
	if _, err := text(field, strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s), max); err != nil {
		return "", err
	}
	return strings.TrimSpace(s), nil
}

func quantity(field string, n int64) (int64, error) {
	switch {
	case n < 0:
		return 0, invalid(field, "must not be negative")
	case n > maxQuantity:
		return 0, invalid(field, "%d is more than %d", n, maxQuantity)
	}
	return n, nil
}

func productFromStore(p store.Product) Product {
	return Product{ID: p.ID, Version: p.Version, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
		SKU: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category,
		Price: moneyOf(p.PriceMinor, p.Currency), StockQuantity: p.StockQuantity,
		LowStockThreshold: p.LowStockThreshold, LowStock: p.LowStock(), Active: p.Active,
		Rating: ratingOf(p.RatingSum, p.RatingCount)}
}

func productName(id int64) string { return fmt.Sprintf("product %d", id) }

// validProductID checks a product id taken from a request.
func validProductID(field string, id int64) error {
	if id <= 0 {
		return invalid(field, "must be a positive product id")
	}
	return nil
}
