package natssink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crmsoap/crmsoap/cmd/internal/natssink"
	"github.com/crmsoap/crmsoap/cmd/internal/natssink/natstest"
	"github.com/crmsoap/crmsoap/service/push"
	"github.com/crmsoap/crmsoap/store"
	"github.com/crmsoap/crmsoap/store/sqlite"
)

func feedOf(t testing.TB, db *sqlite.DB, n int) []store.FeedEntry {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for i := range n {
		c, err := db.CreateCustomer(ctx, store.Customer{ExternalID: fmt.Sprint("e", i), Name: "n", CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			if err := db.DeleteCustomer(ctx, c.ID, 0, now, "t"); err != nil {
				t.Fatal(err)
			}
		}
	}
	feed, _, err := db.Feed(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return feed
}

func TestJetStreamGetsTheFeedOnceInOrder(t *testing.T) {
	url := natstest.URL(t)
	stream := fmt.Sprintf("CRMTEST%d", time.Now().UnixNano())
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "crm.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	feed := feedOf(t, db, 260)
	if err := db.AddSubscription(context.Background(), store.Subscription{Name: "bus", SinkKind: "nats", SinkConfig: []byte("{}"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// A crash after publishing but before the cursor moved: the first batch is published once
	// by hand, then the engine publishes it again.
	pre := natssink.New(url, stream)
	if err := pre.Deliver(context.Background(), feed[:100]); err != nil {
		t.Fatal(err)
	}
	pre.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	e := &push.Engine{Store: db, Sinks: map[string]push.SinkFactory{"nats": func(store.Subscription) (push.Sink, error) { return natssink.New(url, stream), nil }},
		Reload: 10 * time.Millisecond, Poll: 10 * time.Millisecond}
	go func() { defer close(done); e.Run(ctx) }()
	for deadline := time.Now().Add(30 * time.Second); ; {
		s, _ := db.GetSubscription(context.Background(), "bus")
		if s.Cursor == feed[len(feed)-1].Seq {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor %d, want %d; last error %q", s.Cursor, feed[len(feed)-1].Seq, s.LastError)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done

	st := natstest.Stream(t, url, stream)
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(len(feed)) {
		t.Fatalf("stream holds %d messages, the feed %d (duplicates not absorbed, or changes lost)", info.State.Msgs, len(feed))
	}
	deleted := 0
	for i, e := range feed {
		m, err := st.GetMsg(context.Background(), uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		var body natssink.Message
		if err := json.Unmarshal(m.Data, &body); err != nil {
			t.Fatal(err)
		}
		if m.Subject != natssink.Subject(e) || m.Header.Get(jetstream.MsgIDHeader) != fmt.Sprint(e.Seq) ||
			body.NotificationID != e.Seq || body.Version != e.Version || body.ID != e.ID || (body.Customer == nil) != (e.Kind == store.FeedDeleted) {
			t.Fatalf("message %d: %s %v %+v, want feed entry %+v", i+1, m.Subject, m.Header, body, e)
		}
		if m.Subject == "crm.customer.deleted" {
			deleted++
		}
	}
	if deleted != 65 {
		t.Fatalf("%d deletions published, want 65", deleted)
	}
}

func TestServerDownIsARetriedFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://" + ln.Addr().String()
	ln.Close()
	err = natssink.New(url, "CRM").Deliver(context.Background(), []store.FeedEntry{{Seq: 1, Entity: "customer", Kind: store.FeedUpserted}})
	if err == nil {
		t.Fatal("delivery to a closed port succeeded")
	}
}
