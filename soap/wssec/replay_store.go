package wssec

import (
	"context"
	"time"
)

// replayStoreTimeout bounds how long a request waits for its replay record to be stored.
const replayStoreTimeout = 10 * time.Second

// ReplayStore keeps replay records beyond the life of one process: a database shared by restarts of the
// server and by every server of a cluster.
type ReplayStore interface {
	// Remember records key (16 bytes) until expires and reports whether it is fresh: false when an
	// unexpired record of key exists (expired means at or before now). Of concurrent calls with the same
	// key exactly one may be fresh. It returns only when the record is durable: the message it stands for
	// runs after that, and a crash must not forget it.
	Remember(ctx context.Context, key []byte, expires, now time.Time) (fresh bool, err error)
}

// PersistReplays makes v record every accepted signed message in s, behind its in-memory replay cache,
// and consult s for every message not in memory: a message seen before a restart, or by another server
// sharing s, is refused as a replay. Verification then waits for the record to be durable, so a message
// is never run before it. Call it before v verifies its first message. A store failure refuses the message
// with an error that is not an *Error (an internal error: the sender did nothing wrong).
func (v *Verifier) PersistReplays(s ReplayStore) {
	if v.replay != nil {
		v.replay.store = s
	}
}
