package push_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/service/push"
	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

// fakeClock runs virtual time: Sleep advances it at once (yielding briefly so other goroutines run).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Millisecond):
		return nil
	}
}

// memSink records what it acknowledged; fail decides whether an attempt fails.
type memSink struct {
	mu       sync.Mutex
	got      []store.FeedEntry
	attempts int
	fail     func(attempt int) bool
}

func (s *memSink) Deliver(ctx context.Context, entries []store.FeedEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if s.fail != nil && s.fail(s.attempts) {
		return errors.New("listener answered HTTP 500")
	}
	s.got = append(s.got, entries...)
	return nil
}

type counter struct{ ok, errs, failing, retries atomic.Int64 }

func (c *counter) Delivered(_, outcome string, _ int) {
	map[string]*atomic.Int64{"ok": &c.ok, "error": &c.errs, "failing": &c.failing}[outcome].Add(1)
}
func (c *counter) Retry(string, time.Duration)      { c.retries.Add(1) }
func (c *counter) Lag(string, int64, time.Duration) {}

// testDB is what the tests need of a backend: the engine's store, writes and subscriptions.
type testDB interface {
	push.Store
	store.CustomerStore
	store.SubscriptionStore
}

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "crm.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// writeChanges creates n customers, updates every third and deletes every fifth.
func writeChanges(t *testing.T, db testDB, n int) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for i := range n {
		c, err := db.CreateCustomer(ctx, store.Customer{ExternalID: fmt.Sprint("ext-", i), Name: fmt.Sprint("c", i), CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			c.Name += " updated"
			if _, err := db.UpdateCustomer(ctx, c, 0); err != nil {
				t.Fatal(err)
			}
		}
		if i%5 == 0 {
			if err := db.DeleteCustomer(ctx, c.ID, 0, now, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func wholeFeed(t *testing.T, db testDB) []store.FeedEntry {
	t.Helper()
	var all []store.FeedEntry
	for after := int64(0); ; {
		es, more, err := db.Feed(context.Background(), after, 1000)
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

// waitCursor runs until the subscription's stored cursor reaches want (or fails the test).
func waitCursor(t *testing.T, db testDB, name string, want int64) store.Subscription {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := db.GetSubscription(context.Background(), name)
		if err == nil && (s.Cursor >= want || s.State != store.SubActive) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscription %s: cursor %d, want %d (%v)", name, s.Cursor, want, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func startEngine(t *testing.T, e *push.Engine) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	return func() { cancel(); <-done }
}

func TestFlakySinkGetsTheWholeFeedInOrder(t *testing.T) {
	db := openDB(t)
	writeChanges(t, db, 450)
	feed := wholeFeed(t, db)
	if err := db.AddSubscription(context.Background(), store.Subscription{Name: "erp", SinkKind: "mem", SinkConfig: []byte("{}"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sink := &memSink{fail: func(int) bool { return rng.IntN(3) == 0 }}
	obs := &counter{}
	stop := startEngine(t, &push.Engine{Store: db, Sinks: map[string]push.SinkFactory{"mem": func(store.Subscription) (push.Sink, error) { return sink, nil }},
		Clock: &fakeClock{now: time.Now()}, Observer: obs, Reload: time.Millisecond, Poll: time.Millisecond})
	s := waitCursor(t, db, "erp", feed[len(feed)-1].Seq)
	stop()
	if s.State != store.SubActive {
		t.Fatalf("state %s", s.State)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.got) != len(feed) {
		t.Fatalf("sink got %d entries, the feed has %d", len(sink.got), len(feed))
	}
	for i := range feed {
		if sink.got[i].Seq != feed[i].Seq || sink.got[i].Version != feed[i].Version || sink.got[i].Kind != feed[i].Kind {
			t.Fatalf("entry %d: got %+v, want %+v", i, sink.got[i], feed[i])
		}
	}
	if obs.retries.Load() == 0 || obs.errs.Load() != obs.retries.Load() || obs.ok.Load() != int64((len(feed)+99)/100) {
		t.Fatalf("counters: ok %d, errors %d, retries %d", obs.ok.Load(), obs.errs.Load(), obs.retries.Load())
	}
}

func TestPastMaxDeliveryAgeTurnsFailingAndResumeCarriesOn(t *testing.T) {
	db := openDB(t)
	writeChanges(t, db, 10)
	feed := wholeFeed(t, db)
	ctx := context.Background()
	if err := db.AddSubscription(ctx, store.Subscription{Name: "erp", SinkKind: "mem", SinkConfig: []byte("{}"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	down.Store(true)
	sink := &memSink{fail: func(int) bool { return down.Load() }}
	obs := &counter{}
	clock := &fakeClock{now: time.Now()}
	stop := startEngine(t, &push.Engine{Store: db, Sinks: map[string]push.SinkFactory{"mem": func(store.Subscription) (push.Sink, error) { return sink, nil }},
		Clock: clock, Observer: obs, Reload: time.Millisecond, Poll: time.Millisecond, MaxDeliveryAge: 24 * time.Hour})
	defer stop()
	s := waitCursor(t, db, "erp", 1)
	if s.State != store.SubFailing || s.Cursor != 0 || s.LastError != "listener answered HTTP 500" || obs.failing.Load() != 1 {
		t.Fatalf("after a day of failures: %+v, failing count %d", s, obs.failing.Load())
	}
	// Backoff doubling from 1 s to 10 min: a day takes about 150 retries, not thousands.
	if r := obs.retries.Load(); r < 100 || r > 300 {
		t.Fatalf("%d retries in a day", r)
	}
	down.Store(false)
	if err := db.SetSubscriptionState(ctx, "erp", store.SubActive); err != nil {
		t.Fatal(err)
	}
	s = waitCursor(t, db, "erp", feed[len(feed)-1].Seq)
	if s.State != store.SubActive || s.LastError != "" || len(sink.got) != len(feed) {
		t.Fatalf("after resume: %+v, %d delivered of %d", s, len(sink.got), len(feed))
	}
}

func TestEntityFilterAdvancesPastOtherEntities(t *testing.T) {
	db := openDB(t)
	writeChanges(t, db, 5)
	feed := wholeFeed(t, db)
	if err := db.AddSubscription(context.Background(), store.Subscription{Name: "p", SinkKind: "mem", SinkConfig: []byte("{}"), Entity: "product", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	stop := startEngine(t, &push.Engine{Store: db, Sinks: map[string]push.SinkFactory{"mem": func(store.Subscription) (push.Sink, error) { return sink, nil }},
		Clock: &fakeClock{now: time.Now()}, Reload: time.Millisecond, Poll: time.Millisecond})
	waitCursor(t, db, "p", feed[len(feed)-1].Seq)
	stop()
	if sink.attempts != 0 {
		t.Fatalf("a product subscription was sent %d customer batches", sink.attempts)
	}
}

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		attempt  int
		jitter   float64
		min, max time.Duration
	}{
		{0, 0, 500 * time.Millisecond, 500 * time.Millisecond},
		{0, 0.999, 990 * time.Millisecond, time.Second},
		{3, 0.5, 6 * time.Second, 6 * time.Second},
		{9, 0.999, 8 * time.Minute, 512 * time.Second},
		{10, 0, 5 * time.Minute, 5 * time.Minute},
		{1000, 0.999, 9 * time.Minute, 10 * time.Minute},
	} {
		if d := push.Backoff(c.attempt, c.jitter); d < c.min || d > c.max {
			t.Errorf("Backoff(%d, %v) = %v, want in [%v, %v]", c.attempt, c.jitter, d, c.min, c.max)
		}
	}
}

func TestPauseStopsRetriesAndUnknownSinkFails(t *testing.T) {
	db := openDB(t)
	writeChanges(t, db, 3)
	ctx := context.Background()
	for _, s := range []store.Subscription{
		{Name: "erp", SinkKind: "mem", SinkConfig: []byte("{}"), CreatedAt: time.Now()},
		{Name: "odd", SinkKind: "carrier-pigeon", SinkConfig: []byte("{}"), CreatedAt: time.Now()},
	} {
		if err := db.AddSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	sink := &memSink{fail: func(int) bool { return true }}
	stop := startEngine(t, &push.Engine{Store: db, Sinks: map[string]push.SinkFactory{"mem": func(store.Subscription) (push.Sink, error) { return sink, nil }},
		Clock: &fakeClock{now: time.Now()}, Reload: time.Millisecond, Poll: time.Millisecond})
	defer stop()
	attempts := func() int { sink.mu.Lock(); defer sink.mu.Unlock(); return sink.attempts }
	for attempts() < 3 {
		time.Sleep(time.Millisecond)
	}
	if err := db.SetSubscriptionState(ctx, "erp", store.SubPaused); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // many reloads: the worker has stopped
	before := attempts()
	time.Sleep(100 * time.Millisecond)
	if after := attempts(); after != before {
		t.Fatalf("a paused subscription was still delivered: %d attempts, then %d", before, after)
	}
	if s, _ := db.GetSubscription(ctx, "erp"); s.Cursor != 0 || s.State != store.SubPaused {
		t.Fatalf("paused: %+v", s)
	}
	s := waitCursor(t, db, "odd", 1)
	if s.State != store.SubFailing || s.Cursor != 0 || s.LastError != `no sink of kind "carrier-pigeon" in this server` {
		t.Fatalf("unknown sink: %+v", s)
	}
}
