package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Event kinds sent to partners.
const (
	KindBrandingApproved   = "branding.approved"
	KindBrandingRejected   = "branding.rejected"
	KindBrandingRolledBack = "branding.rolled_back"
)

// Event is something a partner is told about, posted as this JSON. ID is
// unique per event and the same on every retry (de-duplicate on it).
type Event struct {
	ID           string `json:"id"`
	Tenant       string `json:"tenant"`
	Kind         string `json:"kind"`
	SubmissionID string `json:"submission_id,omitempty"`
	Version      int    `json:"version,omitempty"`
	Reason       string `json:"reason,omitempty"`
	Actor        string `json:"actor,omitempty"`
	// Customer, Grant and Audience describe a delegation event (package
	// delegation): the customer's domain id, the grant id and who it is
	// for ("customer", "partner" or "both").
	Customer string `json:"customer,omitempty"`
	Grant    string `json:"grant,omitempty"`
	Audience string `json:"audience,omitempty"`
	// Invitation and Change name the invitation or the association change
	// of an association event (package association).
	Invitation string    `json:"invitation,omitempty"`
	Change     string    `json:"change,omitempty"`
	At         time.Time `json:"at"`
}

// EventNotifier tells partners about events. Notify never blocks for long
// and never fails: delivery happens in the background, and its failures
// are logged and counted, not returned.
type EventNotifier interface {
	Notify(ctx context.Context, e Event)
}

// SignatureHeader carries "sha256=" and the lower-case hex HMAC-SHA256 of
// the request body under the receiving tenant's secret.
const SignatureHeader = "X-Livery-Signature"

// Sign returns the SignatureHeader value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header (a SignatureHeader value) is body's
// signature under secret, in constant time. Receivers do the same.
func Verify(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(header), []byte(Sign(secret, body)))
}

type eventLog struct{ log *slog.Logger }

// NewEventLog returns the default EventNotifier: it sends nothing and
// writes each event to the log at info level. A nil log means
// slog.Default().
func NewEventLog(log *slog.Logger) EventNotifier {
	if log == nil {
		log = slog.Default()
	}
	return eventLog{log: log.With("notifier", "log (no webhook configured)")}
}

func (n eventLog) Notify(ctx context.Context, e Event) {
	n.log.InfoContext(ctx, "notify: event (logged, not sent)", "tenant", e.Tenant, "kind", e.Kind, "id", e.ID,
		"submission", e.SubmissionID, "version", e.Version, "actor", e.Actor, "at", e.At)
}

// EventTarget is where one tenant's events go: an absolute http(s) URL
// and the HMAC secret they are signed with.
type EventTarget struct {
	URL    string
	Secret string
}

// EventWebhookOptions configures NewEventWebhook. Zero durations and
// counts mean the defaults shown.
type EventWebhookOptions struct {
	// Default receives the events of every tenant not in Tenants; a zero
	// Default means such events are only logged.
	Default EventTarget
	Tenants map[string]EventTarget
	Client  *http.Client  // default: a new http.Client
	Timeout time.Duration // per attempt; default 5s
	// MaxAttempts including the first; default 5.
	MaxAttempts int
	BaseBackoff time.Duration // before the 2nd attempt, doubled after each; default 1s
	MaxBackoff  time.Duration // cap on the wait; default 1m
	QueueSize   int           // events waiting for delivery; default 256
	Workers     int           // concurrent deliveries; default 2
	Logger      *slog.Logger  // default slog.Default()
}

// EventStats counts deliveries since the notifier started: Delivered (a
// 2xx), Failed (attempts exhausted, a non-retryable answer, or stopped by
// Close), Dropped (queue full, closed, or no target: only logged) and
// Retries (attempts after the first).
type EventStats struct {
	Delivered, Failed, Dropped, Retries uint64
}

// EventWebhook posts events as JSON to their tenant's target in the
// background, with retries and exponential backoff. Safe for concurrent
// use.
type EventWebhook struct {
	o      EventWebhookOptions
	queue  chan Event
	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	stop   context.CancelFunc
	ctx    context.Context
	done   sync.WaitGroup

	delivered, failed, dropped, retries atomic.Uint64
}

var _ EventNotifier = (*EventWebhook)(nil)

// NewEventWebhook starts an EventWebhook. Each event is POSTed with
// Content-Type: application/json, SignatureHeader, X-Livery-Event (the
// kind) and X-Livery-Delivery (the event id). Network errors, timeouts,
// 5xx and 429 are retried up to MaxAttempts; other answers are final (any
// 2xx is success). Logs name the tenant, kind, event id and the target's
// host, never the secret, the URL's path or query, or the body. Call Close
// to stop it. Errors: a target URL that is not absolute http(s), a target
// without a secret, a negative option.
func NewEventWebhook(o EventWebhookOptions) (*EventWebhook, error) {
	check := func(name string, t EventTarget) error {
		u, err := url.Parse(t.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("notify: %s webhook url must be an absolute http(s) url", name)
		}
		if t.Secret == "" {
			return fmt.Errorf("notify: %s webhook needs a signing secret", name)
		}
		return nil
	}
	if o.Default != (EventTarget{}) {
		if err := check("default", o.Default); err != nil {
			return nil, err
		}
	}
	for tn, t := range o.Tenants {
		if err := check("tenant "+tn, t); err != nil {
			return nil, err
		}
	}
	if o.Timeout < 0 || o.MaxAttempts < 0 || o.BaseBackoff < 0 || o.MaxBackoff < 0 || o.QueueSize < 0 || o.Workers < 0 {
		return nil, errors.New("notify: negative event webhook option")
	}
	o.Timeout = orDefault(o.Timeout, 5*time.Second)
	o.BaseBackoff = orDefault(o.BaseBackoff, time.Second)
	o.MaxBackoff = orDefault(o.MaxBackoff, time.Minute)
	o.MaxAttempts = orDefault(o.MaxAttempts, 5)
	o.QueueSize = orDefault(o.QueueSize, 256)
	o.Workers = orDefault(o.Workers, 2)
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Logger = o.Logger.With("notifier", "event webhook")
	w := &EventWebhook{o: o, queue: make(chan Event, o.QueueSize)}
	w.ctx, w.stop = context.WithCancel(context.Background())
	for range o.Workers {
		w.done.Add(1)
		go w.work()
	}
	return w, nil
}

func orDefault[T comparable](v, d T) T {
	var zero T
	if v == zero {
		return d
	}
	return v
}

// Notify queues e for delivery and returns at once. An event without ID
// gets a random one. When the queue is full, the notifier is closed or
// the tenant has no target, e is dropped: logged and counted.
func (w *EventWebhook) Notify(ctx context.Context, e Event) {
	if e.ID == "" {
		e.ID = newIdempotencyKey()
	}
	log := w.o.Logger.With("tenant", e.Tenant, "kind", e.Kind, "id", e.ID)
	if _, ok := w.target(e.Tenant); !ok {
		w.dropped.Add(1)
		log.InfoContext(ctx, "notify: no webhook configured for the tenant; event logged, not sent",
			"submission", e.SubmissionID, "version", e.Version, "actor", e.Actor, "at", e.At)
		return
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.dropped.Add(1)
		log.WarnContext(ctx, "notify: event dropped: the notifier is stopping")
		return
	}
	select {
	case w.queue <- e:
	default:
		w.dropped.Add(1)
		log.ErrorContext(ctx, "notify: event dropped: the delivery queue is full", "queue", cap(w.queue))
	}
}

func (w *EventWebhook) target(tenant string) (EventTarget, bool) {
	if t, ok := w.o.Tenants[tenant]; ok {
		return t, true
	}
	return w.o.Default, w.o.Default.URL != ""
}

// Stats returns the delivery counters.
func (w *EventWebhook) Stats() EventStats {
	return EventStats{Delivered: w.delivered.Load(), Failed: w.failed.Load(), Dropped: w.dropped.Load(), Retries: w.retries.Load()}
}

// Close stops accepting events and waits until the queued ones are
// delivered or ctx ends; then deliveries still running are abandoned
// (counted as failed). It returns ctx's error in that case. Calling it
// again returns at once.
func (w *EventWebhook) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.queue)
	w.mu.Unlock()
	finished := make(chan struct{})
	go func() { w.done.Wait(); close(finished) }()
	select {
	case <-finished:
		w.stop()
		return nil
	case <-ctx.Done():
		w.stop()
		<-finished
		return ctx.Err()
	}
}

func (w *EventWebhook) work() {
	defer w.done.Done()
	for e := range w.queue {
		w.deliver(e)
	}
}

// deliver posts e until it is accepted, refused or attempts run out.
func (w *EventWebhook) deliver(e Event) {
	t, _ := w.target(e.Tenant)
	host := ""
	if u, err := url.Parse(t.URL); err == nil {
		host = u.Host
	}
	log := w.o.Logger.With("tenant", e.Tenant, "kind", e.Kind, "id", e.ID, "host", host)
	body, err := json.Marshal(e)
	if err != nil {
		w.failed.Add(1)
		log.Error("notify: cannot encode event", "err", err)
		return
	}
	sig := Sign([]byte(t.Secret), body)
	for attempt := 1; ; attempt++ {
		status, err := w.post(t.URL, body, sig, e)
		switch {
		case err == nil && status >= 200 && status < 300:
			w.delivered.Add(1)
			log.Info("notify: event delivered", "attempt", attempt)
			return
		case w.ctx.Err() != nil:
			w.failed.Add(1)
			log.Warn("notify: event abandoned at shutdown", "attempt", attempt)
			return
		case err == nil && !retryable(status):
			w.failed.Add(1)
			log.Warn("notify: webhook refused the event; not retried", "attempt", attempt, "status", status)
			return
		case attempt >= w.o.MaxAttempts:
			w.failed.Add(1)
			log.Error("notify: event not delivered; attempts exhausted", "attempts", attempt, "status", status, "error", errString(err))
			return
		}
		wait := jitter(w.o.BaseBackoff, w.o.MaxBackoff, attempt)
		log.Warn("notify: event delivery failed, retrying", "attempt", attempt, "status", status, "error", errString(err), "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-w.ctx.Done():
			t.Stop()
			w.failed.Add(1)
			log.Warn("notify: event abandoned at shutdown", "attempt", attempt)
			return
		case <-t.C:
		}
		w.retries.Add(1)
	}
}

// post makes one attempt; status is 0 on a network error (sanitized: it
// never repeats the URL).
func (w *EventWebhook) post(rawURL string, body []byte, sig string, e Event) (int, error) {
	ctx, cancel := context.WithTimeout(w.ctx, w.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("build request failed")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "livery-notify")
	req.Header.Set(SignatureHeader, sig)
	req.Header.Set("X-Livery-Event", e.Kind)
	req.Header.Set("X-Livery-Delivery", e.ID)
	resp, err := w.o.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
