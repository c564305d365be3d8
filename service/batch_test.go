package service

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

func TestCheckBatchSize(t *testing.T) {
	if err := checkBatchSize("customer", 1000, 1000); err != nil {
		t.Errorf("1000 of 1000: %v", err)
	}
	for _, n := range []int{0, 1001} {
		err := checkBatchSize("customer", n, 1000)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeValidationFailed || e.Field != "customer" {
			t.Fatalf("%d items: %v, want VALIDATION_FAILED on customer", n, err)
		}
		if n > 0 && !strings.Contains(e.Message, "1000") {
			t.Errorf("over the limit: %q does not state the limit", e.Message)
		}
	}
}

func upsertBatch(t *testing.T, ext ...string) *batch[store.CustomerOp] {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := prepareBatch(ext, func(_ int, x string) (store.CustomerOp, error) {
		return upsertOp(&CustomerData{ExternalID: x, Name: "N"}, 0, now, "erp")
	})
	failDuplicateExternalIDs(b)
	return b
}

func TestBatch_DuplicateExternalIDsAllFail(t *testing.T) {
	b := upsertBatch(t, "A", "B", "A", "", "C", "A", "B")
	want := []Code{CodeDuplicate, CodeDuplicate, CodeDuplicate, CodeValidationFailed, "", CodeDuplicate, CodeDuplicate}
	for i, c := range want {
		got := Code("")
		if b.errs[i] != nil {
			got = b.errs[i].Code
		}
		if got != c {
			t.Errorf("item %d: %q, want %q", i, got, c)
		}
	}
	if len(b.ops) != 1 || b.opItem[0] != 4 || b.ops[0].Customer.ExternalID != "C" {
		t.Errorf("ops %+v items %v, want only item 4 (C)", b.ops, b.opItem)
	}
	if b.errs[3].Field != "customer/externalId" {
		t.Errorf("missing externalId: field %q", b.errs[3].Field)
	}
}

func TestBatch_Outcomes(t *testing.T) {
	conv := func(_ int, r store.CustomerResult) Outcome[int64] {
		if r.Err != nil {
			if errors.Is(r.Err, store.ErrRolledBack) {
				return Outcome[int64]{Err: rolledBack()}
			}
			return Outcome[int64]{Err: &Error{Code: CodeConflict, Message: "stale"}}
		}
		return Outcome[int64]{Value: r.Customer.ID}
	}
	b := upsertBatch(t, "A", "", "B") // item 1 fails validation
	if b.runnable(true) {
		t.Error("allOrNone with a validation failure must not reach the store")
	}
	out := outcomes(b, true, nil, conv)
	if out[0].Err.Code != CodeRolledBack || out[1].Err.Code != CodeValidationFailed || out[2].Err.Code != CodeRolledBack {
		t.Errorf("allOrNone, validation failure: %+v", out)
	}
	if !b.runnable(false) {
		t.Fatal("without allOrNone the valid items run")
	}
	out = outcomes(b, false, []store.CustomerResult{{Customer: store.Customer{ID: 7}}, {Err: store.ErrConflict}}, conv)
	if out[0].Value != 7 || out[0].Err != nil || out[1].Err.Code != CodeValidationFailed || out[2].Err.Code != CodeConflict {
		t.Errorf("independent items: %+v", out)
	}
	ok := upsertBatch(t, "A", "B")
	out = outcomes(ok, true, []store.CustomerResult{{Err: store.ErrRolledBack}, {Err: store.ErrConflict}}, conv)
	if out[0].Err.Code != CodeRolledBack || out[1].Err.Code != CodeConflict {
		t.Errorf("allOrNone, store failure: %+v", out)
	}
}

func TestOutcomes_StoredRoundTrip(t *testing.T) {
	in := []Outcome[Customer]{
		{Value: Customer{ID: 1, Version: 2, Name: "Ann", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)}, Created: true},
		{Err: &Error{Code: CodeDuplicate, Message: "taken", Field: "customer/externalId", Err: errors.New("secret cause")}},
	}
	b, err := encodeOutcomes(in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "secret cause") {
		t.Errorf("stored outcome keeps the internal cause: %s", b)
	}
	out, err := decodeOutcomes[Customer](b)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Value.ID != 1 || !out[0].Created || !out[0].Value.CreatedAt.Equal(in[0].Value.CreatedAt) ||
		out[1].Err.Code != CodeDuplicate || out[1].Err.Field != "customer/externalId" || out[1].Err.Message != "taken" {
		t.Errorf("round trip: %+v", out)
	}
	if _, err := decodeOutcomes[Customer]([]byte(`[{}]`)); err == nil {
		t.Error("an outcome with neither value nor error decoded")
	}
}

// A bulk write's stored outcome holds each customer's ID and Version only, in
// a few bytes; one stored with every field written out (as before the fields
// were tagged) still reads as the same outcome.
func TestOutcomes_StoredCompactAndOldFormRead(t *testing.T) {
	in := []Outcome[Customer]{{Value: Customer{ID: 41, Version: 3}, Created: true}, {Value: Customer{ID: 42, Version: 1}}}
	b, err := encodeOutcomes(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"v":{"ID":41,"Version":3},"c":true},{"v":{"ID":42,"Version":1}}]`; string(b) != want {
		t.Errorf("stored outcome\n got %s\nwant %s", b, want)
	}
	full := Customer{ID: 7, Version: 2, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC), CreatedBy: "erp",
		ExternalID: "E-7", Name: "Ann", Gender: GenderFemale, BirthDate: time.Date(1990, 5, 6, 0, 0, 0, 0, time.UTC),
		Address: Address{City: "Berlin", Country: "DE"}}
	old := `[{"v":{"ID":41,"Version":3,"CreatedAt":"0001-01-01T00:00:00Z","UpdatedAt":"0001-01-01T00:00:00Z",` +
		`"CreatedBy":"","UpdatedBy":"","ExternalID":"","Name":"","Email":"","Phone":"","Gender":"",` +
		`"BirthDate":"0001-01-01T00:00:00Z","Company":"","Address":{"Street":"","City":"","Region":"","PostalCode":"","Country":""}},"c":true},` +
		`{"v":{"ID":7,"Version":2,"CreatedAt":"2026-01-02T03:04:05.006Z","UpdatedAt":"0001-01-01T00:00:00Z",` +
		`"CreatedBy":"erp","UpdatedBy":"","ExternalID":"E-7","Name":"Ann","Email":"","Phone":"","Gender":"FEMALE",` +
		`"BirthDate":"1990-05-06T00:00:00Z","Company":"","Address":{"Street":"","City":"Berlin","Region":"","PostalCode":"","Country":"DE"}}}]`
	out, err := decodeOutcomes[Customer]([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Value != (Customer{ID: 41, Version: 3}) || !out[0].Created || out[1].Created ||
		!out[1].Value.CreatedAt.Equal(full.CreatedAt) || !out[1].Value.BirthDate.Equal(full.BirthDate) {
		t.Fatalf("old form read as %+v", out)
	}
	out[1].Value.CreatedAt, out[1].Value.BirthDate = full.CreatedAt, full.BirthDate
	if out[1].Value != full {
		t.Errorf("old full form read as\n %+v\nwant %+v", out[1].Value, full)
	}
	// The full form of a single write still round-trips through the compact encoding.
	b, err = encodeOutcomes([]Outcome[Customer]{{Value: full}})
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeOutcomes[Customer](b)
	if err != nil || len(back) != 1 || !back[0].Value.CreatedAt.Equal(full.CreatedAt) {
		t.Fatalf("full round trip: %+v, %v", back, err)
	}
	back[0].Value.CreatedAt, back[0].Value.BirthDate = full.CreatedAt, full.BirthDate
	if back[0].Value != full {
		t.Errorf("full round trip\n got %+v\nwant %+v", back[0].Value, full)
	}
}
