package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres"
	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
	"github.com/crmsoap/crmsoap/store/sqlite"
	"github.com/crmsoap/crmsoap/store/storetest"
)

// migrate-db copies every customer, the feed (seqs, tombstones, horizon), clients, revocations and
// secrets into PostgreSQL; a follower's cursor and a deleted id keep their meaning there; a second run
// into the now used database is refused.
func TestMigrateDB(t *testing.T) {
	ctx := context.Background()
	from := filepath.Join(t.TempDir(), "crm.db")
	src, err := sqlite.Open(ctx, from, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []int64
	for i := range 30 {
		c := storetest.FullCustomer()
		c.ExternalID = strings.Repeat("x", i%3) + string(rune('A'+i))
		c, err := src.CreateCustomer(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	if err := src.DeleteCustomer(ctx, ids[0], 0, old, "purged"); err != nil { // purged below: raises the horizon
		t.Fatal(err)
	}
	if err := src.DeleteCustomer(ctx, ids[29], 0, time.Now(), "kept"); err != nil { // the highest id: deleted
		t.Fatal(err)
	}
	if n, err := src.PurgeTombstones(ctx, old.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if _, err := src.UpdateCustomer(ctx, store.Customer{ID: ids[5], Name: "changed", UpdatedAt: time.Now()}, 0); err != nil {
		t.Fatal(err)
	}
	if err := src.AddClient(ctx, store.Client{Name: "erp", CertDER: []byte{1, 2, 3}, Enabled: true, CreatedAt: old}); err != nil {
		t.Fatal(err)
	}
	if err := src.Revoke(ctx, store.NewRevocation([]byte{4, 5, 6}, "lost", old)); err != nil {
		t.Fatal(err)
	}
	secret, err := src.Secret(ctx, "page-token")
	if err != nil {
		t.Fatal(err)
	}
	srcFeed, _, err := src.Feed(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	src.Close()

	to := pgtest.Database(t)
	out, err := run(t, "migrate-db", "--from", from, "--to", to)
	if err != nil || !strings.Contains(out, "copied 28 customers") {
		t.Fatalf("migrate-db: %v\n%s", err, out)
	}
	dst, err := postgres.Open(ctx, to, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	feed, _, err := dst.Feed(ctx, 0, 100)
	if err != nil || !reflect.DeepEqual(feed, srcFeed) {
		t.Fatalf("feed after the move: %v\n got %+v\nwant %+v", err, feed, srcFeed)
	}
	if _, _, err := dst.Feed(ctx, 1, 100); !errors.Is(err, store.ErrCursorExpired) {
		t.Errorf("a cursor below the horizon: %v, want ErrCursorExpired", err)
	}
	if got, err := dst.Secret(ctx, "page-token"); err != nil || !reflect.DeepEqual(got, secret) {
		t.Errorf("secret after the move: %x, %v; want the source's", got, err)
	}
	if rs, err := dst.ListRevocations(ctx); err != nil || len(rs) != 1 || rs[0].Reason != "lost" {
		t.Errorf("revocations: %+v, %v", rs, err)
	}
	c, err := dst.CreateCustomer(ctx, store.Customer{Name: "after the move"})
	if err != nil || c.ID <= ids[29] {
		t.Fatalf("first customer after the move: id %d, %v; want past every id used (%d)", c.ID, err, ids[29])
	}
	tail, _, err := dst.Feed(ctx, srcFeed[len(srcFeed)-1].Seq, 100)
	if err != nil || len(tail) != 1 || tail[0].ID != c.ID {
		t.Fatalf("a follower at the source's last seq sees %+v, %v; want the new customer", tail, err)
	}
	if out, err := run(t, "migrate-db", "--from", from, "--to", to); err == nil || !strings.Contains(out, "not empty") {
		t.Fatalf("migrate-db into a used database: %v\n%s", err, out)
	}
}

// migrate-db copies push subscriptions with their cursors, delivery state and last error, but not
// their leases; a database that holds only a subscription counts as used, and nothing is copied into it.
func TestMigrateDB_Subscriptions(t *testing.T) {
	ctx := context.Background()
	from := filepath.Join(t.TempDir(), "crm.db")
	src, err := sqlite.Open(ctx, from, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for i := range 5 {
		if _, err := src.CreateCustomer(ctx, store.Customer{Name: fmt.Sprint("c", i), CreatedAt: t0, UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []store.Subscription{
		{Name: "erp", SinkKind: "soap", SinkConfig: []byte(`{"url":"https://erp.example/l"}`), Entity: "customer", CreatedAt: t0},
		{Name: "bus", SinkKind: "nats", SinkConfig: []byte(`{"url":"nats://h:4222","stream":"CRM"}`), State: store.SubPaused, CreatedAt: t0},
	} {
		if err := src.AddSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.LeaseSubscription(ctx, "erp", "old-node", t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := src.AckSubscription(ctx, "erp", "old-node", 0, 3, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := src.FailSubscription(ctx, "erp", "old-node", "HTTP 503", t0.Add(2*time.Minute), false); err != nil {
		t.Fatal(err)
	}
	want, err := src.ListSubscriptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	src.Close()

	used := pgtest.Database(t)
	pg, err := postgres.Open(ctx, used, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.AddSubscription(ctx, store.Subscription{Name: "x", SinkKind: "soap", SinkConfig: []byte("{}"), CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "migrate-db", "--from", from, "--to", used); err == nil || !strings.Contains(out, "not empty") {
		t.Fatalf("migrate-db into a database holding a subscription: %v\n%s", err, out)
	}
	if n, _, err := pg.FeedLag(ctx, "", 0); err != nil || n != 0 {
		t.Fatalf("the refused copy wrote %d feed entries (%v)", n, err)
	}
	pg.Close()

	to := pgtest.Database(t)
	out, err := run(t, "migrate-db", "--from", from, "--to", to)
	if err != nil || !strings.Contains(out, "copied 2 push subscriptions with their cursors") {
		t.Fatalf("migrate-db: %v\n%s", err, out)
	}
	dst, err := postgres.Open(ctx, to, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	got, err := dst.ListSubscriptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if want[i].LeaseOwner != "" && want[i].Name != "erp" {
			t.Fatalf("source lease on %s", want[i].Name)
		}
		want[i].LeaseOwner, want[i].LeaseExpires = "", time.Time{}
	}
	if !reflect.DeepEqual(got, want) || got[1].Cursor != 3 || got[1].LastError != "HTTP 503" || got[0].State != store.SubPaused {
		t.Fatalf("subscriptions after the move:\n got %+v\nwant %+v", got, want)
	}
	// A node of the new database takes the lease at once and carries on from the cursor.
	if s, err := dst.LeaseSubscription(ctx, "erp", "new-node", time.Now(), time.Now().Add(time.Minute)); err != nil || s.Cursor != 3 {
		t.Fatalf("lease after the move: %+v, %v", s, err)
	}
}
