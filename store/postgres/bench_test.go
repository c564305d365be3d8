package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/storetest"
)

// seedCustomers creates n customers and returns their ids.
func seedCustomers(tb testing.TB, db *DB, n int) []int64 {
	tb.Helper()
	ops := make([]store.CustomerOp, n)
	for i := range ops {
		c := storetest.FullCustomer()
		c.ExternalID = fmt.Sprint("seed-", i)
		ops[i] = store.CustomerOp{Kind: store.OpAdd, Customer: c}
	}
	rs, err := db.WriteCustomers(context.Background(), ops, true, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ids := make([]int64, n)
	for i, r := range rs {
		if r.Err != nil {
			tb.Fatal(r.Err)
		}
		ids[i] = r.Customer.ID
	}
	return ids
}

// GetCustomer is one round trip once the pool's connection has prepared the statement.
func TestGetCustomerOneRoundTrip(t *testing.T) {
	db, _ := openTest(t, Options{MaxConns: 1})
	ids := seedCustomers(t, db, 3)
	ctx := context.Background()
	if _, err := db.GetCustomer(ctx, ids[0]); err != nil { // prepares the statement
		t.Fatal(err)
	}
	before := db.Stats().RoundTrips
	for _, id := range ids {
		if _, err := db.GetCustomer(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if n := db.Stats().RoundTrips - before; n != int64(len(ids)) {
		t.Fatalf("%d GetCustomer calls took %d round trips, want one each", len(ids), n)
	}
}

func BenchmarkGetCustomer(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b, Options{})
	ids := seedCustomers(b, db, 1000)
	b.ResetTimer()
	b.ReportAllocs()
	before := db.Stats().RoundTrips
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := db.GetCustomer(ctx, ids[i%len(ids)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(db.Stats().RoundTrips-before)/float64(b.N), "roundtrips/op")
}

// BenchmarkCreateCustomerParallel has 16 callers per CPU, sharing group commits.
func BenchmarkCreateCustomerParallel(b *testing.B) {
	for _, writers := range []int{1, 2, 4} {
		b.Run(fmt.Sprint("writers=", writers), func(b *testing.B) { benchCreateParallel(b, writers) })
	}
}

func benchCreateParallel(b *testing.B, writers int) {
	ctx := context.Background()
	db, _ := openTest(b, Options{Writers: writers})
	var next atomic.Int64
	b.ResetTimer()
	b.ReportAllocs()
	before := db.Stats().RoundTrips
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		c := storetest.FullCustomer()
		for pb.Next() {
			c.ExternalID = fmt.Sprint("bench-", next.Add(1))
			if _, err := db.CreateCustomer(ctx, c); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(db.Stats().RoundTrips-before)/float64(b.N), "roundtrips/op")
	reportGrouping(b, db)
}

// BenchmarkRememberReplay is the store's share of a signed request: one durable record per message,
// from 16 callers per CPU, into replay_seen as migrated (logged) and into the same table made UNLOGGED:
// the price of a replay window that survives a crash of the database server.
func BenchmarkRememberReplay(b *testing.B) {
	for _, table := range []string{"logged", "unlogged"} {
		b.Run(table, func(b *testing.B) {
			ctx := context.Background()
			db, _ := openTest(b, Options{})
			if table == "unlogged" {
				if _, err := db.pool.Exec(ctx, `ALTER TABLE replay_seen SET UNLOGGED`); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Uint64
			expires := time.Now().Add(time.Hour)
			b.ResetTimer()
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				key := make([]byte, store.ReplayKeySize)
				for pb.Next() {
					binary.BigEndian.PutUint64(key, next.Add(1))
					if _, err := db.RememberReplay(ctx, key, expires, time.Now()); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func reportGrouping(b *testing.B, db *DB) {
	if g := db.stats.groups.Load(); g > 0 {
		b.ReportMetric(float64(db.stats.jobs.Load())/float64(g), "writes/commit")
	}
}
