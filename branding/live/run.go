package live

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// healthEvery is how long the subscription may stay silent before it is
// pinged (a dead connection is then noticed and replaced).
const healthEvery = 15 * time.Second

// Run keeps the cache fresh until ctx is done: it subscribes to the
// channel and reloads a tenant on each message, refreshes every cached
// tenant every RefreshEvery, and after every (re)subscription — when
// messages may have been missed — refreshes everything at once. Redis
// failures are retried with backoff and never affect Get. Run returns nil
// when ctx is cancelled.
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
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		if c.subscribe(ctx, &wg) {
			backoff = 100 * time.Millisecond
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	return nil
}

// subscribe runs one subscription until it breaks; it reports whether the
// subscription was established.
func (c *Cache) subscribe(ctx context.Context, wg *sync.WaitGroup) (established bool) {
	ps := c.rdb.Subscribe(ctx, c.o.Channel)
	defer ps.Close()
	// A blocked read does not watch ctx; closing the PubSub unblocks it.
	defer context.AfterFunc(ctx, func() { ps.Close() })()
	pinged := false // a ping is outstanding
	for {
		msg, err := ps.ReceiveTimeout(ctx, healthEvery)
		if err != nil {
			if ctx.Err() != nil {
				return established
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged {
				if err = ps.Ping(ctx); err == nil {
					pinged = true
					continue
				}
			}
			c.redisErrs.Add(1)
			c.o.Logger.Warn("branding: live-change subscription broken; resubscribing", "err", err)
			return established
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				established = true
				// Messages may have been missed while unsubscribed.
				wg.Go(func() { c.Refresh(ctx) })
				c.readyOnce.Do(func() { close(c.ready) })
			}
		case *redis.Message:
			var mm message
			if err := json.Unmarshal([]byte(m.Payload), &mm); err != nil || mm.Tenant == "" {
				c.o.Logger.Warn("branding: ignoring malformed live-change message", "payload", m.Payload)
				continue
			}
			wg.Go(func() { c.reloadKnown(ctx, mm.Tenant) })
		}
	}
}
