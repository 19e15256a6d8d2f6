package gateway_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/gatewaytest"
)

func TestAPIListener(t *testing.T) {
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
	})
	tests := []struct {
		name       string
		base, path string
		wantStatus int
		wantBody   []string
		notBody    []string
	}{
		{"healthz", g.APIURL, "/healthz", 200, []string{`"status":"ok"`}, nil},
		{"readyz names the failed dependency", g.APIURL, "/readyz", 503,
			[]string{`"store":"failed"`, `"redis":"ok"`, `"status":"unavailable"`}, []string{"secret", "10.0.0.9"}},
		{"readyz ok", healthy.APIURL, "/readyz", 200, []string{`"status":"ok"`}, nil},
		{"metrics", g.APIURL, "/metrics", 200, []string{"livery_http_requests_total", "go_goroutines"}, nil},
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
