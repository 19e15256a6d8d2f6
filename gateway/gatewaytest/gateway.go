package gatewaytest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	democonsole "github.com/livery/livery/cmd/democonsole/console"
	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/console"
	"github.com/livery/livery/tenants"
)

// Gateway is a gateway serving on real loopback listeners in front of
// an upstream.
type Gateway struct {
	GW         *gateway.Gateway // the gateway served
	ConsoleURL string           // http://127.0.0.1:port
	APIURL     string
	OpsURL     string // the operations listener: health, readiness, metrics
	upstream   string
}

// Option adjusts the Options of a gateway StartGateway starts.
type Option func(*gateway.Options)

// StartDemoUpstream serves the demo console on a loopback port.
func StartDemoUpstream(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(democonsole.New(democonsole.Options{Name: "Test Cloud", Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return srv
}

// StartGateway starts a gateway whose tenant "demo" (hosts 127.0.0.1 and
// console.demo.test) proxies to upstream.
func StartGateway(t testing.TB, upstream string, opts ...Option) *Gateway {
	t.Helper()
	up, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := tenants.NewRegistry([]tenants.Tenant{
		{ID: "demo", Name: tenants.Names{ZH: "演示", EN: "Demo"}, Hosts: []string{"127.0.0.1", "console.demo.test"}, Upstream: up, XAccountType: "demo-platform"},
		{ID: "other", Name: tenants.Names{ZH: "其他", EN: "Other"}, Hosts: []string{"console.other.test"}, Upstream: up},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := gateway.Options{
		Logger:  slog.New(slog.DiscardHandler),
		Tenants: reg,
		Console: gateway.ListenerOptions{ReadTimeout: time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 8 << 10, BodyLimit: 64 << 10},
		API:     gateway.ListenerOptions{ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: time.Minute, MaxHeaderBytes: 8 << 10, BodyLimit: 1 << 20},
		Proxy: console.ProxyOptions{ConnectTimeout: 2 * time.Second, ResponseHeaderTimeout: 5 * time.Second,
			IdleConnTimeout: time.Minute, MaxConnsPerHost: 256},
	}
	for _, fn := range opts {
		fn(&o)
	}
	gw := gateway.New(o)
	cl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	al, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ol, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = gw.Serve(cl, al, ol); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
		<-done
	})
	return &Gateway{GW: gw, ConsoleURL: "http://" + cl.Addr().String(), APIURL: "http://" + al.Addr().String(),
		OpsURL: "http://" + ol.Addr().String(), upstream: upstream}
}

// Do sends a request and returns the response with its body read.
func Do(t testing.TB, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(b)
}

// NewRequest builds a request; headers are name, value pairs, and a "Host"
// pair sets the request's Host.
func NewRequest(t testing.TB, method, url string, body io.Reader, headers ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.EqualFold(headers[i], "Host") {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Add(headers[i], headers[i+1])
	}
	return req
}

// MetricsText scrapes the operations listener's /metrics.
func (g *Gateway) MetricsText(t testing.TB) string {
	t.Helper()
	_, body := Do(t, NewRequest(t, "GET", g.OpsURL+"/metrics", nil))
	return body
}
