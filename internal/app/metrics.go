package app

import (
	"log/slog"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/tenants"
)

// observability are the process's instruments that exist before the
// gateway (and so its registry) does: Redis and object store metrics are
// attached when the services open and registered once the gateway exists.
type observability struct {
	redis *redisx.Metrics
	store *objstore.Metrics
}

// newObservability creates the instruments and routes go-redis's own log
// lines to log (redisx.SetLogger: structured, backed off).
func newObservability(log *slog.Logger) *observability {
	redisx.SetLogger(log)
	return &observability{redis: redisx.NewMetrics(), store: objstore.NewMetrics()}
}

// cacheStats is what every in-process cache reports.
type cacheStats interface {
	CacheStats() (entries int, hits, misses uint64)
}

// register adds the process's own metrics to reg: build info, Redis and
// object store latency and errors, the caches, the tenant table, and the
// live branding version of every tenant in the table (labels stay bounded
// to the tenants served now).
func (o *observability) register(reg *prometheus.Registry, info BuildInfo, svc *services, idp *identityParts, brand *brandingParts) {
	if o == nil {
		return
	}
	reg.MustRegister(o.redis, o.store)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "livery_build_info",
		Help: "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{"version": info.Version, "revision": info.Revision,
			"go_version": info.GoVersion},
	}, func() float64 { return 1 }))
	reg.MustRegister(tenantCollector{svc: svc, brand: brand})

	caches := map[string]cacheStats{"tenant_keys": svc.creds}
	if idp != nil && idp.sessions != nil {
		caches["sessions"] = idp.sessions
	}
	if brand != nil {
		if brand.live != nil {
			caches["branding_live"] = brand.live
		}
		if brand.options != nil {
			if c, ok := brand.options.Chrome.(cacheStats); ok {
				caches["branding_chrome"] = c
			}
		}
	}
	for name, c := range caches {
		labels := prometheus.Labels{"cache": name}
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "livery_cache_entries", ConstLabels: labels,
				Help: "Entries held by an in-process cache (sessions, branding_live, branding_chrome, tenant_keys)."},
				func() float64 { n, _, _ := c.CacheStats(); return float64(n) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "livery_cache_hits_total", ConstLabels: labels,
				Help: "Lookups an in-process cache answered itself."},
				func() float64 { _, h, _ := c.CacheStats(); return float64(h) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "livery_cache_misses_total", ConstLabels: labels,
				Help: "Lookups an in-process cache could not answer (read from Redis or the store, rendered, or nothing live)."},
				func() float64 { _, _, m := c.CacheStats(); return float64(m) }),
		)
	}
}

var (
	tenantsDesc = prometheus.NewDesc("livery_tenants",
		"Tenants (partners) in this instance's table, by status (active, suspended).", []string{"status"}, nil)
	tableRefreshesDesc = prometheus.NewDesc("livery_tenant_table_refreshes_total",
		"Reads of the tenant records by this instance's table (notices, periodic refresh).", nil, nil)
	tableSwapsDesc = prometheus.NewDesc("livery_tenant_table_swaps_total",
		"Times this instance swapped in a changed tenant table.", nil, nil)
	tableFailuresDesc = prometheus.NewDesc("livery_tenant_table_failures_total",
		"Failed tenant table refreshes (the last table kept serving).", nil, nil)
	brandingVersionDesc = prometheus.NewDesc("livery_branding_live_version",
		"The live (approved) branding version number each tenant serves on this instance; 0: none.", []string{"tenant"}, nil)
)

// tenantCollector reports the tenant table and, per tenant in it now, the
// live branding version: a tenant that leaves the table leaves the output.
type tenantCollector struct {
	svc   *services
	brand *brandingParts
}

func (c tenantCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{tenantsDesc, tableRefreshesDesc, tableSwapsDesc, tableFailuresDesc, brandingVersionDesc} {
		ch <- d
	}
}

func (c tenantCollector) Collect(ch chan<- prometheus.Metric) {
	all := c.svc.tenants.All()
	suspended := 0
	for _, t := range all {
		if t.Suspended {
			suspended++
		}
	}
	ch <- prometheus.MustNewConstMetric(tenantsDesc, prometheus.GaugeValue, float64(len(all)-suspended), "active")
	ch <- prometheus.MustNewConstMetric(tenantsDesc, prometheus.GaugeValue, float64(suspended), "suspended")
	st := c.svc.tenants.Stats()
	ch <- prometheus.MustNewConstMetric(tableRefreshesDesc, prometheus.CounterValue, float64(st.Refreshes))
	ch <- prometheus.MustNewConstMetric(tableSwapsDesc, prometheus.CounterValue, float64(st.Swaps))
	ch <- prometheus.MustNewConstMetric(tableFailuresDesc, prometheus.CounterValue, float64(st.Failures))
	if c.brand == nil || c.brand.live == nil {
		return
	}
	for _, t := range all {
		n, _ := c.brand.live.Version(t.ID)
		ch <- prometheus.MustNewConstMetric(brandingVersionDesc, prometheus.GaugeValue, float64(n), t.ID)
	}
}

// swapHooks fans the tenant table's swap out to what is built after the
// table (the gateway's metrics).
type swapHooks struct {
	mu  sync.Mutex
	fns []func(before, after *tenants.Registry)
}

func (h *swapHooks) add(fn func(before, after *tenants.Registry)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fns = append(h.fns, fn)
}

func (h *swapHooks) swapped(before, after *tenants.Registry) {
	h.mu.Lock()
	fns := slices.Clone(h.fns)
	h.mu.Unlock()
	for _, fn := range fns {
		fn(before, after)
	}
}
