package postgres

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
	"github.com/crmsoap/crmsoap/store/storetest"
)

// These are store/sqlite's ERP benchmarks (same names, shapes and metrics), for the side-by-side table.

// BenchmarkWriteCustomers is one call of 1,000 upserts per iteration, alternately inserting 1,000 new
// customers and updating them: one writer job, one commit.
func BenchmarkWriteCustomers(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b, Options{})
	const perCall = 1000
	ops := make([]store.CustomerOp, perCall)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		for j := range ops {
			c := storetest.FullCustomer()
			c.ExternalID = fmt.Sprintf("bench-%d-%d", i/2, j)
			ops[j] = store.CustomerOp{Kind: store.OpUpsert, Customer: c}
		}
		rs, err := db.WriteCustomers(ctx, ops, true, nil)
		if err != nil {
			b.Fatal(err)
		}
		if rs[0].Err != nil || rs[0].Created != (i%2 == 0) {
			b.Fatalf("call %d: %+v", i, rs[0])
		}
	}
	b.ReportMetric(float64(b.N*perCall)/b.Elapsed().Seconds(), "records/s")
}

// bigN customers, each with its feed entry, built once per test binary run by SQL and shared
// (read-only) by the benchmarks that read it.
const bigN = 1_000_000

var bigDB = struct {
	once sync.Once
	db   *DB
	err  error
	drop laterCleanup
}{}

// laterCleanup is the TB of the benchmark that builds the shared database, with its cleanups (the
// database's drop) kept for TestMain instead of run when that benchmark ends.
type laterCleanup struct {
	testing.TB
	fns []func()
}

func (l *laterCleanup) Cleanup(fn func()) { l.fns = append(l.fns, fn) }

func (l *laterCleanup) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

// closeBig closes the shared database, if a benchmark built it, and drops it from a server given by
// pgtest.EnvURL (a throwaway server is gone with it by now).
func closeBig() {
	if bigDB.db != nil {
		bigDB.db.Close()
	}
	if os.Getenv(pgtest.EnvURL) == "" {
		return
	}
	for i := len(bigDB.drop.fns) - 1; i >= 0; i-- {
		bigDB.drop.fns[i]()
	}
}

func openBig(b *testing.B) *DB {
	b.Helper()
	if testing.Short() {
		b.Skip("builds a database of 1,000,000 customers")
	}
	bigDB.once.Do(func() {
		start := time.Now()
		// It outlives the benchmark that builds it: TestMain drops it.
		bigDB.drop.TB = b
		url := pgtest.Database(&bigDB.drop)
		if bigDB.db, bigDB.err = Open(context.Background(), url, Options{}); bigDB.err != nil {
			return
		}
		at := nanos(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		_, bigDB.err = bigDB.db.pool.Exec(context.Background(), `
			INSERT INTO customers (version, created_at, updated_at, updated_by, external_id, name, name_fold, email,
				company, city, country)
			SELECT 1, $2, $2, 'erp', 'BIG-' || i, 'Customer Nr. ' || i, 'customer nr. ' || i,
				'c' || i || '@example.com', 'Company ' || (i % 1000), 'Berlin', 'DE' FROM generate_series(1, $1::bigint) i`,
			bigN, at)
		if bigDB.err != nil {
			return
		}
		_, bigDB.err = bigDB.db.pool.Exec(context.Background(), `
			INSERT INTO feed (seq, entity, entity_id, kind, version, at, actor, external_id)
			SELECT id, 'customer', id, 'UPSERTED', version, updated_at, updated_by, external_id FROM customers;
			SELECT setval('feed_seq', (SELECT max(seq) FROM feed));
			ANALYZE`)
		fmt.Fprintf(os.Stderr, "built %d customers in %v\n", bigN, time.Since(start).Round(time.Millisecond))
	})
	if bigDB.err != nil {
		b.Fatal(bigDB.err)
	}
	return bigDB.db
}

// BenchmarkFeed reads the whole feed of 1,000,000 entries in pages of 5,000 per iteration.
func BenchmarkFeed(b *testing.B) {
	db := openBig(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	entries := 0
	for range b.N {
		var after int64
		for {
			page, more, err := db.Feed(ctx, after, 5000)
			if err != nil {
				b.Fatal(err)
			}
			entries += len(page)
			if len(page) > 0 {
				after = page[len(page)-1].Seq
			}
			if !more {
				break
			}
		}
	}
	if entries != b.N*bigN {
		b.Fatalf("read %d entries, want %d", entries, b.N*bigN)
	}
	b.ReportMetric(float64(entries)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkSearchCustomers reads one page of 100 at the start and at id ~1,000,000.
func BenchmarkSearchCustomers(b *testing.B) {
	db := openBig(b)
	ctx := context.Background()
	for _, bm := range []struct {
		name  string
		f     store.CustomerFilter
		after int64
	}{
		{"FirstPage", store.CustomerFilter{}, 0},
		{"PageAtID999900", store.CustomerFilter{}, bigN - 100},
		{"Country/FirstPage", store.CustomerFilter{Country: "DE"}, 0},
		{"Country/PageAtID999900", store.CustomerFilter{Country: "DE"}, bigN - 100},
		{"NameContains/FirstPage", store.CustomerFilter{NameContains: "NR. 1"}, 0},
		{"NameContains/PageAtID999000", store.CustomerFilter{NameContains: "NR. 99"}, bigN - 1000},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				page, err := db.SearchCustomers(ctx, bm.f, store.CustomerKey{ID: bm.after}, 100)
				if err != nil || len(page) == 0 {
					b.Fatalf("page: %d, %v", len(page), err)
				}
			}
		})
	}
}
