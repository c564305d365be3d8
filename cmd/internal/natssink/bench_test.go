package natssink_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/cmd/internal/natssink"
	"github.com/crmsoap/crmsoap/cmd/internal/natssink/natstest"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

// BenchmarkPublishBatch publishes one batch of 100 changes (each waiting for its ack) to a local
// JetStream; every round publishes new ids so that none is absorbed as a duplicate.
func BenchmarkPublishBatch(b *testing.B) {
	url := natstest.URL(b)
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "crm.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	feed := feedOf(b, db, 100)[:100]
	sink := natssink.New(url, fmt.Sprintf("BENCH%d", time.Now().UnixNano()))
	defer sink.Close()
	round := int64(0)
	b.ResetTimer()
	for b.Loop() {
		round++
		for i := range feed {
			feed[i].Seq = round*1000 + int64(i)
		}
		if err := sink.Deliver(context.Background(), feed); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "notifications/s")
}
