package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/wsdl"
	_ "github.com/mattn/go-sqlite3"
)

// TestCall_SyncOperations runs the new operations through `crmsoap call`.
func TestCall_SyncOperations(t *testing.T) {
	srv := startDevServer(t, "")
	out, err := run(t, "call", "--url", srv.URL, "UpsertCustomer", "externalId=CLI-1", "name=Zhang Wei", "country=CN")
	if err != nil || !strings.Contains(out, "<created>true</created>") || !strings.Contains(out, "CLI-1") {
		t.Fatalf("call UpsertCustomer: %v\n%s", err, out)
	}
	out, err = run(t, "call", "--url", srv.URL, "UpsertCustomer", "externalId=CLI-1", "name=Zhang Wei 2", "expectedVersion=1")
	if err != nil || !strings.Contains(out, "<created>false</created>") || !strings.Contains(out, "<version>2</version>") {
		t.Fatalf("call UpsertCustomer again: %v\n%s", err, out)
	}
	out, err = run(t, "call", "--url", srv.URL, "SearchCustomers", "nameContains=zhang", "pageSize=5")
	if err != nil || !strings.Contains(out, "Zhang Wei 2") {
		t.Fatalf("call SearchCustomers: %v\n%s", err, out)
	}
	out, err = run(t, "call", "--url", srv.URL, "GetChanges", "maxChanges=10")
	if err != nil || !strings.Contains(out, "<kind>UPSERTED</kind>") || !strings.Contains(out, "<hasMore>false</hasMore>") {
		t.Fatalf("call GetChanges: %v\n%s", err, out)
	}
	out, err = run(t, "call", "--url", srv.URL, "DeleteCustomers", "ids=1,999", "allOrNone=true")
	if err != nil || !strings.Contains(out, "ROLLED_BACK") || !strings.Contains(out, "NOT_FOUND") {
		t.Fatalf("call DeleteCustomers allOrNone: %v\n%s", err, out)
	}
	out, err = run(t, "call", "--url", srv.URL, "UpsertCustomer", "name=No Key")
	if err == nil || !strings.Contains(out, "VALIDATION_FAILED") || !strings.Contains(out, "customer/externalId") {
		t.Fatalf("call UpsertCustomer without externalId: %v\n%s", err, out)
	}
	out, err = run(t, "call", "--url", srv.URL, "GetChanges", "cursor=forged")
	if err == nil || !strings.Contains(out, "VALIDATION_FAILED") {
		t.Fatalf("call GetChanges with a forged cursor: %v\n%s", err, out)
	}
}

// TestServe_FeedReaderWithConcurrentWriters runs bulk and single writers while
// a reader follows the change feed; once the writers stop and the reader has
// caught up, its picture (id -> version, deleted or not) equals the database.
// No write fails with "database is locked" or otherwise.
func TestServe_FeedReaderWithConcurrentWriters(t *testing.T) {
	srv := startDevServer(t, "")
	ctx := waitCtx(t)
	var writers sync.WaitGroup
	var stop atomic.Bool
	for w := range 3 {
		writers.Go(func() {
			c := srv.client()
			for i := range 15 {
				var err error
				switch w {
				case 0: // bulk upserts over a small key space: updates and inserts
					items := make([]*wsdl.CustomerData, 20)
					for k := range items {
						items[k] = &wsdl.CustomerData{ExternalId: fmt.Sprint("K-", (i*7+k)%40), Name: fmt.Sprint("bulk ", i)}
					}
					var res *wsdl.UpsertCustomersResponse
					if res, err = c.UpsertCustomersContext(ctx, &wsdl.UpsertCustomers{Customer: items}); err == nil {
						for _, r := range res.Result {
							if !bool(*r.Success) {
								err = fmt.Errorf("item %d: %s %s", *r.Index, *r.Error.Code, r.Error.Message)
							}
						}
					}
				case 1: // single adds and deletes
					var a *wsdl.AddCustomerResponse
					if a, err = c.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: fmt.Sprint("single ", i)}}); err == nil && i%2 == 0 {
						_, err = c.DeleteCustomerContext(ctx, &wsdl.DeleteCustomer{Id: a.Customer.Id})
					}
				case 2: // single upserts
					_, err = c.UpsertCustomerContext(ctx, &wsdl.UpsertCustomer{Customer: &wsdl.CustomerData{ExternalId: fmt.Sprint("K-", i%40), Name: fmt.Sprint("upsert ", i)}})
				}
				if err != nil {
					t.Errorf("writer %d call %d: %v", w, i, err)
					return
				}
			}
		})
	}
	type state struct {
		version int64
		deleted bool
	}
	picture := map[int64]state{}
	reader := make(chan error, 1)
	go func() {
		c, cursor := srv.client(), ""
		for {
			// Read before the call: a page fetched after the writers stopped has seen every write.
			writersDone := stop.Load()
			mc := wsdl.MaxChanges(7)
			page, err := c.GetChangesContext(ctx, &wsdl.GetChanges{Cursor: cursor, MaxChanges: &mc})
			if err != nil {
				reader <- err
				return
			}
			for _, ch := range page.Change {
				picture[ch.Id] = state{ch.Version, *ch.Kind == wsdl.ChangeKindDELETED}
			}
			cursor = page.NextCursor
			if !bool(*page.HasMore) && writersDone {
				reader <- nil
				return
			}
		}
	}()
	writers.Wait()
	stop.Store(true)
	if err := <-reader; err != nil {
		t.Fatalf("feed reader: %v", err)
	}
	conn, err := sql.Open("sqlite3", "file:"+srv.DB+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(context.Background(), `SELECT id, version FROM customers`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	live := 0
	for rows.Next() {
		var id, version int64
		if err := rows.Scan(&id, &version); err != nil {
			t.Fatal(err)
		}
		live++
		if got := picture[id]; got.deleted || got.version != version {
			t.Errorf("customer %d: the reader has %+v, the database version %d", id, got, version)
		}
	}
	deleted := 0
	for _, st := range picture {
		if st.deleted {
			deleted++
		}
	}
	if len(picture)-deleted != live || live < 40 || deleted == 0 {
		t.Errorf("reader: %d records, %d deleted; database: %d live", len(picture), deleted, live)
	}
}

// TestCall_MessageIDRunsOnce retries `crmsoap call --message-id`, unsigned and
// signed (the MessageID signed with the Body): the retry gets the same
// customer and writes nothing.
func TestCall_MessageIDRunsOnce(t *testing.T) {
	dir := t.TempDir()
	db := dir + "/crm.db"
	erp := newIdentity(t, dir, "erp", time.Hour)
	if out, err := run(t, "clients", "add", "--db", db, "--name", "erp", "--cert", erp.certPEM); err != nil {
		t.Fatalf("clients add: %v\n%s", err, out)
	}
	signed := startServer(t, db)
	dev := startDevServer(t, "")
	for _, tc := range []struct {
		name string
		srv  *server
		auth []string
	}{{"unsigned", dev, nil}, {"signed", signed, []string{"--key", erp.keyPEM, "--cert", erp.certPEM}}} {
		args := append(append([]string{"call", "--url", tc.srv.URL}, tc.auth...), "--message-id", "urn:uuid:cli-"+tc.name, "AddCustomer", "name=Once")
		first, err := run(t, args...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, first)
		}
		state := dbState(t, tc.srv.DB)
		second, err := run(t, args...)
		if err != nil || first != second || dbState(t, tc.srv.DB) != state {
			t.Errorf("%s retry: %v\n%s\nfirst:\n%s\nstate %s -> %s", tc.name, err, second, first, state, dbState(t, tc.srv.DB))
		}
		args[len(args)-1] = "name=Other"
		if out, err := run(t, args...); err == nil || !strings.Contains(out, "IDEMPOTENCY_MISMATCH") {
			t.Errorf("%s: same id, other body: %v\n%s", tc.name, err, out)
		}
	}
}
