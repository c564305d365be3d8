package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
	"github.com/crmsoap/crmsoap/wsdl"
)

// leasePid is the process id in a lease owner's name (host/pid/random); 0 when there is none.
func leasePid(owner string) int {
	parts := strings.Split(owner, "/")
	if len(parts) != 3 {
		return 0
	}
	pid, _ := strconv.Atoi(parts[1])
	return pid
}

// TestPush_TwoNodesOneDelivererTakeover runs two serve processes on one PostgreSQL database with the
// default lease settings, a SOAP listener subscription and writes on both nodes. Only the lease holder
// delivers; SIGKILL of it hands the subscription to the other node within 30 s of the kill, and the
// listener ends with every change of the feed, per record in order, none missing.
func TestPush_TwoNodesOneDelivererTakeover(t *testing.T) {
	dbURL := pgtest.Database(t)
	hold := make(chan struct{})
	close(hold) // no request is held
	l := &seqListener{versions: map[int64]int64{}, records: map[int64]int64{}, hold: hold}
	count := func() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.ids) }
	ls := httptest.NewServer(l)
	defer ls.Close()
	if out, err := run(t, "subscriptions", "add", "--db", dbURL, "--name", "erp", "--url", ls.URL); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	nodes := []*server{startDevServer(t, dbURL), startDevServer(t, dbURL)}
	db, err := openDB(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	subs := db.(store.SubscriptionStore)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Writers on both nodes: creates, and an update of every other record.
	writeCtx, stopWrites := context.WithCancel(ctx)
	defer stopWrites()
	var writers sync.WaitGroup
	for n, node := range nodes {
		client := node.client()
		for w := range 2 {
			writers.Go(func() {
				for i := 0; writeCtx.Err() == nil; i++ {
					res, err := client.AddCustomerContext(writeCtx, &wsdl.AddCustomer{Customer: &wsdl.CustomerData{Name: fmt.Sprintf("node %d writer %d #%d", n, w, i)}})
					if err == nil && i%2 == 0 {
						_, err = client.UpdateCustomerContext(writeCtx, &wsdl.UpdateCustomer{Customer: &wsdl.CustomerData{Name: "updated"},
							Id: res.Customer.Id, ExpectedVersion: res.Customer.Version})
					}
					if err != nil {
						return // the killed node's writers stop here; the survivor's are checked by the feed below
					}
					time.Sleep(5 * time.Millisecond)
				}
			})
		}
	}

	waitFor := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v\nnode 0:\n%s\nnode 1:\n%s", what, limit, nodes[0].logs.String(), nodes[1].logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("first deliveries", 60*time.Second, func() bool { return count() >= 50 })
	s, err := subs.GetSubscription(ctx, "erp")
	if err != nil {
		t.Fatal(err)
	}
	holder, survivor := -1, -1
	for i, n := range nodes {
		if n.cmd.Process.Pid == leasePid(s.LeaseOwner) {
			holder, survivor = i, 1-i
		}
	}
	if holder < 0 {
		t.Fatalf("lease owner %q is neither node", s.LeaseOwner)
	}
	if strings.Contains(nodes[survivor].logs.String(), "push: delivering") {
		t.Fatalf("node %d delivers while node %d holds the lease:\n%s", survivor, holder, nodes[survivor].logs.String())
	}

	nodes[holder].kill(t)
	killed := time.Now()
	atKill, err := subs.GetSubscription(ctx, "erp")
	if err != nil {
		t.Fatal(err)
	}
	var took time.Duration
	waitFor("takeover", 60*time.Second, func() bool {
		s, err := subs.GetSubscription(ctx, "erp")
		if err != nil || leasePid(s.LeaseOwner) != nodes[survivor].cmd.Process.Pid || s.Cursor <= atKill.Cursor {
			return false
		}
		took = time.Since(killed)
		return true
	})
	t.Logf("node %d took the subscription over %v after node %d was killed (cursor %d at the kill)", survivor, took, holder, atKill.Cursor)
	if took > 30*time.Second {
		t.Fatalf("takeover %v after the kill, want within 30 s", took)
	}
	if !strings.Contains(nodes[survivor].logs.String(), "push: took over an expired lease") {
		t.Errorf("the survivor does not log the takeover:\n%s", nodes[survivor].logs.String())
	}

	// More writes after the takeover, then everything is delivered.
	more := count() + 50
	waitFor("deliveries after the takeover", 60*time.Second, func() bool { return count() >= more })
	stopWrites()
	writers.Wait()
	all, err := readAll(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	feed := all.feed
	last := feed[len(feed)-1].Seq
	waitFor("the whole feed delivered", 60*time.Second, func() bool {
		s, err := subs.GetSubscription(ctx, "erp")
		return err == nil && s.Cursor >= last
	})

	l.mu.Lock()
	defer l.mu.Unlock()
	version := map[int64]int64{} // customer id -> last version received
	for _, seq := range l.ids {
		id, v := l.records[seq], l.versions[seq]
		if last, ok := version[id]; ok && v <= last {
			t.Fatalf("customer %d: version %d arrived after version %d", id, v, last)
		}
		version[id] = v
	}
	for _, e := range feed {
		if _, seen := l.versions[e.Seq]; !seen || version[e.ID] != e.Version {
			t.Fatalf("feed entry %d (customer %d version %d) missing at the listener (last version there %d)", e.Seq, e.ID, e.Version, version[e.ID])
		}
	}
	t.Logf("%d changes of %d records delivered, %d duplicates", len(l.ids), len(feed), l.duplicates)
}
