package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

// BenchmarkSignedGetCustomer is the real handler (service, store, WS-Security) on a database file, called
// in process by 8 goroutines per CPU, with replay records in memory only and in the database. Envelopes are
// signed before the timer starts, one per operation (run with -benchtime=Nx to bound the signing time).
func BenchmarkSignedGetCustomer(b *testing.B) {
	for _, replayStore := range []string{"memory", "db"} {
		b.Run("replay-store="+replayStore, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			key, err := newKey(false)
			if err != nil {
				b.Fatal(err)
			}
			der, err := selfSigned(key, "bench", time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			cert, _ := x509.ParseCertificate(der)
			path := filepath.Join(b.TempDir(), "crm.db")
			const customers = 1000
			seedCustomers(b, path, customers)
			m := &Main{Stderr: io.Discard, Getenv: func(string) string { return "" }}
			cfg, err := m.serveFlags([]string{"--db", path, "--replay-store", replayStore})
			if err != nil {
				b.Fatal(err)
			}
			db, err := sqlite.Open(ctx, path, sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if err := db.AddClient(ctx, store.Client{Name: "bench", CertDER: der, Enabled: true, CreatedAt: time.Now()}); err != nil {
				b.Fatal(err)
			}
			h, err := buildHandler(ctx, cfg, db, newMetrics(), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			bodies := make([][]byte, b.N)
			var next atomic.Int64
			var wg sync.WaitGroup
			for range runtime.GOMAXPROCS(0) {
				wg.Go(func() {
					for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
						bodies[i] = signEnvelope(b, key, cert, getCustomerXML(1+i%customers))
					}
				})
			}
			wg.Wait()
			next.Store(0)
			b.ReportAllocs()
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, soapPath, bytes.NewReader(bodies[next.Add(1)-1]))
					req.Header.Set("Content-Type", "text/xml; charset=utf-8")
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Errorf("status %d: %s", w.Code, w.Body)
						return
					}
				}
			})
		})
	}
}
