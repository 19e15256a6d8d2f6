package console_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livery/livery/gateway/gatewaytest"
)

// headerRecorder is an upstream that records the header names and values
// of each request exactly as net/http parsed them, and answers 200.
type headerRecorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	last http.Header
	uri  string // the last request target
	n    atomic.Int64
}

func startHeaderRecorder(t testing.TB) *headerRecorder {
	r := &headerRecorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.last = req.Header.Clone()
		r.uri = req.RequestURI
		r.mu.Unlock()
		r.n.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// cgiName is the name a CGI-style server (WSGI, PHP, Rack) sees: "_" and
// other punctuation read as "-", case folded.
func cgiName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, name)
}

// received returns the values of every header the upstream got whose CGI
// name is name.
func (r *headerRecorder) received(name string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var vs []string
	for k, v := range r.last {
		if cgiName(k) == name {
			vs = append(vs, v...)
		}
	}
	return vs
}

// TestSpoofedHeadersNeverReachUpstream: identity (X-Livery-*) and
// forwarding headers cannot be smuggled to the upstream under a name that
// a CGI-style server reads as theirs ("_" for "-", other punctuation, any
// case), on plain requests and on the WebSocket upgrade path. Forwarding
// headers are kept from trusted proxies only; identity headers never.
func TestSpoofedHeadersNeverReachUpstream(t *testing.T) {
	up := startHeaderRecorder(t)
	spoofed := []string{
		"X_Livery_User: forged", "X-Livery_Assertion: forged", "x_livery_tenant: forged", "X-LIVERY-ROLES: operator",
		"X.Livery.Account-Id: forged", "X_Forwarded_For: 6.6.6.6", "X_Forwarded_Host: evil.example",
		"x_forwarded_proto: https", "X_Real_IP: 6.6.6.6", "X.Real.Ip: 6.6.6.6", "True_Client_IP: 6.6.6.6",
		"X_Original_URL: /admin", "x_rewrite_url: /admin",
	}
	forwarding := []string{
		"Forwarded: for=6.6.6.6", "X-Real-Ip: 6.6.6.6", "X-Client-Ip: 6.6.6.6", "True-Client-Ip: 6.6.6.6",
		"X-Original-Url: /admin", "X-Rewrite-Url: /admin", "X-Forwarded-Port: 1", "X-Forwarded-Prefix: /x",
	}
	_, loop, _ := net.ParseCIDR("127.0.0.0/8")
	for _, trusted := range []bool{false, true} {
		g := gatewaytest.StartGateway(t, up.srv.URL, func(o *gatewaytest.Options) {
			if trusted {
				o.Proxy.TrustedProxies = []*net.IPNet{loop}
			}
		})
		for _, upgrade := range []bool{false, true} {
			t.Run(fmt.Sprintf("trusted=%v upgrade=%v", trusted, upgrade), func(t *testing.T) {
				req := "GET /page/../files/%e6%96%87//a%3fb?x=%2F;y HTTP/1.1\r\nHost: console.demo.test\r\n" + strings.Join(spoofed, "\r\n") + "\r\n" +
					strings.Join(forwarding, "\r\n") + "\r\nX-Forwarded-For: 203.0.113.9\r\nX-Custom_Ok: 1\r\nX-Custom: kept\r\n"
				if upgrade {
					req += "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
				} else {
					req += "Connection: close\r\n\r\n"
				}
				before := up.n.Load()
				r := rawExchange(t, g.ConsoleURL, req)
				if r.status != 200 || up.n.Load() != before+1 {
					t.Fatalf("%s %s", r.statusLine, r.body)
				}
				if want := "/files/%E6%96%87/a%3Fb?x=%2F;y"; up.uri != want {
					t.Errorf("upstream request target %q, want the canonical %q", up.uri, want)
				}
				for _, h := range spoofed {
					name, _, _ := strings.Cut(h, ":")
					switch cgiName(name) {
					case "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto":
						_, value, _ := strings.Cut(h, ": ")
						for _, v := range up.received(cgiName(name)) {
							if strings.Contains(v, value) {
								t.Errorf("%s reached the upstream as %q", h, v)
							}
						}
						continue // set by Livery: checked below
					}
					if vs := up.received(cgiName(name)); len(vs) > 0 && (strings.HasPrefix(cgiName(name), "x-livery-") || !trusted) {
						t.Errorf("%s reached the upstream as %v", h, vs)
					}
				}
				if vs := up.received("x-custom-ok"); len(vs) > 0 {
					t.Errorf("a header name with \"_\" reached the upstream: %v", vs)
				}
				for _, h := range forwarding {
					name, value, _ := strings.Cut(h, ": ")
					vs := up.received(cgiName(name))
					if !trusted && len(vs) > 0 {
						t.Errorf("untrusted %s reached the upstream", h)
					}
					if trusted && (len(vs) != 1 || vs[0] != value) {
						t.Errorf("trusted %s arrived as %v", h, vs)
					}
				}
				wantXFF := "127.0.0.1"
				if trusted {
					wantXFF = "203.0.113.9, 127.0.0.1"
				}
				if vs := up.received("x-forwarded-for"); len(vs) != 1 || vs[0] != wantXFF {
					t.Errorf("X-Forwarded-For = %v, want [%s]", vs, wantXFF)
				}
				if vs := up.received("x-forwarded-host"); len(vs) != 1 || vs[0] != "console.demo.test" {
					t.Errorf("X-Forwarded-Host = %v", vs)
				}
				if vs := up.received("x-custom"); len(vs) != 1 || vs[0] != "kept" {
					t.Errorf("X-Custom = %v", vs)
				}
				for name := range up.last {
					if strings.HasPrefix(cgiName(name), "x-livery-") {
						t.Errorf("%s reached the upstream", name)
					}
				}
			})
		}
	}
}

// TestHostValidated: the Host header (and an absolute-form target's
// authority, which replaces it) must be host[:port]; anything else is 400
// bad_host before a tenant is chosen, and never reaches the upstream.
// (The HTTP server itself refuses some malformed hosts first: 400
// bad_request.)
func TestHostValidated(t *testing.T) {
	up := startHeaderRecorder(t)
	g := gatewaytest.StartGateway(t, up.srv.URL)
	for _, tc := range []struct {
		target, host string
		status       int
		code         string
	}{
		{"/", "console.demo.test", 200, ""},
		{"/", "CONSOLE.DEMO.TEST:8080", 200, ""},
		{"/", "127.0.0.1", 200, ""},
		{"/", "console.demo.test.example", 404, "unknown_host"},
		{"/", "[::1]:8080", 404, "unknown_host"},
		{"http://console.demo.test/", "console.demo.test", 200, ""},
		{"HTTP://console.demo.test:80/x?y", "console.demo.test", 200, ""},

		{"/", "evil@console.demo.test", 400, "bad_host"},
		{"/", "evil@127.0.0.1", 400, "bad_host"},
		{"/", "user:pass@console.demo.test", 400, "bad_host"},
		{"/", "console.demo.test@evil.example", 400, "bad_host"},
		{"/", "console.demo.test:", 400, "bad_host"},
		{"/", "console.demo.test:80x", 400, "bad_request"},
		{"/", "console.demo.test:123456", 400, "bad_host"},
		{"/", "console.demo.test:99999", 400, "bad_host"},
		{"/", "console.demo.test:80:80", 400, "bad_request"},
		{"/", ":80", 400, "bad_host"},
		{"/", "console.demo.test%2Fx", 400, "bad_request"},
		{"/", "console.demo.test,evil.example", 400, "bad_host"},
		{"/", "console.demo.test/x", 400, "bad_request"},
		{"/", "[::1", 400, "bad_request"},
		{"/", "[zz]", 400, "bad_request"},
		{"/", "[127.0.0.1]", 400, "bad_request"},
		{"/", "[fe80::1%25eth0]", 400, "bad_host"},
		{"/", "[::1]x", 400, "bad_request"},
		{"http://evil@console.demo.test/", "console.demo.test", 400, "bad_host"},
		{"http://evil@console.demo.test/", "", 400, "bad_request"}, // no Host: refused by the HTTP server
		{"http://console.demo.test:/", "console.demo.test", 400, "bad_host"},
		{"ftp://console.demo.test/", "console.demo.test", 400, "bad_host"},
		{"http://console.demo.test/", "evil@console.demo.test", 400, "bad_host"},
	} {
		t.Run(tc.target+" "+tc.host, func(t *testing.T) {
			req := "GET " + tc.target + " HTTP/1.1\r\n"
			if tc.host != "" {
				req += "Host: " + tc.host + "\r\n"
			}
			before := up.n.Load()
			r := rawExchange(t, g.ConsoleURL, req+"Accept: application/json\r\nConnection: close\r\n\r\n")
			if r.status != tc.status {
				t.Fatalf("%s %s, want %d", r.statusLine, r.body, tc.status)
			}
			reached := up.n.Load() - before
			if tc.status == 200 {
				if reached != 1 {
					t.Fatalf("upstream reached %d times", reached)
				}
				return
			}
			if reached != 0 {
				t.Fatal("refused request reached the upstream")
			}
			if tc.code == "bad_request" {
				return // the HTTP server's own refusal, answered before the headers are known
			}
			if code := r.errorCode(t); code != tc.code {
				t.Fatalf("error_code %q, want %q", code, tc.code)
			}
		})
	}
}

// TestMalformedBodyIs400NotHTTP499: a request body the client framed
// badly is answered 400 bad_request on the wire (read off a raw TCP
// connection), never with 499; a client that stops sending its body is
// still recorded as 499 in the metrics, and if it reads on, it also gets
// a 400.
func TestMalformedBodyIs400NotHTTP499(t *testing.T) {
	up := gatewaytest.StartDemoUpstream(t)
	g := gatewaytest.StartGateway(t, up.URL)
	head := "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
	for name, body := range map[string]string{
		"bad chunk size":          "zz\r\nhello\r\n0\r\n\r\n",
		"junk after chunk size":   "5x\r\nhello\r\n0\r\n\r\n",
		"bare LF in extension":    "5;a\nb\r\nhello\r\n0\r\n\r\n",
		"chunk longer than size":  "5\r\nhello, world\r\n0\r\n\r\n",
		"second chunk size bad":   "5\r\nhello\r\n-1\r\nx\r\n0\r\n\r\n",
		"chunk size overflowing":  "fffffffffffffffffff\r\nx\r\n0\r\n\r\n",
		"space before chunk size": " 5\r\nhello\r\n0\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			r := rawExchange(t, g.ConsoleURL, head+body)
			if strings.Contains(r.statusLine, "499") || r.status != 400 {
				t.Fatalf("status line %q, want 400: %s", r.statusLine, r.body)
			}
			if r.statusLine != "HTTP/1.1 400 Bad Request" {
				t.Fatalf("status line %q", r.statusLine)
			}
			if ct := r.header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
				if code := r.errorCode(t); code != "bad_request" {
					t.Fatalf("error_code %q", code)
				}
			}
		})
	}
	if m := g.MetricsText(t); strings.Contains(m, `class="499"`) || strings.Contains(m, `class="5xx"`) {
		t.Fatalf("malformed bodies counted as aborts or server errors:\n%s", gatewaytest.Grep(m, "livery_http_requests_total"))
	}

	for i, cut := range []struct{ name, head, body string }{
		{"client stops sending", "Content-Length: 4194304", strings.Repeat("x", 512<<10)},
		{"client stops sending a chunk", "Transfer-Encoding: chunked", "5\r\nhel"},
		{"client stops sending after a chunk", "Transfer-Encoding: chunked", "5\r\nhello"},
	} {
		t.Run(cut.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(g.ConsoleURL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n%s\r\n\r\n%s", cut.head, cut.body)
			conn.(*net.TCPConn).CloseWrite() // gone as a sender; still reading
			buf := make([]byte, 4096)
			n, _ := conn.Read(buf)
			if line, _, _ := strings.Cut(string(buf[:n]), "\r\n"); line != "HTTP/1.1 400 Bad Request" {
				t.Fatalf("status line %q", line)
			}
			want := fmt.Sprintf(`livery_http_requests_total{class="499",listener="console",tenant="demo"} %d`, i+1)
			aborts := fmt.Sprintf(`livery_client_aborts_total{listener="console",tenant="demo"} %d`, i+1)
			deadline := time.Now().Add(5 * time.Second)
			for {
				m := g.MetricsText(t)
				if strings.Contains(m, want) && strings.Contains(m, aborts) {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("client abort not recorded as 499:\n%s", gatewaytest.Grep(m, "livery_"))
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestMethodOverrideHeadersStripped: the method authorized is the method
// the upstream runs: method-override headers never reach it, from a
// trusted proxy neither.
func TestMethodOverrideHeadersStripped(t *testing.T) {
	up := startHeaderRecorder(t)
	_, loop, _ := net.ParseCIDR("127.0.0.0/8")
	g := gatewaytest.StartGateway(t, up.srv.URL, func(o *gatewaytest.Options) { o.Proxy.TrustedProxies = []*net.IPNet{loop} })
	req := "GET /page HTTP/1.1\r\nHost: console.demo.test\r\nX-HTTP-Method-Override: DELETE\r\n" +
		"x-http-method: PUT\r\nX-Method-Override: PATCH\r\nConnection: close\r\n\r\n"
	if r := rawExchange(t, g.ConsoleURL, req); r.status != 200 {
		t.Fatalf("%s %s", r.statusLine, r.body)
	}
	for _, name := range []string{"x-http-method-override", "x-http-method", "x-method-override"} {
		if vs := up.received(name); len(vs) > 0 {
			t.Errorf("%s reached the upstream: %v", name, vs)
		}
	}
}
