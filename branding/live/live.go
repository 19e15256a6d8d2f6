// Package live keeps every gateway instance's view of each tenant's live
// branding: an in-process cache read on the hot path with no I/O, kept
// fresh by Redis pub/sub (a message per live-pointer change, delivered to
// every instance within milliseconds) and a periodic full refresh as a
// safety net for missed messages. Redis holds nothing here: losing it
// only delays updates until the next refresh.
//
// Wiring: the workflow Service that approves must have the Cache as its
// Notifier, and the Cache needs a LiveSource (a workflow Service on the
// same store; it may be a second Service without a Notifier):
//
//	reader := workflow.New(store, opts)
//	cache := live.New(reader, rdb, live.Options{})
//	go cache.Run(ctx)
//	opts.Notifier = cache
//	svc := workflow.New(store, opts)
package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/internal/redisx"
)

// DefaultChannel is the Redis pub/sub channel for live-pointer changes.
const DefaultChannel = redisx.ChanBranding

// LiveSource reads a tenant's live version from the system of record;
// (nil, nil) means the tenant has none. *workflow.Service implements it.
type LiveSource interface {
	Live(ctx context.Context, tenant string) (*workflow.Version, error)
}

// Options tunes a Cache. Zero fields take the defaults shown.
type Options struct {
	Channel        string        // DefaultChannel
	RefreshEvery   time.Duration // 30s: full refresh of every cached tenant
	LoadTimeout    time.Duration // 2s: one load from the source
	RetryAfter     time.Duration // 5s: Get does not retry a failed first load sooner
	PublishTimeout time.Duration // 2s
	Logger         *slog.Logger  // slog.Default()
}

// entry is immutable once stored; a reload stores a new one.
type entry struct {
	v        *workflow.Version // nil: tenant has no live branding, or never loaded
	loaded   bool              // a load has succeeded
	failedAt time.Time         // last failed load while !loaded
}

// Cache is the per-instance live-branding cache. Create it with New, run
// Run in a goroutine. Safe for concurrent use.
type Cache struct {
	src LiveSource
	rdb redis.UniversalClient
	o   Options

	mu      sync.RWMutex
	entries map[string]*entry

	loadMu  sync.Mutex
	loading map[string]*sync.Mutex // per-tenant: loads of one tenant never overlap

	ready     chan struct{}
	readyOnce sync.Once

	hits, misses, errs, redisErrs, reloads atomic.Uint64
}

var _ workflow.Notifier = (*Cache)(nil)

// New returns a Cache reading from src and using rdb for pub/sub.
func New(src LiveSource, rdb redis.UniversalClient, o Options) *Cache {
	if o.Channel == "" {
		o.Channel = DefaultChannel
	}
	if o.RefreshEvery <= 0 {
		o.RefreshEvery = 30 * time.Second
	}
	if o.LoadTimeout <= 0 {
		o.LoadTimeout = 2 * time.Second
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = 5 * time.Second
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Cache{src: src, rdb: rdb, o: o, entries: map[string]*entry{}, loading: map[string]*sync.Mutex{},
		ready: make(chan struct{})}
}

// Get returns the tenant's live version; ok is false when the tenant has no
// live branding or it could not be loaded. In steady state it does no I/O
// (a read-locked map lookup). The first Get for a tenant loads it
// synchronously (at most LoadTimeout); if that fails, Gets within
// RetryAfter answer ok=false at once and the periodic refresh keeps
// trying. A cached version is never dropped because a reload failed. The
// returned Version is shared: do not modify it.
func (c *Cache) Get(tenant string) (v *workflow.Version, ok bool) {
	c.mu.RLock()
	e := c.entries[tenant]
	c.mu.RUnlock()
	if e == nil || (!e.loaded && time.Since(e.failedAt) >= c.o.RetryAfter) {
		ctx, cancel := context.WithTimeout(context.Background(), c.o.LoadTimeout)
		e = c.load(ctx, tenant, false)
		cancel()
	}
	if e.v == nil {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return e.v, true
}

// Version is the tenant's cached live version number, without loading
// anything (for metrics): ok is false when the tenant has none or it was
// never loaded.
func (c *Cache) Version(tenant string) (n int, ok bool) {
	c.mu.RLock()
	e := c.entries[tenant]
	c.mu.RUnlock()
	if e == nil || e.v == nil {
		return 0, false
	}
	return e.v.Number, true
}

// CacheStats reports the tenants held, and Gets that found a live version
// (hits) or none (misses: no live branding, or not loaded) since New.
func (c *Cache) CacheStats() (entries int, hits, misses uint64) {
	c.mu.RLock()
	entries = len(c.entries)
	c.mu.RUnlock()
	return entries, c.hits.Load(), c.misses.Load()
}

// Warm loads tenants (e.g. every configured tenant at start-up). It
// returns the first load error; the other tenants are still loaded.
func (c *Cache) Warm(ctx context.Context, tenants []string) error {
	var first error
	for _, t := range tenants {
		lctx, cancel := context.WithTimeout(ctx, c.o.LoadTimeout)
		if _, err := c.loadErr(lctx, t, true); err != nil && first == nil {
			first = err
		}
		cancel()
	}
	return first
}

// Refresh reloads every cached tenant from the source.
func (c *Cache) Refresh(ctx context.Context) {
	c.mu.RLock()
	tenants := make([]string, 0, len(c.entries))
	for t := range c.entries {
		tenants = append(tenants, t)
	}
	c.mu.RUnlock()
	for _, t := range tenants {
		if ctx.Err() != nil {
			return
		}
		lctx, cancel := context.WithTimeout(ctx, c.o.LoadTimeout)
		c.load(lctx, t, true)
		cancel()
	}
}

// Misses counts Gets that answered ok=false.
func (c *Cache) Misses() uint64 { return c.misses.Load() }

// Errors counts failed loads from the source (object store).
func (c *Cache) Errors() uint64 { return c.errs.Load() }

// RedisErrors counts failed publishes and broken subscriptions.
func (c *Cache) RedisErrors() uint64 { return c.redisErrs.Load() }

// Reloads counts successful loads.
func (c *Cache) Reloads() uint64 { return c.reloads.Load() }

// Subscribed is closed once Run has subscribed for the first time.
func (c *Cache) Subscribed() <-chan struct{} { return c.ready }

func (c *Cache) tenantLock(tenant string) *sync.Mutex {
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	m := c.loading[tenant]
	if m == nil {
		m = &sync.Mutex{}
		c.loading[tenant] = m
	}
	return m
}

func (c *Cache) load(ctx context.Context, tenant string, force bool) *entry {
	e, _ := c.loadErr(ctx, tenant, force)
	return e
}

// loadErr loads tenant and stores the result. Without force, a result
// stored by a concurrent load while waiting for the tenant's lock is used
// instead (one load for a burst of first requests). On error the previous
// entry is kept (or a failed marker stored when there was none).
func (c *Cache) loadErr(ctx context.Context, tenant string, force bool) (*entry, error) {
	m := c.tenantLock(tenant)
	m.Lock()
	defer m.Unlock()
	c.mu.RLock()
	prev := c.entries[tenant]
	c.mu.RUnlock()
	if !force && prev != nil && (prev.loaded || time.Since(prev.failedAt) < c.o.RetryAfter) {
		return prev, nil
	}
	v, err := c.src.Live(ctx, tenant)
	next := &entry{v: v, loaded: true}
	if err != nil {
		c.errs.Add(1)
		c.o.Logger.Warn("branding: loading live branding failed; serving the last known version", "tenant", tenant, "err", err)
		if prev != nil && prev.loaded {
			return prev, err
		}
		next = &entry{failedAt: time.Now()}
	} else {
		c.reloads.Add(1)
	}
	c.mu.Lock()
	c.entries[tenant] = next
	c.mu.Unlock()
	return next, err
}

// message is the pub/sub payload.
type message struct {
	Tenant  string `json:"tenant"`
	Version int    `json:"version"`
}

// Published tells every instance (including this one, which also reloads
// at once so that its next Get sees the change) that tenant's live pointer
// changed. Redis errors are logged and counted, never returned: the
// periodic refresh catches up. It implements workflow.Notifier.
func (c *Cache) Published(ctx context.Context, tenant string, version int) {
	payload, _ := json.Marshal(message{Tenant: tenant, Version: version})
	// The client may ignore context deadlines (go-redis without
	// ContextTimeoutEnabled), so bound the wait here; a late publish is
	// harmless.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.o.PublishTimeout)
	defer cancel()
	res := make(chan error, 1)
	go func() { res <- c.rdb.Publish(pctx, c.o.Channel, payload).Err() }()
	var err error
	select {
	case err = <-res:
	case <-pctx.Done():
		err = pctx.Err()
	}
	if err != nil {
		c.redisErrs.Add(1)
		c.o.Logger.Warn("branding: publishing live change failed; other instances catch up on refresh",
			"tenant", tenant, "version", version, "err", err)
	}
	c.reloadKnown(ctx, tenant)
}

// reloadKnown reloads tenant if this instance has it cached (others load
// on first Get anyway).
func (c *Cache) reloadKnown(ctx context.Context, tenant string) {
	c.mu.RLock()
	_, known := c.entries[tenant]
	c.mu.RUnlock()
	if known {
		lctx, cancel := context.WithTimeout(ctx, c.o.LoadTimeout)
		c.load(lctx, tenant, true)
		cancel()
	}
}
