package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/wsdl/notify"
)

// seqListener keeps the notification ids it received, once each, in arrival order, with each one's
// record id and version; while hold is open its second request blocks after being stored (a delivery
// in flight, not acknowledged).
type seqListener struct {
	mu         sync.Mutex
	ids        []int64
	versions   map[int64]int64
	records    map[int64]int64
	duplicates int
	requests   int
	hold       chan struct{}
}

func (l *seqListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var env struct {
		Body struct{ N notify.Notifications } `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
	}
	raw, _ := io.ReadAll(r.Body)
	if err := xml.Unmarshal(raw, &env); err != nil {
		http.Error(w, "bad", http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	l.requests++
	n := l.requests
	for _, x := range env.Body.N.Notification {
		if _, seen := l.versions[x.NotificationID]; seen {
			l.duplicates++
			continue
		}
		l.versions[x.NotificationID] = x.Version
		l.records[x.NotificationID] = x.ID
		l.ids = append(l.ids, x.NotificationID)
	}
	l.mu.Unlock()
	if n == 2 {
		<-l.hold
	}
	fmt.Fprint(w, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><NotificationsResponse xmlns="urn:crmsoap:notifications:v1"><ack>true</ack></NotificationsResponse></s:Body></s:Envelope>`)
}

// TestPushSurvivesSIGKILL adds a subscription to a running server, kills the server with SIGKILL
// while a batch is in flight, restarts it, and checks that the listener got the whole feed, in
// order, with only the unacknowledged batch twice. The restarted server is another node: it takes
// the subscription over once the killed one's lease (2 s here) expired.
func TestPushSurvivesSIGKILL(t *testing.T) {
	forEachBackend(t, testPushSurvivesSIGKILL)
}

func testPushSurvivesSIGKILL(t *testing.T, dbPath string) {
	lease := []string{"--subscriptions-reload", "100ms", "--lease-ttl", "2s", "--lease-renew", "500ms"}
	db, err := openDB(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i := range 350 {
		if _, err := db.CreateCustomer(context.Background(), store.Customer{ExternalID: fmt.Sprint("e", i), Name: "n", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	feed, _, err := db.Feed(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	l := &seqListener{versions: map[int64]int64{}, records: map[int64]int64{}, hold: make(chan struct{})}
	ls := httptest.NewServer(l)
	defer ls.Close()
	defer func() {
		select {
		case <-l.hold:
		default:
			close(l.hold)
		}
	}()

	srv := startServer(t, dbPath, lease...)
	// The running server serves the listener contract.
	resp, err := http.Get(strings.TrimSuffix(srv.URL, soapPath) + notificationsPath + "?wsdl")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `targetNamespace="`+notify.Namespace+`"`) {
		t.Fatalf("GET %s?wsdl: %d %.200s", notificationsPath, resp.StatusCode, body)
	}
	// Added while the server runs: it picks the subscription up.
	if out, err := run(t, "subscriptions", "add", "--db", dbPath, "--name", "erp", "--url", ls.URL); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		l.mu.Lock()
		n := l.requests
		l.mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never delivered a second batch\n%s", srv.logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.cmd.Process.Kill()
	<-srv.done
	close(l.hold)

	srv = startServer(t, dbPath, lease...)
	deadline = time.Now().Add(60 * time.Second)
	for {
		out, err := run(t, "subscriptions", "status", "--db", dbPath, "erp")
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if strings.Contains(out, fmt.Sprintf(" %d ", feed[len(feed)-1].Seq)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery did not finish after the restart:\n%s\n%s", out, srv.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ids) != len(feed) {
		t.Fatalf("listener has %d changes, the feed %d", len(l.ids), len(feed))
	}
	for i, e := range feed {
		if l.ids[i] != e.Seq || l.versions[e.Seq] != e.Version {
			t.Fatalf("change %d: listener has id %d version %d, feed seq %d version %d", i, l.ids[i], l.versions[l.ids[i]], e.Seq, e.Version)
		}
	}
	if l.duplicates != 100 {
		t.Fatalf("%d duplicates, want the 100 of the batch in flight at the kill", l.duplicates)
	}
	// The admin listener exports the delivery counters.
	resp, err = http.Get(srv.Admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `crmsoap_subscription_deliveries_total{outcome="ok",subscription="erp"}`) ||
		!strings.Contains(string(metrics), `crmsoap_subscription_lag_changes{subscription="erp"} 0`) {
		t.Fatalf("metrics lack the subscription series:\n%s", metrics)
	}
}
