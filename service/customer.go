package service

import (
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// Gender is a customer's gender, one of the Gender constants.
type Gender string

// The genders the CRM knows.
const (
	GenderMale   Gender = "MALE"
	GenderFemale Gender = "FEMALE"
	GenderOther  Gender = "OTHER"
)

// Address is a postal address; empty fields are not set.
type Address struct{ Street, City, Region, PostalCode, Country string }

// CustomerData is what a caller writes about a customer, as given, before
// validation. Empty strings and a zero BirthDate (a calendar date, UTC
// midnight) mean "not set"; Gender is nil when not given.
type CustomerData struct {
	ExternalID, Name, Email, Phone string
	Gender                         *Gender
	BirthDate                      time.Time
	Company                        string
	Address                        Address
}

// Customer is a stored customer as the service returns it. Empty strings, an
// empty Gender and a zero BirthDate mean "not set"; times are UTC to the millisecond.
type Customer struct {
	ID, Version          int64
	CreatedAt, UpdatedAt time.Time
	CreatedBy, UpdatedBy string // authenticated client names; "" when unauthenticated

	ExternalID, Name, Email, Phone string
	Gender                         Gender
	BirthDate                      time.Time
	Company                        string
	Address                        Address
}

// customerFromStore is the domain view of a stored record.
func customerFromStore(c store.Customer) Customer {
	return Customer{
		ID: c.ID, Version: c.Version,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		CreatedBy: c.CreatedBy, UpdatedBy: c.UpdatedBy,
		ExternalID: c.ExternalID, Name: c.Name, Email: c.Email, Phone: c.Phone,
		Gender: Gender(c.Gender), BirthDate: c.BirthDate, Company: c.Company,
		Address: Address(c.Address),
	}
}
