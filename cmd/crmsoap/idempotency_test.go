package main

import (
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crmsoap/crmsoap/soap/wssec"
)

func messageID(id string) string { return `<wsa:MessageID>` + id + `</wsa:MessageID>` }

// TestServe_RetryByMessageIDExecutesOnce sends writes carrying a wsa:MessageID
// twice, byte for byte, over both SOAP versions: the retry gets the stored
// answer and writes nothing; the same MessageID with another body is refused.
func TestServe_RetryByMessageIDExecutesOnce(t *testing.T) {
	forEachBackend(t, testRetryByMessageIDExecutesOnce)
}

func testRetryByMessageIDExecutesOnce(t *testing.T, db string) {
	srv := startDevServer(t, db)
	for _, v := range []struct{ name, ns, ct string }{{"1.1", ns11, ct11}, {"1.2", ns12, ct12}} {
		t.Run("SOAP"+v.name, func(t *testing.T) {
			ops := []struct{ op, body string }{
				{"AddCustomer", `<c:AddCustomer><c:customer><c:name>Retry ` + v.name + `</c:name></c:customer></c:AddCustomer>`},
				{"UpsertCustomers", `<c:UpsertCustomers><c:customer><c:externalId>R-` + v.name + `</c:externalId><c:name>R</c:name></c:customer>` +
					`<c:customer><c:name>no key</c:name></c:customer></c:UpsertCustomers>`},
				{"AddCustomer", `<c:AddCustomer><c:customer><c:externalId>R-` + v.name + `</c:externalId><c:name>taken</c:name></c:customer></c:AddCustomer>`},
			}
			for i, o := range ops {
				env := envelope(v.ns, messageID(fmt.Sprintf("urn:uuid:retry-%s-%d", v.name, i)), o.body)
				action := ""
				if v.ns == ns11 {
					action = `"urn:crmsoap:v1#` + o.op + `"`
				}
				status1, _, first := post(t, srv.URL, v.ct, action, env)
				state := dbState(t, srv.DB)
				status2, _, second := post(t, srv.URL, v.ct, action, env)
				if status2 != status1 || !bytes.Equal(first, second) {
					t.Errorf("%s: retry answered HTTP %d\n%s\nfirst HTTP %d\n%s", o.op, status2, second, status1, first)
				}
				if after := dbState(t, srv.DB); after != state {
					t.Errorf("%s: the retry wrote: %s -> %s", o.op, state, after)
				}
				if !strings.Contains(string(second), "RelatesTo") {
					t.Errorf("%s: retry without wsa:RelatesTo\n%s", o.op, second)
				}
			}
			// The third call (a DUPLICATE) is stored as a fault and replayed as one.
			env := envelope(v.ns, messageID(fmt.Sprintf("urn:uuid:retry-%s-0", v.name)),
				`<c:AddCustomer><c:customer><c:name>Another body</c:name></c:customer></c:AddCustomer>`)
			state := dbState(t, srv.DB)
			status, _, resp := post(t, srv.URL, v.ct, "", env)
			if status != http.StatusBadRequest && status != http.StatusInternalServerError || elementText(t, resp, "code") != "IDEMPOTENCY_MISMATCH" ||
				!strings.Contains(string(resp), "Client") && !strings.Contains(string(resp), "Sender") {
				t.Errorf("same MessageID, other body: HTTP %d\n%s", status, resp)
			}
			env = envelope(v.ns, messageID(fmt.Sprintf("urn:uuid:retry-%s-0", v.name)),
				`<c:UpsertCustomer><c:customer><c:externalId>X</c:externalId><c:name>Retry `+v.name+`</c:name></c:customer></c:UpsertCustomer>`)
			if _, _, resp := post(t, srv.URL, v.ct, "", env); elementText(t, resp, "code") != "IDEMPOTENCY_MISMATCH" {
				t.Errorf("same MessageID, other operation:\n%s", resp)
			}
			if after := dbState(t, srv.DB); after != state {
				t.Errorf("a mismatched retry wrote: %s -> %s", state, after)
			}
		})
	}
}

// TestServe_ConcurrentRetriesExecuteOnce sends the same request with one
// MessageID from many clients at once: one execution, one answer for all.
func TestServe_ConcurrentRetriesExecuteOnce(t *testing.T) {
	forEachBackend(t, testConcurrentRetriesExecuteOnce)
}

func testConcurrentRetriesExecuteOnce(t *testing.T, db string) {
	srv := startDevServer(t, db)
	for round := range 5 {
		env := envelope(ns12, messageID(fmt.Sprint("urn:uuid:race-", round)),
			`<c:AddCustomers><c:customer><c:name>Race</c:name></c:customer><c:customer><c:name>Race 2</c:name></c:customer></c:AddCustomers>`)
		const n = 8
		var wg sync.WaitGroup
		ids := make([]string, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				status, _, resp := post(t, srv.URL, ct12, "", env)
				if status != http.StatusOK {
					t.Errorf("HTTP %d\n%s", status, resp)
				}
				ids[i] = elementText(t, resp, "id")
			})
		}
		close(start)
		wg.Wait()
		for _, id := range ids[1:] {
			if id != ids[0] {
				t.Errorf("round %d: concurrent retries got ids %v, want one answer", round, ids)
				break
			}
		}
	}
	if state := dbState(t, srv.DB); !strings.HasPrefix(state, "10 customers") {
		t.Errorf("after 5 rounds of 8 concurrent retries of a 2-customer call: %s, want 10 customers", state)
	}
}

// TestServe_SignedRetries checks that with WS-Security on, a retry signed again
// (new Timestamp and Signature) executes once when the MessageID is signed, and
// that an unsigned MessageID does not key anything.
func TestServe_SignedRetries(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "crm.db")
	erp := newIdentity(t, dir, "erp", time.Hour)
	registerClient(t, db, erp, true)
	srv := startServer(t, db)
	sign := func(env []byte, signAddressing bool) []byte {
		t.Helper()
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(env); err != nil {
			t.Fatal(err)
		}
		s := &wssec.Signer{Key: erp.key, Cert: erp.cert, SignAddressing: signAddressing}
		if err := s.Sign(doc); err != nil {
			t.Fatal(err)
		}
		b, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, v := range []struct{ name, ns, ct string }{{"1.1", ns11, ct11}, {"1.2", ns12, ct12}} {
		body := `<c:UpsertCustomers><c:customer><c:externalId>SIG-` + v.name + `</c:externalId><c:name>Signed</c:name></c:customer></c:UpsertCustomers>`
		env := envelope(v.ns, messageID("urn:uuid:signed-"+v.name), body)
		status, _, first := post(t, srv.URL, v.ct, "", sign(env, true))
		if status != http.StatusOK || elementText(t, first, "success") != "true" {
			t.Fatalf("SOAP %s signed upsert: HTTP %d\n%s", v.name, status, first)
		}
		state := dbState(t, srv.DB)
		time.Sleep(5 * time.Millisecond) // a later Timestamp: a different signature
		status, _, second := post(t, srv.URL, v.ct, "", sign(env, true))
		if status != http.StatusOK || elementText(t, second, "version") != "1" || dbState(t, srv.DB) != state {
			t.Errorf("SOAP %s re-signed retry: HTTP %d, state %s -> %s\n%s", v.name, status, state, dbState(t, srv.DB), second)
		}
		// MessageID outside the signature: ignored, the upsert runs again (version 2).
		env = envelope(v.ns, messageID("urn:uuid:unsigned-"+v.name), body)
		for want := 2; want <= 3; want++ {
			status, _, resp := post(t, srv.URL, v.ct, "", sign(env, false))
			if status != http.StatusOK || elementText(t, resp, "version") != fmt.Sprint(want) {
				t.Errorf("SOAP %s unsigned MessageID: HTTP %d, want version %d\n%s", v.name, status, want, resp)
			}
		}
	}
}

// TestServe_IdempotencyTTL checks --idempotency-ttl: within it a retry is
// answered from the stored outcome; after it the MessageID is forgotten and the
// request runs again.
func TestServe_IdempotencyTTL(t *testing.T) {
	srv := startDevServer(t, "", "--idempotency-ttl", "1s", "--purge-interval", "50ms")
	env := envelope(ns12, messageID("urn:uuid:ttl"), `<c:AddCustomer><c:customer><c:name>TTL</c:name></c:customer></c:AddCustomer>`)
	_, _, first := post(t, srv.URL, ct12, "", env)
	_, _, retry := post(t, srv.URL, ct12, "", env)
	if id := elementText(t, first, "id"); id == "" || elementText(t, retry, "id") != id {
		t.Fatalf("retry within the TTL: ids %q and %q, want the same", id, elementText(t, retry, "id"))
	}
	time.Sleep(1500 * time.Millisecond)
	_, _, late := post(t, srv.URL, ct12, "", env)
	if elementText(t, late, "id") == elementText(t, first, "id") {
		t.Errorf("after the TTL the same MessageID replayed customer %s; want a new write", elementText(t, late, "id"))
	}
}
