package wssec

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultReplayCacheSize is the default bound of the replay cache: 1,000,000 signed messages. Each entry is a
// 16-byte hash and an 8-byte expiry in a Go map, roughly 40 bytes with map overhead, so a full cache costs
// about 40 MB. With the default TTL (300 s) and clock skew (60 s) an entry lives at most 360 s, so the default
// admits about 2,700 signed requests per second sustained before the cache refuses messages.
const DefaultReplayCacheSize = 1_000_000

// sweepInterval is how often expired entries are dropped when the cache is not full.
const sweepInterval = 30 * time.Second

var (
	errReplayed  = invalid("message replayed")
	errCacheFull = invalid("replay cache full")
)

// replayCache remembers signed messages until their timestamps would be refused anyway. At its bound it
// refuses new messages rather than forget entries that have not expired: forgetting would reopen the replay
// window to whoever can flood the server.
//
// With a store, the cache is in front of it: a key found in memory is a replay without asking the store;
// a key missing from memory is taken into memory at once (so a concurrent copy is refused there) and then
// recorded in the store, which refuses it when it was recorded before (before a restart, or by another
// process sharing the store).
type replayCache struct {
	mu        sync.Mutex
	max       int
	seen      map[[16]byte]int64 // expiry, Unix nanoseconds
	lastSweep time.Time

	store ReplayStore // nil: memory only
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, seen: map[[16]byte]int64{}}
}

// replayKey is the first 16 bytes of the SHA-256 of the canonical SignedInfo. Hashing the SignatureValue
// bytes instead would let an ECDSA message be replayed: (r, n-s) verifies as well as (r, s). Every valid
// signature over the same SignedInfo (same Body and Timestamp digests) maps to the same key.
func replayKey(signedInfoHash [32]byte) [16]byte {
	return [16]byte(signedInfoHash[:16])
}

// add records key until expiry; it refuses a key already present and unexpired. Without a store it
// refuses any new key when the memory is full of unexpired entries; with one the store decides such a key
// alone (the memory is then only a shortcut: forgetting nothing there reopens no window), and add returns
// only once the store has the record.
func (c *replayCache) add(key [16]byte, expiry, now time.Time) error {
	err := c.addMemory(key, expiry, now)
	cached := err == nil
	if err != nil && (err != errCacheFull || c.store == nil) {
		return err
	}
	if c.store == nil {
		return nil
	}
	// Not the request's context: once the key is in memory its record must reach the store, or be
	// taken out of memory again, whatever the client does meanwhile.
	ctx, cancel := context.WithTimeout(context.Background(), replayStoreTimeout)
	defer cancel()
	fresh, err := c.store.Remember(ctx, key[:], expiry, now)
	if err != nil {
		// The message is refused (an internal error, not the sender's fault) and has not run: a copy
		// may be tried again once the store answers.
		if cached {
			c.forget(key)
		}
		return fmt.Errorf("wssec: replay store: %w", err)
	}
	if !fresh {
		return errReplayed
	}
	return nil
}

func (c *replayCache) forget(key [16]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.seen, key)
}

func (c *replayCache) addMemory(key [16]byte, expiry, now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := now.UnixNano()
	if e, ok := c.seen[key]; ok && e > n {
		return errReplayed
	}
	if now.Sub(c.lastSweep) >= sweepInterval || (len(c.seen) >= c.max && now.Sub(c.lastSweep) >= time.Second) {
		c.sweep(now)
	}
	if len(c.seen) >= c.max {
		return errCacheFull
	}
	c.seen[key] = expiry.UnixNano()
	return nil
}

func (c *replayCache) sweep(now time.Time) {
	n := now.UnixNano()
	for k, e := range c.seen {
		if e <= n {
			delete(c.seen, k)
		}
	}
	c.lastSweep = now
}

func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
