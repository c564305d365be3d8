package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

// benchCustomers is how many customers the end-to-end benchmark's database holds.
const benchCustomers = 10_000

// BenchmarkE2EGetCustomerUnsigned is one unsigned SOAP 1.1 GetCustomer per iteration, through the handler
// serve builds (service, metrics, request log at the default level and format, written to io.Discard),
// served by net/http on a loopback listener, from a real database file of 10,000 customers. ns/op,
// cpu-ns/op (CPU time of the whole process per request) and allocs/op include the client's share,
// which the ceiling sub-benchmark measures alone.
func BenchmarkE2EGetCustomerUnsigned(b *testing.B) {
	ctx := context.Background()
	dbPath := filepath.Join(b.TempDir(), "bench.db")
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ids := seedBenchCustomers(b, db)

	m := &Main{Stderr: io.Discard, Getenv: func(string) string { return "" }}
	cfg, err := m.serveFlags([]string{"--insecure-no-auth", "--db", dbPath})
	if err != nil {
		b.Fatal(err)
	}
	log, err := newLogger(io.Discard, cfg.logFormat, cfg.logLevel)
	if err != nil {
		b.Fatal(err)
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	handler, err := buildHandler(hctx, cfg, db, newMetrics(), log)
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(soapPath, handler)
	url := serveBench(b, mux) + soapPath

	bodies := make([][]byte, len(ids))
	for i, id := range ids {
		bodies[i] = []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
			`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:crm="urn:crmsoap:v1">` +
			`<soapenv:Header/><soapenv:Body><crm:GetCustomer><crm:id>` + strconv.FormatInt(id, 10) +
			`</crm:id></crm:GetCustomer></soapenv:Body></soapenv:Envelope>`)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()

	b.Run("handler", func(b *testing.B) { driveGetCustomer(b, client, url, bodies) })

	// ceiling: the same client and requests against a bare handler that reads the body and answers
	// with a canned response of the real one's size. handler minus ceiling is the server's own cost.
	canned, err := postBench(client, url, bodies[0])
	if err != nil {
		b.Fatal(err)
	}
	ceiling := serveBench(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write(canned)
	}))
	b.Run("ceiling", func(b *testing.B) { driveGetCustomer(b, client, ceiling+soapPath, bodies) })
}

// serveBench serves h on a loopback listener until the benchmark ends and returns its base URL.
func serveBench(b *testing.B, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// driveGetCustomer posts the GetCustomer bodies in turn from GOMAXPROCS goroutines.
func driveGetCustomer(b *testing.B, client *http.Client, url string, bodies [][]byte) {
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := postBench(client, url, bodies[int(next.Add(1))%len(bodies)]); err != nil {
				b.Error(err) // not Fatal: this is not the benchmark's goroutine
				return
			}
		}
	})
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// postBench posts one GetCustomer body and returns the response, which must be a GetCustomerResponse.
func postBench(client *http.Client, url string, body []byte) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"urn:crmsoap:v1#GetCustomer"`)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Contains(got, []byte("GetCustomerResponse")) {
		return nil, fmt.Errorf("status %d, err %v: %.300s", resp.StatusCode, err, got)
	}
	return got, nil
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

// seedBenchCustomers stores benchCustomers customers with every field set and returns their ids.
func seedBenchCustomers(b *testing.B, db *sqlite.DB) []int64 {
	b.Helper()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ids := make([]int64, 0, benchCustomers)
	const perCall = 1000
	for start := 0; start < benchCustomers; start += perCall {
		ops := make([]store.CustomerOp, perCall)
		for j := range ops {
			n := start + j
			ops[j] = store.CustomerOp{Kind: store.OpAdd, Customer: store.Customer{
				CreatedAt: at, UpdatedAt: at, CreatedBy: "bench", UpdatedBy: "bench",
				ExternalID: fmt.Sprint("E2E-", n), Name: fmt.Sprint("Customer ", n),
				Email: fmt.Sprintf("customer%d@example.com", n), Phone: "+44 20 7946 0000", Gender: "FEMALE",
				Company: "Example Trading Ltd", BirthDate: time.Date(1980, 1, 15, 0, 0, 0, 0, time.UTC),
				Address: store.Address{Street: fmt.Sprint(n, " High Street"), City: "London",
					PostalCode: "EC1A 1BB", Country: "GB"},
			}}
		}
		rs, err := db.WriteCustomers(context.Background(), ops, true, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rs {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			ids = append(ids, r.Customer.ID)
		}
	}
	return ids
}
