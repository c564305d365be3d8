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
type Address struct {
	Street     string `json:",omitzero"`
	City       string `json:",omitzero"`
	Region     string `json:",omitzero"`
	PostalCode string `json:",omitzero"`
	Country    string `json:",omitzero"`
}

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
//
// The omitzero tags keep the stored outcome of a bulk write, whose Customers
// hold only ID and Version, small (a retry answers from it): zero fields are
// left out of its JSON and read back as zero; the names stay those of the
// untagged fields, so outcomes stored before still read.
type Customer struct {
	ID        int64     `json:",omitzero"`
	Version   int64     `json:",omitzero"`
	CreatedAt time.Time `json:",omitzero"`
	UpdatedAt time.Time `json:",omitzero"`
	CreatedBy string    `json:",omitzero"` // authenticated client name; "" when unauthenticated
	UpdatedBy string    `json:",omitzero"`

	ExternalID string    `json:",omitzero"`
	Name       string    `json:",omitzero"`
	Email      string    `json:",omitzero"`
	Phone      string    `json:",omitzero"`
	Gender     Gender    `json:",omitzero"`
	BirthDate  time.Time `json:",omitzero"`
	Company    string    `json:",omitzero"`
	Address    Address   `json:",omitzero"`
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
