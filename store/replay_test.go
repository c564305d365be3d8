package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRememberReplay(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	key := bytes.Repeat([]byte{7}, ReplayKeySize)
	remember := func(db *DB, key []byte, expires, now time.Time) bool {
		t.Helper()
		fresh, err := db.RememberReplay(ctx, key, expires, now)
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	if !remember(db, key, now.Add(time.Minute), now) {
		t.Fatal("first sight of a key is not fresh")
	}
	if remember(db, key, now.Add(time.Minute), now.Add(time.Second)) {
		t.Fatal("second sight of an unexpired key is fresh")
	}
	// The record outlives the process that wrote it.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if remember(db, key, now.Add(time.Minute), now.Add(2*time.Second)) {
		t.Fatal("a key remembered before reopening is fresh")
	}
	// After its expiry the record no longer counts, and is taken over.
	if !remember(db, key, now.Add(3*time.Minute), now.Add(time.Minute)) {
		t.Fatal("an expired record still refuses its key")
	}
	if remember(db, key, now.Add(3*time.Minute), now.Add(2*time.Minute)) {
		t.Fatal("the taken-over record does not refuse its key")
	}
	if _, err := db.RememberReplay(ctx, []byte{1, 2}, now, now); err == nil {
		t.Error("a short key was accepted")
	}
}

// TestRememberReplay_ConcurrentCopies: of many concurrent calls with one key exactly one is fresh, while
// their writes share group commits.
func TestRememberReplay_ConcurrentCopies(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t, Options{})
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
				fresh, err := db.RememberReplay(ctx, bytes.Repeat([]byte{byte(k)}, ReplayKeySize), now.Add(time.Minute), now)
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

func TestPurgeReplays(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const expired, live = replayPurgeBatch + 3, 5
	for i := range expired + live {
		key := make([]byte, ReplayKeySize)
		key[0], key[1] = byte(i>>8), byte(i)
		expires := now.Add(-time.Second)
		if i >= expired {
			expires = now.Add(time.Minute)
		}
		if _, err := db.RememberReplay(ctx, key, expires, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.PurgeReplays(ctx, now)
	if err != nil || n != expired {
		t.Fatalf("PurgeReplays = %d, %v; want %d", n, err, expired)
	}
	if got := countRows(t, rawOpen(t, path), "replay_seen"); got != live {
		t.Fatalf("%d records left, want the %d unexpired ones", got, live)
	}
}

// BenchmarkRememberReplay is the store's share of a signed request: one durable record per message, from
// 16 callers per CPU (concurrent requests share commits, as they do in the server).
func BenchmarkRememberReplay(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b, Options{})
	var next atomic.Uint64
	expires := time.Now().Add(time.Hour)
	b.ResetTimer()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		key := make([]byte, ReplayKeySize)
		for pb.Next() {
			binary.BigEndian.PutUint64(key, next.Add(1))
			if _, err := db.RememberReplay(ctx, key, expires, time.Now()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportGrouping(b, db)
}
