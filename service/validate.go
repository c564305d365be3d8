package service

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crmsoap/crmsoap/store"
)

// Field limits, in characters (Unicode code points) after trimming.
const (
	maxExternalID = 64
	maxName       = 200
	maxEmail      = 254
	maxPhone      = 32
	maxCompany    = 200
	maxStreet     = 200
	maxCity       = 100
	maxRegion     = 100
	maxPostalCode = 20
)

// customerFromData validates d and returns the store record it describes. now is
// the request's clock, used for "birth date not in the future". Every rule that
// fails yields VALIDATION_FAILED naming the first offending field.
func customerFromData(d *CustomerData, now time.Time) (store.Customer, error) {
	if d == nil {
		return store.Customer{}, invalid("customer", "is required")
	}
	var c store.Customer
	var err error
	if c.ExternalID, err = text("customer/externalId", d.ExternalID, maxExternalID); err != nil {
		return c, err
	}
	if c.Name, err = text("customer/name", d.Name, maxName); err != nil {
		return c, err
	}
	if c.Name == "" {
		return c, invalid("customer/name", "is required")
	}
	if c.Email, err = email("customer/email", d.Email); err != nil {
		return c, err
	}
	if c.Phone, err = phone("customer/phone", d.Phone); err != nil {
		return c, err
	}
	if c.Gender, err = gender("customer/gender", d.Gender); err != nil {
		return c, err
	}
	if c.BirthDate, err = birthDate("customer/birthDate", d.BirthDate, now); err != nil {
		return c, err
	}
	if c.Company, err = text("customer/company", d.Company, maxCompany); err != nil {
		return c, err
	}
	if c.Address, err = address("customer/address", d.Address); err != nil {
		return c, err
	}
	return c, nil
}

func address(field string, a Address) (store.Address, error) {
	var out store.Address
	var err error
	if out.Street, err = text(field+"/street", a.Street, maxStreet); err != nil {
		return out, err
	}
	if out.City, err = text(field+"/city", a.City, maxCity); err != nil {
		return out, err
	}
	if out.Region, err = text(field+"/region", a.Region, maxRegion); err != nil {
		return out, err
	}
	if out.PostalCode, err = text(field+"/postalCode", a.PostalCode, maxPostalCode); err != nil {
		return out, err
	}
	out.Country = strings.TrimSpace(a.Country)
	if out.Country != "" && !isCountryCode(out.Country) {
		return out, invalid(field+"/country", "%q is not an ISO 3166-1 alpha-2 country code (such as DE or US)", clip(out.Country))
	}
	return out, nil
}

// text trims s and checks its length and that it holds no control characters.
func text(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > max {
		return "", invalid(field, "is %d characters long; at most %d are allowed", n, max)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return "", invalid(field, "contains a control character")
		}
	}
	return s, nil
}

func email(field, s string) (string, error) {
	s, err := text(field, s, maxEmail)
	if err != nil || s == "" {
		return s, err
	}
	addr, perr := mail.ParseAddress(s)
	at := strings.LastIndexByte(s, '@')
	if perr != nil || addr.Name != "" || addr.Address != s || at < 1 ||
		!strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return "", invalid(field, "%q is not a valid email address", clip(s))
	}
	return s, nil
}

func phone(field, s string) (string, error) {
	s, err := text(field, s, maxPhone)
	if err != nil || s == "" {
		return s, err
	}
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +-().", r):
		default:
			return "", invalid(field, "may contain only digits, spaces and + - ( ) .")
		}
	}
	if digits == 0 {
		return "", invalid(field, "has no digits")
	}
	return s, nil
}

func gender(field string, g *Gender) (string, error) {
	if g == nil {
		return "", nil
	}
	switch *g {
	case GenderMale, GenderFemale, GenderOther:
		return string(*g), nil
	}
	return "", invalid(field, "%q is not one of MALE, FEMALE, OTHER", clip(string(*g)))
}

// birthDate checks a calendar date (zero = not set) and returns it as UTC
// midnight of the day it names in its own location.
func birthDate(field string, t time.Time, now time.Time) (time.Time, error) {
	if t.IsZero() {
		return time.Time{}, nil
	}
	t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	today := now.UTC().Truncate(24 * time.Hour)
	if t.After(today) {
		return time.Time{}, invalid(field, "%s is in the future", t.Format(time.DateOnly))
	}
	return t, nil
}

// validID checks a customer id taken from a request.
func validID(field string, id int64) error {
	if id <= 0 {
		return invalid(field, "must be a positive customer id")
	}
	return nil
}

// validExpectedVersion checks an optional expectedVersion; 0 means "not given".
func validExpectedVersion(v int64) error {
	if v < 0 {
		return invalid("expectedVersion", "must not be negative")
	}
	return nil
}

// clip shortens caller-supplied text echoed in a message.
func clip(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}
