package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

func TestSubscriptionsLifecycle(t *testing.T) {
	db, _ := openTest(t, Options{})
	ctx := context.Background()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := store.Subscription{Name: "erp", SinkKind: "soap", SinkConfig: []byte(`{"url":"http://x"}`), Entity: "customer", CreatedAt: t0}
	if err := db.AddSubscription(ctx, s); err != nil {
		t.Fatal(err)
	}
	var dup *store.DuplicateError
	if err := db.AddSubscription(ctx, s); !errors.As(err, &dup) || dup.Field != "name" {
		t.Fatalf("second add: %v, want a duplicate name", err)
	}
	got, err := db.GetSubscription(ctx, "erp")
	if err != nil || got.State != store.SubActive || got.Cursor != 0 || string(got.SinkConfig) != `{"url":"http://x"}` || !got.CreatedAt.Equal(t0) {
		t.Fatalf("get: %+v %v", got, err)
	}

	// Lag: three customers written, none delivered.
	for _, ext := range []string{"a", "b", "c"} {
		if _, err := db.CreateCustomer(ctx, store.Customer{ExternalID: ext, Name: ext, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	n, oldest, err := db.FeedLag(ctx, "customer", 0)
	if err != nil || n != 3 || oldest.IsZero() {
		t.Fatalf("lag: %d %v %v", n, oldest, err)
	}
	if n, _, _ := db.FeedLag(ctx, "product", 0); n != 0 {
		t.Fatalf("lag of another entity: %d", n)
	}

	// A failure past the age limit turns it FAILING, keeping the cursor; an ack clears it.
	if err := db.FailSubscription(ctx, "erp", "HTTP 500", t0.Add(time.Hour), true); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GetSubscription(ctx, "erp")
	if got.State != store.SubFailing || got.LastError != "HTTP 500" || !got.LastErrorAt.Equal(t0.Add(time.Hour)) || got.Cursor != 0 {
		t.Fatalf("after failure: %+v", got)
	}
	if err := db.AckSubscription(ctx, "erp", 0, 2, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ = db.GetSubscription(ctx, "erp")
	if got.State != store.SubActive || got.Cursor != 2 || got.LastError != "" || !got.LastSuccess.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("after ack: %+v", got)
	}
	if n, _, _ := db.FeedLag(ctx, "", got.Cursor); n != 1 {
		t.Fatalf("lag after ack: %d, want 1", n)
	}
	// An ack from a stale cursor is refused: the cursor only moves from where it is.
	if err := db.AckSubscription(ctx, "erp", 0, 3, t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale ack: %v, want ErrConflict", err)
	}
	// Paused stays paused through an ack.
	if err := db.SetSubscriptionState(ctx, "erp", store.SubPaused); err != nil {
		t.Fatal(err)
	}
	if err := db.AckSubscription(ctx, "erp", 2, 3, t0); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.GetSubscription(ctx, "erp"); got.State != store.SubPaused || got.Cursor != 3 {
		t.Fatalf("paused after ack: %+v", got)
	}
	if err := db.SetSubscriptionState(ctx, "erp", "BOGUS"); err == nil {
		t.Fatal("a state outside ACTIVE/PAUSED/FAILING was stored")
	}
	list, err := db.ListSubscriptions(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	if err := db.RemoveSubscription(ctx, "erp"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		db.RemoveSubscription(ctx, "erp"),
		db.SetSubscriptionState(ctx, "erp", store.SubActive),
		db.FailSubscription(ctx, "erp", "x", t0, false),
		db.AckSubscription(ctx, "erp", 3, 4, t0),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("on a removed subscription: %v, want ErrNotFound", err)
		}
	}
	if _, err := db.GetSubscription(ctx, "erp"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get removed: %v", err)
	}
}
