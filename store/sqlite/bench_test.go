package sqlite

import (
	"context"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/crmsoap/crmsoap/store/storetest"
)

func BenchmarkGetCustomer(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b, Options{})
	var ids []int64
	for i := range 1000 {
		c := storetest.FullCustomer()
		c.ExternalID = fmt.Sprint("bench-", i)
		c, err := db.CreateCustomer(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	b.ResetTimer()
	b.ReportAllocs()
	cpu0 := processCPU(b)
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
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkCreateCustomer is one caller at a time: every create pays its own commit and fsync.
func BenchmarkCreateCustomer(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b, Options{})
	c := storetest.FullCustomer()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.ExternalID = fmt.Sprint("bench-", i)
		i++
		if _, err := db.CreateCustomer(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	reportGrouping(b, db)
}

// BenchmarkCreateCustomerParallel has 16 callers per CPU: the writer commits what they queued together,
// so one fsync serves many creates.
func BenchmarkCreateCustomerParallel(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b, Options{})
	var next atomic.Int64
	b.ResetTimer()
	b.ReportAllocs()
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
	reportGrouping(b, db)
}

func reportGrouping(b *testing.B, db *DB) {
	if g := db.stats.groups.Load(); g > 0 {
		b.ReportMetric(float64(db.stats.jobs.Load())/float64(g), "writes/commit")
	}
}

// processCPU is the CPU time (user and system) this process has used so far, in nanoseconds: steadier
// than ns/op on a machine shared with other work.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
