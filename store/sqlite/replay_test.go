package sqlite

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// TestReplayAndRevocation_SurviveReopen: the records outlive the process that wrote them.
func TestReplayAndRevocation_SurviveReopen(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	key := bytes.Repeat([]byte{7}, store.ReplayKeySize)
	if fresh, err := db.RememberReplay(ctx, key, now.Add(time.Minute), now); err != nil || !fresh {
		t.Fatalf("first sight: %t, %v", fresh, err)
	}
	if err := db.Revoke(ctx, store.NewRevocation([]byte{1, 2, 3}, "lost", now)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if fresh, err := db.RememberReplay(ctx, key, now.Add(time.Minute), now.Add(time.Second)); err != nil || fresh {
		t.Fatalf("after reopening: fresh %t, %v; want a replay", fresh, err)
	}
	if revs, err := db.ListRevocations(ctx); err != nil || len(revs) != 1 || revs[0].Reason != "lost" {
		t.Fatalf("revocations after reopening: %+v, %v", revs, err)
	}
}

// TestPurgeReplays_InBatches deletes more than one batch of expired records and keeps the live ones.
func TestPurgeReplays_InBatches(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t, Options{})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const expired, live = replayPurgeBatch + 3, 5
	for i := range expired + live {
		key := make([]byte, store.ReplayKeySize)
		binary.BigEndian.PutUint32(key, uint32(i))
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
		key := make([]byte, store.ReplayKeySize)
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
