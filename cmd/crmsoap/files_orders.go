package main

import (
	"strconv"

	"github.com/crmsoap/crmsoap/cmd/internal/records"
	"github.com/crmsoap/crmsoap/wsdl"
)

// The order fields; every one is read-only (orders are exported, not
// imported: PlaceOrder prices and stocks them).
const (
	oID = iota
	oVersion
	oOrderNumber
	oExternalID
	oCustomerID
	oStatus
	oPlacedAt
	oUpdatedAt
	oCurrency
	oTotalAmount
	oTotalCurrency
	oNote
)

// The fields of an order line.
const (
	lLineNo = iota
	lProductID
	lSKU
	lProductName
	lQuantity
	lUnitAmount
	lUnitCurrency
	lLineAmount
	lLineCurrency
)

var ordersFile = &fileEntity{
	Entity: records.Entity{Name: "orders", Element: "order", Fields: []records.Field{
		{Name: "id", Number: true}, {Name: "version", Number: true}, {Name: "orderNumber"}, {Name: "externalId"},
		{Name: "customerId", Number: true}, {Name: "status"}, {Name: "placedAt"}, {Name: "updatedAt"},
		{Name: "currency"}, {Name: "totalAmount.amount"}, {Name: "totalAmount.currency"}, {Name: "note"},
	}, Lines: &records.Lines{Name: "line", At: oTotalAmount, Fields: []records.Field{
		{Name: "lineNo", Number: true}, {Name: "productId", Number: true}, {Name: "sku"}, {Name: "productName"},
		{Name: "quantity", Number: true}, {Name: "unitPrice.amount"}, {Name: "unitPrice.currency"},
		{Name: "lineAmount.amount"}, {Name: "lineAmount.currency"},
	}}},
	wire:  wsdl.EntityORDER,
	row:   orderRow,
	lines: orderLines,
}

func orderRow(ch *wsdl.Change, v []string) bool {
	o := ch.Order
	if o == nil {
		return false
	}
	clear(v)
	v[oID] = strconv.FormatInt(o.Id, 10)
	v[oVersion] = strconv.FormatInt(o.Version, 10)
	v[oOrderNumber], v[oExternalID] = o.OrderNumber, o.ExternalId
	v[oCustomerID] = strconv.FormatInt(o.CustomerId, 10)
	if o.Status != nil {
		v[oStatus] = string(*o.Status)
	}
	v[oPlacedAt], v[oUpdatedAt] = wireTime(o.PlacedAt), wireTime(o.UpdatedAt)
	v[oCurrency] = o.Currency
	v[oTotalAmount], v[oTotalCurrency] = moneyColumns(o.TotalAmount)
	v[oNote] = o.Note
	return true
}

// orderLines are the lines of the order of ch, reusing buf.
func orderLines(ch *wsdl.Change, buf [][]string) [][]string {
	buf = buf[:0]
	for _, l := range ch.Order.Line {
		v := make([]string, lLineCurrency+1)
		v[lLineNo] = strconv.Itoa(int(l.LineNo))
		v[lProductID] = strconv.FormatInt(l.ProductId, 10)
		v[lSKU], v[lProductName] = l.Sku, l.ProductName
		v[lQuantity] = quantityColumn(l.Quantity)
		v[lUnitAmount], v[lUnitCurrency] = moneyColumns(l.UnitPrice)
		v[lLineAmount], v[lLineCurrency] = moneyColumns(l.LineAmount)
		buf = append(buf, v)
	}
	return buf
}

// The review fields; every one is read-only (reviews are exported, not
// imported).
const (
	rID = iota
	rVersion
	rCreatedAt
	rUpdatedAt
	rCustomerID
	rProductID
	rStars
	rTitle
	rText
)

var reviewsFile = &fileEntity{
	Entity: records.Entity{Name: "reviews", Element: "review", Fields: []records.Field{
		{Name: "id", Number: true}, {Name: "version", Number: true}, {Name: "createdAt"}, {Name: "updatedAt"},
		{Name: "customerId", Number: true}, {Name: "productId", Number: true}, {Name: "stars", Number: true},
		{Name: "title"}, {Name: "text"},
	}},
	wire: wsdl.EntityREVIEW,
	row:  reviewRow,
}

func reviewRow(ch *wsdl.Change, v []string) bool {
	r := ch.Review
	if r == nil {
		return false
	}
	clear(v)
	v[rID] = strconv.FormatInt(r.Id, 10)
	v[rVersion] = strconv.FormatInt(r.Version, 10)
	v[rCreatedAt], v[rUpdatedAt] = wireTime(r.CreatedAt), wireTime(r.UpdatedAt)
	v[rCustomerID] = strconv.FormatInt(r.CustomerId, 10)
	v[rProductID] = strconv.FormatInt(r.ProductId, 10)
	if r.Stars != nil {
		v[rStars] = strconv.Itoa(int(*r.Stars))
	}
	v[rTitle], v[rText] = r.Title, r.Text
	return true
}
