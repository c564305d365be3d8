package service_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/service"
)

func intp(n int) *int { return &n }

func keyed(ctx context.Context, id, op, body string) context.Context {
	return service.WithRequestKey(ctx, service.RequestKey{MessageID: id, Operation: op, Hash: sha256.Sum256([]byte(body))})
}

func TestService_PagingValidation(t *testing.T) {
	s := newService(t)
	for _, tc := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"pageSize 0", func() error {
			_, err := s.SearchCustomers(caller, service.SearchRequest{PageSize: intp(0)})
			return err
		}, "pageSize"},
		{"pageSize -1", func() error {
			_, err := s.SearchCustomers(caller, service.SearchRequest{PageSize: intp(-1)})
			return err
		}, "pageSize"},
		{"pageSize 1001", func() error {
			_, err := s.SearchCustomers(caller, service.SearchRequest{PageSize: intp(1001)})
			return err
		}, "pageSize"},
		{"pageToken garbage", func() error {
			_, err := s.SearchCustomers(caller, service.SearchRequest{PageToken: "x"})
			return err
		}, "pageToken"},
		{"filter control char", func() error {
			_, err := s.SearchCustomers(caller, service.SearchRequest{Filter: service.CustomerFilter{NameContains: "a\x00"}})
			return err
		}, "filter/nameContains"},
		{"maxChanges 0", func() error { _, err := s.GetChanges(caller, "", intp(0)); return err }, "maxChanges"},
		{"maxChanges 5001", func() error { _, err := s.GetChanges(caller, "", intp(5001)); return err }, "maxChanges"},
		{"cursor garbage", func() error { _, err := s.GetChanges(caller, "garbage", nil); return err }, "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantFault(t, tc.call(), service.CodeValidationFailed, tc.field) })
	}
	// A feed cursor is not a page token, and the other way round.
	page, err := s.GetChanges(caller, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.SearchCustomers(caller, service.SearchRequest{PageToken: page.NextCursor})
	wantFault(t, err, service.CodeValidationFailed, "pageToken")
}

func TestService_UpsertCustomer(t *testing.T) {
	s := newService(t)
	d := fullData()
	d.ExternalID = "  "
	_, _, err := s.UpsertCustomer(caller, d, 0)
	e := wantFault(t, err, service.CodeValidationFailed, "customer/externalId")
	if !strings.Contains(e.Message, "required") {
		t.Errorf("message %q does not say externalId is required", e.Message)
	}
	c, created, err := s.UpsertCustomer(caller, fullData(), 0)
	if err != nil || !created || c.Version != 1 {
		t.Fatalf("first upsert: %+v created %v, %v", c, created, err)
	}
	c2, created, err := s.UpsertCustomer(caller, &service.CustomerData{ExternalID: "ERP-0001", Name: "Only"}, 1)
	if err != nil || created || c2.ID != c.ID || c2.Version != 2 || c2.Email != "" {
		t.Fatalf("second upsert: %+v created %v, %v; want the same customer replaced", c2, created, err)
	}
	_, _, err = s.UpsertCustomer(caller, &service.CustomerData{ExternalID: "ERP-0001", Name: "x"}, 1)
	wantFault(t, err, service.CodeConflict, "expectedVersion")
}

// TestService_KeyedWritesRunOnce checks replay and mismatch at the service:
// the second call with a key returns the first outcome, the store is not
// written again, another hash or operation is IDEMPOTENCY_MISMATCH; another
// caller has its own keys.
func TestService_KeyedWritesRunOnce(t *testing.T) {
	s := newService(t)
	s.Now = time.Now // the store expires records by its own clock
	ctx := keyed(caller, "m-1", "AddCustomers", "body")
	items := []*service.CustomerData{{Name: "A"}, {Name: ""}, {Name: "B"}}
	first, err := s.AddCustomers(ctx, false, items)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.AddCustomers(ctx, false, items)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(outcomeIDs(first)) != fmt.Sprint(outcomeIDs(again)) || again[1].Err == nil || again[1].Err.Field != "customer/name" {
		t.Errorf("replay %v, first %v: want the same outcome", outcomeIDs(again), outcomeIDs(first))
	}
	page, err := s.SearchCustomers(caller, service.SearchRequest{})
	if err != nil || len(page.Customers) != 2 {
		t.Errorf("after a replayed call: %d customers (%v), want 2", len(page.Customers), err)
	}
	_, err = s.AddCustomers(keyed(caller, "m-1", "AddCustomers", "other body"), false, items)
	wantFault(t, err, service.CodeIdempotencyMismatch, "MessageID")
	_, err = s.AddCustomer(keyed(caller, "m-1", "AddCustomer", "body"), fullData())
	wantFault(t, err, service.CodeIdempotencyMismatch, "MessageID")
	_, err = s.AddCustomers(keyed(caller, strings.Repeat("m", 257), "AddCustomers", "body"), false, items)
	wantFault(t, err, service.CodeValidationFailed, "MessageID")
	other := keyed(service.WithCaller(context.Background(), "crm-ui"), "m-1", "AddCustomers", "body")
	if out, err := s.AddCustomers(other, false, items); err != nil || out[0].Value.ID == first[0].Value.ID {
		t.Errorf("another caller's m-1: %v, %v; want a write of its own", outcomeIDs(out), err)
	}
}

// TestService_ConcurrentKeyedWrites races identical keyed single writes: one
// executes, every caller gets its outcome.
func TestService_ConcurrentKeyedWrites(t *testing.T) {
	s := newService(t)
	s.Now = time.Now // the store expires records by its own clock
	ctx := keyed(caller, "m-race", "UpsertCustomer", "body")
	const n = 16
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, _, err := s.UpsertCustomer(ctx, fullData(), 0)
			if err != nil {
				t.Errorf("upsert %d: %v", i, err)
			}
			ids[i] = c.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == 0 {
			t.Fatalf("ids %v: want one customer for every caller", ids)
		}
	}
	c, err := s.GetCustomer(caller, ids[0])
	if err != nil || c.Version != 1 {
		t.Errorf("after %d identical keyed upserts: version %d (%v), want 1: executed once", n, c.Version, err)
	}
}

func outcomeIDs(out []service.Outcome[service.Customer]) []string {
	s := make([]string, len(out))
	for i, o := range out {
		if o.Err != nil {
			s[i] = string(o.Err.Code)
		} else {
			s[i] = fmt.Sprint(o.Value.ID, "v", o.Value.Version, o.Created)
		}
	}
	return s
}

// TestService_CursorExpiresWithPurgedTombstones checks a cursor from before a
// purged deletion gets CURSOR_EXPIRED telling to restart without one, and that
// restarting works.
func TestService_CursorExpiresWithPurgedTombstones(t *testing.T) {
	s := newService(t)
	s.Now = time.Now
	s.TombstoneRetention = time.Hour
	a, err := s.AddCustomer(caller, &service.CustomerData{Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.GetChanges(caller, "", nil)
	if err != nil || len(page.Changes) != 1 {
		t.Fatalf("initial load: %+v, %v", page, err)
	}
	if err := s.DeleteCustomer(caller, a.ID, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeTombstones(caller); err != nil || n != 0 {
		t.Fatalf("purge of a fresh tombstone: %d, %v; want none removed", n, err)
	}
	if _, err := s.GetChanges(caller, page.NextCursor, nil); err != nil {
		t.Fatalf("cursor before an unpurged deletion: %v", err)
	}
	s.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if n, err := s.PurgeTombstones(caller); err != nil || n != 1 {
		t.Fatalf("purge after the retention: %d, %v; want 1", n, err)
	}
	_, err = s.GetChanges(caller, page.NextCursor, nil)
	e := wantFault(t, err, service.CodeCursorExpired, "cursor")
	if !strings.Contains(e.Message, "without a cursor") || !e.CallerError() {
		t.Errorf("CURSOR_EXPIRED %q (caller's error %v): want it to say restart without a cursor", e.Message, e.CallerError())
	}
	if _, err := s.GetChanges(caller, "", nil); err != nil {
		t.Errorf("restart without a cursor: %v", err)
	}
}
