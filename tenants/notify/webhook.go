package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/livery/livery/internal/ids"
)

// Errors returned (wrapped) by the webhook notifier's Send.
var (
	// ErrRejected: the gateway answered with a non-retryable status (a 4xx
	// other than 429, or 3xx); the message will not be delivered as is.
	ErrRejected = errors.New("notify: sms gateway rejected the message")
	// ErrUnavailable: every attempt failed with a network error, a
	// timeout, a 5xx or a 429.
	ErrUnavailable = errors.New("notify: sms gateway unavailable")
)

// WebhookOptions tunes NewWebhook. Zero values mean the defaults shown.
type WebhookOptions struct {
	Token         string        // bearer token sent as "Authorization: Bearer <Token>"; none if empty
	Client        *http.Client  // default: a new http.Client (per-attempt Timeout applies)
	Timeout       time.Duration // per attempt; default 5s
	MaxAttempts   int           // including the first; default 3
	BaseBackoff   time.Duration // wait before the 2nd attempt, doubled after each; default 500ms
	MaxBackoff    time.Duration // cap on the exponential wait; default 5s
	MaxRetryAfter time.Duration // cap on an honoured Retry-After; default 10s
	Logger        *slog.Logger  // default slog.Default()
}

type webhook struct {
	url  string
	host string // for logs; the URL may carry secrets
	o    WebhookOptions
}

// NewWebhook returns a Notifier that POSTs each Message as JSON
//
//	{"tenant": ..., "phone": ..., "lang": "zh-cn"|"en-us", "text": ..., "request_id": ...}
//
// to rawURL, with headers Content-Type: application/json, Idempotency-Key
// (random per Send, identical on every retry of that Send so the gateway can
// de-duplicate) and, when Token is set, Authorization: Bearer.
//
// Retries (up to MaxAttempts) happen on network errors, per-attempt
// timeouts, 5xx and 429, waiting an exponential backoff with jitter, or the
// response's Retry-After (seconds or HTTP date) capped at MaxRetryAfter.
// Other 4xx responses are not retried. Any 2xx is success.
//
// Send's errors wrap ErrRejected, ErrUnavailable, or the context's error
// when ctx ends (no further attempt is made then). Neither errors nor logs
// contain the code, the text, the token or the URL's query.
//
// NewWebhook fails when rawURL is not an absolute http(s) URL or an option
// is negative.
func NewWebhook(rawURL string, opts WebhookOptions) (Notifier, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("notify: webhook url must be an absolute http(s) url")
	}
	if opts.Timeout < 0 || opts.MaxAttempts < 0 || opts.BaseBackoff < 0 || opts.MaxBackoff < 0 || opts.MaxRetryAfter < 0 {
		return nil, errors.New("notify: negative webhook option")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&opts.Timeout, 5*time.Second)
	def(&opts.BaseBackoff, 500*time.Millisecond)
	def(&opts.MaxBackoff, 5*time.Second)
	def(&opts.MaxRetryAfter, 10*time.Second)
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = 3
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Logger = opts.Logger.With("notifier", "webhook", "gateway", u.Host)
	return &webhook{url: rawURL, host: u.Host, o: opts}, nil
}

type payload struct {
	Tenant    string `json:"tenant"`
	Phone     string `json:"phone"`
	Lang      string `json:"lang"`
	Text      string `json:"text"`
	RequestID string `json:"request_id"`
}

// attemptResult is the outcome of one POST.
type attemptResult struct {
	status     int           // 0 for a network error
	err        error         // network error, sanitized
	retryAfter time.Duration // from the response, -1 when absent
}

func (w *webhook) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(payload{
		Tenant: m.Tenant, Phone: m.Phone, Lang: normLang(m.Lang), Text: Text(m), RequestID: m.RequestID,
	})
	if err != nil {
		return fmt.Errorf("notify: encode message: %w", err)
	}
	key := newIdempotencyKey()
	log := w.o.Logger.With("tenant", m.Tenant, "phone", MaskPhone(m.Phone), "request_id", m.RequestID, "idempotency_key", key)

	var last attemptResult
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("notify: send stopped after %d attempt(s): %w", attempt-1, err)
		}
		last = w.post(ctx, body, key)
		switch {
		case last.err == nil && last.status >= 200 && last.status < 300:
			if attempt > 1 {
				log.InfoContext(ctx, "notify: sms gateway accepted message", "attempt", attempt)
			}
			return nil
		case last.err != nil && ctx.Err() != nil:
			return fmt.Errorf("notify: send stopped after %d attempt(s): %w", attempt, ctx.Err())
		case last.err == nil && !retryable(last.status):
			log.WarnContext(ctx, "notify: sms gateway rejected message", "attempt", attempt, "status", last.status)
			return fmt.Errorf("%w: http status %d", ErrRejected, last.status)
		}
		if attempt >= w.o.MaxAttempts {
			log.WarnContext(ctx, "notify: sms gateway attempts exhausted", "attempts", attempt, "status", last.status, "error", errString(last.err))
			if last.err != nil {
				return fmt.Errorf("%w after %d attempts: %w", ErrUnavailable, attempt, last.err)
			}
			return fmt.Errorf("%w after %d attempts: http status %d", ErrUnavailable, attempt, last.status)
		}
		wait := w.backoff(attempt)
		if last.retryAfter >= 0 {
			wait = min(last.retryAfter, w.o.MaxRetryAfter)
		}
		log.WarnContext(ctx, "notify: sms gateway attempt failed, retrying",
			"attempt", attempt, "status", last.status, "error", errString(last.err), "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("notify: send stopped after %d attempt(s): %w", attempt, ctx.Err())
		case <-t.C:
		}
	}
}

// post makes one attempt bounded by the per-attempt timeout.
func (w *webhook) post(ctx context.Context, body []byte, key string) attemptResult {
	actx, cancel := context.WithTimeout(ctx, w.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return attemptResult{err: errors.New("build request failed"), retryAfter: -1}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("User-Agent", "livery-notify")
	if w.o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.o.Token)
	}
	resp, err := w.o.Client.Do(req)
	if err != nil {
		var ue *url.Error // its message repeats the URL, which may hold secrets
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return attemptResult{err: err, retryAfter: -1}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // body may echo the code: never logged
	return attemptResult{status: resp.StatusCode, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// backoff is the wait after failed attempt n (1-based): see jitter.
func (w *webhook) backoff(n int) time.Duration { return jitter(w.o.BaseBackoff, w.o.MaxBackoff, n) }

// jitter is the wait after failed attempt n (1-based): base·2^(n-1)
// capped at maxWait, with "equal jitter" (between half and all of it).
func jitter(base, maxWait time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + mrand.N(half+1)
}

// parseRetryAfter returns the Retry-After delay (delta-seconds or HTTP
// date), or -1 when absent or unparsable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return -1
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return -1
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

func newIdempotencyKey() string { return ids.Hex(16) }

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
