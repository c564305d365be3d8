package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestServe_ReplayAfterRestart: a signed UpdateCustomer accepted by one server process, killed with SIGKILL
// right after the response, is refused by the next one on the same database file, and changes nothing: the
// replay record was committed before the operation ran. A server keeping replay records in memory
// only runs it a second time: the window the database closes.
func TestServe_ReplayAfterRestart(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "crm.db")
	erp := newIdentity(t, dir, "erp", time.Hour)
	registerClient(t, db, erp, true)
	seedCustomers(t, db, 1)
	update := signEnvelope(t, erp.key, erp.cert, updateCustomerXML(1, "Replayed"))

	first := startServer(t, db)
	if status, _, body := post(t, first.URL, "text/xml; charset=utf-8", "", update); status != 200 {
		t.Fatalf("first delivery: %d\n%s", status, body)
	}
	first.kill(t)

	before := dbState(t, db)
	second := startServer(t, db)
	status, _, body := post(t, second.URL, "text/xml; charset=utf-8", "", update)
	if code, reason := soapFault(t, body); status != 500 || code != "wsse:InvalidSecurity" || reason != "message replayed" {
		t.Fatalf("replay after restart: %d %s %q, want 500 wsse:InvalidSecurity \"message replayed\"\n%s", status, code, reason, body)
	}
	if after := dbState(t, db); after != before {
		t.Fatalf("the replay changed the database: %s -> %s", before, after)
	}
	second.stop(t)

	memory := startServer(t, db, "--replay-store", "memory")
	if status, _, body := post(t, memory.URL, "text/xml; charset=utf-8", "", update); status != 200 {
		t.Fatalf("--replay-store memory refused the replay (%d), so this test cannot tell the stores apart:\n%s", status, body)
	}
	if after := dbState(t, db); after == before {
		t.Errorf("the replay accepted with --replay-store memory changed nothing: %s", after)
	}
}

// TestServe_ReplayConcurrentCopies sends copies of one signed AddCustomer at once: to one server, then
// split between two servers sharing the database file (two nodes, or a restart overlapping the old
// process). Each time exactly one copy runs.
func TestServe_ReplayConcurrentCopies(t *testing.T) { forEachBackend(t, testReplayConcurrentCopies) }

func testReplayConcurrentCopies(t *testing.T, db string) {
	dir := t.TempDir()
	erp := newIdentity(t, dir, "erp", time.Hour)
	registerClient(t, db, erp, true)
	a := startServer(t, db)
	b := startServer(t, db)
	const copies = 16
	for round, targets := range [][]string{{a.URL}, {a.URL, b.URL}} {
		msg := signEnvelope(t, erp.key, erp.cert, addCustomerXML(fmt.Sprint("Customer ", round)))
		statuses := make([]int, copies)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				statuses[i] = postStatus(targets[i%len(targets)], msg)
			}()
		}
		close(start)
		wg.Wait()
		counts := map[int]int{}
		for _, s := range statuses {
			counts[s]++
		}
		if counts[200] != 1 || counts[500] != copies-1 {
			t.Errorf("round %d (%d servers): statuses %v, want one 200 and %d times 500", round, len(targets), counts, copies-1)
		}
	}
	if got, want := dbState(t, db), "2 customers (Customer 0:1,Customer 1:1), 2 changes"; got != want {
		t.Errorf("database: %s, want %s", got, want)
	}
}

// postStatus posts body and returns the HTTP status, or -1 when the request failed; safe in goroutines.
func postStatus(url string, body []byte) int {
	resp, err := http.Post(url, "text/xml; charset=utf-8", bytes.NewReader(body))
	if err != nil {
		fmt.Println("POST:", err)
		return -1
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
