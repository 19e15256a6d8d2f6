// Package live keeps every gateway instance's table of tenants: an
// immutable tenants.Registry, built from the tenant records in the object
// store (tenants/records) and swapped atomically when they change. The hot
// path (ByHost, ByID) does no I/O: one atomic load and a map lookup. A
// request that resolved its tenant keeps that *tenants.Tenant to the end,
// so a change never alters a request in flight.
//
// Changes reach every instance by Redis pub/sub (the writing instance
// refreshes before it publishes, the others on the message, within
// milliseconds), by a refresh after every (re)subscription (messages may
// have been missed) and by a periodic refresh as the safety net. Redis holds
// nothing here: losing it only delays changes until the next refresh. A
// failed refresh keeps the table that is being served.
//
// Wiring: the records.Store that writes must have the Table as its
// Notifier, and the Table reads through a Source (a records.Store on the
// same object store; it may be the same one):
//
//	tbl := live.New(store, sealer, rdb, live.Options{})
//	if err := tbl.Refresh(ctx); err != nil { ... } // the first table
//	go tbl.Run(ctx)
package live

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/records"
)

// DefaultChannel is the Redis pub/sub channel of tenant changes.
const DefaultChannel = redisx.ChanTenants

// Source reads every tenant record; *records.Store implements it.
type Source interface {
	Snapshot(ctx context.Context) (*records.Snapshot, error)
}

// Options tune a Table. Zero fields take the defaults shown.
type Options struct {
	Channel        string        // DefaultChannel
	RefreshEvery   time.Duration // 10s: the periodic full refresh
	LoadTimeout    time.Duration // 5s: one read of the records
	PublishTimeout time.Duration // 2s
	Logger         *slog.Logger  // slog.Default()
	// OnSwap, when set, runs after each swap with the table before and
	// after (before is nil at the first); for metrics. It runs on the
	// refreshing goroutine, one swap at a time.
	OnSwap func(before, after *tenants.Registry)
}

// Table is the per-instance tenant table. Create it with New, fill it with
// Refresh, keep it fresh with Run. Safe for concurrent use.
type Table struct {
	src Source
	u   records.Unsealer
	rdb redis.UniversalClient
	o   Options

	cur atomic.Pointer[tenants.Registry]
	// versions is the id → version map of cur (under mu): a refresh that
	// finds the same versions swaps nothing.
	versions map[string]int64
	mu       sync.Mutex // one refresh at a time

	kick chan struct{} // a refresh is wanted (coalesced)

	subscribed     chan struct{} // closed at the first subscription
	subscribedOnce sync.Once

	refreshes, swaps, failures, redisErrs atomic.Uint64
	lastErr                               atomic.Pointer[error]
}

var _ records.Notifier = (*Table)(nil)

// New returns an empty Table reading src, opening secrets with u and using
// rdb (nil: no pub/sub; only Refresh and the periodic refresh) for
// notices. It serves no tenant until the first Refresh succeeds.
func New(src Source, u records.Unsealer, rdb redis.UniversalClient, o Options) *Table {
	if o.Channel == "" {
		o.Channel = DefaultChannel
	}
	if o.RefreshEvery <= 0 {
		o.RefreshEvery = 10 * time.Second
	}
	if o.LoadTimeout <= 0 {
		o.LoadTimeout = 5 * time.Second
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	t := &Table{src: src, u: u, rdb: rdb, o: o, kick: make(chan struct{}, 1), subscribed: make(chan struct{})}
	empty, _ := tenants.NewRegistry(nil)
	t.cur.Store(empty)
	return t
}

// Registry returns the table being served. Do not modify it.
func (t *Table) Registry() *tenants.Registry { return t.cur.Load() }

// ByHost returns the tenant serving the Host header value host (see
// tenants.Registry.ByHost). The *Tenant is immutable and stays valid after
// a swap.
func (t *Table) ByHost(host string) (*tenants.Tenant, bool) { return t.cur.Load().ByHost(host) }

// ByID returns the tenant with the given id.
func (t *Table) ByID(id string) (*tenants.Tenant, bool) { return t.cur.Load().ByID(id) }

// All returns every tenant, by id.
func (t *Table) All() []*tenants.Tenant { return t.cur.Load().All() }

// Refresh reads every record and, when a version changed, swaps the table.
// Errors: the source's (the served table is kept), or the records that do
// not convert (ErrUnseal: those tenants are left out of the new table, the
// others are served; the error names them). Concurrent calls are
// serialized.
func (t *Table) Refresh(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refreshes.Add(1)
	ctx, cancel := context.WithTimeout(ctx, t.o.LoadTimeout)
	defer cancel()
	snap, err := t.src.Snapshot(ctx)
	if err != nil {
		return t.fail(fmt.Errorf("tenants: reading the tenant records: %w", err))
	}
	versions := make(map[string]int64, snap.Len())
	for _, r := range snap.All() {
		versions[r.ID] = r.Version
	}
	if t.versions != nil && sameVersions(t.versions, versions) {
		t.lastErr.Store(nil)
		return nil
	}
	reg, convErr := snap.Registry(t.u)
	if reg == nil {
		return t.fail(fmt.Errorf("tenants: building the tenant table: %w", convErr))
	}
	first := t.versions == nil
	before := t.cur.Swap(reg)
	t.versions = versions
	t.swaps.Add(1)
	if t.o.OnSwap != nil {
		if first {
			before = nil
		}
		t.o.OnSwap(before, reg)
	}
	if convErr != nil {
		// Keep comparing against the records, not the table: a record that
		// does not open is retried when it changes, not every refresh.
		return t.fail(fmt.Errorf("tenants: some tenants are not served: %w", convErr))
	}
	t.lastErr.Store(nil)
	return nil
}

func (t *Table) fail(err error) error {
	t.failures.Add(1)
	t.lastErr.Store(&err)
	return err
}

// Err is the last refresh's error, nil when it succeeded (for readiness
// and logs).
func (t *Table) Err() error {
	if p := t.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

func sameVersions(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for id, v := range a {
		if w, ok := b[id]; !ok || w != v {
			return false
		}
	}
	return true
}

// message is the pub/sub payload.
type message struct {
	Tenant string `json:"tenant"`
}

// TenantChanged is TenantsChanged of one tenant.
func (t *Table) TenantChanged(ctx context.Context, id string) { t.TenantsChanged(ctx, []string{id}) }

// TenantsChanged refreshes this instance's table at once (so that the
// writer's next request sees the change) and tells every other instance,
// once for all of ids (a refresh reads every tenant anyway; the notice
// names the first). Failures are logged and counted, never returned: the
// periodic refresh catches up. It implements records.Notifier.
func (t *Table) TenantsChanged(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	id := ids[0]
	ctx = context.WithoutCancel(ctx)
	if err := t.Refresh(ctx); err != nil {
		t.o.Logger.Warn("tenants: refresh after a change failed; the periodic refresh retries", "tenant", id, "tenants", len(ids), "err", err)
	}
	if t.rdb == nil {
		return
	}
	b, _ := json.Marshal(message{Tenant: id})
	pctx, cancel := context.WithTimeout(ctx, t.o.PublishTimeout)
	defer cancel()
	if err := t.rdb.Publish(pctx, t.o.Channel, b).Err(); err != nil {
		t.redisErrs.Add(1)
		t.o.Logger.Warn("tenants: could not tell the other instances of a change; they catch up at the periodic refresh",
			"tenant", id, "err", err, "refresh_every", t.o.RefreshEvery)
	}
}

// Run keeps the table fresh until ctx ends: on every notice, after every
// (re)subscription and every RefreshEvery. Notices that arrive while a
// refresh runs are coalesced into one more refresh. It returns nil once
// its work has stopped.
func (t *Table) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		tick := time.NewTicker(t.o.RefreshEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			case <-t.kick:
			}
			if err := t.Refresh(ctx); err != nil && ctx.Err() == nil {
				t.o.Logger.Warn("tenants: refresh failed; serving the last table", "err", err)
			}
		}
	})
	if t.rdb == nil {
		<-ctx.Done()
		return nil
	}
	sub := redisx.Subscribe(ctx, t.rdb, t.o.Channel, redisx.Handlers{
		OnSubscribed: func() {
			t.wake() // messages may have been missed
			t.subscribedOnce.Do(func() { close(t.subscribed) })
		},
		OnMessage: func(payload string) {
			var m message
			if err := json.Unmarshal([]byte(payload), &m); err != nil || m.Tenant == "" {
				t.o.Logger.Warn("tenants: ignoring a malformed change notice", "payload", payload)
				return
			}
			t.wake()
		},
		OnError: func(error) { t.redisErrs.Add(1) },
	}, t.o.Logger)
	<-ctx.Done()
	sub.Close()
	return nil
}

// Subscribed is closed once Run has subscribed to the change notices for
// the first time.
func (t *Table) Subscribed() <-chan struct{} { return t.subscribed }

func (t *Table) wake() {
	select {
	case t.kick <- struct{}{}:
	default: // one is pending already
	}
}

// Stats are the table's counters, for metrics.
type Stats struct {
	Tenants                               int
	Refreshes, Swaps, Failures, RedisErrs uint64
}

// Stats returns the counters.
func (t *Table) Stats() Stats {
	return Stats{Tenants: len(t.cur.Load().All()), Refreshes: t.refreshes.Load(), Swaps: t.swaps.Load(),
		Failures: t.failures.Load(), RedisErrs: t.redisErrs.Load()}
}
