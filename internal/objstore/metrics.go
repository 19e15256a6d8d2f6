package objstore

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics times object store calls and counts their failures by operation
// (get, put, delete, list, stat, ping) and kind. It is a
// prometheus.Collector:
//
//	livery_store_operation_duration_seconds{operation}
//	livery_store_errors_total{operation,kind}
//
// kind is unavailable (ErrUnavailable: timeout, connection failure),
// precondition_failed (a lost compare-and-swap), invalid_key or other. A
// missing object (ErrNotFound) and a call its caller cancelled are not
// failures. A Get is timed until its body is open (reading the body is the
// caller's pace).
type Metrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

var _ prometheus.Collector = (*Metrics)(nil)

// NewMetrics returns unregistered instruments.
func NewMetrics() *Metrics {
	m := &Metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "livery_store_operation_duration_seconds",
			Help:    "Object store call latency by operation (get: until the body is open).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livery_store_errors_total",
			Help: "Failed object store calls by operation and kind (unavailable, precondition_failed, invalid_key, other); a missing object is not a failure.",
		}, []string{"operation", "kind"}),
	}
	for _, op := range []string{"get", "put", "delete", "list", "stat", "ping"} {
		m.duration.WithLabelValues(op)
		m.errors.WithLabelValues(op, "unavailable")
	}
	return m
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.duration.Describe(ch)
	m.errors.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.duration.Collect(ch)
	m.errors.Collect(ch)
}

func (m *Metrics) observe(ctx context.Context, op string, start time.Time, err error) {
	m.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return
	}
	kind := "other"
	switch {
	case errors.Is(err, ErrUnavailable):
		kind = "unavailable"
	case errors.Is(err, ErrPreconditionFailed):
		kind = "precondition_failed"
	case errors.Is(err, ErrInvalidKey):
		kind = "invalid_key"
	}
	m.errors.WithLabelValues(op, kind).Inc()
}

// Instrumented is a Store whose calls are measured (see Metrics). Wrap the
// deadline-bound store (WithTimeout) so that timeouts count as unavailable.
type Instrumented struct {
	s Store
	m *Metrics
}

var _ Store = (*Instrumented)(nil)

// WithMetrics returns s measured by m. Errors are s's, unchanged.
func WithMetrics(s Store, m *Metrics) *Instrumented { return &Instrumented{s: s, m: m} }

// Unwrap returns the measured store.
func (i *Instrumented) Unwrap() Store { return i.s }

// Get implements Store.
func (i *Instrumented) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	start := time.Now()
	rc, o, err := i.s.Get(ctx, key)
	i.m.observe(ctx, "get", start, err)
	return rc, o, err
}

// Put implements Store.
func (i *Instrumented) Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (Object, error) {
	start := time.Now()
	o, err := i.s.Put(ctx, key, r, size, opts)
	i.m.observe(ctx, "put", start, err)
	return o, err
}

// Delete implements Store.
func (i *Instrumented) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := i.s.Delete(ctx, key)
	i.m.observe(ctx, "delete", start, err)
	return err
}

// List implements Store.
func (i *Instrumented) List(ctx context.Context, prefix string) ([]Object, error) {
	start := time.Now()
	l, err := i.s.List(ctx, prefix)
	i.m.observe(ctx, "list", start, err)
	return l, err
}

// Stat implements Store.
func (i *Instrumented) Stat(ctx context.Context, key string) (Object, error) {
	start := time.Now()
	o, err := i.s.Stat(ctx, key)
	i.m.observe(ctx, "stat", start, err)
	return o, err
}

// Ping implements Store.
func (i *Instrumented) Ping(ctx context.Context) error {
	start := time.Now()
	err := i.s.Ping(ctx)
	i.m.observe(ctx, "ping", start, err)
	return err
}
