package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
	"github.com/crmsoap/crmsoap/wsdl"
)

// TestServe_TwoNodesOnePostgres runs two crmsoap processes on one PostgreSQL database: what one
// writes the other reads; concurrent upserts of the same external ids from both make one row each,
// at the version that counts every acknowledged upsert; a feed follower that alternates between the
// nodes ends with the database's picture; and SIGKILL of one node in the middle of a burst loses no
// acknowledged write.
func TestServe_TwoNodesOnePostgres(t *testing.T) {
	db := pgtest.Database(t)
	nodes := []*server{startDevServer(t, db), startDevServer(t, db)}
	clients := []wsdl.CrmPortType{nodes[0].client(), nodes[1].client()}
	ctx := waitCtx(t)

	for i := range 6 {
		src, dst := clients[i%2], clients[(i+1)%2]
		added, err := src.AddCustomerContext(ctx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: fmt.Sprint("node hop ", i)}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := dst.GetCustomerContext(ctx, &wsdl.GetCustomer{Id: added.Customer.Id})
		if err != nil || got.Customer.Name != added.Customer.Name || got.Customer.Version != 1 {
			t.Fatalf("customer %d written on one node, read on the other: %+v, %v", added.Customer.Id, got, err)
		}
	}

	const keys = 8
	var acks [keys]atomic.Int64
	var writers sync.WaitGroup
	var stop atomic.Bool
	for n := range nodes {
		for w := range 6 {
			writers.Go(func() {
				for i := range 20 {
					k := (w + i) % keys
					_, err := clients[n].UpsertCustomerContext(ctx, &wsdl.UpsertCustomer{Customer: &wsdl.CustomerData{
						ExternalId: fmt.Sprint("SHARED-", k), Name: fmt.Sprintf("node %d writer %d call %d", n, w, i)}})
					if err != nil {
						t.Errorf("node %d upsert: %v", n, err)
						return
					}
					acks[k].Add(1)
				}
			})
		}
	}
	type state struct {
		version int64
		deleted bool
	}
	picture := map[int64]state{}
	reader := make(chan error, 1)
	go func() {
		cursor := ""
		for page := 0; ; page++ {
			writersDone := stop.Load()
			mc := wsdl.MaxChanges(5)
			res, err := clients[page%2].GetChangesContext(ctx, &wsdl.GetChanges{Cursor: cursor, MaxChanges: &mc})
			if err != nil {
				reader <- err
				return
			}
			for _, ch := range res.Change {
				picture[ch.Id] = state{ch.Version, *ch.Kind == wsdl.ChangeKindDELETED}
			}
			cursor = res.NextCursor
			if !bool(*res.HasMore) && writersDone {
				reader <- nil
				return
			}
		}
	}()
	writers.Wait()
	stop.Store(true)
	if err := <-reader; err != nil {
		t.Fatalf("feed follower: %v", err)
	}

	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT id, version, coalesce(external_id, '') FROM customers`)
	if err != nil {
		t.Fatal(err)
	}
	perKey := map[string]int{}
	live := 0
	for rows.Next() {
		var id, version int64
		var ext string
		if err := rows.Scan(&id, &version, &ext); err != nil {
			t.Fatal(err)
		}
		live++
		if got := picture[id]; got.deleted || got.version != version {
			t.Errorf("customer %d: the follower has %+v, the database version %d", id, got, version)
		}
		var k int
		if _, err := fmt.Sscanf(ext, "SHARED-%d", &k); err == nil {
			perKey[ext]++
			if want := acks[k].Load(); version != want {
				t.Errorf("%s: version %d, want %d (one per acknowledged upsert)", ext, version, want)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(perKey) != keys {
		t.Errorf("%d shared external ids stored, want %d: %v", len(perKey), keys, perKey)
	}
	if len(picture) != live {
		t.Errorf("the follower saw %d records, the database has %d", len(picture), live)
	}

	// A burst on both nodes; node 0 is killed in the middle of it.
	var mu sync.Mutex
	acked := map[int64]string{}
	var count atomic.Int64
	burstCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var burst sync.WaitGroup
	for n := range nodes {
		for w := range 6 {
			burst.Go(func() {
				for i := 0; burstCtx.Err() == nil; i++ {
					name := fmt.Sprintf("burst node %d writer %d call %d", n, w, i)
					res, err := clients[n].AddCustomerContext(burstCtx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: name}})
					if err != nil {
						if n == 1 && burstCtx.Err() == nil {
							t.Errorf("surviving node: %v", err)
						}
						return
					}
					mu.Lock()
					acked[res.Customer.Id] = name
					mu.Unlock()
					count.Add(1)
				}
			})
		}
	}
	for count.Load() < 200 {
		time.Sleep(5 * time.Millisecond)
	}
	nodes[0].kill(t)
	for start := count.Load(); count.Load() < start+50; { // node 1 goes on serving
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	burst.Wait()
	for id, name := range acked {
		got, err := clients[1].GetCustomerContext(ctx, &wsdl.GetCustomer{Id: id})
		if err != nil || got.Customer.Name != name {
			t.Fatalf("acknowledged customer %d (%q) after SIGKILL of a node: %+v, %v", id, name, got, err)
		}
	}
	t.Logf("%d acknowledged writes present after SIGKILL of one of two nodes", len(acked))
}

// TestServe_TwoNodesShareSecurityState: a signed message accepted by one node is refused as a replay by
// the other, and a client disabled with `clients disable` is refused by both nodes after their next
// registry reload.
func TestServe_TwoNodesShareSecurityState(t *testing.T) {
	db := pgtest.Database(t)
	dir := t.TempDir()
	erp := newIdentity(t, dir, "erp", time.Hour)
	if out, err := run(t, "clients", "add", "--db", db, "--name", "erp", "--cert", erp.certPEM); err != nil {
		t.Fatalf("clients add: %v\n%s", err, out)
	}
	a := startServer(t, db, "--clients-reload", "100ms")
	b := startServer(t, db, "--clients-reload", "100ms")

	msg := signEnvelope(t, erp.key, erp.cert, addCustomerXML("accepted on a"))
	if status := postStatus(a.URL, msg); status != 200 {
		t.Fatalf("signed message on node a: %d", status)
	}
	status, _, body := post(t, b.URL, "text/xml; charset=utf-8", "", msg)
	if code, reason := soapFault(t, body); status != 500 || code != "wsse:InvalidSecurity" || reason != "message replayed" {
		t.Fatalf("the message replayed to node b: %d %s %q, want 500 wsse:InvalidSecurity \"message replayed\"\n%s",
			status, code, reason, body)
	}
	for _, srv := range []*server{a, b} {
		if status := postStatus(srv.URL, signEnvelope(t, erp.key, erp.cert, addCustomerXML("fresh"))); status != 200 {
			t.Fatalf("fresh signed message before disabling: %d", status)
		}
	}

	if out, err := run(t, "clients", "disable", "--db", db, "erp"); err != nil {
		t.Fatalf("clients disable: %v\n%s", err, out)
	}
	for _, srv := range []*server{a, b} {
		deadline := time.Now().Add(10 * time.Second) // many reload periods: the machine may be busy
		for {
			status := postStatus(srv.URL, signEnvelope(t, erp.key, erp.cert, addCustomerXML("after disable")))
			if status == 500 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s still accepts the disabled client (status %d)", srv.URL, status)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestServe_TwoNodesRaceForTheLastUnit: clients of two crmsoap processes on one PostgreSQL database
// order the last unit at once: exactly one order is placed, the stock ends at 0, never below, and the
// sold quantity equals the stock removed.
func TestServe_TwoNodesRaceForTheLastUnit(t *testing.T) {
	db := pgtest.Database(t)
	nodes := []*server{startDevServer(t, db), startDevServer(t, db)}
	cust, _, p2 := orderFixture(t, nodes[0].client(), nodes[0]) // P2 has 1
	raceForTheLastUnit(t, func(i int) *server { return nodes[i%2] }, cust, p2)
}
