package reportsink

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/service"
	"github.com/crmsoap/crmsoap/store"
)

// Columns of each entity's table, id first, in the order of the values its row function returns.
var (
	customerColumns = []string{"id", "version", "external_id", "name", "email", "phone", "gender", "company",
		"birth_date", "street", "city", "region", "postal_code", "country", "created_at", "updated_at",
		"created_by", "updated_by", "feed_seq"}
	productColumns = []string{"id", "version", "sku", "name", "description", "category", "price", "currency",
		"stock_quantity", "low_stock_threshold", "active", "rating_sum", "rating_count", "created_at",
		"updated_at", "created_by", "updated_by", "feed_seq"}
	orderColumns = []string{"id", "version", "order_number", "external_id", "customer_id", "status", "currency",
		"total", "note", "placed_at", "updated_at", "created_by", "updated_by", "feed_seq"}
	reviewColumns = []string{"id", "version", "customer_id", "product_id", "stars", "title", "text",
		"created_at", "updated_at", "created_by", "updated_by", "feed_seq"}
)

// tables maps a feed entity to its table.
var tables = map[string]string{
	store.EntityCustomer: TableCustomers,
	store.EntityProduct:  TableProducts,
	store.EntityOrder:    TableOrders,
	store.EntityReview:   TableReviews,
}

// queue adds the statements that apply e to b.
func (s *Sink) queue(b *pgx.Batch, e store.FeedEntry) error {
	if _, ok := tables[e.Entity]; !ok {
		return fmt.Errorf("reportsink: change %d: unknown entity %q", e.Seq, e.Entity)
	}
	if e.Kind == store.FeedDeleted {
		if e.Entity == store.EntityOrder {
			b.Queue(s.sql.deleteLines, e.ID)
		}
		b.Queue(s.sql.delete[e.Entity], e.ID)
		return nil
	}
	if e.Kind != store.FeedUpserted {
		return fmt.Errorf("reportsink: change %d: unknown kind %q", e.Seq, e.Kind)
	}
	switch {
	case e.Customer != nil:
		b.Queue(s.sql.upsert[store.EntityCustomer], customerRow(e.Seq, e.Customer)...)
	case e.Product != nil:
		row, err := productRow(e.Seq, e.Product)
		if err != nil {
			return err
		}
		b.Queue(s.sql.upsert[store.EntityProduct], row...)
	case e.Order != nil:
		return s.queueOrder(b, e.Seq, e.Order)
	case e.Review != nil:
		b.Queue(s.sql.upsert[store.EntityReview], reviewRow(e.Seq, e.Review)...)
	default:
		return fmt.Errorf("reportsink: change %d: %s %d has no record", e.Seq, e.Entity, e.ID)
	}
	return nil
}

// queueOrder upserts o and replaces its lines.
func (s *Sink) queueOrder(b *pgx.Batch, seq int64, o *store.Order) error {
	total, err := amount(seq, o.TotalMinor, o.Currency)
	if err != nil {
		return err
	}
	b.Queue(s.sql.upsert[store.EntityOrder], o.ID, o.Version, o.OrderNumber, o.ExternalID,
		o.CustomerID, o.Status, o.Currency, total, o.Note, o.PlacedAt, o.UpdatedAt, o.CreatedBy, o.UpdatedBy, seq)
	b.Queue(s.sql.deleteLines, o.ID)
	for _, l := range o.Lines {
		unit, err := amount(seq, l.UnitPriceMinor, o.Currency)
		if err != nil {
			return err
		}
		sum, err := amount(seq, l.AmountMinor, o.Currency)
		if err != nil {
			return err
		}
		b.Queue(s.sql.insertLine, o.ID, l.LineNo, l.ProductID, l.SKU, l.ProductName, l.Quantity, unit, sum, o.Currency)
	}
	return nil
}

func customerRow(seq int64, c *store.Customer) []any {
	a := c.Address
	return []any{c.ID, c.Version, c.ExternalID, c.Name, c.Email, c.Phone, c.Gender, c.Company,
		date(c.BirthDate), a.Street, a.City, a.Region, a.PostalCode, a.Country, c.CreatedAt, c.UpdatedAt,
		c.CreatedBy, c.UpdatedBy, seq}
}

func productRow(seq int64, p *store.Product) ([]any, error) {
	var price any // NULL: no currency, no price
	if p.Currency != "" {
		v, err := amount(seq, p.PriceMinor, p.Currency)
		if err != nil {
			return nil, err
		}
		price = v
	}
	return []any{p.ID, p.Version, p.SKU, p.Name, p.Description, p.Category, price, p.Currency,
		p.StockQuantity, p.LowStockThreshold, p.Active, p.RatingSum, p.RatingCount, p.CreatedAt, p.UpdatedAt,
		p.CreatedBy, p.UpdatedBy, seq}, nil
}

func reviewRow(seq int64, r *store.Review) []any {
	return []any{r.ID, r.Version, r.CustomerID, r.ProductID, r.Stars, r.Title, r.Text, r.CreatedAt,
		r.UpdatedAt, r.CreatedBy, r.UpdatedBy, seq}
}

// amount is minor units of cur as an exact decimal numeral, sent to NUMERIC as text (never a float).
func amount(seq, minor int64, cur string) (string, error) {
	v, ok := service.AmountOf(minor, cur)
	if !ok {
		return "", fmt.Errorf("reportsink: change %d: unknown currency %q", seq, cur)
	}
	return v, nil
}

// date is t's calendar day as a DATE value, NULL when t is zero (not set).
func date(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(time.DateOnly)
}
