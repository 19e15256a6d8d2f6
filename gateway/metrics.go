package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the gateway's Prometheus instruments. Each Gateway owns its
// own registry, so several gateways (tests, a second instance) never clash.
type Metrics struct {
	Registry       *prometheus.Registry
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	upstreamErrors *prometheus.CounterVec
	clientAborts   *prometheus.CounterVec
	unbranded      *prometheus.CounterVec
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
		upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livery_upstream_errors_total",
			Help: "Failed upstream exchanges by tenant and kind (timeout, refused, unreachable, protocol, body).",
		}, []string{"tenant", "kind"}),
		clientAborts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livery_client_aborts_total",
			Help: "Exchanges the client abandoned (request upload cut or response not fully read); not server errors.",
		}, []string{"listener", "tenant"}),
		unbranded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livery_branding_unbranded_total",
			Help: "HTML documents served without branding because no live branding was available (none approved, or never loaded).",
		}, []string{"tenant"}),
	}
	m.Registry.MustRegister(m.requests, m.duration, m.upstreamErrors, m.clientAborts, m.unbranded,
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
