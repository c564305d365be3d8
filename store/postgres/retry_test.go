package postgres

import (
	"context"
	"math/rand/v2"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
	"github.com/crmsoap/crmsoap/store/storetest"
)

// Two nodes hammer the same few rows with single updates and two-row calls in either order, so their
// groups lock rows in opposite orders and PostgreSQL aborts some of them as deadlocks. The store runs
// those again: no caller sees an error, and no update is lost (every row's version is one plus the
// updates acknowledged on it).
func TestTwoNodesSameRowsRetried(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.Database(t)
	if os.Getenv(pgtest.EnvURL) == "" {
		// The throwaway server's user is a superuser: detect deadlocks in 10ms, not the default 1s.
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("deadlock_timeout", "10ms")
		u.RawQuery = q.Encode()
		dbURL = u.String()
	}
	nodes := []*DB{openURL(t, dbURL, Options{MaxRetries: 50}), openURL(t, dbURL, Options{MaxRetries: 50})}
	const rows = 4
	ids := make([]int64, rows)
	for i := range ids {
		c := storetest.FullCustomer()
		c.ExternalID = ""
		c, err := nodes[0].CreateCustomer(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = c.ID
	}
	var updates [rows]atomic.Int64
	var wg sync.WaitGroup
	for _, db := range nodes {
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 60 {
					i, j := rand.IntN(rows), rand.IntN(rows)
					if i == j {
						c := storetest.FullCustomer()
						c.ID, c.ExternalID = ids[i], ""
						if _, err := db.UpdateCustomer(ctx, c, 0); err != nil {
							t.Errorf("update: %v", err)
							return
						}
						updates[i].Add(1)
						continue
					}
					ops := make([]store.CustomerOp, 2)
					for k, idx := range []int{i, j} {
						c := storetest.FullCustomer()
						c.ID, c.ExternalID = ids[idx], ""
						ops[k] = store.CustomerOp{Kind: store.OpUpdate, Customer: c}
					}
					rs, err := db.WriteCustomers(ctx, ops, true, nil)
					if err != nil {
						t.Errorf("write customers: %v", err)
						return
					}
					for k, idx := range []int{i, j} {
						if rs[k].Err != nil {
							t.Errorf("op %d: %v", k, rs[k].Err)
							return
						}
						updates[idx].Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	for i, id := range ids {
		c, err := nodes[1].GetCustomer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := 1 + updates[i].Load(); c.Version != want {
			t.Errorf("customer %d: version %d, want %d (1 + acknowledged updates)", id, c.Version, want)
		}
	}
	t.Logf("groups run again after a deadlock or serialization failure: %d + %d",
		nodes[0].stats.retries.Load(), nodes[1].stats.retries.Load())
}
