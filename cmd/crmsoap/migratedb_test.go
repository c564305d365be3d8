package main

import (
	"context"
	"errors"
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
