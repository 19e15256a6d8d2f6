package web

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the gateway's Prometheus instruments. Each Gateway owns its
// own registry, so several gateways (tests, a second instance) never clash.
type Metrics struct {
	Registry       *prometheus.Registry
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	UpstreamErrors *prometheus.CounterVec
	ClientAborts   *prometheus.CounterVec
	Unbranded      *prometheus.CounterVec

	perRequest sync.Map // requestKey → *requestInstruments
}

// requestKey names the request counter and duration histogram that one
// finished request updates.
type requestKey struct{ listener, tenant, class string }

type requestInstruments struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// observeRequest counts a finished request and records its duration. The
// instruments of each (listener, tenant, class) are resolved once and kept:
// tenants and listeners are few and fixed, so the set stays small, and the
// per-request path skips the label hashing and validation of
// WithLabelValues.
func (m *Metrics) ObserveRequest(listener, tenant string, status int, d time.Duration) {
	k := requestKey{listener, tenant, statusClass(status)}
	v, ok := m.perRequest.Load(k)
	if !ok {
		v, _ = m.perRequest.LoadOrStore(k, &requestInstruments{
			count:    m.requests.WithLabelValues(k.listener, k.tenant, k.class),
			duration: m.duration.WithLabelValues(k.listener, k.tenant),
		})
	}
	in := v.(*requestInstruments)
	in.count.Inc()
	in.duration.Observe(d.Seconds())
}

// ForgetTenant drops every series labelled with tenant (a tenant that is no
// longer in the table), so tenants that come and go leave no unbounded
// label set behind. A request of that tenant still in flight may add its
// series again once; the next ForgetTenant drops it.
func (m *Metrics) ForgetTenant(tenant string) {
	m.perRequest.Range(func(k, _ any) bool {
		if k.(requestKey).tenant == tenant {
			m.perRequest.Delete(k)
		}
		return true
	})
	l := prometheus.Labels{"tenant": tenant}
	m.requests.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
	m.UpstreamErrors.DeletePartialMatch(l)
	m.ClientAborts.DeletePartialMatch(l)
	m.Unbranded.DeletePartialMatch(l)
}

// NewMetrics creates and registers the gateway metrics, plus the Go runtime
// and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livery_http_requests_total",
			Help: "HTTP requests by listener, tenant and status class (2xx..5xx; 499 = client went away).",
		}, []string{"listener", "tenant", "class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "livery_http_request_duration_seconds",
			Help:    "Time to the response headers (proxied bodies stream afterwards).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"listener", "tenant"}),
		UpstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livery_upstream_errors_total",
			Help: "Failed upstream exchanges by tenant and kind (timeout, refused, unreachable, protocol, body; modify: a response hook failed).",
		}, []string{"tenant", "kind"}),
		ClientAborts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livery_client_aborts_total",
			Help: "Exchanges the client abandoned (request upload cut or response not fully read); not server errors.",
		}, []string{"listener", "tenant"}),
		Unbranded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livery_branding_unbranded_total",
			Help: "HTML documents served without branding because no live branding was available (none approved, or never loaded).",
		}, []string{"tenant"}),
	}
	m.Registry.MustRegister(m.requests, m.duration, m.UpstreamErrors, m.ClientAborts, m.Unbranded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func statusClass(status int) string {
	switch {
	case status == StatusClientClosedRequest:
		return "499"
	case status >= 500:
		return "5xx"
	case status >= 400:
		return "4xx"
	case status >= 300:
		return "3xx"
	case status >= 200:
		return "2xx"
	default:
		return "1xx"
	}
}
