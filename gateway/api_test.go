package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestAPIListener(t *testing.T) {
	up := startDemoUpstream(t)
	storeDown := errors.New("dial tcp 10.0.0.9:9000: secret detail")
	g := startGateway(t, up.URL, func(o *Options) {
		o.Checks = []Check{
			{Name: "redis", Check: func(context.Context) error { return nil }},
			{Name: "store", Check: func(context.Context) error { return storeDown }},
		}
	})
	healthy := startGateway(t, up.URL, func(o *Options) {
		o.Checks = []Check{{Name: "redis", Check: func(context.Context) error { return nil }}}
	})
	tests := []struct {
		name       string
		base, path string
		wantStatus int
		wantBody   []string
		notBody    []string
	}{
		{"healthz", g.apiURL, "/healthz", 200, []string{`"status":"ok"`}, nil},
		{"readyz names the failed dependency", g.apiURL, "/readyz", 503,
			[]string{`"store":"failed"`, `"redis":"ok"`, `"status":"unavailable"`}, []string{"secret", "10.0.0.9"}},
		{"readyz ok", healthy.apiURL, "/readyz", 200, []string{`"status":"ok"`}, nil},
		{"metrics", g.apiURL, "/metrics", 200, []string{"livery_http_requests_total", "go_goroutines"}, nil},
		{"unknown path is JSON 404", g.apiURL, "/nope", 404, []string{`"error_code":"not_found"`, `"request_id":"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Browsers asking for HTML still get JSON on the API listener.
			resp, body := do(t, newReq(t, "GET", tt.base+tt.path, nil, "Accept", "text/html"))
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
	up := startDemoUpstream(t)
	g := startGateway(t, up.URL)
	for i := 0; i < 3; i++ {
		do(t, newReq(t, "GET", g.consoleURL+"/billing", nil, "Host", "console.demo.test"))
	}
	do(t, newReq(t, "GET", g.consoleURL+"/missing-page", nil, "Host", "console.other.test"))
	do(t, newReq(t, "GET", g.consoleURL+"/", nil, "Host", "nobody.test"))
	m := g.metricsText(t)
	for _, want := range []string{
		`livery_http_requests_total{class="2xx",listener="console",tenant="demo"} 3`,
		`livery_http_requests_total{class="4xx",listener="console",tenant="other"} 1`,
		`livery_http_requests_total{class="4xx",listener="console",tenant="-"} 1`,
		`livery_http_request_duration_seconds_count{listener="console",tenant="demo"} 3`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, grep(m, "livery_http"))
		}
	}
}
