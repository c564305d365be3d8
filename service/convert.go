package service

import (
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/wsdl"
	xsd "github.com/hooklift/gowsdl/soap"
)

// The gowsdl date types stop here: inside the service and the store, dates are time.Time.

// dateFromXSD returns the calendar date d holds (UTC midnight) and whether it holds one.
func dateFromXSD(d xsd.XSDDate) (time.Time, bool) {
	if d == (xsd.XSDDate{}) {
		return time.Time{}, false
	}
	t := d.ToGoTime()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
}

func dateToXSD(t time.Time) xsd.XSDDate {
	if t.IsZero() {
		return xsd.XSDDate{}
	}
	return xsd.CreateXsdDate(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), false)
}

func dateTimeToXSD(t time.Time) xsd.XSDDateTime {
	return xsd.CreateXsdDateTime(t.UTC(), true)
}

// customerToWire renders a stored customer in the contract's Customer type.
func customerToWire(c store.Customer) *wsdl.Customer {
	out := &wsdl.Customer{
		Id:         c.ID,
		Version:    c.Version,
		CreatedAt:  dateTimeToXSD(c.CreatedAt),
		UpdatedAt:  dateTimeToXSD(c.UpdatedAt),
		ExternalId: c.ExternalID,
		Name:       c.Name,
		Email:      c.Email,
		Phone:      c.Phone,
		BirthDate:  dateToXSD(c.BirthDate),
		Company:    c.Company,
	}
	if c.Gender != "" {
		g := wsdl.Gender(c.Gender)
		out.Gender = &g
	}
	if c.Address != (store.Address{}) {
		a := wsdl.Address(c.Address)
		out.Address = &a
	}
	return out
}
