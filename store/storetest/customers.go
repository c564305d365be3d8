package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// FullCustomer is a customer with every field set, in non-ASCII text and non-UTC times.
func FullCustomer() store.Customer {
	cet := time.FixedZone("CET", 3600)
	return store.Customer{
		CreatedAt:  time.Date(2024, 2, 29, 23, 59, 58, 123456789, cet),
		UpdatedAt:  time.Date(2024, 3, 1, 0, 0, 0, 1, cet),
		CreatedBy:  "erp-müller",
		UpdatedBy:  "erp-müller",
		ExternalID: "ERP-客户-0001",
		Name:       "王小明 🚀",
		Email:      "xiao.ming@example.cn",
		Phone:      "+86 10 1234 5678",
		Gender:     "male",
		Company:    "Ünïcødé GmbH & Co. KG",
		// 23:00 at UTC-5 is already the next day in UTC: the calendar date is the one the caller wrote.
		BirthDate: time.Date(1990, 12, 31, 23, 0, 0, 0, time.FixedZone("EST", -5*3600)),
		Address: store.Address{Street: "长安街 1号", City: "北京", Region: "北京市", PostalCode: "100000",
			Country: "CN"},
	}
}

func testCustomerRoundTrip(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	in := FullCustomer()
	in.ID, in.Version = 77, 9 // ignored

	created, err := db.CreateCustomer(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if created.ID <= 0 || created.Version != 1 {
		t.Fatalf("created ID %d Version %d, want ID > 0 and Version 1", created.ID, created.Version)
	}
	got, err := db.GetCustomer(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, created) {
		t.Fatalf("GetCustomer:\n got %+v\nwant %+v", got, created)
	}
	want := in
	want.ID, want.Version = created.ID, 1
	want.CreatedAt, want.UpdatedAt = in.CreatedAt.UTC(), in.UpdatedAt.UTC()
	want.BirthDate = time.Date(1990, 12, 31, 0, 0, 0, 0, time.UTC)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored customer:\n got %+v\nwant %+v", got, want)
	}
	if got.CreatedAt.Location() != time.UTC || got.CreatedAt.Nanosecond() != 123456789 {
		t.Errorf("CreatedAt = %v: want UTC with nanoseconds kept", got.CreatedAt)
	}
}

func testCustomerEmpty(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	a, err := db.CreateCustomer(ctx, store.Customer{Name: "only a name", CreatedAt: at, UpdatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	// Two customers without external id never collide.
	if _, err := db.CreateCustomer(ctx, store.Customer{Name: "another", CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatalf("second customer without external id: %v", err)
	}
	got, err := db.GetCustomer(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Customer{ID: a.ID, Version: 1, Name: "only a name", CreatedAt: at, UpdatedAt: at}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !got.BirthDate.IsZero() {
		t.Errorf("BirthDate = %v, want zero", got.BirthDate)
	}
}

func testGetCustomerNotFound(t *testing.T, open Opener) {
	db := open(t)
	if _, err := db.GetCustomer(context.Background(), 12345); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func testCreateCustomerDuplicate(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	if _, err := db.CreateCustomer(ctx, store.Customer{ExternalID: "X-1"}); err != nil {
		t.Fatal(err)
	}
	_, err := db.CreateCustomer(ctx, store.Customer{ExternalID: "X-1"})
	var dup *store.DuplicateError
	if !errors.As(err, &dup) || dup.Entity != store.EntityCustomer || dup.Field != "externalId" {
		t.Fatalf("err = %v, want *DuplicateError{customer externalId}", err)
	}
}

func testUpdateCustomer(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	orig, err := db.CreateCustomer(ctx, FullCustomer())
	if err != nil {
		t.Fatal(err)
	}
	other, err := db.CreateCustomer(ctx, store.Customer{ExternalID: "OTHER"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ReplacesFields", func(t *testing.T) {
		upd := store.Customer{ID: orig.ID, Name: "Renamed", Email: "new@example.com",
			UpdatedAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedBy: "crm-ui",
			CreatedAt: time.Unix(0, 0), CreatedBy: "ignored"}
		got, err := db.UpdateCustomer(ctx, upd, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := store.Customer{ID: orig.ID, Version: 2, Name: "Renamed", Email: "new@example.com",
			CreatedAt: orig.CreatedAt, CreatedBy: orig.CreatedBy, UpdatedAt: upd.UpdatedAt, UpdatedBy: "crm-ui"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("UpdateCustomer:\n got %+v\nwant %+v", got, want)
		}
		if stored, _ := db.GetCustomer(ctx, orig.ID); !reflect.DeepEqual(stored, want) {
			t.Fatalf("stored:\n got %+v\nwant %+v", stored, want)
		}
	})
	t.Run("Stale", func(t *testing.T) {
		if _, err := db.UpdateCustomer(ctx, store.Customer{ID: orig.ID, Name: "late"}, 1); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
	})
	t.Run("Unconditional", func(t *testing.T) {
		got, err := db.UpdateCustomer(ctx, store.Customer{ID: orig.ID, Name: "any"}, 0)
		if err != nil || got.Version != 3 {
			t.Fatalf("got version %d, %v; want 3", got.Version, err)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		for _, v := range []int64{0, 1} {
			if _, err := db.UpdateCustomer(ctx, store.Customer{ID: 999}, v); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("expectedVersion %d: err = %v, want ErrNotFound", v, err)
			}
		}
	})
	t.Run("Duplicate", func(t *testing.T) {
		_, err := db.UpdateCustomer(ctx, store.Customer{ID: orig.ID, ExternalID: "OTHER"}, 0)
		var dup *store.DuplicateError
		if !errors.As(err, &dup) || dup.Entity != store.EntityCustomer || dup.Field != "externalId" {
			t.Fatalf("err = %v, want *DuplicateError{customer externalId}", err)
		}
		// Keeping one's own external id is no duplicate.
		if _, err := db.UpdateCustomer(ctx, store.Customer{ID: other.ID, ExternalID: "OTHER"}, 1); err != nil {
			t.Fatal(err)
		}
	})
}

func testUpdateCustomerSameVersionRace(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	c, err := db.CreateCustomer(ctx, store.Customer{Name: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = db.UpdateCustomer(ctx, store.Customer{ID: c.ID, Name: fmt.Sprint("writer ", i)}, 1)
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner == -1:
			winner = i
		case err == nil:
			t.Errorf("updates %d and %d both won", winner, i)
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("update %d: %v, want ErrConflict", i, err)
		}
	}
	got, err := db.GetCustomer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if winner < 0 || got.Version != 2 || got.Name != fmt.Sprint("writer ", winner) {
		t.Errorf("stored %+v; winner %d", got, winner)
	}
}

func testDeleteCustomer(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	c, err := db.CreateCustomer(ctx, store.Customer{ExternalID: "REUSE-ME", Name: "gone soon"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCustomer(ctx, c.ID, 2, time.Now(), "x"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale delete: %v, want ErrConflict", err)
	}
	at := time.Date(2026, 6, 1, 12, 0, 0, 5, time.FixedZone("X", 7200))
	if err := db.DeleteCustomer(ctx, c.ID, 1, at, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetCustomer(ctx, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetCustomer after delete: %v, want ErrNotFound", err)
	}
	if err := db.DeleteCustomer(ctx, c.ID, 0, at, "admin"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	again, err := db.CreateCustomer(ctx, store.Customer{ExternalID: "REUSE-ME"})
	if err != nil {
		t.Fatalf("reusing a deleted customer's external id: %v", err)
	}
	if again.ID == c.ID {
		t.Errorf("deleted id %d was handed out again", c.ID)
	}
}

// testCustomerConcurrentCreatesAndUpdates: 16 goroutines create 200 customers and update each one,
// all at once. Nothing may fail, every row must end at version 2.
func testCustomerConcurrentCreatesAndUpdates(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	const workers, total = 16, 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	final := map[int64]string{}
	for w := range workers {
		wg.Go(func() {
			for i := w; i < total; i += workers {
				c, err := db.CreateCustomer(ctx, store.Customer{ExternalID: fmt.Sprintf("ext-%d", i), Name: "new"})
				if err != nil {
					t.Errorf("create %d: %v", i, err)
					return
				}
				name := fmt.Sprintf("updated-%d", i)
				c.Name = name
				if _, err := db.UpdateCustomer(ctx, c, 1); err != nil {
					t.Errorf("update %d: %v", i, err)
					return
				}
				// Reads run beside the writer, and an acknowledged write is visible at once.
				if got, err := db.GetCustomer(ctx, c.ID); err != nil || got.Version != 2 {
					t.Errorf("read after update %d: version %d, %v", i, got.Version, err)
					return
				}
				mu.Lock()
				final[c.ID] = name
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(final) != total {
		t.Fatalf("%d customers acknowledged, want %d", len(final), total)
	}
	for id, name := range final {
		got, err := db.GetCustomer(ctx, id)
		if err != nil || got.Version != 2 || got.Name != name {
			t.Errorf("customer %d = %+v, %v; want version 2 named %s", id, got, err, name)
		}
	}
}
