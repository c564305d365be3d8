package notify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/crmsoap/crmsoap/service/push"
	"github.com/crmsoap/crmsoap/soap/wssec"
	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/sqlite"
	"github.com/crmsoap/crmsoap/wsdl/notify"
)

type request struct {
	Body struct {
		N notify.Notifications
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

// listener is an ERP endpoint that keeps the notifications it accepted, ignoring ids it has seen.
type listener struct {
	mu         sync.Mutex
	got        []notify.Notification
	seen       map[int64]bool
	duplicates int
	verify     func([]byte) error // nil: unsigned messages accepted
	// misbehave, when set, may answer badly instead (true: done). stored says whether the batch
	// was already stored (a listener that fails after storing makes duplicates).
	misbehave func(w http.ResponseWriter, stored bool) bool
	hold      chan struct{} // when set, each request blocks after storing until it is closed
}

func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if l.misbehave != nil && l.misbehave(w, false) {
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if r.Header.Get("SOAPAction") != `"`+notify.SOAPAction+`"` {
		http.Error(w, "bad action", http.StatusBadRequest)
		return
	}
	if l.verify != nil {
		if err := l.verify(raw); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
	}
	var req request
	if err := xml.Unmarshal(raw, &req); err != nil || len(req.Body.N.Notification) == 0 || len(req.Body.N.Notification) > 100 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	for _, n := range req.Body.N.Notification {
		if l.seen[n.NotificationID] {
			l.duplicates++
			continue
		}
		l.seen[n.NotificationID] = true
		l.got = append(l.got, n)
	}
	l.mu.Unlock()
	if l.hold != nil {
		<-l.hold
	}
	if l.misbehave != nil && l.misbehave(w, true) {
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><NotificationsResponse xmlns="urn:crmsoap:notifications:v1"><ack>true</ack></NotificationsResponse></s:Body></s:Envelope>`)
}

func openDB(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "crm.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// writeChanges creates n customers, updates every third twice and deletes every seventh.
func writeChanges(t testing.TB, db *sqlite.DB, n int) []store.FeedEntry {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for i := range n {
		c, err := db.CreateCustomer(ctx, store.Customer{ExternalID: fmt.Sprint("ext-", i), Name: fmt.Sprint("c", i),
			Address: store.Address{City: "Köln"}, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; i%3 == 0 && j < 2; j++ {
			c.Name += " & <updated>"
			if c, err = db.UpdateCustomer(ctx, c, 0); err != nil {
				t.Fatal(err)
			}
		}
		if i%7 == 0 {
			if err := db.DeleteCustomer(ctx, c.ID, 0, now, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	var all []store.FeedEntry
	for after := int64(0); ; {
		es, more, err := db.Feed(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, es...)
		if !more || len(es) == 0 {
			return all
		}
		after = es[len(es)-1].Seq
	}
}

// checkSame fails unless the listener holds exactly the feed, in feed order.
func checkSame(t *testing.T, l *listener, feed []store.FeedEntry) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.got) != len(feed) {
		t.Fatalf("listener has %d notifications, the feed %d", len(l.got), len(feed))
	}
	want := notify.FromFeed(feed).Notification
	for i := range want {
		if show(l.got[i]) != show(want[i]) {
			t.Fatalf("notification %d:\n got %s\nwant %s", i, show(l.got[i]), show(want[i]))
		}
	}
}

// show spells a notification out, every entity's state included.
func show(n notify.Notification) string {
	b, err := json.Marshal(n)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func run(t *testing.T, db *sqlite.DB, sink push.Sink) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	e := &push.Engine{Store: db, Sinks: map[string]push.SinkFactory{"soap": func(store.Subscription) (push.Sink, error) { return sink, nil }},
		Clock: fastClock{}, Reload: 5 * time.Millisecond, Poll: 5 * time.Millisecond}
	go func() { defer close(done); e.Run(ctx) }()
	return func() { cancel(); <-done }
}

// fastClock is the wall clock with every wait shortened 1000 times (backoff of seconds takes ms).
type fastClock struct{}

func (fastClock) Now() time.Time { return time.Now() }
func (fastClock) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d / 1000):
		return nil
	}
}

func waitCursor(t *testing.T, db *sqlite.DB, want int64) store.Subscription {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		s, err := db.GetSubscription(context.Background(), "erp")
		if err == nil && s.Cursor >= want {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor %d, want %d; last error %q (%v)", s.Cursor, want, s.LastError, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func addSubscription(t *testing.T, db *sqlite.DB, url string) {
	t.Helper()
	if err := db.AddSubscription(context.Background(), store.Subscription{Name: "erp", SinkKind: "soap",
		SinkConfig: []byte(`{"url":"` + url + `"}`), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func TestFlakyListenerGetsEveryChangeInOrder(t *testing.T) {
	db := openDB(t)
	feed := writeChanges(t, db, 700)
	// The listener's behaviour cycles through this script, one step per request; failures after
	// "stored" happen once the batch is kept, so the retry brings duplicates.
	script := []string{"500", "ok", "timeout", "reset", "ack false", "slow", "fault", "500 stored", "ok", "reset stored", "ok"}
	var mu sync.Mutex
	step := -1
	counts := map[string]int{}
	l := &listener{seen: map[int64]bool{}}
	l.misbehave = func(w http.ResponseWriter, stored bool) bool {
		mu.Lock()
		if !stored {
			step++
		}
		act := script[step%len(script)]
		mu.Unlock()
		what := ""
		switch {
		case act == "500" && !stored, act == "500 stored" && stored:
			what = "500"
			http.Error(w, "busy", http.StatusInternalServerError)
		case act == "timeout" && !stored:
			what = "timeout"
			time.Sleep(300 * time.Millisecond) // past the sink's timeout
		case act == "reset" && !stored, act == "reset stored" && stored:
			what = "reset"
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		case act == "ack false" && stored:
			what = "ack false"
			fmt.Fprint(w, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><NotificationsResponse xmlns="urn:crmsoap:notifications:v1"><ack>false</ack></NotificationsResponse></s:Body></s:Envelope>`)
		case act == "fault" && stored:
			what = "fault"
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>db down</faultstring></s:Fault></s:Body></s:Envelope>`)
		case act == "slow" && !stored:
			time.Sleep(20 * time.Millisecond) // slow but in time
			return false
		default:
			return false
		}
		mu.Lock()
		counts[what]++
		mu.Unlock()
		return true
	}
	srv := httptest.NewServer(l)
	defer srv.Close()
	addSubscription(t, db, srv.URL)
	sink := notify.New(srv.URL, nil, nil, 150*time.Millisecond)
	stop := run(t, db, sink)
	s := waitCursor(t, db, feed[len(feed)-1].Seq)
	stop()
	checkSame(t, l, feed)
	t.Logf("%d changes delivered through %v; %d duplicates ignored; last success %v", len(feed), counts, l.duplicates, s.LastSuccess)
	for _, what := range []string{"500", "timeout", "reset", "ack false", "fault"} {
		if counts[what] == 0 {
			t.Errorf("the listener never answered %q: the test did not exercise it", what)
		}
	}
	if l.duplicates == 0 {
		t.Error("no duplicate arrived: failures after storing were not exercised")
	}
}

func TestKilledMidDeliveryLosesNothing(t *testing.T) {
	db := openDB(t)
	feed := writeChanges(t, db, 350)
	l := &listener{seen: map[int64]bool{}, hold: make(chan struct{})}
	srv := httptest.NewServer(l)
	defer srv.Close()
	addSubscription(t, db, srv.URL)
	stop := run(t, db, notify.New(srv.URL, nil, nil, time.Minute))
	// Wait until the listener stored the first batch but has not answered, then stop the engine.
	for {
		l.mu.Lock()
		n := len(l.got)
		l.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	close(l.hold)
	s, err := db.GetSubscription(context.Background(), "erp")
	if err != nil || s.Cursor != 0 {
		t.Fatalf("the cursor moved without an ack: %+v %v", s, err)
	}
	stop = run(t, db, notify.New(srv.URL, nil, nil, time.Minute))
	waitCursor(t, db, feed[len(feed)-1].Seq)
	stop()
	checkSame(t, l, feed)
	if l.duplicates != 100 {
		t.Fatalf("%d duplicates, want the 100 of the unacknowledged batch", l.duplicates)
	}
}

func TestSignedNotificationsVerify(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "crmsoap"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	db := openDB(t)
	feed := writeChanges(t, db, 30)
	l := &listener{seen: map[int64]bool{}, verify: func(raw []byte) error {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			return err
		}
		_, err := wssec.VerifyResponse(doc, cert, time.Now())
		return err
	}}
	srv := httptest.NewServer(l)
	defer srv.Close()
	addSubscription(t, db, srv.URL)
	stop := run(t, db, notify.New(srv.URL, &wssec.Signer{Key: key, Cert: cert}, nil, time.Minute))
	waitCursor(t, db, feed[len(feed)-1].Seq)
	stop()
	checkSame(t, l, feed)

	// A listener checking against another certificate refuses, and nothing is acknowledged.
	refusing := httptest.NewServer(&listener{seen: map[int64]bool{}, verify: func([]byte) error { return fmt.Errorf("not signed by the expected certificate") }})
	defer refusing.Close()
	err = notify.New(refusing.URL, &wssec.Signer{Key: key, Cert: cert}, nil, time.Minute).Deliver(context.Background(), feed[:1])
	if err == nil || !strings.Contains(err.Error(), "HTTP 403") {
		t.Fatalf("delivery to a refusing listener: %v", err)
	}
}

func TestWSDLIsTheContract(t *testing.T) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(notify.WSDL); err != nil {
		t.Fatal(err)
	}
	if ns := doc.Root().SelectAttrValue("targetNamespace", ""); ns != notify.Namespace {
		t.Fatalf("targetNamespace %q", ns)
	}
	if !strings.Contains(string(notify.WSDL), `soapAction="`+notify.SOAPAction+`"`) {
		t.Fatal("the WSDL's soapAction is not the one the sink sends")
	}
}

func TestHTTPSListenerTrustsTheGivenCA(t *testing.T) {
	db := openDB(t)
	feed := writeChanges(t, db, 3)
	l := &listener{seen: map[int64]bool{}}
	srv := httptest.NewTLSServer(l)
	defer srv.Close()
	if err := notify.New(srv.URL, nil, nil, 10*time.Second).Deliver(context.Background(), feed); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a listener certificate outside the system roots was accepted: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	if err := notify.New(srv.URL, nil, roots, 10*time.Second).Deliver(context.Background(), feed); err != nil {
		t.Fatal(err)
	}
	checkSame(t, l, feed)
}
