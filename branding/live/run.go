package live

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/livery/livery/internal/redisx"
)

// Run keeps the cache fresh until ctx is done: it subscribes to the
// channel and reloads a tenant on each message, refreshes every cached
// tenant every RefreshEvery, and after every (re)subscription — when
// messages may have been missed — refreshes everything at once. Redis
// failures are retried with backoff (redisx.Subscriber) and never affect
// Get. Run returns nil when ctx is cancelled, once its work has stopped.
func (c *Cache) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		t := time.NewTicker(c.o.RefreshEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.Refresh(ctx)
			}
		}
	})
	// The handlers run on the subscriber's goroutine: loads go to their own.
	sub := redisx.Subscribe(ctx, c.rdb, c.o.Channel, redisx.Handlers{
		OnSubscribed: func() {
			// Messages may have been missed while unsubscribed.
			wg.Go(func() { c.Refresh(ctx) })
			c.readyOnce.Do(func() { close(c.ready) })
		},
		OnMessage: func(payload string) {
			var m message
			if err := json.Unmarshal([]byte(payload), &m); err != nil || m.Tenant == "" {
				c.o.Logger.Warn("branding: ignoring malformed live-change message", "payload", payload)
				return
			}
			wg.Go(func() { c.reloadKnown(ctx, m.Tenant) })
		},
		OnError: func(error) { c.redisErrs.Add(1) },
	}, c.o.Logger)
	<-ctx.Done()
	sub.Close() // before wg.Wait: no handler adds to wg after it
	return nil
}
