package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// SubscriptionDB is what the subscription tests need of a backend: subscriptions and a feed to follow.
type SubscriptionDB interface {
	store.CustomerStore
	store.SubscriptionStore
}

// RunSubscriptions runs the behaviour tests of subscriptions, their cursors and their delivery
// leases against the stores open returns, each as a subtest with its own store.
func RunSubscriptions(t *testing.T, open func(t *testing.T) SubscriptionDB) {
	tests := []struct {
		name string
		fn   func(*testing.T, SubscriptionDB)
	}{
		{"Lifecycle", testSubscriptionLifecycle},
		{"Lease/TwoOwners", testLeaseTwoOwners},
		{"Lease/OnlyHolderAdvances", testLeaseOnlyHolderAdvances},
		{"Lease/ConcurrentTakeover", testLeaseConcurrentTakeover},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func addSub(t *testing.T, db SubscriptionDB, name string) {
	t.Helper()
	s := store.Subscription{Name: name, SinkKind: "soap", SinkConfig: []byte(`{"url":"http://x"}`), CreatedAt: t0}
	if err := db.AddSubscription(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func lease(t *testing.T, db SubscriptionDB, name, owner string, now time.Time, ttl time.Duration) store.Subscription {
	t.Helper()
	s, err := db.LeaseSubscription(context.Background(), name, owner, now, now.Add(ttl))
	if err != nil {
		t.Fatalf("%s leasing %s at %v: %v", owner, name, now, err)
	}
	if s.LeaseOwner != owner || !s.LeaseExpires.Equal(now.Add(ttl)) {
		t.Fatalf("%s leased %s: owner %q until %v, want until %v", owner, name, s.LeaseOwner, s.LeaseExpires, now.Add(ttl))
	}
	return s
}

// wantHeld checks that owner cannot take name's lease at now because holder holds it until until.
func wantHeld(t *testing.T, db SubscriptionDB, name, owner string, now time.Time, holder string, until time.Time) {
	t.Helper()
	_, err := db.LeaseSubscription(context.Background(), name, owner, now, now.Add(time.Minute))
	var held *store.LeaseHeldError
	if !errors.As(err, &held) || held.Owner != holder || !held.Expires.Equal(until) {
		t.Fatalf("%s leasing %s at %v: %v, want held by %s until %v", owner, name, now, err, holder, until)
	}
	if s, _ := db.GetSubscription(context.Background(), name); s.LeaseOwner != holder || !s.LeaseExpires.Equal(until) {
		t.Fatalf("a refused lease changed the holder: %q until %v", s.LeaseOwner, s.LeaseExpires)
	}
}

func testSubscriptionLifecycle(t *testing.T, db SubscriptionDB) {
	ctx := context.Background()
	s := store.Subscription{Name: "erp", SinkKind: "soap", SinkConfig: []byte(`{"url":"http://x"}`), Entity: "customer", CreatedAt: t0}
	if err := db.AddSubscription(ctx, s); err != nil {
		t.Fatal(err)
	}
	var dup *store.DuplicateError
	if err := db.AddSubscription(ctx, s); !errors.As(err, &dup) || dup.Field != "name" || dup.Entity != store.EntitySubscription {
		t.Fatalf("second add: %v, want a duplicate name", err)
	}
	got, err := db.GetSubscription(ctx, "erp")
	if err != nil || got.State != store.SubActive || got.Cursor != 0 || string(got.SinkConfig) != `{"url":"http://x"}` ||
		!got.CreatedAt.Equal(t0) || got.Entity != "customer" || got.LeaseOwner != "" || !got.LeaseExpires.IsZero() {
		t.Fatalf("get: %+v %v", got, err)
	}

	// Lag: three customers written, none delivered.
	for _, ext := range []string{"a", "b", "c"} {
		if _, err := db.CreateCustomer(ctx, customer("SUB-"+ext, ext)); err != nil {
			t.Fatal(err)
		}
	}
	n, oldest, err := db.FeedLag(ctx, "customer", 0)
	if err != nil || n != 3 || !oldest.Equal(t0) {
		t.Fatalf("lag: %d %v %v, want 3 changes, the oldest at %v", n, oldest, err, t0)
	}
	if n, oldest, err := db.FeedLag(ctx, "product", 0); err != nil || n != 0 || !oldest.IsZero() {
		t.Fatalf("lag of another entity: %d %v %v", n, oldest, err)
	}

	// A failure past the age limit turns it FAILING, keeping the cursor; an ack clears it.
	lease(t, db, "erp", "node-a", t0, time.Hour)
	if err := db.FailSubscription(ctx, "erp", "node-a", "HTTP 500", t0.Add(time.Minute), true); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GetSubscription(ctx, "erp")
	if got.State != store.SubFailing || got.LastError != "HTTP 500" || !got.LastErrorAt.Equal(t0.Add(time.Minute)) || got.Cursor != 0 {
		t.Fatalf("after failure: %+v", got)
	}
	if err := db.AckSubscription(ctx, "erp", "node-a", 0, 2, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GetSubscription(ctx, "erp")
	if got.State != store.SubActive || got.Cursor != 2 || got.LastError != "" || !got.LastErrorAt.IsZero() ||
		!got.LastSuccess.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("after ack: %+v", got)
	}
	if n, _, _ := db.FeedLag(ctx, "", got.Cursor); n != 1 {
		t.Fatalf("lag after ack: %d, want 1", n)
	}
	// An ack from a stale cursor is refused: the cursor only moves from where it is.
	if err := db.AckSubscription(ctx, "erp", "node-a", 0, 3, t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale ack: %v, want ErrConflict", err)
	}
	// Paused stays paused through an ack.
	if err := db.SetSubscriptionState(ctx, "erp", store.SubPaused); err != nil {
		t.Fatal(err)
	}
	if err := db.AckSubscription(ctx, "erp", "node-a", 2, 3, t0); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.GetSubscription(ctx, "erp"); got.State != store.SubPaused || got.Cursor != 3 {
		t.Fatalf("paused after ack: %+v", got)
	}
	if err := db.SetSubscriptionState(ctx, "erp", "BOGUS"); err == nil {
		t.Fatal("a state outside ACTIVE/PAUSED/FAILING was stored")
	}
	if got, _ = db.GetSubscription(ctx, "erp"); got.State != store.SubPaused {
		t.Fatalf("state after a refused change: %s", got.State)
	}
	addSub(t, db, "Zeta")
	addSub(t, db, "alpha")
	list, err := db.ListSubscriptions(ctx)
	if err != nil || len(list) != 3 || list[0].Name != "Zeta" || list[1].Name != "alpha" || list[2].Name != "erp" || list[2].Cursor != 3 {
		t.Fatalf("list: %+v %v, want Zeta, alpha, erp (byte order)", list, err)
	}
	if err := db.RemoveSubscription(ctx, "erp"); err != nil {
		t.Fatal(err)
	}
	_, lerr := db.LeaseSubscription(ctx, "erp", "node-a", t0, t0.Add(time.Hour))
	for i, err := range []error{
		db.RemoveSubscription(ctx, "erp"),
		db.SetSubscriptionState(ctx, "erp", store.SubActive),
		db.FailSubscription(ctx, "erp", "node-a", "x", t0, false),
		db.AckSubscription(ctx, "erp", "node-a", 3, 4, t0),
		lerr,
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("call %d on a removed subscription: %v, want ErrNotFound", i, err)
		}
	}
	if _, err := db.GetSubscription(ctx, "erp"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get removed: %v", err)
	}
	if err := db.ReleaseSubscription(ctx, "erp", "node-a"); err != nil {
		t.Fatalf("release of a removed subscription: %v, want nothing done", err)
	}
}

// Two owners: the second is refused while the first's lease runs, renewal moves the expiry for the
// holder only, an expired lease goes to whoever asks, and a released one at once.
func testLeaseTwoOwners(t *testing.T, db SubscriptionDB) {
	ctx := context.Background()
	addSub(t, db, "erp")
	const ttl = 15 * time.Second
	lease(t, db, "erp", "node-a", t0, ttl)
	wantHeld(t, db, "erp", "node-b", t0.Add(time.Second), "node-a", t0.Add(ttl))
	// Renewal by the holder, even late (expired but not taken), moves the expiry.
	lease(t, db, "erp", "node-a", t0.Add(5*time.Second), ttl)
	wantHeld(t, db, "erp", "node-b", t0.Add(ttl+time.Second), "node-a", t0.Add(5*time.Second+ttl))
	lease(t, db, "erp", "node-a", t0.Add(25*time.Second), ttl)
	until := t0.Add(25*time.Second + ttl)
	wantHeld(t, db, "erp", "node-b", until.Add(-time.Nanosecond), "node-a", until)
	// Expired: node-b takes it exactly at the expiry; node-a's renewal is now refused.
	lease(t, db, "erp", "node-b", until, ttl)
	wantHeld(t, db, "erp", "node-a", until.Add(time.Second), "node-b", until.Add(ttl))
	if s, _ := db.GetSubscription(ctx, "erp"); s.LeaseOwner != "node-b" || !s.LeaseExpires.Equal(until.Add(ttl)) {
		t.Fatalf("after takeover: %q until %v", s.LeaseOwner, s.LeaseExpires)
	}
	// Release by a node that does not hold it does nothing; by the holder, frees it at once.
	if err := db.ReleaseSubscription(ctx, "erp", "node-a"); err != nil {
		t.Fatal(err)
	}
	wantHeld(t, db, "erp", "node-c", until.Add(time.Second), "node-b", until.Add(ttl))
	if err := db.ReleaseSubscription(ctx, "erp", "node-b"); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.GetSubscription(ctx, "erp"); s.LeaseOwner != "" || !s.LeaseExpires.IsZero() {
		t.Fatalf("after release: %q until %v", s.LeaseOwner, s.LeaseExpires)
	}
	lease(t, db, "erp", "node-c", until.Add(time.Second), ttl)
}

// Only the lease holder moves the cursor or records a failure; a node whose lease was taken over is
// refused with ErrConflict and changes nothing.
func testLeaseOnlyHolderAdvances(t *testing.T, db SubscriptionDB) {
	ctx := context.Background()
	addSub(t, db, "erp")
	at := t0.Add(time.Minute)
	if err := db.AckSubscription(ctx, "erp", "node-a", 0, 5, at); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("ack without a lease: %v, want ErrConflict", err)
	}
	if err := db.FailSubscription(ctx, "erp", "node-a", "x", at, true); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("failure without a lease: %v, want ErrConflict", err)
	}
	lease(t, db, "erp", "node-a", t0, 10*time.Second)
	if err := db.AckSubscription(ctx, "erp", "node-a", 0, 5, at); err != nil {
		t.Fatal(err)
	}
	got := lease(t, db, "erp", "node-b", t0.Add(10*time.Second), 10*time.Second)
	if got.Cursor != 5 {
		t.Fatalf("the lease came with cursor %d, want 5", got.Cursor)
	}
	if err := db.AckSubscription(ctx, "erp", "node-a", 5, 9, at); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("ack by the former holder: %v, want ErrConflict", err)
	}
	if err := db.FailSubscription(ctx, "erp", "node-a", "late", at, true); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("failure by the former holder: %v, want ErrConflict", err)
	}
	if s, _ := db.GetSubscription(ctx, "erp"); s.Cursor != 5 || s.State != store.SubActive || s.LastError != "" {
		t.Fatalf("refused calls changed the subscription: %+v", s)
	}
	if err := db.AckSubscription(ctx, "erp", "node-b", 5, 9, at); err != nil {
		t.Fatal(err)
	}
}

// Many nodes racing for one expired lease, each also renewing and acking as if it had won: exactly
// one holds it, and only its acks move the cursor.
func testLeaseConcurrentTakeover(t *testing.T, db SubscriptionDB) {
	ctx := context.Background()
	addSub(t, db, "erp")
	lease(t, db, "erp", "dead-node", t0, 15*time.Second)
	now := t0.Add(time.Minute)
	const nodes = 12
	var wg sync.WaitGroup
	won := make([]bool, nodes)
	errs := make([]error, nodes)
	start := make(chan struct{})
	for i := range nodes {
		wg.Go(func() {
			<-start
			owner := fmt.Sprint("node-", i)
			_, err := db.LeaseSubscription(ctx, "erp", owner, now, now.Add(15*time.Second))
			var held *store.LeaseHeldError
			if errors.As(err, &held) {
				return
			}
			if err != nil {
				errs[i] = err
				return
			}
			won[i] = true
			errs[i] = db.AckSubscription(ctx, "erp", owner, 0, int64(i+1), now)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i := range nodes {
		if errs[i] != nil {
			t.Errorf("node %d: %v", i, errs[i])
		}
		if won[i] {
			if winner >= 0 {
				t.Fatalf("nodes %d and %d both took the lease", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no node took the expired lease")
	}
	s, err := db.GetSubscription(ctx, "erp")
	if err != nil || s.LeaseOwner != fmt.Sprint("node-", winner) || s.Cursor != int64(winner+1) {
		t.Fatalf("after the race: %+v %v, want held by node-%d at cursor %d", s, err, winner, winner+1)
	}
}
