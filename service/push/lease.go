package push

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/crmsoap/crmsoap/store"
)

// Lease defaults: a dead node's subscriptions are taken over within DefaultLeaseTTL plus one reload,
// and a holder gets two more chances to renew before its lease runs out.
const (
	DefaultLeaseTTL   = 15 * time.Second
	DefaultLeaseRenew = 5 * time.Second
)

// releaseTimeout bounds giving a lease up when a worker stops (the database may be gone).
const releaseTimeout = 5 * time.Second

// NodeID names this process in leases: host name and process id, for people reading `subscriptions
// status`, then 8 random bytes, so that a restarted process with a reused pid is another owner.
func NodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	var r [8]byte
	rand.Read(r[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(r[:]))
}

// takeLease leases sub for this node unless the stored subscription shows another node's lease still
// running; it returns the subscription as leased (its cursor is the one to deliver from).
func (e *Engine) takeLease(ctx context.Context, sub store.Subscription) (store.Subscription, bool) {
	now := e.Clock.Now()
	if sub.LeaseOwner != "" && sub.LeaseOwner != e.Owner && now.Before(sub.LeaseExpires) {
		return sub, false
	}
	leased, err := e.Store.LeaseSubscription(ctx, sub.Name, e.Owner, now, now.Add(e.LeaseTTL))
	var held *store.LeaseHeldError
	switch {
	case errors.As(err, &held), errors.Is(err, store.ErrNotFound):
		return sub, false
	case err != nil:
		if ctx.Err() == nil {
			e.Log.Warn("push: taking a subscription's lease failed", "subscription", sub.Name, "err", err)
		}
		return sub, false
	}
	if sub.LeaseOwner != "" && sub.LeaseOwner != e.Owner {
		e.Log.Info("push: took over an expired lease", "subscription", sub.Name, "from", sub.LeaseOwner,
			"expired", sub.LeaseExpires, "cursor", leased.Cursor)
	} else {
		e.Log.Info("push: delivering", "subscription", sub.Name, "cursor", leased.Cursor, "node", e.Owner)
	}
	return leased, true
}

// holdLease renews sub's lease every LeaseRenew until the returned context ends. The context ends
// when the lease is lost: another node holds it, the subscription is gone, or renewals failed until
// the lease ran out (delivering past that could overlap another node). stop ends the renewals and
// gives the lease up, so that another node may take over at once.
func (e *Engine) holdLease(parent context.Context, log *slog.Logger, sub store.Subscription) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	var wg sync.WaitGroup
	wg.Go(func() {
		expires := sub.LeaseExpires
		for e.Clock.Sleep(ctx, e.LeaseRenew) == nil {
			now := e.Clock.Now()
			_, err := e.Store.LeaseSubscription(ctx, sub.Name, e.Owner, now, now.Add(e.LeaseTTL))
			if err == nil {
				expires = now.Add(e.LeaseTTL)
				continue
			}
			if ctx.Err() != nil {
				return
			}
			var held *store.LeaseHeldError
			if errors.As(err, &held) || errors.Is(err, store.ErrNotFound) {
				log.Warn("push: lease lost; delivery stops here", "err", err)
				cancel()
				return
			}
			if !now.Before(expires) {
				log.Error("push: lease ran out while renewals failed; delivery stops here", "err", err)
				cancel()
				return
			}
			log.Warn("push: renewing the lease failed; retrying", "expires", expires, "err", err)
		}
	})
	return ctx, func() {
		cancel()
		wg.Wait()
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(parent), releaseTimeout)
		defer rcancel()
		if err := e.Store.ReleaseSubscription(rctx, sub.Name, e.Owner); err != nil {
			log.Warn("push: giving the lease up failed; it expires by itself", "err", err)
		}
	}
}
