// Package push delivers the change feed to subscriptions: per subscription one batch of up to 100
// feed entries in flight, in feed order, handed to the subscription's sink, the cursor advanced only
// after the sink acknowledged. A failed delivery is retried with exponential backoff and jitter; past
// the maximum delivery age the subscription turns FAILING and keeps its cursor.
//
// Any number of nodes may run an engine on one database: a node delivers a subscription only while it
// holds the subscription's lease (lease.go), so one node at a time delivers each subscription, and
// another takes over once a dead node's lease has expired.
//
// It knows no transport: sinks (SOAP listener, message broker) are injected by kind.
package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// BatchSize is the largest number of feed entries delivered at once.
const BatchSize = 100

// Backoff bounds: the first retry waits about MinBackoff, each next one twice as long, up to MaxBackoff.
const (
	MinBackoff = time.Second
	MaxBackoff = 10 * time.Minute
)

// Store is what the engine needs of the database.
type Store interface {
	ListSubscriptions(ctx context.Context) ([]store.Subscription, error)
	LeaseSubscription(ctx context.Context, name, owner string, now, until time.Time) (store.Subscription, error)
	ReleaseSubscription(ctx context.Context, name, owner string) error
	AckSubscription(ctx context.Context, name, owner string, from, to int64, at time.Time) error
	FailSubscription(ctx context.Context, name, owner, msg string, at time.Time, failing bool) error
	FeedLag(ctx context.Context, entity string, after int64) (int64, time.Time, error)
	Feed(ctx context.Context, after int64, limit int) ([]store.FeedEntry, bool, error)
}

// Sink delivers one batch. A nil error is the sink's acknowledgement: every entry is durably with
// the receiver. Entries carry their feed Seq, which the receiver uses to discard duplicates.
type Sink interface {
	Deliver(ctx context.Context, entries []store.FeedEntry) error
}

// A Sink that is also an io.Closer is closed when its subscription's worker stops.

// SinkFactory builds the sink of a subscription from its stored kind and configuration.
type SinkFactory func(sub store.Subscription) (Sink, error)

// Clock is the engine's time: Now and Sleep (which returns early with ctx's error).
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// Observer counts what happens (metrics). Every method must be safe for concurrent use.
type Observer interface {
	// Delivered reports a delivery attempt's outcome: "ok", "error" or "failing".
	Delivered(sub, outcome string, entries int)
	// Retry reports that a delivery is retried after wait.
	Retry(sub string, wait time.Duration)
	// Lag reports the changes not yet acknowledged and the age of the oldest of them.
	Lag(sub string, changes int64, age time.Duration)
}

// Engine runs one worker per ACTIVE subscription whose lease it holds, starting and stopping them as
// the stored subscriptions and their leases change (every Reload).
type Engine struct {
	Store          Store
	Sinks          map[string]SinkFactory // by Subscription.SinkKind
	Clock          Clock                  // nil: the wall clock
	Observer       Observer               // nil: none
	Log            *slog.Logger           // nil: discarded
	MaxDeliveryAge time.Duration          // 0: 24 h
	Reload         time.Duration          // how often subscriptions are reread; 0: 2 s
	Poll           time.Duration          // how often an idle worker rereads the feed; 0: 1 s
	Jitter         func() float64         // in [0, 1); nil: math/rand
	// Owner names this node in leases; "": NodeID(). Two engines must never share one.
	Owner string
	// LeaseTTL is how long a lease lasts unless renewed (0: DefaultLeaseTTL); LeaseRenew how often the
	// holder renews it (0: DefaultLeaseRenew). A dead node's subscriptions are taken over at most
	// LeaseTTL + Reload after its last renewal.
	LeaseTTL   time.Duration
	LeaseRenew time.Duration
}

// Run delivers until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	e.defaults()
	type running struct {
		cancel context.CancelFunc
		done   chan struct{}
		sub    store.Subscription
	}
	workers := map[string]*running{}
	defer func() {
		for _, w := range workers {
			w.cancel()
			<-w.done
		}
	}()
	for {
		subs, err := e.Store.ListSubscriptions(ctx)
		if err != nil && ctx.Err() == nil {
			e.Log.Warn("push: reading subscriptions failed; keeping the running ones", "err", err)
		}
		if err == nil {
			want := map[string]store.Subscription{}
			for _, s := range subs {
				if s.State == store.SubActive {
					want[s.Name] = s
				}
			}
			for name, w := range workers {
				s, ok := want[name]
				select {
				case <-w.done: // ended (FAILING, conflict): start again if still wanted
					ok = false
				default:
				}
				if !ok || s.SinkKind != w.sub.SinkKind || string(s.SinkConfig) != string(w.sub.SinkConfig) || s.Entity != w.sub.Entity {
					w.cancel()
					<-w.done
					delete(workers, name)
				}
			}
			for name, s := range want {
				if workers[name] != nil {
					continue
				}
				s, ok := e.takeLease(ctx, s)
				if !ok {
					continue
				}
				wctx, cancel := context.WithCancel(ctx)
				w := &running{cancel: cancel, done: make(chan struct{}), sub: s}
				workers[name] = w
				go func() {
					defer close(w.done)
					e.work(wctx, s)
				}()
			}
		}
		if err := e.Clock.Sleep(ctx, e.Reload); err != nil {
			return nil
		}
	}
}

func (e *Engine) defaults() {
	if e.Clock == nil {
		e.Clock = wallClock{}
	}
	if e.Observer == nil {
		e.Observer = nopObserver{}
	}
	if e.Log == nil {
		e.Log = slog.New(slog.DiscardHandler)
	}
	if e.MaxDeliveryAge <= 0 {
		e.MaxDeliveryAge = 24 * time.Hour
	}
	if e.Reload <= 0 {
		e.Reload = 2 * time.Second
	}
	if e.Poll <= 0 {
		e.Poll = time.Second
	}
	if e.Jitter == nil {
		e.Jitter = rand.Float64
	}
	if e.Owner == "" {
		e.Owner = NodeID()
	}
	if e.LeaseTTL <= 0 {
		e.LeaseTTL = DefaultLeaseTTL
	}
	if e.LeaseRenew <= 0 {
		e.LeaseRenew = DefaultLeaseRenew
	}
}

// work delivers sub's feed, holding its lease, until ctx ends, the lease is lost, the subscription
// turns FAILING, or its cursor moved elsewhere; then it gives the lease up.
func (e *Engine) work(ctx context.Context, sub store.Subscription) {
	log := e.Log.With("subscription", sub.Name)
	ctx, stop := e.holdLease(ctx, log, sub)
	defer stop()
	factory := e.Sinks[sub.SinkKind]
	if factory == nil {
		e.fail(ctx, log, sub, fmt.Sprintf("no sink of kind %q in this server", sub.SinkKind), true)
		return
	}
	sink, err := factory(sub)
	if err != nil {
		e.fail(ctx, log, sub, "sink configuration: "+err.Error(), true)
		return
	}
	if c, ok := sink.(io.Closer); ok {
		defer c.Close()
	}
	cursor := sub.Cursor
	for ctx.Err() == nil {
		e.observeLag(ctx, sub, cursor)
		entries, _, err := e.Store.Feed(ctx, cursor, BatchSize)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("push: reading the feed failed", "cursor", cursor, "err", err)
			}
			if e.Clock.Sleep(ctx, e.Poll) != nil {
				return
			}
			continue
		}
		if len(entries) == 0 {
			if e.Clock.Sleep(ctx, e.Poll) != nil {
				return
			}
			continue
		}
		last := entries[len(entries)-1].Seq
		batch := entries[:0:0]
		for _, en := range entries {
			if sub.Entity == "" || en.Entity == sub.Entity {
				batch = append(batch, en)
			}
		}
		if len(batch) > 0 && !e.deliver(ctx, log, sub, sink, batch) {
			return
		}
		err = e.Store.AckSubscription(ctx, sub.Name, e.Owner, cursor, last, e.Clock.Now())
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("push: storing the cursor failed; the batch will be delivered again", "from", cursor, "to", last, "err", err)
			}
			return
		}
		cursor = last
	}
}

// deliver hands batch to sink until it acknowledges (true), ctx ends or the subscription turns
// FAILING (false).
func (e *Engine) deliver(ctx context.Context, log *slog.Logger, sub store.Subscription, sink Sink, batch []store.FeedEntry) bool {
	var firstFailure time.Time
	for attempt := 0; ; attempt++ {
		err := sink.Deliver(ctx, batch)
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			e.Observer.Delivered(sub.Name, "ok", len(batch))
			return true
		}
		now := e.Clock.Now()
		if firstFailure.IsZero() {
			firstFailure = now
		}
		if now.Sub(firstFailure) >= e.MaxDeliveryAge {
			e.Observer.Delivered(sub.Name, "failing", len(batch))
			e.fail(ctx, log, sub, err.Error(), true)
			return false
		}
		e.Observer.Delivered(sub.Name, "error", len(batch))
		e.fail(ctx, log, sub, err.Error(), false)
		wait := Backoff(attempt, e.Jitter())
		e.Observer.Retry(sub.Name, wait)
		log.Info("push: delivery failed; retrying", "from", batch[0].Seq, "entries", len(batch), "attempt", attempt+1, "wait", wait, "err", err)
		if e.Clock.Sleep(ctx, wait) != nil {
			return false
		}
	}
}

func (e *Engine) fail(ctx context.Context, log *slog.Logger, sub store.Subscription, msg string, failing bool) {
	if failing {
		log.Error("push: subscription FAILING: delivery stopped, cursor kept; 'crmsoap subscriptions resume' carries on", "err", msg)
	}
	if err := e.Store.FailSubscription(ctx, sub.Name, e.Owner, msg, e.Clock.Now(), failing); err != nil && !errors.Is(err, context.Canceled) {
		log.Warn("push: recording the failure failed", "err", err)
	}
}

func (e *Engine) observeLag(ctx context.Context, sub store.Subscription, cursor int64) {
	n, oldest, err := e.Store.FeedLag(ctx, sub.Entity, cursor)
	if err != nil {
		return
	}
	var age time.Duration
	if !oldest.IsZero() {
		age = e.Clock.Now().Sub(oldest)
	}
	e.Observer.Lag(sub.Name, n, age)
}

// Backoff is the wait before retry attempt+1: MinBackoff doubled attempt times, capped at
// MaxBackoff, then scaled into [d/2, d) by jitter in [0, 1) so that many subscriptions failing
// together do not retry together.
func Backoff(attempt int, jitter float64) time.Duration {
	d := MaxBackoff
	if attempt < 20 {
		d = min(MinBackoff<<attempt, MaxBackoff)
	}
	return d/2 + time.Duration(jitter*float64(d/2))
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type nopObserver struct{}

func (nopObserver) Delivered(string, string, int)    {}
func (nopObserver) Retry(string, time.Duration)      {}
func (nopObserver) Lag(string, int64, time.Duration) {}
