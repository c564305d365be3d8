package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/storetest"
)

// TestWriteCustomers_HalfDoneOpUndoneAlone: an op that fails after its first write (here: the stored
// created_at of the customer it updates cannot be read back) must leave nothing behind, while the ops
// beside it keep their results, whether the call is the writer's only job or shares its transaction.
func TestWriteCustomers_HalfDoneOpUndoneAlone(t *testing.T) {
	for _, grouped := range []bool{false, true} {
		t.Run(fmt.Sprint("grouped=", grouped), func(t *testing.T) {
			ctx := context.Background()
			db, _ := openTest(t, Options{})
			bad, good := createNamed(t, db, "bad"), createNamed(t, db, "good")
			if err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE customers SET created_at = 'garbage' WHERE id = ?`, bad.ID)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			changesBefore := countRows(t, db.read, "changes")

			upd := func(c store.Customer) store.CustomerOp {
				c.Name += " updated"
				return store.CustomerOp{Kind: store.OpUpdate, Customer: c}
			}
			added := storetest.FullCustomer()
			added.ExternalID = "added"
			ops := []store.CustomerOp{upd(good), upd(bad), {Kind: store.OpAdd, Customer: added}}

			var rs []store.CustomerResult
			var err error
			if grouped {
				release := holdWriter(t, db)
				done := make(chan error, 2)
				go func() {
					rs, err = db.WriteCustomers(ctx, ops, false, nil)
					done <- err
				}()
				waitQueued(t, db, 1)
				go func() {
					_, err := db.CreateCustomer(ctx, store.Customer{Name: "neighbour"})
					done <- err
				}()
				waitQueued(t, db, 2)
				groups := db.stats.groups.Load()
				release()
				for range 2 {
					if err := <-done; err != nil {
						t.Fatal(err)
					}
				}
				if g := db.stats.groups.Load() - groups; g != 2 { // the holding job's, then both
					t.Fatalf("groups = %d, want 2", g)
				}
			} else {
				rs, err = db.WriteCustomers(ctx, ops, false, nil)
				if err != nil {
					t.Fatal(err)
				}
			}

			if rs[0].Err != nil || rs[0].Customer.Version != 2 {
				t.Errorf("good update: %+v", rs[0])
			}
			if rs[1].Err == nil || errors.Is(rs[1].Err, store.ErrNotFound) || errors.Is(rs[1].Err, store.ErrConflict) {
				t.Errorf("bad update: err = %v, want the stored time's error", rs[1].Err)
			}
			if rs[2].Err != nil || !rs[2].Created {
				t.Errorf("add: %+v", rs[2])
			}
			var version int64
			var name string
			if err := db.read.QueryRow(`SELECT version, name FROM customers WHERE id = ?`, bad.ID).Scan(&version, &name); err != nil {
				t.Fatal(err)
			}
			if version != 1 || name != bad.Name {
				t.Errorf("failed update left version %d, name %q", version, name)
			}
			want := changesBefore + 2 // good update, add
			if grouped {
				want++ // the neighbour
			}
			if n := countRows(t, db.read, "changes"); n != want {
				t.Errorf("changes = %d, want %d", n, want)
			}
			var feedVersion int64
			if err := db.read.QueryRow(`SELECT version FROM feed WHERE entity_id = ?`, bad.ID).Scan(&feedVersion); err != nil || feedVersion != 1 {
				t.Errorf("feed of the failed update: version %d, %v", feedVersion, err)
			}

			// All or none: the half-done op's error is reported, the others are rolled back.
			rs, err = db.WriteCustomers(ctx, []store.CustomerOp{upd(rs[0].Customer), upd(bad)}, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(rs[0].Err, store.ErrRolledBack) || rs[1].Err == nil || errors.Is(rs[1].Err, store.ErrRolledBack) {
				t.Errorf("all or none: %v, %v", rs[0].Err, rs[1].Err)
			}
			if err := db.read.QueryRow(`SELECT version FROM customers WHERE id = ?`, good.ID).Scan(&version); err != nil || version != 2 {
				t.Errorf("rolled back update: version %d, %v", version, err)
			}
		})
	}
}

func createNamed(t *testing.T, db *DB, ext string) store.Customer {
	t.Helper()
	c := storetest.FullCustomer()
	c.ExternalID = ext
	c, err := db.CreateCustomer(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWriteCustomers_FeedFailureUndoesItsOpAlone: when the feed row of one op cannot be written, that
// op fails and leaves nothing behind; the others of the call are written with their change-log and
// feed rows in order.
func TestWriteCustomers_FeedFailureUndoesItsOpAlone(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	a, bad, c := createNamed(t, db, "a"), createNamed(t, db, "bad"), createNamed(t, db, "c")
	if err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TEMP TRIGGER refuse_feed BEFORE INSERT ON feed
			WHEN NEW.entity_id = %d AND NEW.version > 1 BEGIN SELECT RAISE(ABORT, 'refused'); END`, bad.ID))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var seqBefore int64
	if err := db.read.QueryRow(`SELECT max(seq) FROM changes`).Scan(&seqBefore); err != nil {
		t.Fatal(err)
	}
	upd := func(c store.Customer) store.CustomerOp {
		c.Name += " updated"
		return store.CustomerOp{Kind: store.OpUpdate, Customer: c}
	}
	rs, err := db.WriteCustomers(ctx, []store.CustomerOp{upd(a), upd(bad), upd(c)}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Err != nil || rs[1].Err == nil || rs[2].Err != nil {
		t.Fatalf("results: %v, %v, %v", rs[0].Err, rs[1].Err, rs[2].Err)
	}
	rows, err := db.read.Query(`SELECT entity_id, version FROM changes WHERE seq > ? ORDER BY seq`, seqBefore)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, v int64
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(id, "v", v))
	}
	if want := []string{fmt.Sprint(a.ID, "v2"), fmt.Sprint(c.ID, "v2")}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
	var version int64
	if err := db.read.QueryRow(`SELECT version FROM customers WHERE id = ?`, bad.ID).Scan(&version); err != nil || version != 1 {
		t.Errorf("refused op left version %d, %v", version, err)
	}
	var feed []int64
	frows, err := db.read.Query(`SELECT entity_id FROM feed ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer frows.Close()
	for frows.Next() {
		var id int64
		if err := frows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		feed = append(feed, id)
	}
	if want := []int64{bad.ID, a.ID, c.ID}; fmt.Sprint(feed) != fmt.Sprint(want) {
		t.Errorf("feed order = %v, want %v", feed, want)
	}
}
