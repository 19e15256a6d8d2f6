package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/internal/config"
	"github.com/livery/livery/internal/ids"
	"github.com/livery/livery/tenants/notify"
)

// announcer tells partners the workflow's outcomes through a notifier.
type announcer struct{ n notify.EventNotifier }

// Announce implements workflow.Announcer. A decision's event id is its
// submission's id (a submission is decided once), so a receiver can drop
// a repeat; a rollback's is random.
func (a announcer) Announce(ctx context.Context, o workflow.Outcome) {
	id := o.SubmissionID
	if id == "" {
		id = ids.Hex(16)
	}
	a.n.Notify(ctx, notify.Event{ID: id, Tenant: o.Tenant, Kind: o.Kind, SubmissionID: o.SubmissionID,
		Version: o.Version, Reason: o.Reason, Actor: o.Actor, At: o.At})
}

// brandingEvents builds the partner notifier from branding.notify: the
// log notifier, or the signed webhook (returned too, to be closed and
// measured).
func brandingEvents(n config.BrandingNotify, log *slog.Logger) (notify.EventNotifier, *notify.EventWebhook, error) {
	log = log.With("component", "branding-notify")
	if n.Kind != "webhook" {
		return notify.NewEventLog(log), nil, nil
	}
	o := notify.EventWebhookOptions{Timeout: n.Timeout, MaxAttempts: n.MaxAttempts, Logger: log,
		Tenants: map[string]notify.EventTarget{}}
	if n.URL != "" {
		o.Default = notify.EventTarget{URL: n.URL, Secret: n.Secret}
	}
	for _, t := range n.Tenants {
		o.Tenants[t.Tenant] = notify.EventTarget{URL: t.URL, Secret: t.Secret}
	}
	w, err := notify.NewEventWebhook(o)
	if err != nil {
		return nil, nil, err
	}
	return w, w, nil
}

// closeEvents lets queued partner notifications go out, for up to 5 s.
func (p *brandingParts) closeEvents(log *slog.Logger) {
	if p == nil || p.events == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.events.Close(ctx); err != nil {
		log.Warn("branding: partner notifications still queued at shutdown were abandoned", "stats", p.events.Stats())
	}
}

// registerEventMetrics exports the webhook's counters as
// livery_branding_notify_events_total{outcome}.
func (p *brandingParts) registerEventMetrics(reg *prometheus.Registry) {
	if p == nil || p.events == nil || reg == nil {
		return
	}
	w := p.events
	for _, c := range []struct {
		outcome string
		get     func(notify.EventStats) uint64
	}{
		{"delivered", func(s notify.EventStats) uint64 { return s.Delivered }},
		{"failed", func(s notify.EventStats) uint64 { return s.Failed }},
		{"dropped", func(s notify.EventStats) uint64 { return s.Dropped }},
		{"retried", func(s notify.EventStats) uint64 { return s.Retries }},
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "livery_branding_notify_events_total", Help: "Partner notifications of branding outcomes, by outcome.",
			ConstLabels: prometheus.Labels{"outcome": c.outcome},
		}, func() float64 { return float64(c.get(w.Stats())) }))
	}
}
