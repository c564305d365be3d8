package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/crmsoap/crmsoap/service"
)

// syncConfig holds the serve flags of ERP synchronisation: bulk calls, safe
// retries and the change feed.
type syncConfig struct {
	maxBatch           int
	idempotencyTTL     time.Duration
	tombstoneRetention time.Duration
	purgeEvery         time.Duration
}

func (c *syncConfig) register(e *envFlags) {
	e.Int(&c.maxBatch, "max-batch", "CRMSOAP_MAX_BATCH", service.DefaultMaxBatch, "most items in one bulk call (AddCustomers, UpsertCustomers, ...)")
	e.Duration(&c.idempotencyTTL, "idempotency-ttl", "CRMSOAP_IDEMPOTENCY_TTL", service.DefaultIdempotencyTTL, "how long the outcome of a write with a wsa:MessageID is kept for retries")
	e.Duration(&c.tombstoneRetention, "tombstone-retention", "CRMSOAP_TOMBSTONE_RETENTION", service.DefaultTombstoneRetention, "how long the change feed keeps deletions; older cursors get CURSOR_EXPIRED")
	e.Duration(&c.purgeEvery, "purge-interval", "CRMSOAP_PURGE_INTERVAL", 10*time.Minute, "how often expired idempotency records and tombstones are removed")
}

func (c *syncConfig) check() error {
	switch {
	case c.maxBatch < 1:
		return fmt.Errorf("serve: --max-batch %d: want at least 1", c.maxBatch)
	case c.idempotencyTTL <= 0:
		return fmt.Errorf("serve: --idempotency-ttl %s: want a positive duration", c.idempotencyTTL)
	case c.tombstoneRetention <= 0:
		return fmt.Errorf("serve: --tombstone-retention %s: want a positive duration", c.tombstoneRetention)
	case c.purgeEvery <= 0:
		return fmt.Errorf("serve: --purge-interval %s: want a positive duration", c.purgeEvery)
	}
	return nil
}

// apply sets the limits on svc and starts the purge loop, which stops with ctx.
func (c *syncConfig) apply(ctx context.Context, svc *service.Service, log *slog.Logger) {
	svc.MaxBatch = c.maxBatch
	svc.IdempotencyTTL = c.idempotencyTTL
	svc.TombstoneRetention = c.tombstoneRetention
	go purgeLoop(ctx, svc, c.purgeEvery, log)
}

// purgeLoop removes expired idempotency records and old tombstones, once at
// start and then every interval.
func purgeLoop(ctx context.Context, svc *service.Service, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := svc.PurgeIdempotency(ctx); err != nil {
			if ctx.Err() == nil {
				log.Warn("purge idempotency records", "err", err)
			}
		} else if n > 0 {
			log.Info("purged idempotency records", "count", n)
		}
		if n, err := svc.PurgeTombstones(ctx); err != nil {
			if ctx.Err() == nil {
				log.Warn("purge tombstones", "err", err)
			}
		} else if n > 0 {
			log.Info("purged tombstones", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
