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

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// customer is a customer with external id ext, created and updated at t0 by "erp".
func customer(ext, name string) store.Customer {
	return store.Customer{ExternalID: ext, Name: name, CreatedAt: t0, UpdatedAt: t0, CreatedBy: "erp", UpdatedBy: "erp"}
}

func isDuplicate(err error) bool {
	var dup *store.DuplicateError
	return errors.As(err, &dup) && dup.Entity == store.EntityCustomer && dup.Field == "externalId"
}

func testUpsert(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)

	created, isNew, err := db.UpsertCustomer(ctx, customer("U-1", "first"), 0)
	if err != nil || !isNew || created.Version != 1 || created.ID <= 0 {
		t.Fatalf("upsert of a new external id = %+v, created %v, %v; want version 1, created", created, isNew, err)
	}
	upd := customer("U-1", "second")
	upd.UpdatedAt, upd.UpdatedBy = t0.Add(time.Hour), "erp-2"
	upd.CreatedAt, upd.CreatedBy = time.Unix(0, 0).UTC(), "ignored"
	got, isNew, err := db.UpsertCustomer(ctx, upd, 0)
	if err != nil || isNew {
		t.Fatalf("upsert of a known external id: created %v, %v", isNew, err)
	}
	want := upd
	want.ID, want.Version, want.CreatedAt, want.CreatedBy = created.ID, 2, t0, "erp"
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("upsert update:\n got %+v\nwant %+v", got, want)
	}
	if stored, _ := db.GetCustomer(ctx, created.ID); !reflect.DeepEqual(stored, want) {
		t.Fatalf("stored:\n got %+v\nwant %+v", stored, want)
	}

	t.Run("ExpectedVersion", func(t *testing.T) {
		if _, _, err := db.UpsertCustomer(ctx, customer("U-1", "stale"), 1); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale expected version: %v, want ErrConflict", err)
		}
		got, isNew, err := db.UpsertCustomer(ctx, customer("U-1", "third"), 2)
		if err != nil || isNew || got.Version != 3 || got.ID != created.ID || got.Name != "third" {
			t.Fatalf("upsert at the expected version = %+v, created %v, %v", got, isNew, err)
		}
		if _, _, err := db.UpsertCustomer(ctx, customer("U-404", "x"), 1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expected version for an unknown external id: %v, want ErrNotFound", err)
		}
	})
	t.Run("NoExternalID", func(t *testing.T) {
		if _, _, err := db.UpsertCustomer(ctx, customer("", "anonymous"), 0); err == nil {
			t.Fatal("upsert without external id succeeded")
		}
	})
	t.Run("ConcurrentSameExternalID", func(t *testing.T) {
		const n = 12
		var wg sync.WaitGroup
		creates := make([]bool, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, creates[i], errs[i] = db.UpsertCustomer(ctx, customer("RACE", fmt.Sprint("w", i)), 0)
			})
		}
		wg.Wait()
		nCreated := 0
		for i := range n {
			if errs[i] != nil {
				t.Errorf("upsert %d: %v", i, errs[i])
			}
			if creates[i] {
				nCreated++
			}
		}
		page, err := db.SearchCustomers(ctx, store.CustomerFilter{ExternalID: "RACE"}, store.CustomerKey{}, 10)
		if err != nil || len(page) != 1 || page[0].Version != n || nCreated != 1 {
			t.Fatalf("after %d concurrent upserts: %d created, stored %+v, %v; want 1 created, one customer at version %d",
				n, nCreated, page, err, n)
		}
	})
}

func testWriteCustomers(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	keep, err := db.CreateCustomer(ctx, customer("KEEP", "keep"))
	if err != nil {
		t.Fatal(err)
	}
	gone, err := db.CreateCustomer(ctx, customer("GONE", "gone"))
	if err != nil {
		t.Fatal(err)
	}
	ops := []store.CustomerOp{
		{Kind: store.OpAdd, Customer: customer("NEW-1", "new")},
		{Kind: store.OpUpdate, Customer: store.Customer{ID: keep.ID, ExternalID: "KEEP", Name: "kept", UpdatedAt: t0}, ExpectedVersion: 1},
		{Kind: store.OpUpdate, Customer: store.Customer{ID: keep.ID, ExternalID: "KEEP-X"}, ExpectedVersion: 1}, // stale after op 1
		{Kind: store.OpAdd, Customer: customer("GONE", "taken")},                                                // duplicate of a stored customer
		{Kind: store.OpUpsert, Customer: customer("NEW-2", "upserted")},
		{Kind: store.OpDelete, ID: gone.ID, At: t0, Actor: "erp"},
		{Kind: store.OpDelete, ID: 987654},
	}

	t.Run("AllOrNone", func(t *testing.T) {
		rs, err := db.WriteCustomers(ctx, ops, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantErr := []error{store.ErrRolledBack, store.ErrRolledBack, store.ErrConflict, nil, store.ErrRolledBack,
			store.ErrRolledBack, store.ErrNotFound}
		for i, r := range rs {
			if i == 3 {
				if !isDuplicate(r.Err) {
					t.Errorf("op 3: %v, want *DuplicateError", r.Err)
				}
				continue
			}
			if !errors.Is(r.Err, wantErr[i]) {
				t.Errorf("op %d: %v, want %v", i, r.Err, wantErr[i])
			}
		}
		for _, ext := range []string{"NEW-1", "NEW-2"} {
			if page, _ := db.SearchCustomers(ctx, store.CustomerFilter{ExternalID: ext}, store.CustomerKey{}, 1); len(page) != 0 {
				t.Errorf("%s stored by a rolled-back call", ext)
			}
		}
		if c, _ := db.GetCustomer(ctx, keep.ID); c.Version != 1 {
			t.Errorf("customer %d at version %d after a rolled-back call, want 1", keep.ID, c.Version)
		}
		if _, err := db.GetCustomer(ctx, gone.ID); err != nil {
			t.Errorf("customer deleted by a rolled-back call: %v", err)
		}
	})
	t.Run("EachOnItsOwn", func(t *testing.T) {
		rs, err := db.WriteCustomers(ctx, ops, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r := rs[0]; r.Err != nil || !r.Created || r.Customer.Version != 1 || r.Customer.ExternalID != "NEW-1" {
			t.Errorf("add: %+v", r)
		}
		if r := rs[1]; r.Err != nil || r.Created || r.Customer.Version != 2 || r.Customer.Name != "kept" {
			t.Errorf("update: %+v", r)
		}
		if !errors.Is(rs[2].Err, store.ErrConflict) || !isDuplicate(rs[3].Err) || !errors.Is(rs[6].Err, store.ErrNotFound) {
			t.Errorf("failing ops: %v, %v, %v; want ErrConflict, *DuplicateError, ErrNotFound", rs[2].Err, rs[3].Err, rs[6].Err)
		}
		if r := rs[4]; r.Err != nil || !r.Created {
			t.Errorf("upsert: %+v", r)
		}
		if r := rs[5]; r.Err != nil || r.Customer.ID != gone.ID || r.Customer.Version != 2 {
			t.Errorf("delete: %+v, want ID %d and tombstone version 2", r, gone.ID)
		}
		for i, r := range rs {
			if r.Err != nil && r.Customer != (store.Customer{}) {
				t.Errorf("op %d failed but reports customer %+v", i, r.Customer)
			}
		}
		if _, err := db.GetCustomer(ctx, gone.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted customer: %v", err)
		}
		if c, err := db.GetCustomer(ctx, rs[0].Customer.ID); err != nil || !reflect.DeepEqual(c, rs[0].Customer) {
			t.Errorf("added customer reads back as %+v, %v; result %+v", c, err, rs[0].Customer)
		}
	})
	t.Run("SameExternalIDTwice", func(t *testing.T) {
		ops := []store.CustomerOp{
			{Kind: store.OpUpsert, Customer: customer("TWICE", "a")},
			{Kind: store.OpAdd, Customer: customer("OTHER-1", "b")},
			{Kind: store.OpAdd, Customer: customer("TWICE", "c")},
		}
		for _, allOrNone := range []bool{true, false} {
			rs, err := db.WriteCustomers(ctx, ops, allOrNone, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !isDuplicate(rs[0].Err) || !isDuplicate(rs[2].Err) {
				t.Errorf("allOrNone %v: %v and %v, want both *DuplicateError", allOrNone, rs[0].Err, rs[2].Err)
			}
			if allOrNone && !errors.Is(rs[1].Err, store.ErrRolledBack) || !allOrNone && rs[1].Err != nil {
				t.Errorf("allOrNone %v: the other op: %v", allOrNone, rs[1].Err)
			}
		}
		if page, _ := db.SearchCustomers(ctx, store.CustomerFilter{ExternalID: "TWICE"}, store.CustomerKey{}, 5); len(page) != 0 {
			t.Errorf("TWICE stored: %+v", page)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		rs, err := db.WriteCustomers(ctx, nil, true, nil)
		if err != nil || len(rs) != 0 {
			t.Fatalf("no ops: %v, %v", rs, err)
		}
	})
}

// testBulkBesideSingleWrites runs a 1,000-op call while other goroutines keep writing one customer at a
// time: every write succeeds (no "database is locked"), and everything is stored.
func testBulkBesideSingleWrites(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	const bulk, writers, each = 1000, 4, 40
	ops := make([]store.CustomerOp, bulk)
	for i := range ops {
		ops[i] = store.CustomerOp{Kind: store.OpUpsert, Customer: customer(fmt.Sprint("BULK-", i), "bulk")}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range each {
				c, err := db.CreateCustomer(ctx, customer(fmt.Sprintf("SINGLE-%d-%d", w, i), "single"))
				if err == nil {
					c.Name = "single, updated"
					_, err = db.UpdateCustomer(ctx, c, 1)
				}
				if err != nil {
					t.Errorf("single write %d/%d: %v", w, i, err)
					return
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			<-start
			rs, err := db.WriteCustomers(ctx, ops, true, nil)
			if err != nil {
				t.Errorf("bulk: %v", err)
				return
			}
			for i, r := range rs {
				if r.Err != nil {
					t.Errorf("bulk op %d: %v", i, r.Err)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()

	counts := map[string]int{}
	after := store.CustomerKey{}
	for {
		page, err := db.SearchCustomers(ctx, store.CustomerFilter{}, after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			counts[c.Name]++
			if c.Name == "bulk" && c.Version != 2 {
				t.Errorf("bulk customer %s at version %d, want 2 (two upserting calls)", c.ExternalID, c.Version)
			}
		}
		after = store.CustomerKey{ID: page[len(page)-1].ID}
	}
	if counts["bulk"] != bulk || counts["single, updated"] != writers*each || len(counts) != 2 {
		t.Fatalf("stored %v, want %d bulk and %d single, updated", counts, bulk, writers*each)
	}
}
