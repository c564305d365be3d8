package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/crmsoap/crmsoap/cmd/internal/records"
	"github.com/crmsoap/crmsoap/wsdl"
)

// The product fields. id, version, createdAt, updatedAt, lowStock and rating
// are read-only: export writes them, import ignores them.
const (
	pID = iota
	pVersion
	pCreatedAt
	pUpdatedAt
	pSKU
	pName
	pDescription
	pCategory
	pPriceAmount
	pPriceCurrency
	pStockQuantity
	pLowStockThreshold
	pLowStock
	pActive
	pRatingAverage
	pRatingCount
)

var productsFile = &fileEntity{
	Entity: records.Entity{Name: "products", Element: "product", Fields: []records.Field{
		{Name: "id", Number: true}, {Name: "version", Number: true}, {Name: "createdAt"}, {Name: "updatedAt"},
		{Name: "sku"}, {Name: "name"}, {Name: "description"}, {Name: "category"}, {Name: "price.amount"},
		{Name: "price.currency"}, {Name: "stockQuantity", Number: true}, {Name: "lowStockThreshold", Number: true},
		{Name: "lowStock", Bool: true}, {Name: "active", Bool: true}, {Name: "rating.average"},
		{Name: "rating.count", Number: true},
	}},
	wire:    wsdl.EntityPRODUCT,
	row:     productRow,
	prepare: productItem,
	upsert: func(ctx context.Context, c wsdl.CrmPortType, items []any) ([]*wsdl.SaveResult, error) {
		resp, err := c.UpsertProductsContext(ctx, &wsdl.UpsertProducts{Product: itemsOf[*wsdl.ProductData](items)})
		if err != nil {
			return nil, err
		}
		return resp.Result, nil
	},
}

func productRow(ch *wsdl.Change, v []string) bool {
	p := ch.Product
	if p == nil {
		return false
	}
	clear(v)
	v[pID] = strconv.FormatInt(p.Id, 10)
	v[pVersion] = strconv.FormatInt(p.Version, 10)
	v[pCreatedAt] = wireTime(p.CreatedAt)
	v[pUpdatedAt] = wireTime(p.UpdatedAt)
	v[pSKU], v[pName], v[pDescription], v[pCategory] = p.Sku, p.Name, p.Description, p.Category
	v[pPriceAmount], v[pPriceCurrency] = moneyColumns(p.Price)
	v[pStockQuantity] = quantityColumn(p.StockQuantity)
	v[pLowStockThreshold] = quantityColumn(p.LowStockThreshold)
	if p.LowStock != nil {
		v[pLowStock] = strconv.FormatBool(bool(*p.LowStock))
	}
	if p.Active != nil {
		v[pActive] = strconv.FormatBool(bool(*p.Active))
	}
	if r := p.Rating; r != nil {
		if r.Average != nil {
			v[pRatingAverage] = string(*r.Average)
		}
		v[pRatingCount] = quantityColumn(r.Count)
	}
	return true
}

// moneyColumns is an amount (the server's exact decimal string, unchanged)
// and its currency.
func moneyColumns(m *wsdl.Money) (amount, currency string) {
	if m == nil {
		return "", ""
	}
	if m.Amount != nil {
		amount = string(*m.Amount)
	}
	return amount, m.Currency
}

func quantityColumn(q *wsdl.Quantity) string {
	if q == nil {
		return ""
	}
	return strconv.FormatInt(int64(*q), 10)
}

func productItem(v []string) (any, *records.RowError) {
	if v[pSKU] == "" {
		return nil, &records.RowError{Field: "sku", Message: "is required: import upserts products by sku"}
	}
	d := &wsdl.ProductData{Sku: v[pSKU], Name: v[pName], Description: v[pDescription], Category: v[pCategory]}
	if v[pPriceAmount] != "" || v[pPriceCurrency] != "" {
		d.Price = &wsdl.Money{Currency: v[pPriceCurrency]}
		if v[pPriceAmount] != "" {
			if !isDecimal(v[pPriceAmount]) {
				return nil, &records.RowError{Field: "price.amount",
					Message: fmt.Sprintf("%q: want a decimal number such as 12.30", v[pPriceAmount])}
			}
			a := wsdl.DecimalAmount(v[pPriceAmount])
			d.Price.Amount = &a
		}
	}
	var re *records.RowError
	if d.StockQuantity, re = quantityItem("stockQuantity", v[pStockQuantity]); re != nil {
		return nil, re
	}
	if d.LowStockThreshold, re = quantityItem("lowStockThreshold", v[pLowStockThreshold]); re != nil {
		return nil, re
	}
	if v[pActive] != "" {
		b, err := strconv.ParseBool(v[pActive])
		if err != nil {
			return nil, &records.RowError{Field: "active", Message: fmt.Sprintf("%q: want true or false", v[pActive])}
		}
		f := wsdl.Flag(b)
		d.Active = &f
	}
	return d, nil
}

func quantityItem(field, s string) (*wsdl.Quantity, *records.RowError) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, &records.RowError{Field: field, Message: fmt.Sprintf("%q: want a whole number", s)}
	}
	q := wsdl.Quantity(n)
	return &q, nil
}

// isDecimal reports whether s is a plain decimal numeral (digits with an
// optional '.' and fraction, an optional sign): the contract's DecimalAmount.
// The server checks the rest (sign, the currency's digits).
func isDecimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
			digits++
		case s[i] == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}
