package redisx

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Metrics times every Redis command and counts failures, by operation (the
// command's name in lower case; "pipeline" for a pipeline or transaction;
// "dial" for a new connection). It is a go-redis hook (Options.Metrics,
// Conn.AddHook) and a prometheus.Collector:
//
//	livery_redis_command_duration_seconds{operation}
//	livery_redis_errors_total{operation}
//
// A missing key (redis.Nil), a call its caller cancelled and a server's
// refusal of CLIENT (go-redis announces itself with CLIENT SETINFO on every
// new connection and ignores servers older than 7.2 refusing it) are not
// errors. Operations are the commands Livery sends: a fixed set.
type Metrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

var (
	_ redis.Hook           = (*Metrics)(nil)
	_ prometheus.Collector = (*Metrics)(nil)
)

// NewMetrics returns unregistered instruments; register them once the
// process's registry exists.
func NewMetrics() *Metrics {
	m := &Metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "livery_redis_command_duration_seconds",
			Help:    "Redis command latency by operation (command name; pipeline; dial).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livery_redis_errors_total",
			Help: "Failed Redis commands by operation (timeouts and connection failures included; a missing key is not a failure).",
		}, []string{"operation"}),
	}
	for _, op := range []string{"dial", "ping"} { // exposed from the start
		m.errors.WithLabelValues(op)
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
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return
	}
	var re redis.Error
	if op == "client" && errors.As(err, &re) {
		return
	}
	m.errors.WithLabelValues(op).Inc()
}

// DialHook implements redis.Hook.
func (m *Metrics) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		start := time.Now()
		c, err := next(ctx, network, addr)
		m.observe(ctx, "dial", start, err)
		return c, err
	}
}

// ProcessHook implements redis.Hook.
func (m *Metrics) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		m.observe(ctx, strings.ToLower(cmd.Name()), start, err)
		return err
	}
}

// ProcessPipelineHook implements redis.Hook.
func (m *Metrics) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		m.observe(ctx, pipelineOp(cmds), start, err)
		return err
	}
}

// pipelineOp names a pipeline: "client" when it only holds CLIENT commands
// (go-redis's connection set-up), else "pipeline".
func pipelineOp(cmds []redis.Cmder) string {
	for _, c := range cmds {
		if c.Name() != "client" {
			return "pipeline"
		}
	}
	if len(cmds) == 0 {
		return "pipeline"
	}
	return "client"
}
