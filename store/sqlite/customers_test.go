package sqlite

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/storetest"
)

// TestStore runs the behaviour suite every backend passes against a real database file.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := openTest(t, Options{})
		return db
	})
}

// TestCommerceStore runs the products, orders and reviews suite against a real database file.
func TestCommerceStore(t *testing.T) {
	storetest.RunCommerce(t, func(t *testing.T) store.Store {
		db, _ := openTest(t, Options{})
		return db
	})
}

// TestSubscriptionStore runs the subscriptions and leases suite against a real database file.
func TestSubscriptionStore(t *testing.T) {
	storetest.RunSubscriptions(t, func(t *testing.T) storetest.SubscriptionDB {
		db, _ := openTest(t, Options{})
		return db
	})
}

// TestCustomer_StoredText: times are stored as fixed-width UTC RFC 3339 text, birth dates as the date.
func TestCustomer_StoredText(t *testing.T) {
	db, _ := openTest(t, Options{})
	cet := time.FixedZone("CET", 3600)
	c, err := db.CreateCustomer(context.Background(), store.Customer{
		CreatedAt: time.Date(2024, 2, 29, 23, 59, 58, 123456789, cet),
		BirthDate: time.Date(1990, 12, 31, 23, 0, 0, 0, time.FixedZone("EST", -5*3600)),
	})
	if err != nil {
		t.Fatal(err)
	}
	var birth, createdAt string
	if err := db.read.QueryRow("SELECT birth_date, created_at FROM customers WHERE id = ?", c.ID).Scan(&birth, &createdAt); err != nil {
		t.Fatal(err)
	}
	if birth != "1990-12-31" || createdAt != "2024-02-29T22:59:58.123456789Z" {
		t.Errorf("stored birth_date %q created_at %q", birth, createdAt)
	}
}

// TestCustomer_EmptyIsNull: unset fields are stored as NULL, never as empty text.
func TestCustomer_EmptyIsNull(t *testing.T) {
	db, _ := openTest(t, Options{})
	a, err := db.CreateCustomer(context.Background(), store.Customer{Name: "only a name"})
	if err != nil {
		t.Fatal(err)
	}
	var nulls int
	err = db.read.QueryRow(`SELECT (created_by IS NULL) + (updated_by IS NULL) + (external_id IS NULL) + (email IS NULL)
		+ (phone IS NULL) + (gender IS NULL) + (company IS NULL) + (birth_date IS NULL) + (street IS NULL)
		+ (city IS NULL) + (region IS NULL) + (postal_code IS NULL) + (country IS NULL) + (name IS NULL)
		FROM customers WHERE id = ?`, a.ID).Scan(&nulls)
	if err != nil {
		t.Fatal(err)
	}
	if nulls != 13 {
		t.Errorf("%d of 13 unset columns are NULL", nulls)
	}
}

// TestCreateCustomer_DuplicatesInOneGroup queues 50 creates behind a held writer so they share one
// transaction: the 20 duplicates fail alone and the other 30 are committed.
func TestCreateCustomer_DuplicatesInOneGroup(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	release := holdWriter(t, db)
	groupsBefore := db.stats.groups.Load()

	const n = 50
	ext := func(i int) string {
		switch {
		case i < 10:
			return "" // no external id: never a duplicate
		case i < 20:
			return fmt.Sprintf("unique-%d", i)
		default:
			return fmt.Sprintf("dup-%d", i%10) // 30 creates over 10 ids
		}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = db.CreateCustomer(ctx, store.Customer{ExternalID: ext(i), Name: fmt.Sprint("c", i)})
		})
	}
	waitQueued(t, db, n)
	release()
	wg.Wait()

	if g := db.stats.groups.Load() - groupsBefore; g != 2 { // the holding job's group, then all 50
		t.Errorf("the 50 creates took %d commits, want 1", g-1)
	}
	winners := map[string]int{}
	failed := 0
	for i, err := range errs {
		var dup *store.DuplicateError
		switch {
		case err == nil:
			winners[ext(i)]++
		case errors.As(err, &dup) && dup.Field == "externalId" && i >= 20:
			failed++
		default:
			t.Errorf("create %d (%q): %v", i, ext(i), err)
		}
	}
	if failed != 20 {
		t.Errorf("%d duplicates refused, want 20", failed)
	}
	for i := 10; i < 30; i++ {
		if winners[ext(i)] != 1 {
			t.Errorf("external id %q stored %d times, want 1", ext(i), winners[ext(i)])
		}
	}
	if winners[""] != 10 {
		t.Errorf("%d customers without external id stored, want 10", winners[""])
	}
	if got := countRows(t, db.read, "customers"); got != 30 {
		t.Errorf("customers = %d, want 30", got)
	}
	if got := countRows(t, db.read, "changes"); got != 30 {
		t.Errorf("changes = %d, want 30", got)
	}
}

// TestChanges_Log: every acknowledged write leaves one change row with its version, time and actor;
// a failed write leaves none.
func TestChanges_Log(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	orig, err := db.CreateCustomer(ctx, store.Customer{ExternalID: "ORIG"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateCustomer(ctx, store.Customer{ExternalID: "ORIG"}); err == nil {
		t.Fatal("duplicate created")
	}
	upd := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := db.UpdateCustomer(ctx, store.Customer{ID: orig.ID, UpdatedAt: upd, UpdatedBy: "crm-ui"}, 1); err != nil {
		t.Fatal(err)
	}
	del := time.Date(2026, 6, 1, 12, 0, 0, 5, time.FixedZone("X", 7200))
	if err := db.DeleteCustomer(ctx, orig.ID, 2, del, "admin"); err != nil {
		t.Fatal(err)
	}
	chs, err := db.Changes(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Seq: 1, Entity: "customer", EntityID: orig.ID, Version: 1, Op: OpCreate, At: time.Time{}.UTC()},
		{Seq: 2, Entity: "customer", EntityID: orig.ID, Version: 2, Op: OpUpdate, At: upd, Actor: "crm-ui"},
		{Seq: 3, Entity: "customer", EntityID: orig.ID, Version: 3, Op: OpDelete, At: del.UTC(), Actor: "admin"},
	}
	if !reflect.DeepEqual(chs, want) {
		t.Fatalf("changes:\n got %+v\nwant %+v", chs, want)
	}
}

func TestChanges_Paging(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	for i := range 5 {
		if _, err := db.CreateCustomer(ctx, store.Customer{Name: fmt.Sprint(i), CreatedBy: "erp"}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := db.Changes(ctx, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].Seq != 3 || page[1].Seq != 4 || page[0].Actor != "erp" || page[0].Op != OpCreate {
		t.Fatalf("Changes(2, 2) = %+v, want seq 3 and 4", page)
	}
	if rest, _ := db.Changes(ctx, 5, 10); len(rest) != 0 {
		t.Errorf("Changes(5, 10) = %+v, want none", rest)
	}
}

// TestCustomer_ConcurrentWritesShareCommits: 16 goroutines create and update 200 customers; every write
// runs once as a job of the writer, each leaves one change row, and the file stays sound.
func TestCustomer_ConcurrentWritesShareCommits(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{})
	const workers, total = 16, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < total; i += workers {
				c, err := db.CreateCustomer(ctx, store.Customer{ExternalID: fmt.Sprintf("ext-%d", i)})
				if err == nil {
					_, err = db.UpdateCustomer(ctx, c, 1)
				}
				if err != nil {
					t.Errorf("customer %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := countRows(t, db.read, "changes"); n != 2*total {
		t.Errorf("changes = %d, want %d", n, 2*total)
	}
	if g, j := db.stats.groups.Load(), db.stats.jobs.Load(); j != 2*total {
		t.Errorf("writer ran %d jobs, want %d", j, 2*total)
	} else {
		t.Logf("%d writes in %d commits", j, g)
	}
	integrityCheck(t, db.read)
	integrityCheck(t, rawOpen(t, path))
}

// TestCustomer_TimesSortAsText: stored times are fixed width, so ORDER BY on the text is time order.
func TestCustomer_TimesSortAsText(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{time.Second, 100 * time.Millisecond, 1, 0} {
		at := base.Add(d)
		if _, err := db.CreateCustomer(ctx, store.Customer{Name: at.String(), CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.read.Query("SELECT created_at FROM customers ORDER BY created_at")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var prev time.Time
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("stored %q is not RFC 3339: %v", s, err)
		}
		if at.Before(prev) {
			t.Errorf("%q sorts after a later time", s)
		}
		prev = at
	}
}
