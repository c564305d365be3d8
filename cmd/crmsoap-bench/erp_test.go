package main

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRun_ERP runs the opt-in ERP-sync scenarios at small sizes against real
// child servers: every row is there with requests and no errors, the records
// table agrees with the request rate times the records per call, the feed
// reader saw every seeded customer, and the servers' memory was read. It
// asserts nothing about speed.
func TestRun_ERP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and loads them for several seconds")
	}
	if !serveHas(serverBin, "insecure-no-auth")["insecure-no-auth"] {
		t.Skip("this crmsoap serve does not check signatures")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, benchBin, "--scenarios", "upsert-bulk,upsert-bulk-signed,feed,search-first,search-deep",
		"--batch", "50", "--feed-records", "12000", "--customers", "50", "--conns", "8,2", "--batch-conns", "3",
		"--duration", "500ms", "--warmup", "200ms")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("crmsoap-bench: %v\n%s", err, errOut.String())
	}
	report := out.String()
	rows := tableRows(t, report)
	recs := tableOf(t, report, "| scenario | conns | calls/s |", 7)
	bulk := []string{"UpsertCustomers unsigned, 50 per call (durable)", "UpsertCustomers signed, 50 per call"}
	feed := "GetChanges: one reader follows the feed of 12000, 5000 per call"
	for _, title := range append([]string{feed, "SearchCustomers first page of 100 (of 12000)",
		"SearchCustomers page of 100 at customer 11900"}, bulk...) {
		cells, ok := rows[title]
		if !ok {
			t.Errorf("no row %q in\n%s", title, report)
			continue
		}
		rate, _ := strconv.ParseFloat(cells[2], 64)
		if rate <= 0 || cells[7] != "0" || cells[8] == "n/a" {
			t.Errorf("%s: %s req/s, %s errors, server CPU %s; want requests, no errors, CPU\n%s\n%s",
				title, cells[2], cells[7], cells[8], report, errOut.String())
		}
		if cells[3] != "–" {
			t.Errorf("%s: fraction of C %s, want – (not one record per request)", title, cells[3])
		}
	}
	// Bulk scenarios run once per concurrency they get: min(8, 3) and min(2, 3).
	for _, title := range bulk {
		if n := strings.Count(report, "| "+title+" | 3 |"); n != 2 {
			t.Errorf("%s at 3 conns: %d rows, want 2 (main and records table)", title, n)
		}
		if n := strings.Count(report, "| "+title+" | 2 |"); n != 2 {
			t.Errorf("%s at 2 conns: %d rows, want 2", title, n)
		}
	}
	if n := strings.Count(report, "| "+feed+" | 1 |"); n != 2 {
		t.Errorf("feed: %d rows at 1 conn, want 2: it runs once, with one reader", n)
	}
	for _, title := range append([]string{feed}, bulk...) {
		cells, ok := recs[title]
		if !ok {
			t.Errorf("no records row %q in\n%s", title, report)
			continue
		}
		calls, _ := strconv.ParseFloat(cells[2], 64)
		per, _ := strconv.ParseFloat(cells[3], 64)
		records, _ := strconv.ParseFloat(strings.Fields(cells[4])[0], 64)
		main, _ := strconv.ParseFloat(rows[title][2], 64)
		switch {
		case calls <= 0 || records <= 0:
			t.Errorf("%s: %v calls/s, %v records/s, want both positive", title, calls, records)
		case title != feed && per != 50:
			t.Errorf("%s: %v records per call, want --batch 50", title, per)
		case title == feed && per != 4000: // 12,000 changes in 3 calls of at most 5,000
			t.Errorf("feed: %v changes per call, want 4000 (12,000 in 3 calls)", per)
		}
		// calls/s is printed to 0.01, records/s to 1.
		if d, tol := records-calls*per, calls*per*0.01+0.005*per+1; d > tol || d < -tol {
			t.Errorf("%s: %v records/s, but %v calls/s × %v per call", title, records, calls, per)
		}
		if d := calls - main; d > 0.5 || d < -0.5 {
			t.Errorf("%s: %v calls/s in the records table, %v req/s in the main table", title, calls, main)
		}
		if strings.Contains(cells[6], "?") {
			t.Errorf("%s: server memory %q, want VmRSS and VmHWM of the child", title, cells[6])
		}
	}
	if !strings.Contains(report, "(3 calls, 12000 changes,") {
		t.Errorf("feed note does not say 3 calls and 12000 changes:\n%s", report)
	}
}

func TestStatusKB(t *testing.T) {
	status := "Name:\tcrmsoap\nVmPeak:\t  812345 kB\nVmHWM:\t   45678 kB\nVmRSS:\t   40000 kB\n"
	for field, want := range map[string]int64{"VmHWM": 45678, "VmRSS": 40000} {
		got, err := statusKB(strings.NewReader(status), field)
		if err != nil || got != want {
			t.Errorf("%s = %d, %v; want %d", field, got, err, want)
		}
	}
	if _, err := statusKB(strings.NewReader(status), "VmSwap"); err == nil {
		t.Error("a missing field: no error")
	}
	if _, err := statusKB(strings.NewReader("VmHWM:\t12 MB\n"), "VmHWM"); err == nil {
		t.Error("a field not in kB: no error")
	}
}

// TestCheckSaveResults: a bulk answer counts only when every item succeeded.
func TestCheckSaveResults(t *testing.T) {
	ok := "<result><index>0</index><success>true</success></result><result><index>1</index><success>true</success></result>"
	bad := "<result><index>0</index><success>true</success></result><result><index>1</index><success>false</success>" +
		"<error><code>DUPLICATE</code></error></result>"
	check := checkSaveResults(2)
	if err := check([]byte(ok)); err != nil {
		t.Errorf("two successes: %v", err)
	}
	if err := check([]byte(bad)); err == nil || !strings.Contains(err.Error(), "DUPLICATE") {
		t.Errorf("a failed item: %v, want an error quoting it", err)
	}
	if err := check([]byte(ok[:len(ok)/2])); err == nil {
		t.Error("one result of two: no error")
	}
}

// TestUpsertCustomers_Distinct: a bulk body carries batch customers with externalIds no other
// call of the run repeats.
func TestUpsertCustomers_Distinct(t *testing.T) {
	seen := map[string]bool{}
	for i := range 3 {
		body := string(upsertCustomers("p-", 4, i).body)
		if n := strings.Count(body, "<crm:customer>"); n != 4 {
			t.Fatalf("call %d: %d customers, want 4", i, n)
		}
		for _, part := range strings.Split(body, "<crm:externalId>")[1:] {
			id, _, _ := strings.Cut(part, "<")
			if seen[id] {
				t.Errorf("externalId %s twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != 12 {
		t.Errorf("%d externalIds, want 12", len(seen))
	}
}

func TestOneLine(t *testing.T) {
	got := oneLine("HTTP 500: <?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope>\n  <x/>")
	if want := "HTTP 500: <soap:Envelope> <x/>"; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
}
