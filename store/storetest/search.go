package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// names returns the names of the customers matching f, walking every page of size limit.
func searchAll(t *testing.T, db store.Store, f store.CustomerFilter, limit int) []store.Customer {
	t.Helper()
	var out []store.Customer
	after := store.CustomerKey{}
	for {
		page, err := db.SearchCustomers(context.Background(), f, after, limit)
		if err != nil {
			t.Fatalf("SearchCustomers(%+v, %d): %v", f, after.ID, err)
		}
		if len(page) > limit {
			t.Fatalf("page of %d, limit %d", len(page), limit)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = store.CustomerKey{ID: page[len(page)-1].ID}
	}
}

func namesOf(cs []store.Customer) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func testSearchFilters(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	mk := func(ext, name, email, company, country string, updated time.Time) {
		c := customer(ext, name)
		c.Email, c.Company, c.Address.Country, c.UpdatedAt = email, company, country, updated
		if _, err := db.CreateCustomer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	mk("E-1", "ÄRGER im Büro", "a@example.com", "ACME", "DE", t0)
	mk("E-2", "kein ärger", "b@example.com", "ACME", "AT", t0.Add(time.Hour))
	mk("E-3", "ΣΊΣΥΦΟΣ", "c@example.com", "Olympus", "GR", t0.Add(2*time.Hour))
	mk("E-4", "Пётр ИВАНОВ", "d@example.com", "Sibirsk", "RU", t0.Add(3*time.Hour))
	mk("E-5", "100% real_deal", "e@example.com", "ACME", "DE", t0.Add(4*time.Hour))
	mk("E-6", "100 percent realXdeal", "f@example.com", "acme", "DE", t0.Add(5*time.Hour))
	mk("E-7", "", "g@example.com", "", "", t0.Add(6*time.Hour))

	for _, tt := range []struct {
		name string
		f    store.CustomerFilter
		want []string
	}{
		{"All", store.CustomerFilter{}, []string{"ÄRGER im Büro", "kein ärger", "ΣΊΣΥΦΟΣ", "Пётр ИВАНОВ",
			"100% real_deal", "100 percent realXdeal", ""}},
		{"NameUpperFindsLower", store.CustomerFilter{NameContains: "ÄRGER"}, []string{"ÄRGER im Büro", "kein ärger"}},
		{"NameLowerFindsUpper", store.CustomerFilter{NameContains: "ärger"}, []string{"ÄRGER im Büro", "kein ärger"}},
		{"NameMixedCase", store.CustomerFilter{NameContains: "im bÜRO"}, []string{"ÄRGER im Büro"}},
		{"GreekFinalSigma", store.CustomerFilter{NameContains: "σίσυφος"}, []string{"ΣΊΣΥΦΟΣ"}},
		{"Cyrillic", store.CustomerFilter{NameContains: "пётр иванов"}, []string{"Пётр ИВАНОВ"}},
		{"PercentIsLiteral", store.CustomerFilter{NameContains: "0%"}, []string{"100% real_deal"}},
		{"UnderscoreIsLiteral", store.CustomerFilter{NameContains: "l_d"}, []string{"100% real_deal"}},
		{"NoMatch", store.CustomerFilter{NameContains: "%_%"}, nil},
		{"ExternalID", store.CustomerFilter{ExternalID: "E-3"}, []string{"ΣΊΣΥΦΟΣ"}},
		{"Email", store.CustomerFilter{Email: "d@example.com"}, []string{"Пётр ИВАНОВ"}},
		{"CompanyExact", store.CustomerFilter{Company: "ACME"}, []string{"ÄRGER im Büro", "kein ärger", "100% real_deal"}},
		{"Country", store.CustomerFilter{Country: "DE"}, []string{"ÄRGER im Büro", "100% real_deal", "100 percent realXdeal"}},
		{"UpdatedSince", store.CustomerFilter{UpdatedSince: t0.Add(5 * time.Hour)}, []string{"100 percent realXdeal", ""}},
		{"UpdatedSinceOtherZone", store.CustomerFilter{UpdatedSince: t0.Add(5*time.Hour + 1).In(time.FixedZone("X", -7*3600))}, []string{""}},
		{"Combined", store.CustomerFilter{Company: "ACME", Country: "DE", NameContains: "REAL"}, []string{"100% real_deal"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 100} {
				if got := namesOf(searchAll(t, db, tt.f, limit)); !slices.Equal(got, tt.want) {
					t.Errorf("limit %d: %q, want %q", limit, got, tt.want)
				}
			}
		})
	}
	t.Run("KeysetAfter", func(t *testing.T) {
		all := searchAll(t, db, store.CustomerFilter{}, 100)
		page, err := db.SearchCustomers(ctx, store.CustomerFilter{}, store.CustomerKey{ID: all[2].ID}, 2)
		if err != nil || len(page) != 2 || page[0].ID != all[3].ID || page[1].ID != all[4].ID {
			t.Fatalf("page after %d = %v, %v", all[2].ID, namesOf(page), err)
		}
		for i := 1; i < len(all); i++ {
			if all[i].ID <= all[i-1].ID {
				t.Fatalf("ids not increasing: %d after %d", all[i].ID, all[i-1].ID)
			}
		}
	})
	t.Run("RenameRefolds", func(t *testing.T) {
		c := searchAll(t, db, store.CustomerFilter{ExternalID: "E-7"}, 1)[0]
		c.Name = "NEU: Ärger"
		if _, err := db.UpdateCustomer(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
		if got := namesOf(searchAll(t, db, store.CustomerFilter{NameContains: "neu: ä"}, 10)); !slices.Equal(got, []string{"NEU: Ärger"}) {
			t.Errorf("after rename: %q", got)
		}
	})
}

// testSearchPagingWhileWriting walks every page while other goroutines insert and delete customers:
// every customer that existed for the whole walk appears exactly once, and ids only grow.
func testSearchPagingWhileWriting(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	const stable, churn = 300, 200
	stableIDs := map[int64]bool{}
	var churnIDs []int64
	for i := range stable + churn {
		c, err := db.CreateCustomer(ctx, customer(fmt.Sprint("P-", i), "paging"))
		if err != nil {
			t.Fatal(err)
		}
		if i%5 < 3 {
			stableIDs[c.ID] = true
		} else {
			churnIDs = append(churnIDs, c.ID)
		}
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() { // deletes the churn customers, oldest first
		for _, id := range churnIDs {
			if done.Load() {
				return
			}
			if err := db.DeleteCustomer(ctx, id, 0, t0, "churn"); err != nil {
				t.Errorf("delete %d: %v", id, err)
				return
			}
		}
	})
	wg.Go(func() { // inserts new customers behind the walker
		for i := 0; !done.Load() && i < 2000; i++ {
			if _, err := db.CreateCustomer(ctx, customer(fmt.Sprint("NEW-", i), "paging")); err != nil {
				t.Errorf("insert %d: %v", i, err)
				return
			}
		}
	})
	seen := map[int64]int{}
	var last int64
	for walk := 0; walk < 3; walk++ {
		clear(seen)
		last = 0
		after := store.CustomerKey{}
		for {
			page, err := db.SearchCustomers(ctx, store.CustomerFilter{NameContains: "PAGING"}, after, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, c := range page {
				if c.ID <= last {
					t.Fatalf("id %d after %d", c.ID, last)
				}
				last = c.ID
				seen[c.ID]++
			}
			after = store.CustomerKey{ID: last}
		}
		for id := range stableIDs {
			if seen[id] != 1 {
				t.Fatalf("walk %d: stable customer %d seen %d times", walk, id, seen[id])
			}
		}
	}
	done.Store(true)
	wg.Wait()
}
