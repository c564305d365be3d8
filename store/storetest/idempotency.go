package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

func idemRecord(client, messageID string, expires time.Time) *store.IdempotencyRecord {
	return &store.IdempotencyRecord{Client: client, MessageID: messageID, Operation: "UpsertCustomers",
		RequestHash: sha256.Sum256([]byte(client + "/" + messageID)), Response: []byte("<ok " + messageID + "/>"),
		Expires: expires}
}

func testIdempotency(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	later := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	add := func(ext string) []store.CustomerOp {
		return []store.CustomerOp{{Kind: store.OpAdd, Customer: customer(ext, "idem")}}
	}
	stored := func(ext string) bool {
		page, err := db.SearchCustomers(ctx, store.CustomerFilter{ExternalID: ext}, store.CustomerKey{}, 1)
		if err != nil {
			t.Fatal(err)
		}
		return len(page) == 1
	}

	t.Run("StoredWithTheWrite", func(t *testing.T) {
		rec := idemRecord("erp", "urn:uuid:1", later)
		if _, err := db.WriteCustomers(ctx, add("I-1"), true, rec); err != nil {
			t.Fatal(err)
		}
		got, err := db.LookupIdempotency(ctx, "erp", "urn:uuid:1")
		if err != nil {
			t.Fatal(err)
		}
		want := *rec
		if !got.Expires.Equal(want.Expires) {
			t.Errorf("Expires = %v, want %v", got.Expires, want.Expires)
		}
		got.Expires = want.Expires
		if !reflect.DeepEqual(got, want) {
			t.Errorf("LookupIdempotency:\n got %+v\nwant %+v", got, want)
		}
		if _, err := db.LookupIdempotency(ctx, "other-client", "urn:uuid:1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another client's message id: %v, want ErrNotFound", err)
		}
	})
	t.Run("SecondWriteRaces", func(t *testing.T) {
		_, err := db.WriteCustomers(ctx, add("I-2"), false, idemRecord("erp", "urn:uuid:1", later))
		if !errors.Is(err, store.ErrIdempotencyRace) {
			t.Fatalf("second write with the same message id: %v, want ErrIdempotencyRace", err)
		}
		if stored("I-2") {
			t.Error("the racing write's customer was stored")
		}
	})
	t.Run("ConcurrentSameMessageID", func(t *testing.T) {
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = db.WriteCustomers(ctx, add(fmt.Sprint("I-RACE-", i)), true, idemRecord("erp", "urn:uuid:race", later))
			})
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
				if !stored(fmt.Sprint("I-RACE-", i)) {
					t.Errorf("winner %d's customer is missing", i)
				}
			case errors.Is(err, store.ErrIdempotencyRace):
				if stored(fmt.Sprint("I-RACE-", i)) {
					t.Errorf("loser %d's customer was stored", i)
				}
			default:
				t.Errorf("write %d: %v", i, err)
			}
		}
		if won != 1 {
			t.Errorf("%d writes stored the record, want 1", won)
		}
	})
	t.Run("NotStoredWhenAllRolledBack", func(t *testing.T) {
		ops := append(add("I-3"), store.CustomerOp{Kind: store.OpDelete, ID: 424242})
		rs, err := db.WriteCustomers(ctx, ops, true, idemRecord("erp", "urn:uuid:3", later))
		if err != nil || !errors.Is(rs[0].Err, store.ErrRolledBack) {
			t.Fatalf("results %+v, %v", rs, err)
		}
		if _, err := db.LookupIdempotency(ctx, "erp", "urn:uuid:3"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("record of a rolled-back call: %v, want ErrNotFound", err)
		}
		rs, err = db.WriteCustomers(ctx, ops, false, idemRecord("erp", "urn:uuid:3", later))
		if err != nil || rs[0].Err != nil || !errors.Is(rs[1].Err, store.ErrNotFound) {
			t.Fatalf("results %+v, %v", rs, err)
		}
		if _, err := db.LookupIdempotency(ctx, "erp", "urn:uuid:3"); err != nil {
			t.Errorf("record of a partly failed call: %v", err)
		}
	})
	t.Run("Encode", func(t *testing.T) {
		rec := idemRecord("erp", "urn:uuid:4", later)
		var seen []store.CustomerResult
		rec.Encode = func(rs []store.CustomerResult) ([]byte, error) {
			seen = append([]store.CustomerResult(nil), rs...)
			return fmt.Appendf(nil, "id=%d created=%v", rs[0].Customer.ID, rs[0].Created), nil
		}
		rs, err := db.WriteCustomers(ctx, add("I-4"), false, rec)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(seen, rs) {
			t.Errorf("Encode saw %+v, the call returned %+v", seen, rs)
		}
		got, err := db.LookupIdempotency(ctx, "erp", "urn:uuid:4")
		if want := fmt.Sprintf("id=%d created=true", rs[0].Customer.ID); err != nil || string(got.Response) != want {
			t.Errorf("stored response %q, %v; want %q", got.Response, err, want)
		}
		if got.Encode != nil {
			t.Error("a record read back has Encode set")
		}

		failing := idemRecord("erp", "urn:uuid:5", later)
		boom := errors.New("boom")
		failing.Encode = func([]store.CustomerResult) ([]byte, error) { return nil, boom }
		if _, err := db.WriteCustomers(ctx, add("I-5"), false, failing); !errors.Is(err, boom) {
			t.Fatalf("failing Encode: %v, want its error", err)
		}
		if stored("I-5") {
			t.Error("the customer of a call whose Encode failed was stored")
		}
	})
	t.Run("ExpiredIsAbsent", func(t *testing.T) {
		past := time.Now().Add(-time.Minute)
		if _, err := db.WriteCustomers(ctx, add("I-6"), true, idemRecord("erp", "urn:uuid:6", past)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.LookupIdempotency(ctx, "erp", "urn:uuid:6"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired record: %v, want ErrNotFound", err)
		}
		rec := idemRecord("erp", "urn:uuid:6", later)
		rec.Response = []byte("fresh")
		if _, err := db.WriteCustomers(ctx, add("I-7"), true, rec); err != nil {
			t.Fatalf("reusing an expired message id: %v", err)
		}
		if got, err := db.LookupIdempotency(ctx, "erp", "urn:uuid:6"); err != nil || !bytes.Equal(got.Response, []byte("fresh")) {
			t.Fatalf("after reuse: %q, %v", got.Response, err)
		}
	})
	t.Run("Purge", func(t *testing.T) {
		past := time.Now().Add(-time.Minute)
		for i := range 3 {
			if _, err := db.WriteCustomers(ctx, nil, false, idemRecord("purge", fmt.Sprint(i), past)); err != nil {
				t.Fatal(err)
			}
		}
		n, err := db.PurgeIdempotency(ctx, time.Now())
		if err != nil || n != 3 {
			t.Fatalf("PurgeIdempotency = %d, %v; want 3", n, err)
		}
		if _, err := db.LookupIdempotency(ctx, "erp", "urn:uuid:1"); err != nil {
			t.Errorf("unexpired record after purge: %v", err)
		}
	})
}

func testSecret(t *testing.T, open Opener) {
	ctx := context.Background()
	db := open(t)
	const n = 8
	got := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			if got[i], err = db.Secret(ctx, "page-token"); err != nil {
				t.Errorf("Secret: %v", err)
			}
		})
	}
	wg.Wait()
	for i := range n {
		if len(got[i]) != 32 || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("Secret call %d = %x, call 0 = %x: want the same 32 bytes", i, got[i], got[0])
		}
	}
	if bytes.Equal(got[0], make([]byte, 32)) {
		t.Error("secret is all zeros")
	}
	got[0][0] ^= 0xff // the caller's copy
	again, err := db.Secret(ctx, "page-token")
	if err != nil || bytes.Equal(again, got[0]) || !bytes.Equal(again, got[1]) {
		t.Errorf("Secret after the caller changed its copy = %x, %v", again, err)
	}
	other, err := db.Secret(ctx, "other")
	if err != nil || bytes.Equal(other, got[1]) {
		t.Errorf("another name's secret = %x, %v; want different bytes", other, err)
	}
}
