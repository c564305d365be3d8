package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/storetest"
)

// BenchmarkWriteCustomers is one call of 1,000 upserts per iteration, alternately inserting 1,000 new
// customers and updating them: one writer job, one commit.
func BenchmarkWriteCustomers(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b, Options{})
	const perCall = 1000
	ops := make([]store.CustomerOp, perCall)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
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
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N*perCall), "cpu-ns/record")
}

// BenchmarkWriteCustomersConcurrent is four callers each making calls of 1,000 upserts at once, as
// crmsoap-bench's upsert-bulk scenario does: calls queued together reach the writer together.
func BenchmarkWriteCustomersConcurrent(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b, Options{})
	const perCall, callers = 1000, 4
	var calls atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			ops := make([]store.CustomerOp, perCall)
			for {
				i := calls.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				for j := range ops {
					c := storetest.FullCustomer()
					c.ExternalID = fmt.Sprintf("bench-%d-%d", i, j)
					ops[j] = store.CustomerOp{Kind: store.OpUpsert, Customer: c}
				}
				rs, err := db.WriteCustomers(ctx, ops, true, nil)
				if err != nil || rs[0].Err != nil {
					b.Errorf("call %d: %v %+v", i, err, rs[0])
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N*perCall)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N*perCall), "cpu-ns/record")
}

// bigDB is a database of bigN customers, each with its feed entry, built once per test binary run and
// shared by the benchmarks that read it (read-only).
const bigN = 1_000_000

var bigDB = struct {
	once sync.Once
	dir  string
	db   *DB
	err  error
}{}

func openBig(b *testing.B) *DB {
	b.Helper()
	if testing.Short() {
		b.Skip("builds a database of 1,000,000 customers")
	}
	bigDB.once.Do(func() {
		start := time.Now()
		if bigDB.dir, bigDB.err = os.MkdirTemp("", "crmsoap-bench-"); bigDB.err != nil {
			return
		}
		bigDB.db, bigDB.err = Open(context.Background(), filepath.Join(bigDB.dir, "big.db"), Options{})
		if bigDB.err != nil {
			return
		}
		bigDB.err = bigDB.db.write(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
				INSERT INTO customers (version, created_at, updated_at, updated_by, external_id, name, name_fold, email,
					company, city, country)
				SELECT 1, ?2, ?2, 'erp', 'BIG-' || i, 'Customer Nr. ' || i, 'customer nr. ' || i,
					'c' || i || '@example.com', 'Company ' || (i % 1000), 'Berlin', 'DE' FROM n`,
				bigN, formatTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO feed (entity, entity_id, kind, version, at, actor, external_id)
				SELECT 'customer', id, 'UPSERTED', version, updated_at, updated_by, external_id FROM customers ORDER BY id`)
			return err
		})
		fmt.Fprintf(os.Stderr, "built %d customers in %v\n", bigN, time.Since(start).Round(time.Millisecond))
	})
	if bigDB.err != nil {
		b.Fatal(bigDB.err)
	}
	return bigDB.db
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bigDB.db != nil {
		bigDB.db.Close()
	}
	if bigDB.dir != "" {
		os.RemoveAll(bigDB.dir)
	}
	os.Exit(code)
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

// BenchmarkSearchCustomers reads one page of 100 at the start and at id ~1,000,000: keyset paging
// costs the same at both ends.
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
