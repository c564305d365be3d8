package wssec

import (
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
type replayCache struct {
	mu        sync.Mutex
	max       int
	seen      map[[16]byte]int64 // expiry, Unix nanoseconds
	lastSweep time.Time
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

// add records key until expiry; it refuses a key already present and unexpired, and any new key when the
// cache is full of unexpired entries.
func (c *replayCache) add(key [16]byte, expiry, now time.Time) error {
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
