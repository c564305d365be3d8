package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crmsoap/crmsoap/cmd/internal/records"
	"github.com/crmsoap/crmsoap/wsdl"
	gowsdlsoap "github.com/hooklift/gowsdl/soap"
)

// fileEntity binds an entity's field table to the SOAP operations that export
// (GetChanges) and import (a bulk upsert) it. Another entity is another value
// of this type: its fields and three functions.
type fileEntity struct {
	records.Entity
	// wire is the entity's name in the change feed.
	wire wsdl.Entity
	// row fills values from the record of a change; false when the change
	// carries no record of this entity.
	row func(ch *wsdl.Change, values []string) bool
	// lines, for an entity with Lines, gives the lines of the record of a
	// change (row returned true), reusing buf.
	lines func(ch *wsdl.Change, buf [][]string) [][]string
	// prepare turns a row read from a file into one item of a bulk upsert;
	// nil for an entity that is exported only.
	prepare func(values []string) (any, *records.RowError)
	// upsert sends one batch of items made by prepare.
	upsert func(ctx context.Context, c wsdl.CrmPortType, items []any) ([]*wsdl.SaveResult, error)
}

// fileEntities are the entities export knows; those with prepare are the ones
// import knows.
var fileEntities = []*fileEntity{customersFile, productsFile, ordersFile, reviewsFile}

// lookupEntity finds the entity name for export, or for import when importing.
func lookupEntity(name string, importing bool) (*fileEntity, error) {
	var names []string
	for _, e := range fileEntities {
		if importing && e.prepare == nil {
			continue
		}
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	if importing {
		for _, e := range fileEntities {
			if e.Name == name {
				return nil, fmt.Errorf("entity %q is exported only: import knows %s", name, orList(names))
			}
		}
	}
	return nil, fmt.Errorf("unknown entity %q (want %s)", name, orList(names))
}

// orList is "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// The customer fields; the first four are read-only (export writes them,
// import ignores them).
const (
	cID = iota
	cVersion
	cCreatedAt
	cUpdatedAt
	cExternalID
	cName
	cEmail
	cPhone
	cGender
	cBirthDate
	cCompany
	cStreet
	cCity
	cRegion
	cPostalCode
	cCountry
)

var customersFile = &fileEntity{
	Entity: records.Entity{Name: "customers", Element: "customer", Fields: []records.Field{
		{Name: "id", Number: true}, {Name: "version", Number: true}, {Name: "createdAt"}, {Name: "updatedAt"},
		{Name: "externalId"}, {Name: "name"}, {Name: "email"}, {Name: "phone"}, {Name: "gender"},
		{Name: "birthDate"}, {Name: "company"}, {Name: "address.street"}, {Name: "address.city"},
		{Name: "address.region"}, {Name: "address.postalCode"}, {Name: "address.country"},
	}},
	wire:    wsdl.EntityCUSTOMER,
	row:     customerRow,
	prepare: customerItem,
	upsert: func(ctx context.Context, c wsdl.CrmPortType, items []any) ([]*wsdl.SaveResult, error) {
		resp, err := c.UpsertCustomersContext(ctx, &wsdl.UpsertCustomers{Customer: itemsOf[*wsdl.CustomerData](items)})
		if err != nil {
			return nil, err
		}
		return resp.Result, nil
	},
}

// itemsOf is a batch of items made by an entity's prepare, typed for its bulk call.
func itemsOf[T any](items []any) []T {
	out := make([]T, len(items))
	for i, it := range items {
		out[i] = it.(T)
	}
	return out
}

func customerRow(ch *wsdl.Change, v []string) bool {
	c := ch.Customer
	if c == nil {
		return false
	}
	clear(v)
	v[cID] = strconv.FormatInt(c.Id, 10)
	v[cVersion] = strconv.FormatInt(c.Version, 10)
	v[cCreatedAt] = wireTime(c.CreatedAt)
	v[cUpdatedAt] = wireTime(c.UpdatedAt)
	v[cExternalID], v[cName], v[cEmail], v[cPhone], v[cCompany] = c.ExternalId, c.Name, c.Email, c.Phone, c.Company
	if c.Gender != nil {
		v[cGender] = string(*c.Gender)
	}
	if t := c.BirthDate.ToGoTime(); !t.IsZero() {
		v[cBirthDate] = t.Format(time.DateOnly)
	}
	if a := c.Address; a != nil {
		v[cStreet], v[cCity], v[cRegion], v[cPostalCode], v[cCountry] = a.Street, a.City, a.Region, a.PostalCode, a.Country
	}
	return true
}

func wireTime(t gowsdlsoap.XSDDateTime) string {
	g := t.ToGoTime()
	if g.IsZero() {
		return ""
	}
	return g.UTC().Format(time.RFC3339Nano)
}

func customerItem(v []string) (any, *records.RowError) {
	d := &wsdl.CustomerData{ExternalId: v[cExternalID], Name: v[cName], Email: v[cEmail], Phone: v[cPhone],
		Company: v[cCompany]}
	if v[cExternalID] == "" {
		return nil, &records.RowError{Field: "externalId", Message: "is required: import upserts by externalId"}
	}
	if v[cGender] != "" {
		g := wsdl.Gender(v[cGender])
		d.Gender = &g
	}
	if v[cBirthDate] != "" {
		t, err := time.Parse(time.DateOnly, v[cBirthDate])
		if err != nil {
			return nil, &records.RowError{Field: "birthDate", Message: fmt.Sprintf("%q: want YYYY-MM-DD", v[cBirthDate])}
		}
		d.BirthDate = gowsdlsoap.CreateXsdDate(t, false)
	}
	a := wsdl.Address{Street: v[cStreet], City: v[cCity], Region: v[cRegion], PostalCode: v[cPostalCode], Country: v[cCountry]}
	if a != (wsdl.Address{}) {
		d.Address = &a
	}
	return d, nil
}
