package sqlite

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// TestGetCustomer_PackedTextRoundTrip: values that look like the packing itself (lengths, colons),
// multi-byte text and absent fields read back exactly.
func TestGetCustomer_PackedTextRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	at := time.Date(2026, 5, 6, 7, 8, 9, 10, time.UTC)
	in := store.Customer{CreatedAt: at, UpdatedAt: at, ExternalID: "3:abc", Name: "12:", Email: ":",
		Phone: "-1:", Company: "日本語:2:ü", Address: store.Address{Street: "a\x00b", Country: "0:"}}
	c, err := db.CreateCustomer(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.GetCustomer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("got  %+v\nwant %+v", got, c)
	}
	if !got.BirthDate.IsZero() || got.Gender != "" || got.CreatedBy != "" {
		t.Errorf("absent fields read back as %v, %q, %q", got.BirthDate, got.Gender, got.CreatedBy)
	}
}

func TestUnpack_Malformed(t *testing.T) {
	good := "1:a1:b-1:0:1:c1:d1:e1:f1:g1:h1:i1:j1:k1:l1:m1:n"
	var r customerRow
	if err := r.unpack(good); err != nil {
		t.Fatalf("unpack(%q) = %v", good, err)
	}
	if !r.createdAt.Valid || r.createdAt.String != "a" || r.createdBy.Valid || !r.updatedBy.Valid || r.updatedBy.String != "" || r.country.String != "n" {
		t.Errorf("unpacked %+v", r)
	}
	for _, s := range []string{"", good + "x", good[:len(good)-1], "5:a" + good[3:], "-2:" + good[3:], "x:a" + good[3:], "1a" + good[3:]} {
		if err := r.unpack(s); err == nil {
			t.Errorf("unpack(%q) accepted", s)
		}
	}
}
