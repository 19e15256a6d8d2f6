package console_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livery/livery/gateway/console"
	"github.com/livery/livery/gateway/exchange"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/web"
)

func TestConsoleRouting(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	g := gatewaytest.StartGateway(t, up.URL)
	tests := []struct {
		name       string
		host       string
		accept     string
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"known host", "console.demo.test", "text/html", 200, "text/html", "<!DOCTYPE html>"},
		{"known host with port and case", "CONSOLE.DEMO.TEST:8080", "", 200, "text/html", "<body"},
		{"unknown host page", "evil.example", "text/html", 404, "text/html", "No console is configured for the host"},
		{"unknown host json", "evil.example", "application/json", 404, "application/json", `"error_code":"unknown_host"`},
		{"malformed host escaped", "a&b.example", "text/html", 400, "text/html", "a&amp;b.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/", nil, "Host", tt.host, "Accept", tt.accept))
			if resp.StatusCode != tt.wantStatus || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.wantType) ||
				!strings.Contains(body, tt.wantBody) {
				t.Fatalf("got %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			if strings.Contains(body, "<script>") {
				t.Fatal("host reflected unescaped")
			}
			rid := resp.Header.Get("X-Request-Id")
			if len(rid) != 32 {
				t.Fatalf("request id %q", rid)
			}
			if tt.wantStatus >= 400 && !strings.Contains(body, rid) {
				t.Fatalf("error body lacks request id %s", rid)
			}
		})
	}
}

func TestProxyHeaders(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	g := gatewaytest.StartGateway(t, up.URL)
	req := gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/headers?format=json&x=%2F", nil,
		"Host", "console.demo.test",
		"X-Livery-Account-Id", "forged", "x-livery-tenant", "other", "X-LIVERY-ROLES", "operator",
		"X-Livery-Actor", "forged-staff", "x-livery-grant", "forged-grant",
		"X-Forwarded-For", "6.6.6.6", "X-Forwarded-Host", "evil.example", "Forwarded", "for=6.6.6.6",
		"Connection", "X-Secret-Hop", "X-Secret-Hop", "1", "Keep-Alive", "timeout=5", "Proxy-Authorization", "Basic x",
		"X-Request-Id", "client-supplied-id-0001", "X-Custom", "kept")
	resp, body := gatewaytest.Do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var echo gatewaytest.HeaderEcho
	if err := json.Unmarshal([]byte(body), &echo); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for name := range echo.Headers {
		if console.IsLiveryHeader(name) {
			t.Errorf("inbound %s reached the upstream", name)
		}
		switch http.CanonicalHeaderKey(name) {
		case "X-Secret-Hop", "Keep-Alive", "Proxy-Authorization", "Forwarded":
			t.Errorf("hop-by-hop or untrusted header %s reached the upstream", name)
		}
	}
	want := map[string]string{
		"X-Forwarded-For":   "127.0.0.1",
		"X-Forwarded-Host":  "console.demo.test",
		"X-Forwarded-Proto": "http",
		"X-Request-Id":      "client-supplied-id-0001",
		"X-Custom":          "kept",
	}
	for k, v := range want {
		if got := echo.Headers[k]; len(got) != 1 || got[0] != v {
			t.Errorf("%s = %v, want [%s]", k, got, v)
		}
	}
	if resp.Header.Get("X-Request-Id") != "client-supplied-id-0001" {
		t.Errorf("well-formed request id not kept: %q", resp.Header.Get("X-Request-Id"))
	}
}

func TestTrustedProxyKeepsForwardedChain(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	_, loop, _ := net.ParseCIDR("127.0.0.0/8")
	g := gatewaytest.StartGateway(t, up.URL, func(o *gatewaytest.Options) { o.Proxy.TrustedProxies = []*net.IPNet{loop} })
	_, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/headers?format=json", nil,
		"X-Forwarded-For", "203.0.113.9", "X-Forwarded-Proto", "https", "X-Livery-User", "forged"))
	var echo gatewaytest.HeaderEcho
	json.Unmarshal([]byte(body), &echo)
	if got := echo.Headers["X-Forwarded-For"]; len(got) != 1 || got[0] != "203.0.113.9, 127.0.0.1" {
		t.Errorf("X-Forwarded-For = %v", got)
	}
	if got := echo.Headers["X-Forwarded-Proto"]; len(got) != 1 || got[0] != "https" {
		t.Errorf("X-Forwarded-Proto = %v", got)
	}
	if _, ok := echo.Headers["X-Livery-User"]; ok {
		t.Error("X-Livery-* stripped only for untrusted peers")
	}
}

func TestMalformedRequestIDReplaced(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	g := gatewaytest.StartGateway(t, up.URL)
	for _, bad := range []string{"short", "has space in it", strings.Repeat("a", 129), "inject\"quote\"here"} {
		resp, _ := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/", nil, "X-Request-Id", bad))
		if got := resp.Header.Get("X-Request-Id"); got == bad || len(got) != 32 {
			t.Errorf("request id %q became %q", bad, got)
		}
	}
}

func TestOversizedHeaders431(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	g := gatewaytest.StartGateway(t, up.URL)
	resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/", nil, "X-Big", strings.Repeat("a", 16<<10)))
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
}

func TestUpstreamFailures(t *testing.T) {
	// A port with nothing listening: connection refused.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	slow := gatewaytest.StartDemoUpstream(t)

	tests := []struct {
		name       string
		upstream   string
		path       string
		wantStatus int
		wantKind   string
	}{
		{"refused", dead, "/", 502, `kind="refused"`},
		{"header timeout", slow.URL, "/slow?delay=3s", 504, `kind="timeout"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := gatewaytest.StartGateway(t, tt.upstream, func(o *gatewaytest.Options) { o.Proxy.ResponseHeaderTimeout = 300 * time.Millisecond })
			resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+tt.path, nil, "Accept", "text/html"))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			rid := resp.Header.Get("X-Request-Id")
			if !strings.Contains(body, rid) || !strings.Contains(body, "<html") {
				t.Fatalf("error page lacks request id: %s", body)
			}
			if strings.Contains(body, "127.0.0.1") || strings.Contains(body, "dial") {
				t.Fatalf("error page leaks internals: %s", body)
			}
			m := g.MetricsText(t)
			if !strings.Contains(m, `livery_upstream_errors_total{`+tt.wantKind+`,tenant="demo"} 1`) {
				t.Fatalf("upstream error not counted:\n%s", gatewaytest.Grep(m, "livery_upstream"))
			}
		})
	}
}

func TestNoBodyResponsesAndHopByHopResponseHeaders(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "X-Upstream-Hop")
		w.Header().Set("X-Upstream-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=3")
		w.Header().Set("X-End-To-End", "yes")
		w.Header().Add("Set-Cookie", "a=1; Path=/")
		w.Header().Add("Set-Cookie", "b=2; Path=/")
		switch r.URL.Path {
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
		case "/notmodified":
			w.WriteHeader(http.StatusNotModified)
		default:
			w.Header().Set("Content-Length", "5")
			w.Write([]byte("hello"))
		}
	}))
	defer up.Close()
	g := gatewaytest.StartGateway(t, up.URL)
	tests := []struct {
		method, path string
		status       int
		body         string
		length       int64
	}{
		{"GET", "/", 200, "hello", 5},
		{"HEAD", "/", 200, "", 5},
		{"GET", "/nocontent", 204, "", 0},
		{"GET", "/notmodified", 304, "", 0},
	}
	for _, tt := range tests {
		resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, tt.method, g.ConsoleURL+tt.path, nil))
		if resp.StatusCode != tt.status || body != tt.body {
			t.Errorf("%s %s: %d %q", tt.method, tt.path, resp.StatusCode, body)
		}
		if tt.method == "HEAD" && resp.ContentLength != tt.length {
			t.Errorf("HEAD Content-Length = %d", resp.ContentLength)
		}
		if resp.Header.Get("X-Upstream-Hop") != "" || resp.Header.Get("Keep-Alive") != "" {
			t.Errorf("%s: hop-by-hop response headers forwarded: %v", tt.path, resp.Header)
		}
		if resp.Header.Get("X-End-To-End") != "yes" || len(resp.Header.Values("Set-Cookie")) != 2 {
			t.Errorf("%s: end-to-end headers lost: %v", tt.path, resp.Header)
		}
	}
}

func TestHooks(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	t.Run("rewrite and modify response", func(t *testing.T) {
		g := gatewaytest.StartGateway(t, up.URL)
		g.GW.Proxy().Rewrite = append(g.GW.Proxy().Rewrite, func(out *exchange.Outbound) error {
			out.Header.Set("X-Livery-Tenant", out.Tenant.ID)
			out.Header.Set("X-Livery-Request", out.RequestID)
			return nil
		})
		g.GW.Proxy().ModifyResponse = append(g.GW.Proxy().ModifyResponse, func(resp *exchange.Response) error {
			if !strings.HasPrefix(string(resp.Header.ContentType()), "application/json") {
				return nil
			}
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(strings.NewReader(`{"wrapped":`), resp.Body, strings.NewReader(`}`)), resp.Body}
			resp.ContentLength = -1
			return nil
		})
		resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/headers?format=json", nil))
		var echo struct{ Wrapped gatewaytest.HeaderEcho }
		if err := json.Unmarshal([]byte(body), &echo); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if got := echo.Wrapped.Headers["X-Livery-Tenant"]; len(got) != 1 || got[0] != "demo" {
			t.Errorf("hook header = %v", got)
		}
		if got := echo.Wrapped.Headers["X-Livery-Request"]; len(got) != 1 || got[0] != resp.Header.Get("X-Request-Id") {
			t.Errorf("request id in context = %v", got)
		}
	})
	t.Run("failing hooks", func(t *testing.T) {
		g := gatewaytest.StartGateway(t, up.URL)
		g.GW.Proxy().Rewrite = append(g.GW.Proxy().Rewrite, func(out *exchange.Outbound) error {
			switch string(out.URI().Path()) {
			case "/panic":
				panic("secret internal detail")
			case "/deny":
				return web.Errorf(http.StatusForbidden, "forbidden", "Not allowed.")
			case "/fail":
				return errors.New("secret internal detail")
			}
			return nil
		})
		for path, want := range map[string]int{"/panic": 500, "/deny": 403, "/fail": 500} {
			resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+path, nil, "Accept", "application/json"))
			if resp.StatusCode != want || strings.Contains(body, "secret") || !strings.Contains(body, resp.Header.Get("X-Request-Id")) {
				t.Errorf("%s: %d %s", path, resp.StatusCode, body)
			}
		}
		if m := g.MetricsText(t); !strings.Contains(m, `livery_http_requests_total{class="5xx",listener="console",tenant="demo"} 2`) {
			t.Errorf("5xx not counted:\n%s", gatewaytest.Grep(m, "livery_http_requests_total"))
		}
	})
}

func TestWebSocketThroughGateway(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	g := gatewaytest.StartGateway(t, up.URL)
	wsURL := "ws" + strings.TrimPrefix(g.ConsoleURL, "http") + "/ws"
	hdr := http.Header{"X-Livery-User": {"forged"}}
	conn, resp, err := websocket.DefaultDialer.Dial(wsURL, hdr)
	if err != nil {
		t.Fatalf("dial: %v (resp %v)", err, resp)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, hello, err := conn.ReadMessage()
	if err != nil || !strings.HasPrefix(string(hello), "hello ") {
		t.Fatalf("hello: %q %v", hello, err)
	}
	for _, msg := range []string{"ping", strings.Repeat("x", 100<<10), "日本語"} {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, got, err := conn.ReadMessage()
		if err != nil || string(got) != msg {
			t.Fatalf("echo of %d bytes: got %d bytes, %v", len(msg), len(got), err)
		}
	}
}

// TestResponseHeaderTimeoutSparesBodies checks that the response-header
// timeout bounds only the wait for the response: a body that keeps coming
// for longer is delivered whole, and the next exchange on the same pooled
// connection is bounded again.
func TestResponseHeaderTimeoutSparesBodies(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("wait"))
		if r.URL.Path == "/late-headers" {
			time.Sleep(d)
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(200)
		for i := 0; i < 3; i++ {
			fmt.Fprintf(w, "part %d\n", i)
			w.(http.Flusher).Flush()
			if r.URL.Path == "/slow-body" {
				time.Sleep(d)
			}
		}
	}))
	defer up.Close()
	g := gatewaytest.StartGateway(t, up.URL, func(o *gatewaytest.Options) { o.Proxy.ResponseHeaderTimeout = 300 * time.Millisecond })
	steps := []struct {
		path   string
		status int
		body   string
	}{
		{"/slow-body?wait=250ms", 200, "part 0\npart 1\npart 2\n"}, // 750 ms of body
		{"/slow-body?wait=0s", 200, "part 0\npart 1\npart 2\n"},
		{"/late-headers?wait=1s", 504, ""},
		{"/slow-body?wait=200ms", 200, "part 0\npart 1\npart 2\n"},
	}
	for _, s := range steps {
		resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+s.path, nil, "Accept", "text/plain"))
		if resp.StatusCode != s.status || s.body != "" && body != s.body {
			t.Fatalf("%s: %d %q, want %d %q", s.path, resp.StatusCode, body, s.status, s.body)
		}
	}
}
