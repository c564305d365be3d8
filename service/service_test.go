package service_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/service"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

var frozen = time.Date(2026, 11, 23, 12, 30, 45, 123456789, time.UTC)

func newService(tb testing.TB) *service.Service {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "crm.db"), sqlite.Options{})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	s := service.New(db)
	s.Now = func() time.Time { return frozen }
	return s
}

// caller is the context of a request by the client erp-nightly.
var caller = service.WithCaller(context.Background(), "erp-nightly")

func gender(g service.Gender) *service.Gender { return &g }

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func fullData() *service.CustomerData {
	return &service.CustomerData{
		ExternalID: "ERP-0001",
		Name:       "  张伟 🚀 Müller  ",
		Email:      "zhang.wei@example.com",
		Phone:      "+49 (30) 1234-567.8",
		Gender:     gender(service.GenderFemale),
		BirthDate:  date(1990, 5, 17),
		Company:    "Acme GmbH",
		Address:    service.Address{Street: "Unter den Linden 1", City: "Berlin", Region: "BE", PostalCode: "10117", Country: "DE"},
	}
}

// wantFault asserts that err is a service Error with the code and field.
func wantFault(tb testing.TB, err error, code service.Code, field string) *service.Error {
	tb.Helper()
	var e *service.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error = %v (%T), want *service.Error %s", err, err, code)
	}
	if e.Code != code || e.Field != field {
		tb.Fatalf("fault = %s field %q (%q), want %s field %q", e.Code, e.Field, e.Message, code, field)
	}
	if e.Message == "" {
		tb.Fatalf("fault %s has no message", code)
	}
	return e
}

func TestService_AddGetRoundTrip(t *testing.T) {
	s := newService(t)
	c, err := s.AddCustomer(caller, fullData())
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	if c.ID <= 0 || c.Version != 1 {
		t.Fatalf("id %d version %d, want id > 0 and version 1", c.ID, c.Version)
	}
	if want := frozen.Truncate(time.Millisecond); !c.CreatedAt.Equal(want) || c.CreatedAt.Location() != time.UTC {
		t.Errorf("createdAt = %v, want %v (ms precision, UTC)", c.CreatedAt, want)
	}
	if c.Name != "张伟 🚀 Müller" {
		t.Errorf("name = %q, want trimmed unicode", c.Name)
	}
	if c.CreatedBy != "erp-nightly" || c.UpdatedBy != "erp-nightly" {
		t.Errorf("createdBy %q updatedBy %q, want the caller erp-nightly", c.CreatedBy, c.UpdatedBy)
	}
	g, err := s.GetCustomer(context.Background(), c.ID)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if g.Email != "zhang.wei@example.com" || g.Phone != "+49 (30) 1234-567.8" || g.Gender != service.GenderFemale ||
		g.Company != "Acme GmbH" || g.ExternalID != "ERP-0001" || g.Address.Country != "DE" ||
		g.Address.PostalCode != "10117" || g.CreatedBy != "erp-nightly" {
		t.Errorf("get returned %+v, want every field as added", g)
	}
	if !g.BirthDate.Equal(date(1990, 5, 17)) {
		t.Errorf("birthDate = %v, want 1990-05-17", g.BirthDate)
	}
}

func TestService_BirthDateIsTheCalendarDay(t *testing.T) {
	// 1990-05-17 in UTC+14 is still 05-17: a date keeps the day it names, whatever its zone.
	d := fullData()
	d.BirthDate = time.Date(1990, 5, 17, 23, 30, 0, 0, time.FixedZone("", 14*3600))
	c, err := newService(t).AddCustomer(caller, d)
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	if !c.BirthDate.Equal(date(1990, 5, 17)) || c.BirthDate.Location() != time.UTC {
		t.Errorf("birthDate = %v, want 1990-05-17 UTC midnight", c.BirthDate)
	}
}

func TestService_AddValidation(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name  string
		edit  func(d *service.CustomerData)
		field string
	}{
		{"NameMissing", func(d *service.CustomerData) { d.Name = "" }, "customer/name"},
		{"NameBlank", func(d *service.CustomerData) { d.Name = "   \t " }, "customer/name"},
		{"NameTooLong", func(d *service.CustomerData) { d.Name = long(201) }, "customer/name"},
		{"NameControlChar", func(d *service.CustomerData) { d.Name = "a\x01b" }, "customer/name"},
		{"ExternalIDTooLong", func(d *service.CustomerData) { d.ExternalID = long(65) }, "customer/externalId"},
		{"EmailNoAt", func(d *service.CustomerData) { d.Email = "nobody.example.com" }, "customer/email"},
		{"EmailDisplayName", func(d *service.CustomerData) { d.Email = "Bob <bob@example.com>" }, "customer/email"},
		{"EmailNoDomainDot", func(d *service.CustomerData) { d.Email = "bob@localhost" }, "customer/email"},
		{"EmailTooLong", func(d *service.CustomerData) { d.Email = long(250) + "@example.com" }, "customer/email"},
		{"PhoneLetters", func(d *service.CustomerData) { d.Phone = "call me" }, "customer/phone"},
		{"PhoneTooLong", func(d *service.CustomerData) { d.Phone = strings.Repeat("1", 33) }, "customer/phone"},
		{"PhoneNoDigits", func(d *service.CustomerData) { d.Phone = "+()" }, "customer/phone"},
		{"GenderUnknown", func(d *service.CustomerData) { d.Gender = gender("male") }, "customer/gender"},
		{"BirthDateFuture", func(d *service.CustomerData) { d.BirthDate = date(2026, 11, 24) }, "customer/birthDate"},
		{"CompanyTooLong", func(d *service.CustomerData) { d.Company = long(201) }, "customer/company"},
		{"CountryLowercase", func(d *service.CustomerData) { d.Address.Country = "de" }, "customer/address/country"},
		{"CountryUnassigned", func(d *service.CustomerData) { d.Address.Country = "XX" }, "customer/address/country"},
		{"CountryAlpha3", func(d *service.CustomerData) { d.Address.Country = "DEU" }, "customer/address/country"},
		{"StreetTooLong", func(d *service.CustomerData) { d.Address.Street = long(201) }, "customer/address/street"},
		{"PostalCodeTooLong", func(d *service.CustomerData) { d.Address.PostalCode = long(21) }, "customer/address/postalCode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t)
			d := fullData()
			tt.edit(d)
			_, err := s.AddCustomer(caller, d)
			wantFault(t, err, service.CodeValidationFailed, tt.field)
		})
	}
	t.Run("CustomerMissing", func(t *testing.T) {
		_, err := newService(t).AddCustomer(caller, nil)
		wantFault(t, err, service.CodeValidationFailed, "customer")
	})
	t.Run("BirthDateToday", func(t *testing.T) {
		d := fullData()
		d.BirthDate = date(2026, 11, 23)
		if _, err := newService(t).AddCustomer(caller, d); err != nil {
			t.Fatalf("birth date today: %v, want accepted", err)
		}
	})
}

func TestService_IDValidation(t *testing.T) {
	s := newService(t)
	for _, id := range []int64{0, -1} {
		_, err := s.GetCustomer(caller, id)
		wantFault(t, err, service.CodeValidationFailed, "id")
		_, err = s.UpdateCustomer(caller, id, 0, fullData())
		wantFault(t, err, service.CodeValidationFailed, "id")
		err = s.DeleteCustomer(caller, id, 0)
		wantFault(t, err, service.CodeValidationFailed, "id")
	}
	err := s.DeleteCustomer(caller, 1, -3)
	wantFault(t, err, service.CodeValidationFailed, "expectedVersion")
}

func TestService_NotFound(t *testing.T) {
	s := newService(t)
	_, err := s.GetCustomer(caller, 404)
	wantFault(t, err, service.CodeNotFound, "")
	_, err = s.UpdateCustomer(caller, 404, 0, fullData())
	wantFault(t, err, service.CodeNotFound, "")
	err = s.DeleteCustomer(caller, 404, 0)
	wantFault(t, err, service.CodeNotFound, "")
}

func TestService_DuplicateExternalID(t *testing.T) {
	s := newService(t)
	if _, err := s.AddCustomer(caller, fullData()); err != nil {
		t.Fatal(err)
	}
	_, err := s.AddCustomer(caller, fullData())
	e := wantFault(t, err, service.CodeDuplicate, "customer/externalId")
	if !e.CallerError() {
		t.Errorf("DUPLICATE is not the caller's error")
	}
	// Without an externalId there is nothing to collide.
	d := fullData()
	d.ExternalID = ""
	for range 2 {
		if _, err := s.AddCustomer(caller, d); err != nil {
			t.Fatalf("add without externalId: %v", err)
		}
	}
}

func TestService_UpdateReplacesEveryField(t *testing.T) {
	s := newService(t)
	added, err := s.AddCustomer(caller, fullData())
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return frozen.Add(time.Hour) }
	c, err := s.UpdateCustomer(service.WithCaller(context.Background(), "crm-ui"), added.ID, 1,
		&service.CustomerData{Name: "Only Name"})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if c.Version != 2 || c.Name != "Only Name" || c.Email != "" || c.Gender != "" || c.Address != (service.Address{}) ||
		c.ExternalID != "" || !c.BirthDate.IsZero() {
		t.Errorf("after PUT-style update got %+v, want version 2 and only name set", c)
	}
	if !c.CreatedAt.Equal(added.CreatedAt) || !c.UpdatedAt.Equal(frozen.Add(time.Hour).Truncate(time.Millisecond)) {
		t.Errorf("createdAt %v updatedAt %v: want createdAt kept and updatedAt = clock", c.CreatedAt, c.UpdatedAt)
	}
	if c.CreatedBy != "erp-nightly" || c.UpdatedBy != "crm-ui" {
		t.Errorf("createdBy %q updatedBy %q, want erp-nightly kept and crm-ui as updater", c.CreatedBy, c.UpdatedBy)
	}
	_, err = s.UpdateCustomer(caller, c.ID, 1, fullData())
	wantFault(t, err, service.CodeConflict, "expectedVersion")
	err = s.DeleteCustomer(caller, c.ID, 1)
	wantFault(t, err, service.CodeConflict, "expectedVersion")
	if err := s.DeleteCustomer(caller, c.ID, 2); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = s.GetCustomer(caller, c.ID)
	wantFault(t, err, service.CodeNotFound, "")
}

func TestService_ConcurrentUpdatesSameVersion(t *testing.T) {
	s := newService(t)
	added, err := s.AddCustomer(caller, fullData())
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			d := fullData()
			d.Company = strings.Repeat("c", i+1)
			_, errs[i] = s.UpdateCustomer(caller, added.ID, 1, d)
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		wantFault(t, err, service.CodeConflict, "expectedVersion")
	}
	if wins != 1 {
		t.Fatalf("%d updates with expectedVersion 1 succeeded, want exactly 1", wins)
	}
	got, err := s.GetCustomer(caller, added.ID)
	if err != nil || got.Version != 2 {
		t.Fatalf("after the race: version %v err %v, want 2", got.Version, err)
	}
}

func TestService_InternalErrorKeepsItsCause(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "crm.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := service.New(db)
	var reported []error
	s.OnStoreError = func(err error) { reported = append(reported, err) }
	db.Close()
	_, err = s.GetCustomer(caller, 1)
	e := wantFault(t, err, service.CodeInternal, "")
	if e.CallerError() || e.Message != "internal error" || e.Err == nil {
		t.Errorf("INTERNAL = %+v, want not the caller's error, a fixed message and the cause in Err", e)
	}
	if len(reported) != 1 || !errors.Is(err, reported[0]) {
		t.Errorf("OnStoreError got %v, want the one cause of %v", reported, err)
	}
}
