package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/crmsoap/crmsoap/store"
)

// queueBehindStall holds the writer with one create taken and not yet sent while the writes of queued
// start, waits until every one of them is queued, and returns a func that releases the writer and waits
// for all of them, and for the stalled create.
func queueBehindStall(t *testing.T, db *DB, queued []func()) (release func()) {
	t.Helper()
	ctx := context.Background()
	stalled, unblock := make(chan struct{}), make(chan struct{})
	var once sync.Once
	db.beforeGroup = func() { once.Do(func() { close(stalled); <-unblock }) }
	first := make(chan error, 1)
	go func() {
		_, err := db.CreateCustomer(ctx, store.Customer{ExternalID: "stalled", Name: "s"})
		first <- err
	}()
	<-stalled
	var wg sync.WaitGroup
	for _, fn := range queued {
		wg.Add(1)
		go func() { defer wg.Done(); fn() }()
	}
	for len(db.jobs) < len(queued) {
		runtime.Gosched()
	}
	return func() {
		close(unblock)
		wg.Wait()
		if err := <-first; err != nil {
			t.Fatal(err)
		}
	}
}

// A group of adds and upserts goes to the server in one round trip however many writes it holds, COMMIT
// included, and each write gets its own outcome: a taken external id is refused alone.
func TestPipedGroupRoundTrips(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{MaxConns: 1})
	// Prepares every statement of the pipelined path on the pool's one connection.
	taken, _, err := db.UpsertCustomer(ctx, store.Customer{ExternalID: "taken", Name: "t"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateCustomer(ctx, store.Customer{ExternalID: "warm", Name: "w"}); err != nil {
		t.Fatal(err)
	}

	const adds = 8
	errs := make([]error, adds)
	var dupErr, upErr error
	var up store.Customer
	var created bool
	queued := []func(){
		func() { _, dupErr = db.CreateCustomer(ctx, store.Customer{ExternalID: "taken", Name: "again"}) },
		func() {
			up, created, upErr = db.UpsertCustomer(ctx, store.Customer{ExternalID: "taken", Name: "up"}, 0)
		},
	}
	for i := range adds {
		queued = append(queued, func() {
			_, errs[i] = db.CreateCustomer(ctx, store.Customer{ExternalID: fmt.Sprint("add-", i), Name: "a"})
		})
	}
	release := queueBehindStall(t, db, queued)
	before, pipedBefore := db.Stats().RoundTrips, db.stats.piped.Load()
	release()
	// The stalled create's group, then the queued group.
	if n := db.Stats().RoundTrips - before; n != 1+1 {
		t.Errorf("%d queued writes took %d round trips, want 1 for the stalled create and 1 for the group", len(queued), n)
	}
	if n := db.stats.piped.Load() - pipedBefore; n != 2 {
		t.Errorf("pipelined groups: %d, want 2", n)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("add %d: %v", i, err)
		}
	}
	var dup *store.DuplicateError
	if !errors.As(dupErr, &dup) {
		t.Errorf("add of a taken external id: %v, want *DuplicateError", dupErr)
	}
	if upErr != nil || created || up.ID != taken.ID || up.Version != 2 || up.Name != "up" {
		t.Errorf("upsert of a taken external id: %+v created %v, %v; want customer %d at version 2", up, created, upErr, taken.ID)
	}
	feed, _, err := db.Feed(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 + adds; len(feed) != want { // taken, warm, stalled and the adds
		t.Fatalf("feed has %d entries, want %d", len(feed), want)
	}
	// The upserted customer's only feed entry is its last write; its change log holds both writes.
	for _, e := range feed {
		if e.ID == taken.ID && (e.Version != 2 || e.Kind != store.FeedUpserted || e.Customer == nil || e.Customer.Name != "up") {
			t.Errorf("feed entry of customer %d: %+v, want version 2", taken.ID, e)
		}
	}
	rows, err := db.pool.Query(ctx, `SELECT op, version FROM changes WHERE entity_id = $1 ORDER BY seq`, taken.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var op string
		var version int64
		if err := rows.Scan(&op, &version); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(op, " ", version))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"create 1", "update 2"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("change log of customer %d: %q, want %q", taken.ID, got, want)
	}
}

// An add that fails on the server in a pipelined group aborts the transaction: the writer rolls it back
// and runs the group again with savepoints, so the failing add gets its error and the others are stored.
func TestPipedGroupServerErrorRerun(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
	const good = 5
	errs := make([]error, good)
	var badErr error
	queued := []func(){func() {
		// PostgreSQL refuses a NUL byte in text.
		_, badErr = db.CreateCustomer(ctx, store.Customer{ExternalID: "bad", Name: "a\x00b"})
	}}
	for i := range good {
		queued = append(queued, func() {
			_, errs[i] = db.CreateCustomer(ctx, store.Customer{ExternalID: fmt.Sprint("good-", i), Name: "g"})
		})
	}
	queueBehindStall(t, db, queued)()
	if badErr == nil {
		t.Fatal("add with a NUL byte in its name succeeded")
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("good add %d: %v", i, err)
		}
	}
	if n := db.stats.reruns.Load(); n != 1 {
		t.Errorf("groups run again with savepoints: %d, want 1", n)
	}
	feed, _, err := db.Feed(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(feed) != 1+good {
		t.Fatalf("feed has %d entries, want %d", len(feed), 1+good)
	}
}
