package switchrole

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/delegation"
	"github.com/livery/livery/internal/redisx"
)

// Channel is the pub/sub channel on which a grant change is announced to
// every instance; the payload is "<tenant>/<grant id>".
const Channel = redisx.ChanDelegate

// publishTimeout bounds a publication (a Redis call needs a deadline).
const publishTimeout = 2 * time.Second

// Publisher is the delegation.Notifier of the gateway: it publishes every
// grant change on Channel, so that each instance's grant cache drops the
// grant and re-reads it on the next delegated request. A failed
// publication is logged; the caches' refresh interval (CacheTTL) bounds
// what it costs.
type Publisher struct {
	Redis  redis.UniversalClient
	Logger *slog.Logger
}

// GrantChanged implements delegation.Notifier.
func (p Publisher) GrantChanged(ctx context.Context, tenant, grantID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := p.Redis.Publish(ctx, Channel, tenant+"/"+grantID).Err(); err != nil && p.Logger != nil {
		p.Logger.Warn("delegation: grant change not published; other instances notice within the cache refresh",
			"tenant", tenant, "grant", grantID, "err", err)
	}
}

// CacheTTL is how long a cached grant is trusted without re-reading it,
// in case a change announcement was lost without the subscription
// breaking (a broken subscription empties the cache at once).
const CacheTTL = time.Minute

// maxCached bounds the grant cache (a grant is well under 1 KB).
const maxCached = 10000

// grantCache keeps grants by tenant and id. A change announced on Channel
// drops the grant; every (re)subscription and every subscription failure
// drops them all. A read that started before a drop is not cached (gen).
type grantCache struct {
	get func(ctx context.Context, tenant, id string) (delegation.Grant, error)
	now func() time.Time

	mu      sync.Mutex
	entries map[string]cachedGrant // guarded by mu
	gen     uint64                 // guarded by mu: bumped by every drop
	sub     *redisx.Subscriber
}

type cachedGrant struct {
	g       delegation.Grant
	fetched time.Time
}

func newGrantCache(ctx context.Context, rdb redis.UniversalClient, get func(context.Context, string, string) (delegation.Grant, error),
	now func() time.Time, log *slog.Logger) *grantCache {
	gc := &grantCache{get: get, now: now, entries: map[string]cachedGrant{}}
	gc.sub = redisx.Subscribe(ctx, rdb, Channel, redisx.Handlers{
		OnSubscribed: gc.purge,
		OnMessage:    gc.drop,
		OnError:      func(error) { gc.purge() },
	}, log)
	select {
	case <-gc.sub.Subscribed():
	case <-time.After(5 * time.Second):
		log.Warn("switchrole: grant change channel not subscribed yet; relying on the cache refresh")
	}
	return gc
}

func (gc *grantCache) purge() {
	gc.mu.Lock()
	clear(gc.entries)
	gc.gen++
	gc.mu.Unlock()
}

func (gc *grantCache) drop(key string) {
	gc.mu.Lock()
	delete(gc.entries, key)
	gc.gen++
	gc.mu.Unlock()
}

// grant returns the grant, from the cache when it was read less than
// CacheTTL ago and no change was announced since; otherwise from the
// store (fresh forces that). Errors are the store's (delegation.ErrNotFound
// for an unknown grant).
func (gc *grantCache) grant(ctx context.Context, tenant, id string, fresh bool) (delegation.Grant, error) {
	key := tenant + "/" + id
	now := gc.now()
	gc.mu.Lock()
	e, ok := gc.entries[key]
	gen := gc.gen
	gc.mu.Unlock()
	if ok && !fresh && now.Sub(e.fetched) < CacheTTL {
		return e.g, nil
	}
	g, err := gc.get(ctx, tenant, id)
	if err != nil {
		return g, err
	}
	gc.mu.Lock()
	if gc.gen == gen && !strings.Contains(id, "/") {
		if len(gc.entries) >= maxCached {
			clear(gc.entries)
		}
		gc.entries[key] = cachedGrant{g: g, fetched: now}
	}
	gc.mu.Unlock()
	return g, nil
}

func (gc *grantCache) close() { gc.sub.Close() }
