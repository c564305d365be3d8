package sqlite

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

func fullCustomer() Customer {
	cet := time.FixedZone("CET", 3600)
	return Customer{
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
		Address: Address{Street: "长安街 1号", City: "北京", Region: "北京市", PostalCode: "100000",
			Country: "CN"},
	}
}

func TestCustomer_RoundTrip(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	in := fullCustomer()
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

	var birth, createdAt string
	if err := db.read.QueryRow("SELECT birth_date, created_at FROM customers WHERE id = ?", got.ID).Scan(&birth, &createdAt); err != nil {
		t.Fatal(err)
	}
	if birth != "1990-12-31" || createdAt != "2024-02-29T22:59:58.123456789Z" {
		t.Errorf("stored birth_date %q created_at %q", birth, createdAt)
	}
}

func TestCustomer_EmptyIsNull(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	a, err := db.CreateCustomer(ctx, Customer{Name: "only a name", CreatedAt: at, UpdatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	// Two customers without external id: NULLs never collide.
	if _, err := db.CreateCustomer(ctx, Customer{Name: "another", CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatalf("second customer without external id: %v", err)
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
	got, err := db.GetCustomer(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := Customer{ID: a.ID, Version: 1, Name: "only a name", CreatedAt: at, UpdatedAt: at}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !got.BirthDate.IsZero() {
		t.Errorf("BirthDate = %v, want zero", got.BirthDate)
	}
}

func TestGetCustomer_NotFound(t *testing.T) {
	db, _ := openTest(t, Options{})
	if _, err := db.GetCustomer(context.Background(), 12345); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestCreateCustomer_Duplicate(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	if _, err := db.CreateCustomer(ctx, Customer{ExternalID: "X-1"}); err != nil {
		t.Fatal(err)
	}
	_, err := db.CreateCustomer(ctx, Customer{ExternalID: "X-1"})
	var dup *DuplicateError
	if !errors.As(err, &dup) || dup.Column != "external_id" {
		t.Fatalf("err = %v, want *DuplicateError{external_id}", err)
	}
	if n := countRows(t, db.read, "changes"); n != 1 {
		t.Errorf("changes = %d, want 1 (the failed create leaves no trace)", n)
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
			_, errs[i] = db.CreateCustomer(ctx, Customer{ExternalID: ext(i), Name: fmt.Sprint("c", i)})
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
		var dup *DuplicateError
		switch {
		case err == nil:
			winners[ext(i)]++
		case errors.As(err, &dup) && dup.Column == "external_id" && i >= 20:
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

func TestUpdateCustomer(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	orig, err := db.CreateCustomer(ctx, fullCustomer())
	if err != nil {
		t.Fatal(err)
	}
	other, err := db.CreateCustomer(ctx, Customer{ExternalID: "OTHER"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ReplacesFields", func(t *testing.T) {
		upd := Customer{ID: orig.ID, Name: "Renamed", Email: "new@example.com",
			UpdatedAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedBy: "crm-ui",
			CreatedAt: time.Unix(0, 0), CreatedBy: "ignored"}
		got, err := db.UpdateCustomer(ctx, upd, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := Customer{ID: orig.ID, Version: 2, Name: "Renamed", Email: "new@example.com",
			CreatedAt: orig.CreatedAt, CreatedBy: orig.CreatedBy, UpdatedAt: upd.UpdatedAt, UpdatedBy: "crm-ui"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("UpdateCustomer:\n got %+v\nwant %+v", got, want)
		}
		if stored, _ := db.GetCustomer(ctx, orig.ID); !reflect.DeepEqual(stored, want) {
			t.Fatalf("stored:\n got %+v\nwant %+v", stored, want)
		}
	})
	t.Run("Stale", func(t *testing.T) {
		if _, err := db.UpdateCustomer(ctx, Customer{ID: orig.ID, Name: "late"}, 1); !errors.Is(err, ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
	})
	t.Run("Unconditional", func(t *testing.T) {
		got, err := db.UpdateCustomer(ctx, Customer{ID: orig.ID, Name: "any"}, 0)
		if err != nil || got.Version != 3 {
			t.Fatalf("got version %d, %v; want 3", got.Version, err)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		for _, v := range []int64{0, 1} {
			if _, err := db.UpdateCustomer(ctx, Customer{ID: 999}, v); !errors.Is(err, ErrNotFound) {
				t.Errorf("expectedVersion %d: err = %v, want ErrNotFound", v, err)
			}
		}
	})
	t.Run("Duplicate", func(t *testing.T) {
		_, err := db.UpdateCustomer(ctx, Customer{ID: orig.ID, ExternalID: "OTHER"}, 0)
		var dup *DuplicateError
		if !errors.As(err, &dup) || dup.Column != "external_id" {
			t.Fatalf("err = %v, want *DuplicateError{external_id}", err)
		}
		// Keeping one's own external id is no duplicate.
		if _, err := db.UpdateCustomer(ctx, Customer{ID: other.ID, ExternalID: "OTHER"}, 1); err != nil {
			t.Fatal(err)
		}
	})

	chs, err := db.Changes(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, ch := range chs {
		ops = append(ops, fmt.Sprintf("%s %d v%d", ch.Op, ch.EntityID, ch.Version))
	}
	want := []string{
		fmt.Sprintf("create %d v1", orig.ID), fmt.Sprintf("create %d v1", other.ID),
		fmt.Sprintf("update %d v2", orig.ID), fmt.Sprintf("update %d v3", orig.ID), fmt.Sprintf("update %d v2", other.ID),
	}
	if !reflect.DeepEqual(ops, want) {
		t.Errorf("changes = %q, want %q", ops, want)
	}
	if chs[2].Actor != "crm-ui" || !chs[2].At.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("update change = %+v: want actor and time of the update", chs[2])
	}
}

func TestUpdateCustomer_SameVersionRace(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	c, err := db.CreateCustomer(ctx, Customer{Name: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = db.UpdateCustomer(ctx, Customer{ID: c.ID, Name: fmt.Sprint("writer ", i)}, 1)
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
		case !errors.Is(err, ErrConflict):
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

func TestDeleteCustomer(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	c, err := db.CreateCustomer(ctx, Customer{ExternalID: "REUSE-ME", Name: "gone soon"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCustomer(ctx, c.ID, 2, time.Now(), "x"); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale delete: %v, want ErrConflict", err)
	}
	at := time.Date(2026, 6, 1, 12, 0, 0, 5, time.FixedZone("X", 7200))
	if err := db.DeleteCustomer(ctx, c.ID, 1, at, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetCustomer(ctx, c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetCustomer after delete: %v, want ErrNotFound", err)
	}
	if err := db.DeleteCustomer(ctx, c.ID, 0, at, "admin"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	chs, err := db.Changes(ctx, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{Seq: 2, Entity: "customer", EntityID: c.ID, Version: 2, Op: OpDelete, At: at.UTC(), Actor: "admin"}}
	if !reflect.DeepEqual(chs, want) {
		t.Fatalf("changes after seq 1 = %+v, want %+v", chs, want)
	}

	again, err := db.CreateCustomer(ctx, Customer{ExternalID: "REUSE-ME"})
	if err != nil {
		t.Fatalf("reusing a deleted customer's external id: %v", err)
	}
	if again.ID == c.ID {
		t.Errorf("deleted id %d was handed out again", c.ID)
	}
}

func TestChanges_Paging(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	for i := range 5 {
		if _, err := db.CreateCustomer(ctx, Customer{Name: fmt.Sprint(i), CreatedBy: "erp"}); err != nil {
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

// TestCustomer_ConcurrentCreatesAndUpdates: 16 goroutines create 200 customers and update each one,
// all at once. Nothing may fail, every row must end at version 2, and the file must stay sound.
func TestCustomer_ConcurrentCreatesAndUpdates(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{})
	const workers, total = 16, 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	final := map[int64]string{}
	for w := range workers {
		wg.Go(func() {
			for i := w; i < total; i += workers {
				c, err := db.CreateCustomer(ctx, Customer{ExternalID: fmt.Sprintf("ext-%d", i), Name: "new"})
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
		if _, err := db.CreateCustomer(ctx, Customer{Name: at.String(), CreatedAt: at, UpdatedAt: at}); err != nil {
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
