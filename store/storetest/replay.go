package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

func remember(t *testing.T, db store.Store, key []byte, expires, now time.Time) bool {
	t.Helper()
	fresh, err := db.RememberReplay(context.Background(), key, expires, now)
	if err != nil {
		t.Fatal(err)
	}
	return fresh
}

func testRememberReplay(t *testing.T, open Opener) {
	db := open(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	key := bytes.Repeat([]byte{7}, store.ReplayKeySize)
	if !remember(t, db, key, now.Add(time.Minute), now) {
		t.Fatal("first sight of a key is not fresh")
	}
	if remember(t, db, key, now.Add(time.Minute), now.Add(time.Second)) {
		t.Fatal("second sight of an unexpired key is fresh")
	}
	if !remember(t, db, bytes.Repeat([]byte{8}, store.ReplayKeySize), now.Add(time.Minute), now) {
		t.Fatal("another key is not fresh")
	}
	// After its expiry the record no longer counts, and is taken over.
	if !remember(t, db, key, now.Add(3*time.Minute), now.Add(time.Minute)) {
		t.Fatal("an expired record still refuses its key")
	}
	if remember(t, db, key, now.Add(3*time.Minute), now.Add(2*time.Minute)) {
		t.Fatal("the taken-over record does not refuse its key")
	}
	if _, err := db.RememberReplay(context.Background(), []byte{1, 2}, now, now); err == nil {
		t.Error("a short key was accepted")
	}
}

// testRememberReplayConcurrentCopies: of many concurrent calls with one key exactly one is fresh.
func testRememberReplayConcurrentCopies(t *testing.T, open Opener) {
	db := open(t)
	now := time.Now()
	const copies, keys = 16, 8
	var mu sync.Mutex
	freshByKey := map[byte]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for k := range keys {
		for range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				fresh, err := db.RememberReplay(context.Background(), bytes.Repeat([]byte{byte(k)}, store.ReplayKeySize), now.Add(time.Minute), now)
				if err != nil {
					t.Error(err)
					return
				}
				if fresh {
					mu.Lock()
					freshByKey[byte(k)]++
					mu.Unlock()
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	for k := range keys {
		if freshByKey[byte(k)] != 1 {
			t.Errorf("key %d: %d fresh answers of %d copies, want exactly 1", k, freshByKey[byte(k)], copies)
		}
	}
}

func testPurgeReplays(t *testing.T, open Opener) {
	db := open(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	expired, live := bytes.Repeat([]byte{1}, store.ReplayKeySize), bytes.Repeat([]byte{2}, store.ReplayKeySize)
	remember(t, db, expired, now.Add(-time.Second), now.Add(-time.Hour))
	remember(t, db, live, now.Add(time.Minute), now.Add(-time.Hour))
	n, err := db.PurgeReplays(context.Background(), now)
	if err != nil || n != 1 {
		t.Fatalf("PurgeReplays = %d, %v; want 1", n, err)
	}
	// The live record still refuses its key (checked as of an instant where an expired one would not).
	if remember(t, db, live, now.Add(time.Minute), now) {
		t.Error("the purge took an unexpired record")
	}
}
