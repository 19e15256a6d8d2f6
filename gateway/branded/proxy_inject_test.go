package branded_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/livery/livery/branding/inject"
	"github.com/livery/livery/gateway/exchange"
	"github.com/livery/livery/gateway/gatewaytest"
)

// fixedChrome injects fixed fragments and rewrites the CSP recognisably.
type fixedChrome struct{ refuse bool }

func (f fixedChrome) Chrome(out *exchange.Outbound, csp []string) (inject.Fragments, []string, bool) {
	if f.refuse || out.Tenant == nil {
		return inject.Fragments{}, nil, false
	}
	var adj []string
	for _, p := range csp {
		adj = append(adj, p+"; style-src-elem 'sha256-test'")
	}
	return inject.Fragments{Head: []byte(`<link id="h">`), Body: []byte(`<div id="chrome"></div>`)}, adj, true
}

const page = "<!DOCTYPE html><html><head><title>t</title></head><body class=\"x\"><p>hello</p></body></html>"
const injected = "<!DOCTYPE html><html><head><link id=\"h\"><title>t</title></head><body class=\"x\"><div id=\"chrome\"></div><p>hello</p></body></html>"

func encode(t *testing.T, enc, s string) []byte {
	var b bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "gzip":
		w = gzip.NewWriter(&b)
	case "deflate":
		w = zlib.NewWriter(&b)
	case "br":
		w = brotli.NewWriter(&b)
	default:
		return []byte(s)
	}
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestInjectBranding(t *testing.T) {
	type upstream struct {
		status  int
		headers []string // name, value pairs
		body    []byte
	}
	late := "<html>" + strings.Repeat("<!-- padding -->", 5000) + "<body>x" // <body> beyond the read-ahead bound
	html := []string{"Content-Type", "text/html; charset=utf-8", "ETag", `"v1"`}
	// A document of exactly inject.MaxSizedPrefix bytes (read whole), and one
	// byte more (streamed through the sized read-ahead): same output.
	atBound := "<html><head></head><body>" + strings.Repeat("x", inject.MaxSizedPrefix-len("<html><head></head><body>"))
	atBoundInjected := `<html><head><link id="h"></head><body><div id="chrome"></div>` + atBound[len("<html><head></head><body>"):]
	tests := []struct {
		name     string
		method   string
		up       upstream
		refuse   bool
		chunked  bool   // the upstream sends no Content-Length
		wantBody string // "" = byte-identical to upstream body
		wantGone []string
		wantHdr  map[string]string
	}{
		{name: "plain document", up: upstream{200, html, []byte(page)}, wantBody: injected,
			wantGone: []string{"ETag"}, wantHdr: map[string]string{"Content-Length": strconv.Itoa(len(injected))}},
		{name: "document of unknown length", up: upstream{200, html, []byte(page)}, chunked: true, wantBody: injected,
			wantGone: []string{"ETag", "Content-Length"}},
		{name: "body tag beyond the read-ahead", up: upstream{200, html, []byte(late)},
			wantBody: string(inject.Transform([]byte(late), inject.Fragments{Head: []byte(`<link id="h">`), Body: []byte(`<div id="chrome"></div>`)})),
			wantGone: []string{"ETag", "Content-Length"}},
		{name: "gzip decoded", up: upstream{200, append([]string{"Content-Encoding", "gzip"}, html...), encode(t, "gzip", page)},
			wantBody: injected, wantGone: []string{"Content-Encoding", "ETag"}},
		{name: "deflate decoded", up: upstream{200, append([]string{"Content-Encoding", "deflate"}, html...), encode(t, "deflate", page)},
			wantBody: injected, wantGone: []string{"Content-Encoding"}},
		{name: "brotli decoded", up: upstream{200, append([]string{"Content-Encoding", "br"}, html...), encode(t, "br", page)},
			wantBody: injected, wantGone: []string{"Content-Encoding"}},
		{name: "CSP adjusted", up: upstream{200, append([]string{"Content-Security-Policy", "default-src 'self'"}, html...), []byte(page)},
			wantBody: injected, wantHdr: map[string]string{"Content-Security-Policy": "default-src 'self'; style-src-elem 'sha256-test'"}},
		{name: "uppercase tags, BOM", up: upstream{200, html, []byte("\xEF\xBB\xBF<HTML><HEAD></HEAD><BODY>x</BODY></HTML>")},
			wantBody: "\xEF\xBB\xBF<HTML><HEAD><link id=\"h\"></HEAD><BODY><div id=\"chrome\"></div>x</BODY></HTML>"},
		{name: "no body tag", up: upstream{200, html, []byte("<html><head></head><p>fragment")},
			wantHdr: map[string]string{"ETag": `"v1"`, "Content-Length": "30"}},
		{name: "no body tag, unknown length", up: upstream{200, html, []byte("<html><head></head><p>fragment")}, chunked: true},
		{name: "document at the whole-read bound", up: upstream{200, html, []byte(atBound)}, wantBody: atBoundInjected,
			wantGone: []string{"ETag"}, wantHdr: map[string]string{"Content-Length": strconv.Itoa(len(atBoundInjected))}},
		{name: "document one byte over the bound", up: upstream{200, html, []byte(atBound + " ")}, wantBody: atBoundInjected + " ",
			wantGone: []string{"ETag"}, wantHdr: map[string]string{"Content-Length": strconv.Itoa(len(atBoundInjected) + 1)}},
		{name: "HEAD untouched", method: "HEAD", up: upstream{200, html, nil}, wantHdr: map[string]string{"ETag": `"v1"`}},
		{name: "partial content", up: upstream{206, append([]string{"Content-Range", "bytes 0-9/100"}, html...), []byte(page)},
			wantHdr: map[string]string{"ETag": `"v1"`}},
		{name: "error page", up: upstream{404, html, []byte(page)}, wantHdr: map[string]string{"ETag": `"v1"`}},
		{name: "download", up: upstream{200, append([]string{"Content-Disposition", `attachment; filename="a.html"`}, html...), []byte(page)},
			wantHdr: map[string]string{"ETag": `"v1"`}},
		{name: "event stream", up: upstream{200, []string{"Content-Type", "text/event-stream"}, []byte("data: <body>\n\n")}},
		{name: "json", up: upstream{200, []string{"Content-Type", "application/json"}, []byte(`{"a":"<body>"}`)}},
		{name: "utf-16 document", up: upstream{200, []string{"Content-Type", "text/html; charset=utf-16le"}, []byte("<\x00b\x00o\x00d\x00y\x00>\x00")}},
		{name: "shift_jis declared in meta", up: upstream{200, []string{"Content-Type", "text/html"},
			[]byte(`<html><head><meta charset="iso-2022-jp"></head><body>x</body></html>`)}},
		{name: "provider declines", refuse: true, up: upstream{200, html, []byte(page)}, wantHdr: map[string]string{"ETag": `"v1"`}},
		{name: "unknown encoding untouched", up: upstream{200, append([]string{"Content-Encoding", "zstd"}, html...), []byte("zstd-bytes")},
			wantHdr: map[string]string{"Content-Encoding": "zstd"}},
		{name: "corrupt gzip untouched", up: upstream{200, append([]string{"Content-Encoding", "gzip"}, html...), []byte("not gzip at all")},
			wantHdr: map[string]string{"Content-Encoding": "gzip"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sawAE string
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sawAE = r.Header.Get("Accept-Encoding")
				for i := 0; i < len(tt.up.headers); i += 2 {
					w.Header().Set(tt.up.headers[i], tt.up.headers[i+1])
				}
				if !tt.chunked && len(tt.up.body) > 0 {
					w.Header().Set("Content-Length", strconv.Itoa(len(tt.up.body)))
				}
				w.WriteHeader(tt.up.status)
				if tt.chunked {
					w.(http.Flusher).Flush()
				}
				w.Write(tt.up.body)
			}))
			defer up.Close()
			g := gatewaytest.StartGateway(t, up.URL, func(o *gatewaytest.Options) {
				o.Branding = &gatewaytest.BrandingOptions{Chrome: fixedChrome{refuse: tt.refuse}}
			})
			method := tt.method
			if method == "" {
				method = "GET"
			}
			resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, method, g.ConsoleURL+"/page", nil, "Host", "console.demo.test",
				"Accept", "text/html,*/*", "Accept-Encoding", "gzip, br"))
			if resp.StatusCode != tt.up.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.up.status)
			}
			want := tt.wantBody
			if want == "" && method == "GET" {
				want = string(tt.up.body)
			}
			if body != want {
				t.Errorf("body:\n got %q\nwant %q", body, want)
			}
			for _, h := range tt.wantGone {
				if v := resp.Header.Get(h); v != "" {
					t.Errorf("%s = %q, want it removed", h, v)
				}
			}
			for h, v := range tt.wantHdr {
				if v == "" && tt.wantBody == "" {
					v = resp.Header.Get(h) // only presence matters for this row
				}
				if got := resp.Header.Get(h); got != v {
					t.Errorf("%s = %q, want %q", h, got, v)
				}
			}
			if method == "GET" && sawAE != "identity" {
				t.Errorf("document requested with Accept-Encoding %q, want identity", sawAE)
			}
		})
	}
}

// TestInjectBrandingStreams: a large document is branded without being
// held in memory, and the first bytes arrive before the upstream finishes.
func TestInjectBrandingStreams(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><head></head><body>")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, strings.Repeat("<p>row</p>", 1000)+"</body></html>")
	}))
	defer up.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	g := gatewaytest.StartGateway(t, up.URL, func(o *gatewaytest.Options) { o.Branding = &gatewaytest.BrandingOptions{Chrome: fixedChrome{}} })
	resp, err := http.DefaultClient.Do(gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/", nil, "Host", "console.demo.test", "Accept", "text/html"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	want := `<html><head><link id="h"></head><body><div id="chrome"></div>`
	first := make([]byte, len(want))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != want {
		t.Fatalf("first bytes %q (%v), want %q before the upstream finished", first, err, want)
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	if !strings.HasSuffix(string(rest), "</body></html>") || strings.Count(string(rest), "chrome") != 0 {
		t.Fatalf("rest of document wrong: %d bytes", len(rest))
	}
}

// TestInjectBrandingCutShort: an upstream that announces a document's
// length and closes the connection early gets a 502 (nothing was sent
// yet), counted as a failed upstream body, never a truncated page.
func TestInjectBrandingCutShort(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 500\r\n\r\n<html><head></head><body>cut")
		buf.Flush()
	}))
	defer up.Close()
	g := gatewaytest.StartGateway(t, up.URL, func(o *gatewaytest.Options) { o.Branding = &gatewaytest.BrandingOptions{Chrome: fixedChrome{}} })
	resp, body := gatewaytest.Do(t, gatewaytest.NewRequest(t, "GET", g.ConsoleURL+"/page", nil, "Host", "console.demo.test", "Accept", "text/html"))
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "cut short") || strings.Contains(body, "chrome") {
		t.Fatalf("status %d, body %q: want a 502 upstream_body error", resp.StatusCode, body)
	}
	if m := g.MetricsText(t); !strings.Contains(m, `livery_upstream_errors_total{kind="body",tenant="demo"} 1`) {
		t.Errorf("cut-short body not counted:\n%s", gatewaytest.Grep(m, "livery_upstream"))
	}
}
