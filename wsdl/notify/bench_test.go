package notify_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/wsdl/notify"
)

// BenchmarkDeliverBatch posts one batch of 100 customer notifications to a listener over loopback
// and waits for its ack: the sink's ceiling per subscription (one batch in flight).
func BenchmarkDeliverBatch(b *testing.B) {
	feed := writeChanges(b, openDB(b), 100)
	l := &listener{seen: map[int64]bool{}}
	srv := httptest.NewServer(l)
	defer srv.Close()
	sink := notify.New(srv.URL, nil, nil, time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := sink.Deliver(context.Background(), feed[:100]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "notifications/s")
}
