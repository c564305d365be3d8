package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// feedAll reads the feed after after to its end in pages of limit.
func feedAll(t *testing.T, db store.Store, after int64, limit int) []store.FeedEntry {
	t.Helper()
	var out []store.FeedEntry
	for {
		page, more, err := db.Feed(context.Background(), after, limit)
		if err != nil {
			t.Fatalf("Feed(%d, %d): %v", after, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("Feed page of %d, limit %d", len(page), limit)
		}
		out = append(out, page...)
		if len(page) > 0 {
			after = page[len(page)-1].Seq
		}
		if !more {
			return out
		}
	}
}

func testFeedCompacted(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	a, err := db.CreateCustomer(ctx, customer("F-A", "a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.CreateCustomer(ctx, customer("F-B", "b"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 5; i++ { // a changes 5 times in all
		a.Name = fmt.Sprint("a", i)
		a.UpdatedAt, a.UpdatedBy = t0.Add(time.Duration(i)*time.Minute), fmt.Sprint("erp-", i)
		if a, err = db.UpdateCustomer(ctx, a, 0); err != nil {
			t.Fatal(err)
		}
	}
	del := time.Date(2026, 5, 6, 7, 8, 9, 10, time.FixedZone("Y", 3600))
	c, _ := db.CreateCustomer(ctx, customer("F-C", "c"))
	if err := db.DeleteCustomer(ctx, c.ID, 1, del, "remover"); err != nil {
		t.Fatal(err)
	}

	all := feedAll(t, db, 0, 100)
	if len(all) != 3 {
		t.Fatalf("feed has %d entries, want 3 (one per record): %+v", len(all), all)
	}
	if all[0].ID != b.ID || all[1].ID != a.ID || all[2].ID != c.ID {
		t.Fatalf("feed order %d, %d, %d; want b %d, a %d (changed last), c %d", all[0].ID, all[1].ID, all[2].ID, b.ID, a.ID, c.ID)
	}
	if !(all[0].Seq < all[1].Seq && all[1].Seq < all[2].Seq) {
		t.Errorf("seqs not increasing: %d %d %d", all[0].Seq, all[1].Seq, all[2].Seq)
	}
	wantA := store.FeedEntry{Seq: all[1].Seq, Entity: store.EntityCustomer, Kind: store.FeedUpserted, ID: a.ID,
		ExternalID: "F-A", Version: 5, At: a.UpdatedAt, Actor: "erp-5", Customer: &a}
	if !reflect.DeepEqual(all[1], wantA) {
		t.Errorf("entry of a record changed 5 times:\n got %+v %+v\nwant %+v %+v", all[1], all[1].Customer, wantA, wantA.Customer)
	}
	wantC := store.FeedEntry{Seq: all[2].Seq, Entity: store.EntityCustomer, Kind: store.FeedDeleted, ID: c.ID,
		ExternalID: "F-C", Version: 2, At: del.UTC(), Actor: "remover"}
	if !reflect.DeepEqual(all[2], wantC) {
		t.Errorf("tombstone:\n got %+v\nwant %+v", all[2], wantC)
	}

	// From the middle: only what changed after the cursor.
	rest, more, err := db.Feed(ctx, all[0].Seq, 1)
	if err != nil || !more || len(rest) != 1 || rest[0].ID != a.ID {
		t.Fatalf("Feed(after b, 1) = %+v, more %v, %v", rest, more, err)
	}
	if end, more, err := db.Feed(ctx, all[2].Seq, 10); err != nil || more || len(end) != 0 {
		t.Fatalf("Feed at the end = %+v, more %v, %v", end, more, err)
	}
	// b changes: it moves behind c, and a reader at c's seq sees it.
	if _, _, err := db.UpsertCustomer(ctx, customer("F-B", "b2"), 1); err != nil {
		t.Fatal(err)
	}
	if end, _, err := db.Feed(ctx, all[2].Seq, 10); err != nil || len(end) != 1 || end[0].ID != b.ID || end[0].Version != 2 {
		t.Fatalf("Feed after b's update = %+v, %v", end, err)
	}
	// The external id of a deleted customer is reused by a new one: two records, two entries.
	d, err := db.CreateCustomer(ctx, customer("F-C", "c again"))
	if err != nil {
		t.Fatal(err)
	}
	if all := feedAll(t, db, 0, 2); len(all) != 4 || all[1].ID != c.ID || all[3].ID != d.ID {
		t.Fatalf("feed after reuse of an external id: %+v", all)
	}
}

func testFeedPurge(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	old, recent := t0, t0.Add(48*time.Hour)
	live, _ := db.CreateCustomer(ctx, customer("L", "live"))
	x, _ := db.CreateCustomer(ctx, customer("X", "x"))
	y, _ := db.CreateCustomer(ctx, customer("Y", "y"))
	z, _ := db.CreateCustomer(ctx, customer("Z", "z"))
	if err := db.DeleteCustomer(ctx, x.ID, 0, old, "gc"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCustomer(ctx, y.ID, 0, recent, "gc"); err != nil {
		t.Fatal(err)
	}
	before := feedAll(t, db, 0, 10) // live, z, x†, y†
	if len(before) != 4 || before[2].ID != x.ID || before[3].ID != y.ID {
		t.Fatalf("feed before purge: %+v", before)
	}
	zSeq, xSeq := before[1].Seq, before[2].Seq
	if _, _, err := db.Feed(ctx, zSeq, 10); err != nil {
		t.Fatalf("cursor before any purge: %v", err)
	}

	n, err := db.PurgeTombstones(ctx, t0.Add(24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PurgeTombstones = %d, %v; want 1", n, err)
	}
	if _, _, err := db.Feed(ctx, zSeq, 10); !errors.Is(err, store.ErrCursorExpired) {
		t.Fatalf("cursor before the purged tombstone: %v, want ErrCursorExpired", err)
	}
	if got, _, err := db.Feed(ctx, xSeq, 10); err != nil || len(got) != 1 || got[0].ID != y.ID {
		t.Fatalf("cursor at the purged tombstone: %+v, %v; want y's tombstone", got, err)
	}
	after := feedAll(t, db, 0, 10)
	if len(after) != 3 || after[0].ID != live.ID || after[1].ID != z.ID || after[2].ID != y.ID {
		t.Fatalf("feed from 0 after purge: %+v", after)
	}
	if n, err := db.PurgeTombstones(ctx, t0); err != nil || n != 0 {
		t.Fatalf("second purge = %d, %v; want 0", n, err)
	}
	// The horizon never moves back.
	if _, _, err := db.Feed(ctx, zSeq, 10); !errors.Is(err, store.ErrCursorExpired) {
		t.Fatalf("after an empty purge: %v, want ErrCursorExpired", err)
	}
}

// picture is what a feed reader knows of one customer.
type picture struct {
	version int64
	deleted bool
}

// testFeedFollowWhileWriting: writers create, update and delete customers while a reader follows the
// feed to its end again and again; at the end the reader's picture equals the database.
func testFeedFollowWhileWriting(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	const writers, steps = 4, 150
	var wg sync.WaitGroup
	var running atomic.Int32
	running.Store(writers)
	for w := range writers {
		wg.Go(func() {
			defer running.Add(-1)
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []store.Customer
			for i := range steps {
				var err error
				switch k := rng.IntN(10); {
				case len(mine) == 0 || k < 4:
					var c store.Customer
					c, err = db.CreateCustomer(ctx, customer(fmt.Sprintf("W%d-%d", w, i), "new"))
					mine = append(mine, c)
				case k < 8:
					j := rng.IntN(len(mine))
					mine[j].Name = fmt.Sprint("step ", i)
					mine[j], err = db.UpdateCustomer(ctx, mine[j], mine[j].Version)
				default:
					j := rng.IntN(len(mine))
					err = db.DeleteCustomer(ctx, mine[j].ID, mine[j].Version, t0, "w")
					mine = append(mine[:j], mine[j+1:]...)
				}
				if err != nil {
					t.Errorf("writer %d step %d: %v", w, i, err)
					return
				}
			}
		})
	}

	pic := map[int64]picture{}
	var cursor int64
	follow := func() int {
		n := 0
		for {
			page, more, err := db.Feed(ctx, cursor, 13)
			if err != nil {
				t.Fatalf("Feed(%d): %v", cursor, err)
			}
			for _, e := range page {
				if e.Seq <= cursor {
					t.Fatalf("seq %d after cursor %d", e.Seq, cursor)
				}
				cursor = e.Seq
				n++
				if e.Kind == store.FeedUpserted && (e.Customer == nil || e.Customer.Version != e.Version || e.Customer.ID != e.ID) {
					t.Fatalf("entry %+v carries customer %+v", e, e.Customer)
				}
				if old, ok := pic[e.ID]; ok && old.version >= e.Version {
					t.Fatalf("customer %d: version %d after %d", e.ID, e.Version, old.version)
				}
				pic[e.ID] = picture{version: e.Version, deleted: e.Kind == store.FeedDeleted}
			}
			if !more {
				return n
			}
		}
	}
	passes := 0
	for running.Load() > 0 {
		follow()
		passes++
	}
	wg.Wait()
	follow()
	t.Logf("%d passes while writing", passes)

	live := 0
	for id, p := range pic {
		got, err := db.GetCustomer(ctx, id)
		switch {
		case p.deleted && !errors.Is(err, store.ErrNotFound):
			t.Errorf("customer %d: reader saw it deleted, database has %+v, %v", id, got, err)
		case !p.deleted && (err != nil || got.Version != p.version):
			t.Errorf("customer %d: reader has version %d, database %d, %v", id, p.version, got.Version, err)
		case !p.deleted:
			live++
		}
	}
	if all := searchAll(t, db, store.CustomerFilter{}, 1000); len(all) != live {
		t.Errorf("database holds %d customers, the reader knows %d live ones", len(all), live)
	}
	if live == 0 || len(pic) == live {
		t.Errorf("the writers left %d live customers of %d: want some of each", live, len(pic))
	}
}
