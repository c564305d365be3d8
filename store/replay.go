package store

import (
	"context"
	"time"
)

// ReplayKeySize is the length of a replay record's key.
const ReplayKeySize = 16

// ReplayStore keeps one record per accepted signed message until its Timestamp would be refused anyway,
// shared by every process using the database, so that a restart or another server does not accept the
// message again.
type ReplayStore interface {
	// RememberReplay records key (ReplayKeySize bytes) until expires and reports whether it is fresh:
	// false when an unexpired record of key exists (expired: at or before now), which it leaves alone;
	// an expired one is taken over. Of concurrent calls with one key exactly one is fresh. It returns once
	// the record is durable.
	RememberReplay(ctx context.Context, key []byte, expires, now time.Time) (fresh bool, err error)
	// PurgeReplays deletes the records expired by now and returns how many.
	PurgeReplays(ctx context.Context, now time.Time) (int64, error)
}
