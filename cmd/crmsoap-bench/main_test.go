package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/cmd/internal/keypair"
	"github.com/crmsoap/crmsoap/soap/wssec"
)

// benchBin and serverBin are crmsoap-bench and crmsoap, built once into one
// directory (as make bench does) for the tests that run them.
var benchBin, serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "crmsoap-bench-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	benchBin, serverBin = filepath.Join(dir, "crmsoap-bench"), filepath.Join(dir, "crmsoap")
	for out, pkg := range map[string]string{benchBin: ".", serverBin: "../crmsoap"} {
		build := exec.Command("go", "build", "-race", "-o", out, pkg)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build", pkg+":", err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestHistogram_Quantile(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	h.record(2 * time.Second)
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.95, 950 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 2 * time.Second}} {
		got := h.quantile(tt.q)
		if diff := float64(got-tt.want) / float64(tt.want); diff > 0.01 || diff < -0.01 {
			t.Errorf("quantile(%v) = %v, want %v within 1%%", tt.q, got, tt.want)
		}
	}
	var merged histogram
	merged.merge(&h)
	merged.merge(&h)
	if merged.n != 2002 || merged.quantile(0.5) != h.quantile(0.5) {
		t.Errorf("merged n=%d p50=%v, want 2002 and %v", merged.n, merged.quantile(0.5), h.quantile(0.5))
	}
}

// TestSignAll_DistinctVerifiable checks the pre-signed envelopes as the
// server's verifier sees them: every one accepted once, none a replay of
// another, and a second sending of one refused.
func TestSignAll_DistinctVerifiable(t *testing.T) {
	key, err := keypair.New(false)
	if err != nil {
		t.Fatal(err)
	}
	der, err := keypair.SelfSigned(key, "bench", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	signer := &wssec.Signer{Key: key, Cert: cert, TTL: 3 * time.Minute}
	reqs, err := signAll(context.Background(), signer, 12, func(i int) request { return mix([]int64{7, 8, 9}, i) })
	if err != nil {
		t.Fatal(err)
	}
	v := wssec.NewVerifier(wssec.Config{Trust: wssec.NewRegistry([]wssec.RegisteredCert{{Name: "bench", Cert: cert, Enabled: true}}, nil)})
	parse := func(b []byte) *etree.Document {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(b); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	for i, r := range reqs {
		res, err := v.Verify(parse(r.body))
		if err != nil {
			t.Fatalf("envelope %d refused: %v\n%s", i, err, r.body)
		}
		op := res.Body.ChildElements()[0].Tag
		//lint:ignore SA1008 the generator sets the header as SOAP clients spell it, not in Go's canonical form
		if want := strings.TrimSuffix(strings.TrimPrefix(r.header["SOAPAction"][0], `"urn:crmsoap:v1#`), `"`); op != want || res.Client != "bench" {
			t.Errorf("envelope %d: client %q operation %s, want bench and %s", i, res.Client, op, want)
		}
	}
	if _, err := v.Verify(parse(reqs[0].body)); err == nil {
		t.Error("a pre-signed envelope sent twice was accepted, want a replay refusal")
	}
}

// TestLoad_BodiesIntact checks on the server side that every request
// arrives whole with its own headers, and that a source of unique envelopes
// ends the run when it is used up.
func TestLoad_BodiesIntact(t *testing.T) {
	var bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		want := getCustomer(0)
		if m := idPattern.FindSubmatch(body); m != nil {
			id, _ := strconv.ParseInt(string(m[1]), 10, 64)
			want = getCustomer(id)
		}
		//lint:ignore SA1008 the generator sets the header as SOAP clients spell it, not in Go's canonical form
		if err != nil || !bytes.Equal(body, want.body) || r.Header.Get("SOAPAction") != want.header["SOAPAction"][0] {
			bad.Add(1)
			http.Error(w, "mangled request", http.StatusBadRequest)
			return
		}
		w.Write([]byte("<ok/>"))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	defer tr.CloseIdleConnections()
	ring := &source{reqs: make([]request, 64), cycle: true}
	for i := range ring.reqs {
		ring.reqs[i] = getCustomer(int64(i * 1000))
	}
	run, err := load(context.Background(), tr, target{url: u, pid: -1}, ring, 16, 50*time.Millisecond, 400*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if run.requests == 0 || run.errors != 0 || bad.Load() != 0 || run.ranOut {
		t.Errorf("%d requests, %d errors (%s), %d mangled on arrival, ran out %t; want requests, no errors, not run out",
			run.requests, run.errors, run.firstErr, bad.Load(), run.ranOut)
	}
	once := &source{reqs: ring.reqs[:40]}
	run, err = load(context.Background(), tr, target{url: u, pid: -1}, once, 4, 0, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !run.ranOut || run.requests != 40 || run.elapsed > 5*time.Second {
		t.Errorf("40 unique envelopes: ran out %t after %d requests in %v, want ran out after 40, early", run.ranOut, run.requests, run.elapsed)
	}
}

func TestProcessCPU(t *testing.T) {
	before, err := processCPU(0)
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
	}
	after, err := processCPU(0)
	if err != nil || after <= before {
		t.Errorf("CPU seconds %v then %v (%v), want growth after a busy loop", before, after, err)
	}
	if _, err := processCPU(1 << 30); err == nil {
		t.Error("CPU of a process that does not exist: no error")
	}
}

// TestRun runs the crmsoap-bench binary against real child servers (the
// crmsoap binary next to it, found without --server-bin) for about a second
// per scenario and checks that every scenario has a row with requests and no
// errors. It asserts nothing about speed.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and loads them for several seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, benchBin, "--customers", "50",
		"--conns", "4", "--duration", "500ms", "--warmup", "100ms", "--max-signed", "3000")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("crmsoap-bench: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "crmsoap serve") || !strings.Contains(out.String(), "### crmsoap-bench, ") {
		t.Errorf("no crmsoap serve child in the progress or no report heading:\n%s\n%s", errOut.String(), out.String())
	}
	signedSkipped := !serveHas(serverBin, "insecure-no-auth")["insecure-no-auth"]
	rows := tableRows(t, out.String())
	for _, title := range []string{"ceiling C: bare net/http, canned response", "GetCustomer unsigned",
		"AddCustomer unsigned (durable write)", "GetCustomer signed", "AddCustomer signed", "UpdateCustomer signed",
		"mix 80% read / 20% write, signed"} {
		cells, ok := rows[title]
		switch {
		case !ok:
			t.Errorf("no row %q in\n%s", title, out.String())
		case signedSkipped && strings.HasSuffix(title, "signed") && cells[2] == "–":
			t.Logf("%s skipped: the server does not check signatures", title)
		case cells[1] != "4":
			t.Errorf("%s: conns %s, want 4", title, cells[1])
		default:
			rate, _ := strconv.ParseFloat(cells[2], 64)
			if rate <= 0 || cells[7] != "0" {
				t.Errorf("%s: %s req/s with %s errors, want requests and no errors\n%s\n%s", title, cells[2], cells[7], out.String(), errOut.String())
			}
			if cells[8] == "n/a" {
				t.Errorf("%s: server CPU n/a for a child server", title)
			}
		}
	}
}

// tableRows maps each row's first cell to its cells.
func tableRows(tb testing.TB, report string) map[string][]string {
	tb.Helper()
	return markdownRows(tb, report, 10)
}

// markdownRows parses the rows of the Markdown table(s) in text by their first cell; every row must
// have cells cells.
func markdownRows(tb testing.TB, text string, cells int) map[string][]string {
	tb.Helper()
	rows := map[string][]string{}
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| scenario") || strings.HasPrefix(line, "| ---") {
			continue
		}
		row := strings.Split(strings.Trim(line, "|"), "|")
		for i := range row {
			row[i] = strings.TrimSpace(row[i])
		}
		if len(row) != cells {
			tb.Fatalf("row with %d cells, want %d: %s", len(row), cells, line)
		}
		rows[row[0]] = row
	}
	return rows
}
