package store

import (
	"context"
	"time"
)

// EntitySubscription names subscriptions in errors (*DuplicateError).
const EntitySubscription = "subscription"

// Subscription states.
const (
	SubActive  = "ACTIVE"  // delivering
	SubPaused  = "PAUSED"  // stopped by an operator; resume carries on from the cursor
	SubFailing = "FAILING" // past the maximum delivery age: stopped, keeps its cursor; resume carries on
)

// Subscription is a durable cursor over the change feed plus a sink: every feed entry with Seq >
// Cursor whose entity passes the filter is still to be delivered to the sink.
type Subscription struct {
	Name       string
	SinkKind   string // "soap", "nats", ...
	SinkConfig []byte // JSON, read by the sink
	Entity     string // entity filter; "" = every entity
	Cursor     int64  // the last feed Seq the sink acknowledged
	State      string
	CreatedAt  time.Time
	// LastSuccess is when the sink last acknowledged a batch (zero: never).
	LastSuccess time.Time
	// LastError and LastErrorAt describe the last failed delivery ("" and zero: none since success).
	LastError   string
	LastErrorAt time.Time
	// LeaseOwner is the node delivering the subscription ("" when none) and LeaseExpires when its lease
	// ends unless renewed. A lease past LeaseExpires may be taken by any node.
	LeaseOwner   string
	LeaseExpires time.Time
}

// SubscriptionStore keeps subscriptions and their cursors.
type SubscriptionStore interface {
	// AddSubscription stores s (State "" means ACTIVE). Errors: *DuplicateError{Field: "name"}.
	AddSubscription(ctx context.Context, s Subscription) error
	// GetSubscription returns subscription name. Errors: ErrNotFound.
	GetSubscription(ctx context.Context, name string) (Subscription, error)
	// ListSubscriptions returns every subscription ordered by name.
	ListSubscriptions(ctx context.Context) ([]Subscription, error)
	// SetSubscriptionState sets the state of name. Errors: ErrNotFound.
	SetSubscriptionState(ctx context.Context, name, state string) error
	// RemoveSubscription deletes name. Errors: ErrNotFound.
	RemoveSubscription(ctx context.Context, name string) error
	// LeaseSubscription gives owner the delivery lease of name until until, and returns the
	// subscription as it stands once leased (cursor included). It succeeds when nobody holds the lease,
	// when the holder's lease ended at or before now, or when owner holds it already (a renewal).
	// Errors: *LeaseHeldError when another owner holds it after now, ErrNotFound.
	LeaseSubscription(ctx context.Context, name, owner string, now, until time.Time) (Subscription, error)
	// ReleaseSubscription ends owner's lease of name so that another node may take it at once. It does
	// nothing when owner does not hold the lease or the subscription is gone.
	ReleaseSubscription(ctx context.Context, name, owner string) error
	// AckSubscription advances the cursor of name from from to to after the sink acknowledged, records
	// the success at at, clears the last error and turns a FAILING subscription ACTIVE. It is refused
	// with ErrConflict when the stored cursor is not from (another deliverer moved it) or owner does not
	// hold the lease, and with ErrNotFound when the subscription is gone.
	AckSubscription(ctx context.Context, name, owner string, from, to int64, at time.Time) error
	// FailSubscription records a failed delivery (msg at at); failing turns an ACTIVE subscription
	// FAILING (delivery stops until resumed). The cursor stays. Errors: ErrConflict when owner does not
	// hold the lease, ErrNotFound.
	FailSubscription(ctx context.Context, name, owner, msg string, at time.Time, failing bool) error
	// FeedLag counts the feed entries after cursor (of entity, "" = all) and returns the time of the
	// oldest of them (zero when none).
	FeedLag(ctx context.Context, entity string, after int64) (int64, time.Time, error)
}

// LeaseHeldError is returned by LeaseSubscription when another node holds the lease.
type LeaseHeldError struct {
	Owner   string    // the holder
	Expires time.Time // when its lease ends unless renewed
}

func (e *LeaseHeldError) Error() string {
	return "store: subscription lease held by " + e.Owner + " until " + e.Expires.UTC().Format(time.RFC3339Nano)
}
