package gateway_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/gatewaytest"
)

// TestOpsListener: health, readiness, metrics and (with ops.pprof) the
// profiler are served on the operations listener only.
func TestOpsListener(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	storeDown := errors.New("dial tcp 10.0.0.9:9000: secret detail")
	g := gatewaytest.StartGateway(t, up.URL, func(o *gateway.Options) {
		o.Checks = []gateway.Check{
			{Name: "redis", Check: func(context.Context) error { return nil }},
			{Name: "store", Check: func(context.Context) error { return storeDown }},
		}
	})
	healthy := gatewaytest.StartGateway(t, up.URL, func(o *gateway.Options) {
		o.Checks = []gateway.Check{{Name: "redis", Check: func(context.Context) error { return nil }}}
		o.Ops.Pprof = true
	})
	tests := []struct {
		name       string
		base, path string
		wantStatus int
		wantBody   []string
		notBody    []string
	}{
		{"healthz", g.OpsURL, "/healthz", 200, []string{`"status":"ok"`}, nil},
		{"readyz names the failed dependency", g.OpsURL, "/readyz", 503,
			[]string{`"store":"failed"`, `"redis":"ok"`, `"status":"unavailable"`}, []string{"secret", "10.0.0.9"}},
		{"readyz ok", healthy.OpsURL, "/readyz", 200, []string{`"status":"ok"`}, nil},
		{"metrics", g.OpsURL, "/metrics", 200, []string{"go_goroutines", "process_start_time_seconds"}, nil},
		{"pprof off by default", g.OpsURL, "/debug/pprof/", 404, []string{`"error_code":"not_found"`}, nil},
		{"pprof with ops.pprof", healthy.OpsURL, "/debug/pprof/", 200, []string{"goroutine"}, nil},
		// The API listener (partner platforms, staff) serves none of it.
		{"no metrics on the api listener", g.APIURL, "/metrics", 404, []string{`"error_code":"not_found"`}, []string{"go_goroutines"}},
		{"no healthz on the api listener", g.APIURL, "/healthz", 404, []string{`"error_code":"not_found"`}, nil},
		{"no readyz on the api listener", g.APIURL, "/readyz", 404, []string{`"error_code":"not_found"`}, nil},
		{"no pprof on the api listener", healthy.APIURL, "/debug/pprof/", 404, nil, nil},
		{"no metrics on the console listener", g.ConsoleURL, "/metrics", 404, nil, []string{"go_goroutines"}},
		{"unknown path is JSON 404", g.APIURL, "/nope", 404, []string{`"error_code":"not_found"`, `"request_id":"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Browsers asking for HTML still get JSON on the API listener.
			resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", tt.base+tt.path, nil, "Accept", "text/html"))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %s: %s", w, body)
				}
			}
			for _, w := range tt.notBody {
				if strings.Contains(body, w) {
					t.Errorf("body leaks %s: %s", w, body)
				}
			}
		})
	}
}

func TestMetricsCountByListenerTenantAndClass(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	g := gatewaytest.StartGateway(t, up.URL)
	for i := 0; i < 3; i++ {
		gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/billing", nil, "Host", "console.demo.test"))
	}
	gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/missing-page", nil, "Host", "console.other.test"))
	gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/", nil, "Host", "nobody.test"))
	m := g.MetricsText(t)
	for _, want := range []string{
		`livery_http_requests_total{class="2xx",listener="console",tenant="demo"} 3`,
		`livery_http_requests_total{class="4xx",listener="console",tenant="other"} 1`,
		`livery_http_requests_total{class="4xx",listener="console",tenant="-"} 1`,
		`livery_http_request_duration_seconds_count{listener="console",tenant="demo"} 3`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, gatewaytest.Grep(m, "livery_http"))
		}
	}
}

// TestDrain: after Drain, /readyz answers 503 "draining" without probing,
// while the listeners keep serving (load balancers notice first).
func TestDrain(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	probed := 0
	g := gatewaytest.StartGateway(t, up.URL, func(o *gateway.Options) {
		o.Checks = []gateway.Check{{Name: "redis", Check: func(context.Context) error { probed++; return nil }}}
	})
	if resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.OpsURL+"/readyz", nil)); resp.StatusCode != 200 {
		t.Fatalf("readyz before drain: %d %s", resp.StatusCode, body)
	}
	g.GW.Drain()
	resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.OpsURL+"/readyz", nil))
	if resp.StatusCode != 503 || !strings.Contains(body, `"status":"draining"`) || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("readyz while draining: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	if probed != 1 {
		t.Errorf("dependencies probed %d times, want 1 (none while draining)", probed)
	}
	if resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/billing", nil, "Host", "console.demo.test")); resp.StatusCode != 200 {
		t.Fatalf("console while draining: %d %s", resp.StatusCode, body)
	}
	if resp, _ := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.OpsURL+"/healthz", nil)); resp.StatusCode != 200 {
		t.Fatalf("healthz while draining: %d", resp.StatusCode)
	}
}
