package notify

import (
	"time"

	"github.com/crmsoap/crmsoap/service"
	"github.com/crmsoap/crmsoap/store"
)

// Notification is one change as the listener receives it. The same shape, with the same names, is
// the JSON body the NATS sink publishes. The record's state is in the field of its entity, nil for a
// deletion.
type Notification struct {
	NotificationID int64     `xml:"notificationId" json:"notificationId"`
	Entity         string    `xml:"entity" json:"entity"`
	Kind           string    `xml:"kind" json:"kind"`
	ID             int64     `xml:"id" json:"id"`
	ExternalID     string    `xml:"externalId,omitempty" json:"externalId,omitempty"`
	Version        int64     `xml:"version" json:"version"`
	At             string    `xml:"at" json:"at"`
	Customer       *Customer `xml:"customer,omitempty" json:"customer,omitempty"`
	Product        *Product  `xml:"product,omitempty" json:"product,omitempty"`
	Order          *Order    `xml:"order,omitempty" json:"order,omitempty"`
	Review         *Review   `xml:"review,omitempty" json:"review,omitempty"`
}

// Customer is a customer's current state in a notification.
type Customer struct {
	ID         int64    `xml:"id" json:"id"`
	Version    int64    `xml:"version" json:"version"`
	CreatedAt  string   `xml:"createdAt" json:"createdAt"`
	UpdatedAt  string   `xml:"updatedAt" json:"updatedAt"`
	ExternalID string   `xml:"externalId,omitempty" json:"externalId,omitempty"`
	Name       string   `xml:"name,omitempty" json:"name,omitempty"`
	Email      string   `xml:"email,omitempty" json:"email,omitempty"`
	Phone      string   `xml:"phone,omitempty" json:"phone,omitempty"`
	Gender     string   `xml:"gender,omitempty" json:"gender,omitempty"`
	BirthDate  string   `xml:"birthDate,omitempty" json:"birthDate,omitempty"`
	Company    string   `xml:"company,omitempty" json:"company,omitempty"`
	Address    *Address `xml:"address,omitempty" json:"address,omitempty"`
}

// Address is a customer's postal address in a notification.
type Address struct {
	Street     string `xml:"street,omitempty" json:"street,omitempty"`
	City       string `xml:"city,omitempty" json:"city,omitempty"`
	Region     string `xml:"region,omitempty" json:"region,omitempty"`
	PostalCode string `xml:"postalCode,omitempty" json:"postalCode,omitempty"`
	Country    string `xml:"country,omitempty" json:"country,omitempty"`
}

// Money is an exact amount: a decimal string with the currency's fraction digits ("12.30" EUR,
// "500" JPY), never a float.
type Money struct {
	Amount   string `xml:"amount" json:"amount"`
	Currency string `xml:"currency" json:"currency"`
}

// Rating is a product's review summary: the average as a decimal string with 2 fraction digits.
type Rating struct {
	Average string `xml:"average" json:"average"`
	Count   int64  `xml:"count" json:"count"`
}

// Product is a product's current state in a notification.
type Product struct {
	ID                int64  `xml:"id" json:"id"`
	Version           int64  `xml:"version" json:"version"`
	CreatedAt         string `xml:"createdAt" json:"createdAt"`
	UpdatedAt         string `xml:"updatedAt" json:"updatedAt"`
	SKU               string `xml:"sku" json:"sku"`
	Name              string `xml:"name" json:"name"`
	Description       string `xml:"description,omitempty" json:"description,omitempty"`
	Category          string `xml:"category,omitempty" json:"category,omitempty"`
	Price             Money  `xml:"price" json:"price"`
	StockQuantity     int64  `xml:"stockQuantity" json:"stockQuantity"`
	LowStockThreshold int64  `xml:"lowStockThreshold" json:"lowStockThreshold"`
	LowStock          bool   `xml:"lowStock" json:"lowStock"`
	Active            bool   `xml:"active" json:"active"`
	Rating            Rating `xml:"rating" json:"rating"`
}

// OrderLine is one line of an order: name and unit price as they were when it was placed.
type OrderLine struct {
	LineNo      int    `xml:"lineNo" json:"lineNo"`
	ProductID   int64  `xml:"productId" json:"productId"`
	SKU         string `xml:"sku" json:"sku"`
	ProductName string `xml:"productName" json:"productName"`
	Quantity    int64  `xml:"quantity" json:"quantity"`
	UnitPrice   Money  `xml:"unitPrice" json:"unitPrice"`
	LineAmount  Money  `xml:"lineAmount" json:"lineAmount"`
}

// Order is an order's current state in a notification, with its lines.
type Order struct {
	ID          int64       `xml:"id" json:"id"`
	Version     int64       `xml:"version" json:"version"`
	OrderNumber string      `xml:"orderNumber" json:"orderNumber"`
	ExternalID  string      `xml:"externalId,omitempty" json:"externalId,omitempty"`
	CustomerID  int64       `xml:"customerId" json:"customerId"`
	Status      string      `xml:"status" json:"status"`
	PlacedAt    string      `xml:"placedAt" json:"placedAt"`
	UpdatedAt   string      `xml:"updatedAt" json:"updatedAt"`
	Currency    string      `xml:"currency" json:"currency"`
	Line        []OrderLine `xml:"line" json:"line"`
	TotalAmount Money       `xml:"totalAmount" json:"totalAmount"`
	Note        string      `xml:"note,omitempty" json:"note,omitempty"`
}

// Review is a review's current state in a notification.
type Review struct {
	ID         int64  `xml:"id" json:"id"`
	Version    int64  `xml:"version" json:"version"`
	CreatedAt  string `xml:"createdAt" json:"createdAt"`
	UpdatedAt  string `xml:"updatedAt" json:"updatedAt"`
	CustomerID int64  `xml:"customerId" json:"customerId"`
	ProductID  int64  `xml:"productId" json:"productId"`
	Stars      int    `xml:"stars" json:"stars"`
	Title      string `xml:"title,omitempty" json:"title,omitempty"`
	Text       string `xml:"text,omitempty" json:"text,omitempty"`
}

// Of is the notification of one feed entry, with the record's state in the contract's shape.
func Of(e store.FeedEntry) Notification {
	ch := service.ChangeOf(e)
	n := Notification{NotificationID: e.Seq, Entity: e.Entity, Kind: e.Kind, ID: e.ID, ExternalID: e.ExternalID,
		Version: e.Version, At: dateTime(e.At)}
	if c := ch.Customer; c != nil {
		n.Customer = customerOf(c)
	}
	if p := ch.Product; p != nil {
		n.Product = &Product{ID: p.ID, Version: p.Version, CreatedAt: dateTime(p.CreatedAt), UpdatedAt: dateTime(p.UpdatedAt),
			SKU: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category, Price: Money(p.Price),
			StockQuantity: p.StockQuantity, LowStockThreshold: p.LowStockThreshold, LowStock: p.LowStock,
			Active: p.Active, Rating: Rating(p.Rating)}
	}
	if o := ch.Order; o != nil {
		n.Order = orderOf(o)
	}
	if r := ch.Review; r != nil {
		n.Review = &Review{ID: r.ID, Version: r.Version, CreatedAt: dateTime(r.CreatedAt), UpdatedAt: dateTime(r.UpdatedAt),
			CustomerID: r.CustomerID, ProductID: r.ProductID, Stars: r.Stars, Title: r.Title, Text: r.Text}
	}
	return n
}

func customerOf(c *service.Customer) *Customer {
	out := &Customer{ID: c.ID, Version: c.Version, CreatedAt: dateTime(c.CreatedAt), UpdatedAt: dateTime(c.UpdatedAt),
		ExternalID: c.ExternalID, Name: c.Name, Email: c.Email, Phone: c.Phone, Gender: string(c.Gender), Company: c.Company}
	if !c.BirthDate.IsZero() {
		out.BirthDate = c.BirthDate.Format(time.DateOnly)
	}
	if a := c.Address; a != (service.Address{}) {
		out.Address = &Address{Street: a.Street, City: a.City, Region: a.Region, PostalCode: a.PostalCode, Country: a.Country}
	}
	return out
}

func orderOf(o *service.Order) *Order {
	out := &Order{ID: o.ID, Version: o.Version, OrderNumber: o.OrderNumber, ExternalID: o.ExternalID,
		CustomerID: o.CustomerID, Status: o.Status, PlacedAt: dateTime(o.PlacedAt), UpdatedAt: dateTime(o.UpdatedAt),
		Currency: o.Currency, Line: make([]OrderLine, len(o.Lines)), TotalAmount: Money(o.TotalAmount), Note: o.Note}
	for i, l := range o.Lines {
		out.Line[i] = OrderLine{LineNo: l.LineNo, ProductID: l.ProductID, SKU: l.SKU, ProductName: l.ProductName,
			Quantity: l.Quantity, UnitPrice: Money(l.UnitPrice), LineAmount: Money(l.LineAmount)}
	}
	return out
}

func dateTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
