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
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/soap/wssec"
	"github.com/crmsoap/crmsoap/store"
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
			ids, err := benchSeed(ctx, path, 1000, der)
			if err != nil {
				b.Fatal(err)
			}
			m := &Main{Stderr: io.Discard, Getenv: func(string) string { return "" }}
			cfg, err := m.serveFlags([]string{"--db", path, "--replay-store", replayStore})
			if err != nil {
				b.Fatal(err)
			}
			db, err := store.Open(ctx, path, store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			h, err := buildHandler(ctx, cfg, db, newMetrics(), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				b.Fatal(err)
			}
			reqs, err := benchSign(ctx, &wssec.Signer{Key: key, Cert: cert}, b.N, func(i int) benchReq { return benchGet(ids[i%len(ids)]) })
			if err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := reqs[next.Add(1)-1]
					req := httptest.NewRequest(http.MethodPost, soapPath, bytes.NewReader(r.body))
					req.Header = r.header.Clone()
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
