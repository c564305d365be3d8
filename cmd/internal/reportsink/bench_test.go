package reportsink_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/crmsoap/crmsoap/cmd/internal/reportsink"
	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
)

// BenchmarkDeliver applies one batch of 100 changes (60 customers, 20 products, 10 orders of 3
// lines, 10 reviews; every round updates the same rows) in one target transaction.
func BenchmarkDeliver(b *testing.B) {
	url := pgtest.Database(b)
	s, err := reportsink.New(url, "bench", "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]store.FeedEntry, 0, 100)
	for i := range int64(60) {
		batch = append(batch, customer(0, i+1, 1, "c"))
	}
	for i := range int64(20) {
		batch = append(batch, product(0, i+1, 1234, "EUR"))
	}
	for i := range int64(10) {
		batch = append(batch, order(0, i+1, 1, 3))
	}
	for i := range int64(10) {
		batch = append(batch, review(0, i+1))
	}
	seq := int64(0)
	b.ResetTimer()
	for b.Loop() {
		for i := range batch {
			seq++
			batch[i].Seq = seq
		}
		if err := s.Deliver(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "changes/s")
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM bench.order_lines`).Scan(&n); err != nil || n != 30 {
		b.Fatalf("%d order lines, %v; want 30", n, err)
	}
}
