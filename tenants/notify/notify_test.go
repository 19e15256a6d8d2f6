package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// gateway is a scripted SMS gateway: it answers with statuses in order
// (the last one repeats) and records every request.
type gateway struct {
	mu       sync.Mutex
	statuses []int
	header   http.Header // extra response headers
	reqs     []*http.Request
	bodies   [][]byte
	srv      *httptest.Server
}

func newGateway(t *testing.T, statuses ...int) *gateway {
	g := &gateway{statuses: statuses, header: http.Header{}}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		g.mu.Lock()
		i := len(g.reqs)
		g.reqs = append(g.reqs, r)
		g.bodies = append(g.bodies, buf.Bytes())
		st := g.statuses[min(i, len(g.statuses)-1)]
		for k, v := range g.header {
			w.Header()[k] = v
		}
		g.mu.Unlock()
		w.WriteHeader(st)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) count() int { g.mu.Lock(); defer g.mu.Unlock(); return len(g.reqs) }

func (g *gateway) req(i int) (*http.Request, []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.reqs[i], g.bodies[i]
}

// fast retries for tests.
func fastOpts(log *slog.Logger) WebhookOptions {
	return WebhookOptions{Token: "s3cret-token", BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		Timeout: time.Second, MaxAttempts: 3, Logger: log}
}

func bufLogger() (*slog.Logger, *syncBuf) {
	b := &syncBuf{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var msg = Message{Tenant: "t1", Phone: "0086-13812345678", Lang: "zh-cn", Code: "493817", TTL: 10 * time.Minute, RequestID: "req-1"}

func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{msg.Code, "s3cret-token", "13812345678"} {
		if strings.Contains(s, secret) {
			t.Fatalf("%q leaked into %q", secret, s)
		}
	}
}

func TestWebhookSuccess(t *testing.T) {
	g := newGateway(t, 200)
	log, logs := bufLogger()
	n, err := NewWebhook(g.srv.URL+"/sms", fastOpts(log))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if g.count() != 1 {
		t.Fatalf("%d requests", g.count())
	}
	r, body := g.req(0)
	if r.Method != http.MethodPost || r.URL.Path != "/sms" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %s %v", r.Method, r.URL.Path, r.Header)
	}
	if r.Header.Get("Authorization") != "Bearer s3cret-token" || len(r.Header.Get("Idempotency-Key")) < 16 {
		t.Fatalf("headers %v", r.Header)
	}
	var p map[string]string
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"tenant": "t1", "phone": "0086-13812345678", "lang": "zh-cn",
		"text": "您的验证码为493817，10分钟内有效。请勿泄露给他人。", "request_id": "req-1"}
	if len(p) != len(want) {
		t.Fatalf("payload %v", p)
	}
	for k, v := range want {
		if p[k] != v {
			t.Fatalf("payload[%s] = %q, want %q", k, p[k], v)
		}
	}
	assertNoSecrets(t, logs.String())
}

func TestWebhookRetriesThenSucceeds(t *testing.T) {
	g := newGateway(t, 503, 503, 200)
	log, logs := bufLogger()
	n, _ := NewWebhook(g.srv.URL, fastOpts(log))
	if err := n.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if g.count() != 3 {
		t.Fatalf("%d attempts, want 3", g.count())
	}
	r0, _ := g.req(0)
	key := r0.Header.Get("Idempotency-Key")
	for i := range 3 {
		if r, _ := g.req(i); r.Header.Get("Idempotency-Key") != key {
			t.Fatalf("attempt %d: idempotency key changed", i+1)
		}
	}
	// A second Send is a new message: new key.
	if err := n.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if r3, _ := g.req(3); r3.Header.Get("Idempotency-Key") == key {
		t.Fatal("idempotency key reused across Sends")
	}
	assertNoSecrets(t, logs.String())
}

func TestWebhookNotRetriedOn400(t *testing.T) {
	for _, st := range []int{400, 401, 404, 422} {
		g := newGateway(t, st, 200)
		log, logs := bufLogger()
		n, _ := NewWebhook(g.srv.URL, fastOpts(log))
		err := n.Send(context.Background(), msg)
		if !errors.Is(err, ErrRejected) || g.count() != 1 {
			t.Fatalf("status %d: err %v after %d attempts", st, err, g.count())
		}
		assertNoSecrets(t, err.Error()+logs.String())
	}
}

func TestWebhookAllAttemptsFail(t *testing.T) {
	g := newGateway(t, 500)
	log, logs := bufLogger()
	n, _ := NewWebhook(g.srv.URL, fastOpts(log))
	err := n.Send(context.Background(), msg)
	if !errors.Is(err, ErrUnavailable) || g.count() != 3 {
		t.Fatalf("err %v after %d attempts", err, g.count())
	}
	assertNoSecrets(t, err.Error()+logs.String())
}

func TestWebhookNetworkErrorRetried(t *testing.T) {
	g := newGateway(t, 200)
	url := g.srv.URL + "/sms?key=querysecret"
	g.srv.Close() // connection refused
	log, logs := bufLogger()
	n, _ := NewWebhook(url, fastOpts(log))
	err := n.Send(context.Background(), msg)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %v", err)
	}
	if s := err.Error() + logs.String(); strings.Contains(s, "querysecret") || strings.Count(logs.String(), "retrying") != 2 {
		t.Fatalf("error/logs: %s", s)
	}
}

func TestWebhookAttemptTimeoutRetried(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			select { // hang past the per-attempt timeout
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	o := fastOpts(nil)
	o.Timeout = 100 * time.Millisecond
	n, _ := NewWebhook(srv.URL, o)
	if err := n.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Fatalf("%d calls", calls)
	}
}

func TestWebhookRetryAfter(t *testing.T) {
	g := newGateway(t, 429, 200)
	g.header.Set("Retry-After", "1")
	o := fastOpts(nil)
	o.MaxRetryAfter = 5 * time.Second
	n, _ := NewWebhook(g.srv.URL, o)
	start := time.Now()
	if err := n.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second || g.count() != 2 {
		t.Fatalf("elapsed %v, %d attempts: Retry-After not honoured", el, g.count())
	}

	// Capped: a huge Retry-After waits only MaxRetryAfter.
	g2 := newGateway(t, 503, 200)
	g2.header.Set("Retry-After", "3600")
	o.MaxRetryAfter = 50 * time.Millisecond
	n, _ = NewWebhook(g2.srv.URL, o)
	start = time.Now()
	if err := n.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("elapsed %v: Retry-After not capped", el)
	}
}

func TestWebhookContextCancelStopsRetrying(t *testing.T) {
	g := newGateway(t, 503)
	o := fastOpts(nil)
	o.BaseBackoff, o.MaxBackoff, o.MaxAttempts = time.Second, time.Second, 10
	n, _ := NewWebhook(g.srv.URL, o)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for g.count() < 1 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	err := n.Send(ctx, msg)
	if !errors.Is(err, context.Canceled) || g.count() != 1 || time.Since(start) > 900*time.Millisecond {
		t.Fatalf("err %v, %d attempts, %v", err, g.count(), time.Since(start))
	}
	// Already cancelled: no attempt at all.
	if err := n.Send(ctx, msg); !errors.Is(err, context.Canceled) || g.count() != 1 {
		t.Fatalf("cancelled ctx: %v, %d attempts", err, g.count())
	}
}

func TestWebhookLanguage(t *testing.T) {
	for _, tc := range []struct{ lang, wantLang, wantText string }{
		{"zh-cn", "zh-cn", "您的验证码为493817，10分钟内有效。请勿泄露给他人。"},
		{"", "zh-cn", "您的验证码为493817，10分钟内有效。请勿泄露给他人。"},
		{"fr-fr", "zh-cn", "您的验证码为493817，10分钟内有效。请勿泄露给他人。"},
		{"en-us", "en-us", "Your verification code is 493817. It is valid for 10 minutes. Do not share it with anyone."},
		{"EN-US", "en-us", "Your verification code is 493817. It is valid for 10 minutes. Do not share it with anyone."},
	} {
		g := newGateway(t, 204)
		n, _ := NewWebhook(g.srv.URL, fastOpts(nil))
		m := msg
		m.Lang = tc.lang
		if err := n.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		var p map[string]string
		_, body := g.req(0)
		_ = json.Unmarshal(body, &p)
		if p["lang"] != tc.wantLang || p["text"] != tc.wantText {
			t.Errorf("lang %q: got %q %q", tc.lang, p["lang"], p["text"])
		}
	}
	m := msg
	m.Lang, m.TTL = "en-us", 30*time.Second
	if got := Text(m); got != "Your verification code is 493817. It is valid for 1 minute. Do not share it with anyone." {
		t.Errorf("short ttl: %q", got)
	}
}

func TestNewWebhookValidation(t *testing.T) {
	for _, u := range []string{"", "ftp://x/y", "/relative", "http://"} {
		if _, err := NewWebhook(u, WebhookOptions{}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	if _, err := NewWebhook("http://x", WebhookOptions{MaxAttempts: -1}); err == nil {
		t.Error("negative option accepted")
	}
}

func TestLogNotifier(t *testing.T) {
	log, logs := bufLogger()
	if err := NewLog(log).Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"level=INFO", "DEVELOPMENT", "phone=0086-138****5678", "code=493817", "request_id=req-1"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q: %s", want, out)
		}
	}
	if strings.Contains(out, "13812345678") {
		t.Errorf("unmasked phone: %s", out)
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678":      "138****5678",
		"0086-13812345678": "0086-138****5678",
		"+8613812345678":   "+86****5678",
		"12345":            "***45",
		"1":                "*",
		"":                 "",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
