package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/internal/config"
	"github.com/livery/livery/internal/testenv"
)

// testApp is an App serving on loopback listeners in front of upstream.
type testApp struct {
	app               *App
	console, api, ops string // base URLs
	stop              context.CancelFunc
	served            chan error
}

// startApp builds and serves an App: embedded Redis, a directory store,
// tenant acme on 127.0.0.1 proxying to upstream; env overrides settings.
func startApp(t *testing.T, upstream string, env map[string]string) *testApp {
	t.Helper()
	dir := t.TempDir()
	yaml := "store: {driver: dir, dir: {path: " + filepath.Join(dir, "data") + "}}\n" +
		"tenants:\n  - {id: acme, name: {zh: 甲, en: Acme}, hosts: [127.0.0.1], upstream: \"" + upstream + "\"}\n" +
		"  - {id: down, name: {zh: 乙, en: Down}, hosts: [localhost], upstream: \"http://127.0.0.1:1\"}\n"
	return startAppYAML(t, yaml, env)
}

// startAppYAML builds and serves an App configured by yaml and env.
func startAppYAML(t *testing.T, yaml string, env map[string]string) *testApp {
	t.Helper()
	path := filepath.Join(t.TempDir(), "livery.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	var lns [3]net.Listener
	for i := range lns {
		if lns[i], err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := Build(ctx, cfg, slog.New(slog.DiscardHandler), Options{
		Listeners: &Listeners{Console: lns[0], API: lns[1], Ops: lns[2]}, Version: "1.2.3-test",
		BuildInfo: ReadBuildInfo("1.2.3-test", "0123abc", "2026-01-02T03:04:05Z")})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ta := &testApp{app: a, console: "http://" + lns[0].Addr().String(), api: "http://" + lns[1].Addr().String(),
		ops: "http://" + lns[2].Addr().String(), stop: cancel, served: make(chan error, 1)}
	go func() { ta.served <- a.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ta.served:
		case <-time.After(30 * time.Second):
			t.Error("Serve did not return")
		}
		a.Close()
	})
	return ta
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// opsMetricFamilies are the families the operations listener must expose
// once the process served a little traffic (docs/operations.md lists them).
var opsMetricFamilies = []string{
	"livery_build_info", "livery_tenants",
	"livery_http_requests_total", "livery_http_request_duration_seconds",
	"livery_partner_requests_total", "livery_partner_request_duration_seconds", "livery_partner_auth_failures_total",
	"livery_signins_total", "livery_signin_callback_duration_seconds",
	"livery_redis_command_duration_seconds", "livery_redis_errors_total",
	"livery_store_operation_duration_seconds", "livery_store_errors_total",
	"livery_cache_entries", "livery_cache_hits_total", "livery_cache_misses_total",
	"livery_branding_live_version", "livery_branding_unbranded_total", "livery_upstream_errors_total",
	"go_goroutines", "process_resident_memory_bytes",
}

// scrapeAfterTraffic sends a console page, a sign-in callback and a partner
// API call, then scrapes the operations listener's /metrics.
func scrapeAfterTraffic(t *testing.T) string {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!DOCTYPE html><html><head><title>c</title></head><body>console page</body></html>")
	}))
	t.Cleanup(up.Close)
	ta := startApp(t, up.URL, nil)
	if st, body := get(t, ta.console+"/billing"); st != 200 || !strings.Contains(body, "console page") {
		t.Fatalf("console: %d %q", st, body)
	}
	// Tenant down's upstream refuses connections: an upstream error.
	req, _ := http.NewRequest("GET", ta.console+"/", nil)
	req.Host = "localhost"
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("console of tenant down: %d, want 502", resp.StatusCode)
	}
	get(t, ta.console+"/_livery/callback?state=x&code=y") // acme has no sign-in: refused, counted
	resp, err := http.Post(ta.api+"/v2/partners/sub-customers", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st, _ := get(t, ta.api+"/metrics"); st != 404 {
		t.Fatalf("API listener /metrics: %d, want 404", st)
	}
	st, m := get(t, ta.ops+"/metrics")
	if st != 200 {
		t.Fatalf("ops /metrics: %d", st)
	}
	return m
}

// TestOpsMetrics: the operations listener exposes every metric family,
// with the build, the tenant's live version and the counted requests.
func TestOpsMetrics(t *testing.T) {
	m := scrapeAfterTraffic(t)
	for _, f := range opsMetricFamilies {
		if !strings.Contains(m, "\n# TYPE "+f+" ") {
			t.Errorf("no metric family %s", f)
		}
	}
	for _, want := range []string{
		`livery_build_info{go_version="go`, `revision="0123abc",version="1.2.3-test"} 1`,
		`livery_branding_live_version{tenant="acme"} 0`, `livery_branding_live_version{tenant="down"} 0`,
		`livery_upstream_errors_total{kind="refused",tenant="down"} 1`,
		`livery_partner_requests_total{code="CBC.0154",operation="create"} 1`,
		`livery_signins_total{kind="customer",result="not_found",tenant="acme"} 1`,
		`livery_cache_entries{cache="sessions"}`, `livery_cache_misses_total{cache="branding_live"}`,
		`livery_redis_command_duration_seconds_count{operation="ping"}`,
		`livery_store_operation_duration_seconds_count{operation="get"}`,
		`livery_http_requests_total{class="2xx",listener="console",tenant="acme"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestShutdownSequence: on shutdown /readyz fails first while the
// listeners still serve (shutdown.drain_delay); then the listeners close
// and a request in flight still completes (within shutdown.timeout).
func TestShutdownSequence(t *testing.T) {
	arrived := make(chan struct{}, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			arrived <- struct{}{}
			time.Sleep(1500 * time.Millisecond)
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "done "+r.URL.Path)
	}))
	defer up.Close()
	ta := startApp(t, up.URL, map[string]string{"LIVERY_SHUTDOWN_DRAIN_DELAY": "500ms", "LIVERY_SHUTDOWN_TIMEOUT": "10s"})
	// Ready once its change-notice subscriptions are up (as a load
	// balancer would wait for it).
	testenv.Within(t, 10*time.Second, "readyz before shutdown", func() error {
		if st, body := get(t, ta.ops+"/readyz"); st != 200 {
			return fmt.Errorf("%d %s", st, body)
		}
		return nil
	})
	type result struct {
		status int
		body   string
	}
	slow := make(chan result, 1)
	go func() {
		st, body := get(t, ta.console+"/slow")
		slow <- result{st, body}
	}()
	<-arrived
	start := time.Now()
	ta.stop() // SIGTERM
	deadline := time.Now().Add(time.Second)
	for {
		st, body := get(t, ta.ops+"/readyz")
		if st == 503 && strings.Contains(body, `"draining"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %d %s after shutdown began", st, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Draining: every listener still serves new requests.
	if st, body := get(t, ta.console+"/fast"); st != 200 || body != "done /fast" {
		t.Fatalf("console while draining: %d %q", st, body)
	}
	if time.Since(start) >= 500*time.Millisecond {
		t.Fatalf("checks took %s: past the drain delay, the test proves nothing", time.Since(start))
	}
	r := <-slow
	if r.status != 200 || r.body != "done /slow" {
		t.Fatalf("request in flight at shutdown: %d %q", r.status, r.body)
	}
	select {
	case err := <-ta.served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
		ta.served <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the drain")
	}
	if elapsed := time.Since(start); elapsed < 500*time.Millisecond {
		t.Errorf("shut down after %s, before the drain delay", elapsed)
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(ta.api, "http://"), time.Second); err == nil {
		c.Close()
		t.Error("API listener still accepts connections after shutdown")
	}
}

// TestGrafanaDashboard: deploy/grafana/livery.json is a dashboard whose
// every query names metrics the process exposes.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("../../deploy/grafana/livery.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("dashboard is not valid JSON: %v", err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) < 10 {
		t.Fatalf("dashboard %q (uid %q) has %d panels", d.Title, d.UID, len(d.Panels))
	}
	m := scrapeAfterTraffic(t)
	// A metric is a name with a selector (every query of the dashboard
	// selects by job); label names such as go_version are not followed by {.
	name := regexp.MustCompile(`\b((?:livery|go|process)_[a-z0-9_]+)\{`)
	queried := 0
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, sm := range name.FindAllStringSubmatch(tg.Expr, -1) {
				n := sm[1]
				queried++
				family := n
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if f, ok := strings.CutSuffix(n, suffix); ok && strings.Contains(m, "\n# TYPE "+f+" histogram") {
						family = f
					}
				}
				if !strings.Contains(m, "\n# TYPE "+family+" ") {
					t.Errorf("panel %q queries %s, which /metrics does not expose", p.Title, n)
				}
			}
		}
	}
	if queried < 20 {
		t.Errorf("only %d metric references in the dashboard", queried)
	}
}
