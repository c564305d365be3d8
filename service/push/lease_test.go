package push_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/service/push"
	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/postgres"
	"github.com/crmsoap/crmsoap/store/postgres/pgtest"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// forEachBackend runs test on a fresh SQLite file and a fresh PostgreSQL database.
func forEachBackend(t *testing.T, test func(t *testing.T, db testDB)) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "crm.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		test(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := postgres.Open(context.Background(), pgtest.Database(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		test(t, db)
	})
}

// errDead is what a killed node's store answers.
var errDead = errors.New("node killed")

// mortal is one node's view of the shared database: once killed, every call fails, as for a process
// that died (it gives no lease up).
type mortal struct {
	testDB
	dead atomic.Bool
}

func (m *mortal) check() error {
	if m.dead.Load() {
		return errDead
	}
	return nil
}

func (m *mortal) ListSubscriptions(ctx context.Context) ([]store.Subscription, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	return m.testDB.ListSubscriptions(ctx)
}

func (m *mortal) LeaseSubscription(ctx context.Context, name, owner string, now, until time.Time) (store.Subscription, error) {
	if err := m.check(); err != nil {
		return store.Subscription{}, err
	}
	return m.testDB.LeaseSubscription(ctx, name, owner, now, until)
}

func (m *mortal) ReleaseSubscription(ctx context.Context, name, owner string) error {
	if err := m.check(); err != nil {
		return err
	}
	return m.testDB.ReleaseSubscription(ctx, name, owner)
}

func (m *mortal) AckSubscription(ctx context.Context, name, owner string, from, to int64, at time.Time) error {
	if err := m.check(); err != nil {
		return err
	}
	return m.testDB.AckSubscription(ctx, name, owner, from, to, at)
}

func (m *mortal) Feed(ctx context.Context, after int64, limit int) ([]store.FeedEntry, bool, error) {
	if err := m.check(); err != nil {
		return nil, false, err
	}
	return m.testDB.Feed(ctx, after, limit)
}

// delivery is one batch a node handed to the shared listener.
type delivery struct {
	node    string
	entries []store.FeedEntry
	at      time.Time
}

// listener records every batch of every node.
type listener struct {
	mu      sync.Mutex
	batches []delivery
}

func (l *listener) sink(node string) push.SinkFactory {
	return func(store.Subscription) (push.Sink, error) { return nodeSink{l, node}, nil }
}

type nodeSink struct {
	l    *listener
	node string
}

func (s nodeSink) Deliver(_ context.Context, entries []store.FeedEntry) error {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	s.l.batches = append(s.l.batches, delivery{s.node, append([]store.FeedEntry(nil), entries...), time.Now()})
	return nil
}

func (l *listener) snapshot() []delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]delivery(nil), l.batches...)
}

// keepWriting creates and updates customers until the returned stop is called.
func keepWriting(t *testing.T, db testDB) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			now := time.Now().UTC()
			c, err := db.CreateCustomer(ctx, store.Customer{ExternalID: fmt.Sprint("w-", i), Name: "n", CreatedAt: now, UpdatedAt: now})
			if err == nil && i%2 == 0 {
				c.Name = "changed"
				_, err = db.UpdateCustomer(ctx, c, 0)
			}
			if err != nil && ctx.Err() == nil {
				t.Errorf("writer: %v", err)
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return func() { cancel(); <-done }
}

// checkListener checks that the listener holds every entry of the final feed at its version, and that
// per record, versions arrived in increasing order (duplicates, by seq, aside).
func checkListener(t *testing.T, db testDB, got []delivery) {
	t.Helper()
	seen := map[int64]bool{}
	last := map[int64]int64{} // record id -> last version received
	for _, d := range got {
		for _, e := range d.entries {
			if seen[e.Seq] {
				continue
			}
			seen[e.Seq] = true
			if v, ok := last[e.ID]; ok && e.Version <= v {
				t.Fatalf("record %d: version %d arrived after version %d", e.ID, e.Version, v)
			}
			last[e.ID] = e.Version
		}
	}
	feed := wholeFeed(t, db)
	for _, e := range feed {
		if !seen[e.Seq] || last[e.ID] != e.Version {
			t.Fatalf("feed entry seq %d (record %d version %d) missing at the listener (its last version there: %d)",
				e.Seq, e.ID, e.Version, last[e.ID])
		}
	}
}

// Two engines on one database: only the lease holder delivers; when it dies without giving the lease
// up, the other takes over once the lease expired, from the stored cursor, and the listener ends with
// the whole feed, per record in order.
func TestLease_OneDelivererAndTakeover(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		writeChanges(t, db, 120)
		if err := db.AddSubscription(ctx, store.Subscription{Name: "erp", SinkKind: "mem", SinkConfig: []byte("{}"), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		const ttl = 2 * time.Second
		l := &listener{}
		nodes := map[string]*mortal{"a": {testDB: db}, "b": {testDB: db}}
		stops := map[string]func(){}
		for name, m := range nodes {
			stops[name] = startEngine(t, &push.Engine{Store: m, Sinks: map[string]push.SinkFactory{"mem": l.sink(name)},
				Owner: name, LeaseTTL: ttl, LeaseRenew: 100 * time.Millisecond, Reload: 20 * time.Millisecond, Poll: 10 * time.Millisecond})
		}
		defer func() {
			for _, stop := range stops {
				stop()
			}
		}()
		stopWriting := keepWriting(t, db)
		waitCursor(t, db, "erp", 1)
		time.Sleep(300 * time.Millisecond) // several renewals and batches
		s, err := db.GetSubscription(ctx, "erp")
		if err != nil {
			t.Fatal(err)
		}
		holder := s.LeaseOwner
		other := map[string]string{"a": "b", "b": "a"}[holder]
		if other == "" {
			t.Fatalf("lease owner %q, want a or b", holder)
		}
		for _, d := range l.snapshot() {
			if d.node != holder {
				t.Fatalf("node %s delivered while %s held the lease", d.node, holder)
			}
		}

		nodes[holder].dead.Store(true)
		killed := time.Now()
		var taken time.Time
		for taken.IsZero() {
			for _, d := range l.snapshot() {
				if d.node == other {
					taken = d.at
					break
				}
			}
			if time.Since(killed) > 30*time.Second {
				t.Fatalf("node %s never took over from the dead %s", other, holder)
			}
			time.Sleep(10 * time.Millisecond)
		}
		stops[holder]()
		delete(stops, holder)
		// The dead node's lease was renewed at most one renewal period before it died, and the other
		// may take it only once it expired.
		if took := taken.Sub(killed); took < ttl-500*time.Millisecond || took > ttl+10*time.Second {
			t.Fatalf("takeover %v after the kill, want about the lease's %v", took, ttl)
		}
		t.Logf("%s took over %v after %s died", other, taken.Sub(killed), holder)
		stopWriting()
		feed := wholeFeed(t, db)
		s = waitCursor(t, db, "erp", feed[len(feed)-1].Seq)
		if s.LeaseOwner != other || s.State != store.SubActive {
			t.Fatalf("after takeover: %+v", s)
		}
		checkListener(t, db, l.snapshot())
		// A node that stops cleanly gives its lease up: another may take it at once.
		stops[other]()
		delete(stops, other)
		if s, err := db.GetSubscription(ctx, "erp"); err != nil || s.LeaseOwner != "" {
			t.Fatalf("after a clean stop: lease owner %q (%v), want none", s.LeaseOwner, err)
		}
	})
}

// A node whose lease another node took stops delivering and never moves the cursor again.
func TestLease_LostLeaseStopsDelivery(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		if err := db.AddSubscription(ctx, store.Subscription{Name: "erp", SinkKind: "mem", SinkConfig: []byte("{}"), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		l := &listener{}
		stop := startEngine(t, &push.Engine{Store: db, Sinks: map[string]push.SinkFactory{"mem": l.sink("a")},
			Owner: "a", LeaseTTL: time.Minute, LeaseRenew: 20 * time.Millisecond, Reload: 10 * time.Millisecond, Poll: 5 * time.Millisecond})
		defer stop()
		stopWriting := keepWriting(t, db)
		defer stopWriting()
		waitCursor(t, db, "erp", 1)
		// Another node takes the lease as if a's had expired (its clock says so).
		far := time.Now().Add(time.Hour)
		if _, err := db.LeaseSubscription(ctx, "erp", "intruder", far, far.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // ten renewal periods: a has noticed
		before, _ := db.GetSubscription(ctx, "erp")
		n := len(l.snapshot())
		time.Sleep(300 * time.Millisecond) // while writes go on
		after, _ := db.GetSubscription(ctx, "erp")
		if after.LeaseOwner != "intruder" || after.Cursor != before.Cursor {
			t.Fatalf("after the lease was taken: owner %q, cursor %d then %d", after.LeaseOwner, before.Cursor, after.Cursor)
		}
		if m := len(l.snapshot()); m != n {
			t.Fatalf("a delivered %d more batches without the lease", m-n)
		}
	})
}
