package sqlite

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// TestMigration0003_Backfill opens a database written at schema version 2 with customers in it: the
// feed starts with every customer, in the order of its last logged change, and names are searchable
// case-insensitively.
func TestMigration0003_Backfill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v2.db")
	raw := rawOpen(t, path)
	for _, m := range migrations[:2] {
		if _, err := raw.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	_, err := raw.Exec(`PRAGMA user_version = 2;
		INSERT INTO customers (id, version, created_at, updated_at, updated_by, external_id, name) VALUES
			(1, 2, '2025-01-01T00:00:00.000000000Z', '2025-01-03T00:00:00.000000000Z', 'erp', 'OLD-1', 'ÄRGER GmbH'),
			(2, 1, '2025-01-02T00:00:00.000000000Z', '2025-01-02T00:00:00.000000000Z', NULL, NULL, NULL),
			(4, 1, '2025-01-04T00:00:00.000000000Z', '2025-01-04T00:00:00.000000000Z', NULL, 'OLD-4', 'Σοφός');
		INSERT INTO changes (entity, entity_id, op, version, at) VALUES
			('customer', 1, 'create', 1, '2025-01-01T00:00:00.000000000Z'),
			('customer', 2, 'create', 1, '2025-01-02T00:00:00.000000000Z'),
			('customer', 1, 'update', 2, '2025-01-03T00:00:00.000000000Z'),
			('customer', 3, 'create', 1, '2025-01-03T00:00:00.000000000Z'),
			('customer', 4, 'create', 1, '2025-01-04T00:00:00.000000000Z'),
			('customer', 3, 'delete', 2, '2025-01-05T00:00:00.000000000Z');`)
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	feed, more, err := db.Feed(ctx, 0, 10)
	if err != nil || more {
		t.Fatalf("Feed: more %v, %v", more, err)
	}
	var got []string
	for _, e := range feed {
		got = append(got, strconv.FormatInt(e.ID, 10)+" v"+strconv.FormatInt(e.Version, 10)+" "+e.Kind+" "+e.ExternalID+" "+e.Actor)
	}
	want := []string{"2 v1 UPSERTED  ", "1 v2 UPSERTED OLD-1 erp", "4 v1 UPSERTED OLD-4 "}
	if !slices.Equal(got, want) {
		t.Fatalf("backfilled feed %q, want %q", got, want)
	}
	if feed[1].Customer == nil || feed[1].Customer.Name != "ÄRGER GmbH" || !feed[1].At.Equal(time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("entry of customer 1: %+v %+v", feed[1], feed[1].Customer)
	}
	for q, want := range map[string]int64{"ärger": 1, "ΣΟΦΌΣ": 4} {
		page, err := db.SearchCustomers(ctx, store.CustomerFilter{NameContains: q}, store.CustomerKey{}, 10)
		if err != nil || len(page) != 1 || page[0].ID != want {
			t.Errorf("search %q after backfill: %+v, %v; want customer %d", q, page, err, want)
		}
	}
	// New writes continue the feed after the backfill.
	c, err := db.CreateCustomer(ctx, store.Customer{Name: "new"})
	if err != nil {
		t.Fatal(err)
	}
	if next, _, err := db.Feed(ctx, feed[2].Seq, 10); err != nil || len(next) != 1 || next[0].ID != c.ID {
		t.Fatalf("feed after the backfill: %+v, %v", next, err)
	}
}

// TestSecret_SurvivesReopen: a secret is stored with the data, not made up per process.
func TestSecret_SurvivesReopen(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{})
	s1, err := db.Secret(ctx, "page-token")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	s2, err := db2.Secret(ctx, "page-token")
	if err != nil || !bytes.Equal(s1, s2) {
		t.Fatalf("after reopen: %x, %v; before: %x", s2, err, s1)
	}
	var n int
	if err := db2.read.QueryRow(`SELECT count(*) FROM meta WHERE name = 'secret.page-token' AND length(value) = 32`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("meta rows for the secret: %d, %v", n, err)
	}
}

// TestIdempotency_ExpiryUsesTheClock: Options.Now decides whether a record has expired.
func TestIdempotency_ExpiryUsesTheClock(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	db, _ := openTest(t, Options{Now: func() time.Time { return now }})
	rec := &store.IdempotencyRecord{Client: "c", MessageID: "m", Operation: "op", Expires: now.Add(time.Minute)}
	if _, err := db.WriteCustomers(ctx, nil, false, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LookupIdempotency(ctx, "c", "m"); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	if _, err := db.WriteCustomers(ctx, nil, false, rec); !errors.Is(err, store.ErrIdempotencyRace) {
		t.Fatalf("second record before expiry: %v, want ErrIdempotencyRace", err)
	}
	now = now.Add(time.Minute)
	if _, err := db.LookupIdempotency(ctx, "c", "m"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("at expiry: %v, want ErrNotFound", err)
	}
	if _, err := db.WriteCustomers(ctx, nil, false, rec); err != nil {
		t.Fatalf("second record after expiry: %v", err)
	}
}
