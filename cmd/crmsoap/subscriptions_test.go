package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// runMain runs one subcommand in process and returns its standard output.
func runMain(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	err := m.Run(context.Background(), args)
	return out.String(), err
}

func TestSubscriptionsCommand(t *testing.T) {
	forEachBackend(t, testSubscriptionsCommand)
}

func testSubscriptionsCommand(t *testing.T, db string) {
	if _, err := runMain(t, "subscriptions", "add", "--db", db, "--name", "erp", "--url", "https://erp.example/listener", "--entity", "customer"); err != nil {
		t.Fatal(err)
	}
	// Bad input is refused, saying what was wrong.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--name", "erp", "--url", "https://erp.example/l"}, "exists already"},
		{[]string{"--name", "ftp", "--url", "ftp://erp.example/l"}, "must be http or https"},
		{[]string{"--name", "rel", "--url", "/listener"}, "not an absolute URL"},
		{[]string{"--name", "bad name", "--url", "https://erp.example/l"}, "name"},
		{[]string{"--name", "ent", "--url", "https://erp.example/l", "--entity", "planet"}, "unknown entity"},
		{[]string{"--name", "kind", "--sink", "smtp", "--url", "https://erp.example/l"}, "unknown sink"},
		{[]string{"--name", "n", "--sink", "nats", "--url", "https://erp.example/l"}, "nats://"},
	} {
		_, err := runMain(t, append([]string{"subscriptions", "add", "--db", db}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("add %v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
	if out, err := runMain(t, "subscriptions", "list", "--db", db); err != nil || strings.Count(out, "\n") != 2 {
		t.Fatalf("refused adds stored something: %v\n%s", err, out)
	}
	if _, err := runMain(t, "subscriptions", "add", "--db", db, "--name", "bus", "--sink", "nats", "--url", "nats://127.0.0.1:4222"); err != nil {
		t.Fatal(err)
	}

	// Two customers in the feed, nothing delivered: status shows a lag of 2.
	// A node holding the lease recorded a failure; its lease shows, and ends in ten minutes.
	s, err := openDB(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().UTC().Add(-time.Hour)
	for _, ext := range []string{"a", "b"} {
		if _, err := s.CreateCustomer(context.Background(), store.Customer{ExternalID: ext, Name: ext, CreatedAt: past, UpdatedAt: past}); err != nil {
			t.Fatal(err)
		}
	}
	subs := s.(store.SubscriptionStore)
	expires := time.Now().UTC().Add(10 * time.Minute).Truncate(time.Second)
	if _, err := subs.LeaseSubscription(context.Background(), "erp", "host-1/4242/0123abcd", time.Now(), expires); err != nil {
		t.Fatal(err)
	}
	if err := subs.FailSubscription(context.Background(), "erp", "host-1/4242/0123abcd", "listener answered HTTP 503", past, false); err != nil {
		t.Fatal(err)
	}
	s.Close()

	out, err := runMain(t, "subscriptions", "status", "--db", db, "erp")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(strings.Split(strings.TrimSpace(out), "\n")[1])
	if fields[0] != "erp" || fields[1] != "ACTIVE" || fields[2] != "0" || fields[3] != "2" || !strings.Contains(out, "listener answered HTTP 503") {
		t.Fatalf("status:\n%s", out)
	}
	if lag, err := strconv.Atoi(fields[4]); err != nil || lag < 3590 || lag > 3700 {
		t.Fatalf("lag seconds %d, want about 3600:\n%s", lag, out)
	}
	if want := "host-1/4242/0123abcd  " + expires.Format(time.RFC3339) + "\n"; !strings.HasSuffix(out, want) {
		t.Fatalf("status does not end with the lease holder and its expiry %q:\n%s", want, out)
	}
	out, err = runMain(t, "subscriptions", "status", "--db", db, "bus")
	if f := strings.Fields(out); err != nil || f[len(f)-2] != "-" || f[len(f)-1] != "-" {
		t.Fatalf("status of a subscription nobody leased: %v\n%s", err, out)
	}

	if _, err := runMain(t, "subscriptions", "pause", "--db", db, "erp"); err != nil {
		t.Fatal(err)
	}
	out, _ = runMain(t, "subscriptions", "list", "--db", db)
	if !strings.Contains(out, "\nerp") || !strings.Contains(strings.SplitAfter(out, "\nerp")[1], "PAUSED") {
		t.Fatalf("list after pause:\n%s", out)
	}
	if _, err := runMain(t, "subscriptions", "resume", "--db", db, "erp"); err != nil {
		t.Fatal(err)
	}
	if _, err := runMain(t, "subscriptions", "remove", "--db", db, "erp"); err != nil {
		t.Fatal(err)
	}
	if _, err := runMain(t, "subscriptions", "pause", "--db", db, "erp"); err == nil || !strings.Contains(err.Error(), `no subscription named "erp"`) {
		t.Fatalf("pause of a removed subscription: %v", err)
	}
	out, _ = runMain(t, "subscriptions", "list", "--db", db)
	if strings.Contains(out, "erp") || !strings.Contains(out, "bus") {
		t.Fatalf("list after remove:\n%s", out)
	}
}
