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
	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/wsdl"
	xsd "github.com/hooklift/gowsdl/soap"
)

var frozen = time.Date(2026, 11, 23, 12, 30, 45, 123456789, time.UTC)

func newService(tb testing.TB) *service.Service {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "crm.db"), store.Options{})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	s := service.New(db)
	s.Now = func() time.Time { return frozen }
	s.Caller = func(context.Context) string { return "erp-nightly" }
	return s
}

func gender(g wsdl.Gender) *wsdl.Gender { return &g }

func date(y int, m time.Month, d int) xsd.XSDDate {
	return xsd.CreateXsdDate(time.Date(y, m, d, 0, 0, 0, 0, time.UTC), false)
}

func fullData() *wsdl.CustomerData {
	return &wsdl.CustomerData{
		ExternalId: "ERP-0001",
		Name:       "  张伟 🚀 Müller  ",
		Email:      "zhang.wei@example.com",
		Phone:      "+49 (30) 1234-567.8",
		Gender:     gender(wsdl.GenderFEMALE),
		BirthDate:  date(1990, 5, 17),
		Company:    "Acme GmbH",
		Address:    &wsdl.Address{Street: "Unter den Linden 1", City: "Berlin", Region: "BE", PostalCode: "10117", Country: "DE"},
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
	ctx := context.Background()
	added, err := s.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: fullData()})
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	c := added.Customer
	if c.Id <= 0 || c.Version != 1 {
		t.Fatalf("id %d version %d, want id > 0 and version 1", c.Id, c.Version)
	}
	if got, want := c.CreatedAt.ToGoTime(), frozen.Truncate(time.Millisecond); !got.Equal(want) {
		t.Errorf("createdAt = %v, want %v (ms precision, UTC)", got, want)
	}
	if c.Name != "张伟 🚀 Müller" {
		t.Errorf("name = %q, want trimmed unicode", c.Name)
	}
	got, err := s.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: c.Id})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	g := got.Customer
	if g.Email != "zhang.wei@example.com" || g.Phone != "+49 (30) 1234-567.8" || *g.Gender != wsdl.GenderFEMALE ||
		g.Company != "Acme GmbH" || g.ExternalId != "ERP-0001" || g.Address == nil || g.Address.Country != "DE" ||
		g.Address.PostalCode != "10117" {
		t.Errorf("get returned %+v (address %+v), want every field as added", g, g.Address)
	}
	if bd := g.BirthDate.ToGoTime(); bd.Year() != 1990 || bd.Month() != 5 || bd.Day() != 17 {
		t.Errorf("birthDate = %v, want 1990-05-17", bd)
	}
}

func TestService_AddValidation(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name  string
		edit  func(d *wsdl.CustomerData)
		field string
	}{
		{"NameMissing", func(d *wsdl.CustomerData) { d.Name = "" }, "customer/name"},
		{"NameBlank", func(d *wsdl.CustomerData) { d.Name = "   \t " }, "customer/name"},
		{"NameTooLong", func(d *wsdl.CustomerData) { d.Name = long(201) }, "customer/name"},
		{"NameControlChar", func(d *wsdl.CustomerData) { d.Name = "a\x01b" }, "customer/name"},
		{"ExternalIDTooLong", func(d *wsdl.CustomerData) { d.ExternalId = long(65) }, "customer/externalId"},
		{"EmailNoAt", func(d *wsdl.CustomerData) { d.Email = "nobody.example.com" }, "customer/email"},
		{"EmailDisplayName", func(d *wsdl.CustomerData) { d.Email = "Bob <bob@example.com>" }, "customer/email"},
		{"EmailNoDomainDot", func(d *wsdl.CustomerData) { d.Email = "bob@localhost" }, "customer/email"},
		{"EmailTooLong", func(d *wsdl.CustomerData) { d.Email = long(250) + "@example.com" }, "customer/email"},
		{"PhoneLetters", func(d *wsdl.CustomerData) { d.Phone = "call me" }, "customer/phone"},
		{"PhoneTooLong", func(d *wsdl.CustomerData) { d.Phone = strings.Repeat("1", 33) }, "customer/phone"},
		{"PhoneNoDigits", func(d *wsdl.CustomerData) { d.Phone = "+()" }, "customer/phone"},
		{"GenderUnknown", func(d *wsdl.CustomerData) { d.Gender = gender("male") }, "customer/gender"},
		{"BirthDateFuture", func(d *wsdl.CustomerData) { d.BirthDate = date(2026, 11, 24) }, "customer/birthDate"},
		{"CompanyTooLong", func(d *wsdl.CustomerData) { d.Company = long(201) }, "customer/company"},
		{"CountryLowercase", func(d *wsdl.CustomerData) { d.Address.Country = "de" }, "customer/address/country"},
		{"CountryUnassigned", func(d *wsdl.CustomerData) { d.Address.Country = "XX" }, "customer/address/country"},
		{"CountryAlpha3", func(d *wsdl.CustomerData) { d.Address.Country = "DEU" }, "customer/address/country"},
		{"StreetTooLong", func(d *wsdl.CustomerData) { d.Address.Street = long(201) }, "customer/address/street"},
		{"PostalCodeTooLong", func(d *wsdl.CustomerData) { d.Address.PostalCode = long(21) }, "customer/address/postalCode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t)
			d := fullData()
			tt.edit(d)
			_, err := s.AddCustomerContext(context.Background(), &wsdl.AddCustomer{Customer: d})
			wantFault(t, err, service.CodeValidationFailed, tt.field)
		})
	}
	t.Run("CustomerMissing", func(t *testing.T) {
		_, err := newService(t).AddCustomerContext(context.Background(), &wsdl.AddCustomer{})
		wantFault(t, err, service.CodeValidationFailed, "customer")
	})
	t.Run("BirthDateToday", func(t *testing.T) {
		d := fullData()
		d.BirthDate = date(2026, 11, 23)
		if _, err := newService(t).AddCustomerContext(context.Background(), &wsdl.AddCustomer{Customer: d}); err != nil {
			t.Fatalf("birth date today: %v, want accepted", err)
		}
	})
}

func TestService_IDValidation(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	for _, id := range []int64{0, -1} {
		_, err := s.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: id})
		wantFault(t, err, service.CodeValidationFailed, "id")
		_, err = s.UpdateCustomerContext(ctx, &wsdl.UpdateCustomer{Id: id, Customer: fullData()})
		wantFault(t, err, service.CodeValidationFailed, "id")
		_, err = s.DeleteCustomerContext(ctx, &wsdl.DeleteCustomer{Id: id})
		wantFault(t, err, service.CodeValidationFailed, "id")
	}
	_, err := s.DeleteCustomerContext(ctx, &wsdl.DeleteCustomer{Id: 1, ExpectedVersion: -3})
	wantFault(t, err, service.CodeValidationFailed, "expectedVersion")
}

func TestService_NotFound(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	_, err := s.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: 404})
	wantFault(t, err, service.CodeNotFound, "")
	_, err = s.UpdateCustomerContext(ctx, &wsdl.UpdateCustomer{Id: 404, Customer: fullData()})
	wantFault(t, err, service.CodeNotFound, "")
	_, err = s.DeleteCustomerContext(ctx, &wsdl.DeleteCustomer{Id: 404})
	wantFault(t, err, service.CodeNotFound, "")
}

func TestService_DuplicateExternalID(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if _, err := s.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: fullData()}); err != nil {
		t.Fatal(err)
	}
	_, err := s.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: fullData()})
	e := wantFault(t, err, service.CodeDuplicate, "customer/externalId")
	if !e.ClientFault() {
		t.Errorf("DUPLICATE is not a client fault")
	}
	// Without an externalId there is nothing to collide.
	d := fullData()
	d.ExternalId = ""
	for range 2 {
		if _, err := s.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: d}); err != nil {
			t.Fatalf("add without externalId: %v", err)
		}
	}
}

func TestService_UpdateReplacesEveryField(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	added, err := s.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: fullData()})
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return frozen.Add(time.Hour) }
	upd, err := s.UpdateCustomerContext(ctx, &wsdl.UpdateCustomer{
		Id: added.Customer.Id, ExpectedVersion: 1, Customer: &wsdl.CustomerData{Name: "Only Name"},
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	c := upd.Customer
	if c.Version != 2 || c.Name != "Only Name" || c.Email != "" || c.Gender != nil || c.Address != nil || c.ExternalId != "" {
		t.Errorf("after PUT-style update got %+v, want version 2 and only name set", c)
	}
	if !c.CreatedAt.ToGoTime().Equal(added.Customer.CreatedAt.ToGoTime()) || !c.UpdatedAt.ToGoTime().Equal(frozen.Add(time.Hour).Truncate(time.Millisecond)) {
		t.Errorf("createdAt %v updatedAt %v: want createdAt kept and updatedAt = clock", c.CreatedAt.ToGoTime(), c.UpdatedAt.ToGoTime())
	}
	_, err = s.UpdateCustomerContext(ctx, &wsdl.UpdateCustomer{Id: c.Id, ExpectedVersion: 1, Customer: fullData()})
	wantFault(t, err, service.CodeConflict, "expectedVersion")
	_, err = s.DeleteCustomerContext(ctx, &wsdl.DeleteCustomer{Id: c.Id, ExpectedVersion: 1})
	wantFault(t, err, service.CodeConflict, "expectedVersion")
	if _, err := s.DeleteCustomerContext(ctx, &wsdl.DeleteCustomer{Id: c.Id, ExpectedVersion: 2}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = s.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: c.Id})
	wantFault(t, err, service.CodeNotFound, "")
}

func TestService_ConcurrentUpdatesSameVersion(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	added, err := s.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: fullData()})
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
			_, errs[i] = s.UpdateCustomerContext(ctx, &wsdl.UpdateCustomer{Id: added.Customer.Id, ExpectedVersion: 1, Customer: d})
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
	got, err := s.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: added.Customer.Id})
	if err != nil || got.Customer.Version != 2 {
		t.Fatalf("after the race: version %v err %v, want 2", got.Customer.Version, err)
	}
}

func TestError_FaultDetail(t *testing.T) {
	e := &service.Error{Code: service.CodeInternal, Message: "internal error", Err: errors.New("SQL logic error near SELECT")}
	if e.ClientFault() {
		t.Errorf("INTERNAL must be a server fault")
	}
	d := e.FaultDetail().(*wsdl.CrmFault)
	if *d.Code != wsdl.FaultCodeINTERNAL || strings.Contains(d.Message, "SQL") || e.FaultString() != "internal error" {
		t.Errorf("detail %+v / %q leaks or mislabels the cause", d, e.FaultString())
	}
}
