package app

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
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
// object store latency and errors, the caches, and the live branding
// version of every configured tenant (tenantIDs: labels stay bounded).
func (o *observability) register(reg *prometheus.Registry, info BuildInfo, svc *services, idp *identityParts, brand *brandingParts, tenantIDs []string) {
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
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "livery_tenants", Help: "Configured tenants (partners).",
	}, func() float64 { return float64(len(tenantIDs)) }))

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
	if brand != nil && brand.live != nil {
		live := brand.live
		for _, id := range tenantIDs {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name:        "livery_branding_live_version",
				Help:        "The live (approved) branding version number each configured tenant serves on this instance; 0: none.",
				ConstLabels: prometheus.Labels{"tenant": id},
			}, func() float64 { n, _ := live.Version(id); return float64(n) }))
		}
	}
}
