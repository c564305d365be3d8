package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/crmsoap/crmsoap/cmd/internal/natssink"
	"github.com/crmsoap/crmsoap/cmd/internal/natssink/natstest"
	"github.com/crmsoap/crmsoap/store"
)

// TestPushNATSSurvivesSIGKILL delivers a feed of 3,000 changes to a real nats-server -js, kills the
// server with SIGKILL while deliveries run, restarts it and checks that the stream then holds every
// change exactly once, in feed order: the batch in flight at the kill is published again after the
// restart, and JetStream's duplicate window absorbs it by Nats-Msg-Id.
func TestPushNATSSurvivesSIGKILL(t *testing.T) {
	url := natstest.URL(t)
	dbPath := t.TempDir() + "/crm.db"
	lease := []string{"--subscriptions-reload", "100ms", "--lease-ttl", "2s", "--lease-renew", "500ms"}
	db, err := openDB(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i := range 3000 {
		c, err := db.CreateCustomer(context.Background(), store.Customer{ExternalID: fmt.Sprint("e", i), Name: "n", CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			if err := db.DeleteCustomer(context.Background(), c.ID, 0, now, "t"); err != nil {
				t.Fatal(err)
			}
		}
	}
	feed, _, err := db.Feed(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	srv := startServer(t, dbPath, lease...)
	if out, err := run(t, "subscriptions", "add", "--db", dbPath, "--name", "bus", "--sink", "nats", "--url", url,
		"--stream", "CRMKILL"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// Kill once some batches are acknowledged, while more are on their way.
	cursor := func() int64 {
		db, err := openDB(context.Background(), dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s, err := db.(store.SubscriptionStore).GetSubscription(context.Background(), "bus")
		if err != nil {
			t.Fatal(err)
		}
		return s.Cursor
	}
	for deadline := time.Now().Add(30 * time.Second); cursor() == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("nothing delivered\n%s", srv.logs.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	srv.cmd.Process.Kill()
	<-srv.done
	atKill := cursor()
	t.Logf("killed at cursor %d of %d", atKill, feed[len(feed)-1].Seq)

	srv = startServer(t, dbPath, lease...)
	for deadline := time.Now().Add(60 * time.Second); cursor() != feed[len(feed)-1].Seq; {
		if time.Now().After(deadline) {
			t.Fatalf("delivery did not finish after the restart (cursor %d)\n%s", cursor(), srv.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	st := natstest.Stream(t, url, "CRMKILL")
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(len(feed)) {
		t.Fatalf("stream holds %d messages, the feed %d (duplicates not absorbed, or changes lost)", info.State.Msgs, len(feed))
	}
	for i, e := range feed {
		m, err := st.GetMsg(context.Background(), uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != natssink.Subject(e) || m.Header.Get(jetstream.MsgIDHeader) != fmt.Sprint(e.Seq) {
			t.Fatalf("message %d: %s id %s, want %s id %d", i+1, m.Subject, m.Header.Get(jetstream.MsgIDHeader), natssink.Subject(e), e.Seq)
		}
	}
}
