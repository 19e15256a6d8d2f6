package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const eventSecret = "whsec-0123456789"

func fastEvents(url string, log *slog.Logger) EventWebhookOptions {
	return EventWebhookOptions{Default: EventTarget{URL: url + "/hook/path?token=q-secret", Secret: eventSecret},
		Timeout: time.Second, MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Logger: log}
}

func sampleEvent() Event {
	return Event{ID: "ev1", Tenant: "acme", Kind: KindBrandingRejected, SubmissionID: "s1", Reason: "logo too small",
		Actor: "op-1", At: time.Date(2026, 2, 13, 9, 0, 0, 0, time.UTC)}
}

// waitStats polls until cond holds for the notifier's counters.
func waitStats(t *testing.T, w *EventWebhook, cond func(EventStats) bool) EventStats {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := w.Stats()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out; stats %+v", st)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newEventWebhook(t *testing.T, o EventWebhookOptions) *EventWebhook {
	t.Helper()
	w, err := NewEventWebhook(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return w
}

func TestEventWebhookSignedPayload(t *testing.T) {
	g := newGateway(t, http.StatusNoContent)
	// The delivery goroutine logs after counting the delivery: the log is
	// read after Close, which waits for it.
	var logs syncBuf
	w := newEventWebhook(t, fastEvents(g.srv.URL, slog.New(slog.NewTextHandler(&logs, nil))))
	w.Notify(t.Context(), sampleEvent())
	waitStats(t, w, func(s EventStats) bool { return s.Delivered == 1 })
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, body := g.req(0)
	if r.Method != http.MethodPost || r.URL.Path != "/hook/path" || r.Header.Get("Content-Type") != "application/json" ||
		r.Header.Get("X-Livery-Event") != KindBrandingRejected || r.Header.Get("X-Livery-Delivery") != "ev1" {
		t.Fatalf("request: %s %s %v", r.Method, r.URL, r.Header)
	}
	sig := r.Header.Get(SignatureHeader)
	if !Verify([]byte(eventSecret), body, sig) || !strings.HasPrefix(sig, "sha256=") {
		t.Fatalf("signature %q does not verify over %s", sig, body)
	}
	if Verify([]byte("other secret"), body, sig) || Verify([]byte(eventSecret), append(body, ' '), sig) {
		t.Fatal("signature verifies under another secret or body")
	}
	var got Event
	if err := json.Unmarshal(body, &got); err != nil || got != sampleEvent() {
		t.Fatalf("payload %s (%v); want %+v", body, err, sampleEvent())
	}
	if !strings.Contains(string(body), `"reason":"logo too small"`) || !strings.Contains(string(body), `"kind":"branding.rejected"`) {
		t.Fatalf("payload fields: %s", body)
	}
	for _, secret := range []string{eventSecret, "q-secret", "/hook/path", "logo too small"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("log contains %q: %s", secret, logs.String())
		}
	}
}

func TestEventWebhookRetries(t *testing.T) {
	for _, c := range []struct {
		name     string
		statuses []int
		requests int
		want     EventStats
	}{
		{"5xx then success", []int{500, 503, 200}, 3, EventStats{Delivered: 1, Retries: 2}},
		{"429 is retried", []int{429, 202}, 2, EventStats{Delivered: 1, Retries: 1}},
		{"gives up after MaxAttempts", []int{502}, 3, EventStats{Failed: 1, Retries: 2}},
		{"4xx is final", []int{400, 200}, 1, EventStats{Failed: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := newGateway(t, c.statuses...)
			w := newEventWebhook(t, fastEvents(g.srv.URL, slog.New(slog.DiscardHandler)))
			w.Notify(t.Context(), sampleEvent())
			st := waitStats(t, w, func(s EventStats) bool { return s.Delivered+s.Failed == 1 })
			time.Sleep(20 * time.Millisecond) // an extra attempt would show now
			if st != c.want || g.count() != c.requests {
				t.Fatalf("stats %+v, %d requests; want %+v, %d", st, g.count(), c.want, c.requests)
			}
			for i := range g.count() {
				r, body := g.req(i)
				if r.Header.Get("X-Livery-Delivery") != "ev1" || !Verify([]byte(eventSecret), body, r.Header.Get(SignatureHeader)) {
					t.Fatalf("attempt %d: delivery %q, signature unverifiable", i, r.Header.Get("X-Livery-Delivery"))
				}
			}
		})
	}
}

// TestEventWebhookNeverBlocks: a hanging receiver holds up neither Notify
// nor, beyond the queue, anything else; overflow is dropped and counted;
// Close gives up at its deadline.
func TestEventWebhookNeverBlocks(t *testing.T) {
	release, arrived := make(chan struct{}), make(chan struct{}, 16)
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { once.Do(func() { close(release) }); srv.Close() })
	o := fastEvents(srv.URL, slog.New(slog.DiscardHandler))
	o.Timeout, o.Workers, o.QueueSize = time.Minute, 1, 2
	w, err := NewEventWebhook(o)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	w.Notify(t.Context(), sampleEvent())
	<-arrived
	for range 9 {
		w.Notify(t.Context(), sampleEvent())
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Notify blocked for %v", d)
	}
	// One in flight, two queued, the rest dropped.
	st := waitStats(t, w, func(s EventStats) bool { return s.Dropped >= 7 })
	if st.Dropped != 7 {
		t.Fatalf("stats %+v; want 7 dropped", st)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); err == nil {
		t.Fatal("Close with a hanging receiver returned nil; want its deadline")
	}
	w.Notify(t.Context(), sampleEvent())
	if st := w.Stats(); st.Dropped != 8 || st.Failed == 0 {
		t.Fatalf("after Close: %+v; want the late event dropped and the in-flight one failed", st)
	}
}

func TestEventWebhookTargets(t *testing.T) {
	acme, dflt := newGateway(t, 200), newGateway(t, 200)
	o := fastEvents(dflt.srv.URL, slog.New(slog.DiscardHandler))
	o.Tenants = map[string]EventTarget{"acme": {URL: acme.srv.URL, Secret: "acme-secret"}}
	w := newEventWebhook(t, o)
	e := sampleEvent()
	w.Notify(t.Context(), e)
	e.Tenant = "globex"
	w.Notify(t.Context(), e)
	waitStats(t, w, func(s EventStats) bool { return s.Delivered == 2 })
	r, body := acme.req(0)
	if acme.count() != 1 || dflt.count() != 1 || !Verify([]byte("acme-secret"), body, r.Header.Get(SignatureHeader)) {
		t.Fatalf("acme got %d, default %d; acme's signature must use its own secret", acme.count(), dflt.count())
	}
	// Without a default, a tenant without a target is only logged.
	o.Default = EventTarget{}
	w2 := newEventWebhook(t, o)
	w2.Notify(t.Context(), e)
	if st := w2.Stats(); st.Dropped != 1 || dflt.count() != 1 {
		t.Fatalf("no target: %+v, default got %d", st, dflt.count())
	}
	for _, bad := range []EventWebhookOptions{
		{Default: EventTarget{URL: "ftp://x", Secret: "s"}},
		{Default: EventTarget{URL: "https://x"}},
		{Tenants: map[string]EventTarget{"t": {URL: "/relative", Secret: "s"}}},
		{MaxAttempts: -1},
	} {
		if _, err := NewEventWebhook(bad); err == nil {
			t.Errorf("NewEventWebhook(%+v) accepted", bad)
		}
	}
}

func TestEventLog(t *testing.T) {
	var logs bytes.Buffer
	NewEventLog(slog.New(slog.NewTextHandler(&logs, nil))).Notify(t.Context(), sampleEvent())
	if !strings.Contains(logs.String(), "branding.rejected") || !strings.Contains(logs.String(), "tenant=acme") {
		t.Fatalf("log: %s", logs.String())
	}
}
