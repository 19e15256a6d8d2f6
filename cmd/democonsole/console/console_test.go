package console

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(New(Options{Name: "Test Cloud", Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestPages(t *testing.T) {
	srv := newServer(t)
	htmlAreas := []string{"<!DOCTYPE html>", `<html lang="en">`, `<meta charset="utf-8">`, "<title>",
		`id="cc-topnav"`, `id="cc-logo"`, `id="cc-info-menu"`, `id="cc-resource-menu"`, `id="cc-user-menu"`,
		`id="cc-custom-menu"`, "Test Cloud", "</html>"}
	tests := []struct {
		path        string
		status      int
		contentType string
		contains    []string
	}{
		{"/", 200, "text/html; charset=utf-8", append([]string{`id="cc-announcements"`, `id="cc-activities"`, `id="cc-recommended"`,
			`href="/resources"`, `href="/billing"`, `href="/marketplace"`}, htmlAreas...)},
		{"/resources", 200, "text/html; charset=utf-8", append([]string{"<title>Resources - Test Cloud</title>", "i-0a1b2c3d"}, htmlAreas...)},
		{"/billing", 200, "text/html; charset=utf-8", append([]string{"<title>Billing - Test Cloud</title>", "Invoices"}, htmlAreas...)},
		{"/marketplace", 200, "text/html; charset=utf-8", append([]string{"<title>Marketplace - Test Cloud</title>", "Managed Kafka"}, htmlAreas...)},
		{"/headers", 200, "text/html; charset=utf-8", append([]string{"Request headers"}, htmlAreas...)},
		{"/headers?format=json", 200, "application/json", []string{`"headers"`}},
		{"/download?size=10", 200, "application/octet-stream", nil},
		{"/slow?delay=1ms", 200, "text/plain; charset=utf-8", []string{"slept"}},
		{"/events?count=1", 200, "text/event-stream", []string{"data: "}},
		{"/gzip", 200, "text/html; charset=utf-8", []string{"cc-gzip-marker"}}, // transparently decoded by the client
		{"/healthz", 200, "text/plain; charset=utf-8", []string{"ok"}},
		{"/no/such/page", 404, "text/html; charset=utf-8", append([]string{"/no/such/page", `id="cc-not-found"`}, htmlAreas...)},
		{"/resources/extra", 404, "text/html; charset=utf-8", []string{"Page not found"}},
		{"/download?size=-1", 400, "text/plain; charset=utf-8", nil},
		{"/download?size=2000000000", 400, "text/plain; charset=utf-8", nil},
		{"/slow?delay=bogus", 400, "text/plain; charset=utf-8", nil},
		{"/events?count=0", 400, "text/plain; charset=utf-8", nil},
		{"/ws", 400, "text/plain; charset=utf-8", nil}, // not a WebSocket handshake
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, srv, tc.path, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d; body: %s", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", ct, tc.contentType)
			}
			for _, want := range tc.contains {
				if !bytes.Contains(body, []byte(want)) {
					t.Errorf("body lacks %q", want)
				}
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	srv := newServer(t)
	resp, err := srv.Client().Post(srv.URL+"/download", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST /download: status %d, Allow %q; want 405, GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
	}
	resp, err = srv.Client().Post(srv.URL+"/no/such/page", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("POST /no/such/page: status %d, want 404", resp.StatusCode)
	}
	resp, err = srv.Client().Get(srv.URL + "/upload")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /upload: status %d, want 405", resp.StatusCode)
	}
}

func TestHeadersEcho(t *testing.T) {
	srv := newServer(t)
	hdr := http.Header{"X-Custom-Test": {"alpha", "<b>beta</b>"}, "X-Another": {"1"}}

	t.Run("json", func(t *testing.T) {
		for _, variant := range []struct {
			path string
			hdr  http.Header
		}{
			{"/headers?format=json", hdr},
			{"/headers", func() http.Header { h := hdr.Clone(); h.Set("Accept", "text/plain, application/json;q=0.9"); return h }()},
		} {
			resp, body := get(t, srv, variant.path, variant.hdr)
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("%s: Content-Type %q", variant.path, ct)
			}
			var echo struct {
				Method     string              `json:"method"`
				Path       string              `json:"path"`
				Host       string              `json:"host"`
				RemoteAddr string              `json:"remote_addr"`
				Headers    map[string][]string `json:"headers"`
			}
			if err := json.Unmarshal(body, &echo); err != nil {
				t.Fatalf("%s: %v: %s", variant.path, err, body)
			}
			wantHost := strings.TrimPrefix(srv.URL, "http://")
			if echo.Method != "GET" || echo.Path != "/headers" || echo.Host != wantHost || echo.RemoteAddr == "" {
				t.Errorf("%s: echo = %+v", variant.path, echo)
			}
			if got := echo.Headers["X-Custom-Test"]; len(got) != 2 || got[0] != "alpha" || got[1] != "<b>beta</b>" {
				t.Errorf("%s: X-Custom-Test = %q", variant.path, got)
			}
			if got := echo.Headers["X-Another"]; len(got) != 1 || got[0] != "1" {
				t.Errorf("%s: X-Another = %q", variant.path, got)
			}
		}
	})

	t.Run("html", func(t *testing.T) {
		resp, body := get(t, srv, "/headers", hdr)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("Content-Type %q", ct)
		}
		s := string(body)
		for _, want := range []string{"X-Custom-Test", "alpha", "&lt;b&gt;beta&lt;/b&gt;", "X-Another", `id="cc-req-method">GET<`, `id="cc-req-path">/headers<`} {
			if !strings.Contains(s, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if strings.Contains(s, "<b>beta</b>") {
			t.Error("header value not HTML-escaped")
		}
		// Sorted by name: X-Another before X-Custom-Test.
		if a, c := strings.Index(s, ">X-Another<"), strings.Index(s, ">X-Custom-Test<"); a < 0 || c < 0 || a > c {
			t.Errorf("headers not sorted: X-Another at %d, X-Custom-Test at %d", a, c)
		}
	})
}

func TestDownload(t *testing.T) {
	srv := newServer(t)
	for _, size := range []int64{0, 1, 250, 251, 252, 251*128 - 1, 251 * 128, 251*128 + 1, 3<<20 + 17} {
		resp, err := srv.Client().Get(srv.URL + "/download?size=" + itoa(size))
		if err != nil {
			t.Fatal(err)
		}
		if resp.ContentLength != size {
			t.Errorf("size %d: Content-Length %d", size, resp.ContentLength)
		}
		var n int64
		br := bufio.NewReader(resp.Body)
		for {
			b, err := br.ReadByte()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			if b != PatternByte(n) {
				t.Fatalf("size %d: byte %d = %d, want %d", size, n, b, PatternByte(n))
			}
			n++
		}
		resp.Body.Close()
		if n != size {
			t.Errorf("size %d: got %d bytes", size, n)
		}
	}

	resp, err := srv.Client().Get(srv.URL + "/download")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n != DefaultDownloadSize || resp.ContentLength != DefaultDownloadSize {
		t.Errorf("default download: %d bytes, Content-Length %d", n, resp.ContentLength)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestUpload(t *testing.T) {
	srv := newServer(t)
	for _, size := range []int{0, 1, 100_000, 5 << 20} {
		data := make([]byte, size)
		rand.Read(data)
		want := sha256.Sum256(data)
		// An io.Reader without a length forces a chunked, streamed body.
		resp, err := srv.Client().Post(srv.URL+"/upload", "application/octet-stream", io.MultiReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Bytes  int64  `json:"bytes"`
			SHA256 string `json:"sha256"`
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("size %d: status %d, Content-Type %q", size, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if got.Bytes != int64(size) || got.SHA256 != hex.EncodeToString(want[:]) {
			t.Errorf("size %d: got %+v, want sha256 %x", size, got, want)
		}
	}
}

func TestSlow(t *testing.T) {
	srv := newServer(t)

	t.Run("waits", func(t *testing.T) {
		start := time.Now()
		resp, body := get(t, srv, "/slow?delay=150ms", nil)
		if el := time.Since(start); el < 150*time.Millisecond {
			t.Errorf("returned after %s, want >= 150ms", el)
		}
		if resp.StatusCode != 200 || !strings.Contains(string(body), "slept 150ms") {
			t.Errorf("status %d body %q", resp.StatusCode, body)
		}
	})

	t.Run("cancel over HTTP", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow?delay=30s", nil)
		start := time.Now()
		_, err := srv.Client().Do(req)
		if err == nil {
			t.Fatal("request succeeded, want context deadline error")
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Fatalf("client returned after %s", el)
		}
	})

	t.Run("handler returns on cancel", func(t *testing.T) {
		h := New(Options{})
		ctx, cancel := context.WithCancel(context.Background())
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/slow?delay=1m", nil)
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { h.ServeHTTP(rec, req); close(done) }()
		time.Sleep(50 * time.Millisecond)
		cancel()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatal("handler still running 2s after the request context was cancelled")
		}
		if rec.Body.Len() != 0 {
			t.Errorf("cancelled request got a body: %q", rec.Body.String())
		}
	})
}

func TestWebSocketEcho(t *testing.T) {
	srv := newServer(t)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	conn, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"http://partner.example"}})
	if err != nil {
		t.Fatalf("dial: %v (resp %v)", err, resp)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))

	mt, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if want := "hello " + strings.TrimPrefix(srv.URL, "http://"); mt != websocket.TextMessage || string(msg) != want {
		t.Fatalf("greeting = %d %q, want text %q", mt, msg, want)
	}
	for _, m := range []struct {
		typ  int
		data []byte
	}{
		{websocket.TextMessage, []byte("ping 1")},
		{websocket.BinaryMessage, []byte{0, 1, 2, 255}},
		{websocket.TextMessage, bytes.Repeat([]byte("x"), 100_000)},
	} {
		if err := conn.WriteMessage(m.typ, m.data); err != nil {
			t.Fatal(err)
		}
		mt, msg, err := conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if mt != m.typ || !bytes.Equal(msg, m.data) {
			t.Fatalf("echo = type %d len %d, want type %d len %d", mt, len(msg), m.typ, len(m.data))
		}
	}
	err = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := conn.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("after close: %v, want normal closure", err)
	}
}

func TestEvents(t *testing.T) {
	srv := newServer(t)
	resp, err := srv.Client().Get(srv.URL + "/events?count=3")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	type event struct {
		id, name, data string
		at             time.Time
	}
	var events []event
	var cur event
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			cur.at = time.Now()
			events = append(events, cur)
			cur = event{}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data = line[6:]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 {
		t.Fatalf("got %d events, want 3: %+v", len(events), events)
	}
	for i, e := range events {
		var d struct{ N, Of int }
		if err := json.Unmarshal([]byte(e.data), &d); err != nil {
			t.Fatalf("event %d data %q: %v", i, e.data, err)
		}
		if e.id != itoa(int64(i+1)) || e.name != "tick" || d.N != i+1 || d.Of != 3 {
			t.Errorf("event %d = %+v (data %+v)", i, e, d)
		}
	}
	// Events arrive one by one (flushed), not all at once at the end.
	if gap := events[2].at.Sub(events[0].at); gap < 150*time.Millisecond {
		t.Errorf("events 1 and 3 arrived %s apart; want them streamed ~200ms apart", gap)
	}
}

func TestGzip(t *testing.T) {
	srv := newServer(t)
	// Asking for gzip explicitly stops the transport from decoding it.
	resp, raw := get(t, srv, "/gzip", http.Header{"Accept-Encoding": {"gzip"}})
	if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("Content-Encoding %q", ce)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	html, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", `id="cc-gzip-marker"`, `id="cc-announcements"`, `id="cc-user-menu"`, "</html>"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("decoded page lacks %q", want)
		}
	}
}

func TestHead(t *testing.T) {
	srv := newServer(t)
	resp, err := srv.Client().Head(srv.URL + "/download?size=12345")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != 12345 {
		t.Errorf("HEAD /download: status %d, Content-Length %d", resp.StatusCode, resp.ContentLength)
	}
}

// TestContentSecurityPolicy: every HTML page carries a strict nonce-based
// policy, a fresh nonce per response, and the page's inline <style> and
// <script> carry that nonce.
func TestContentSecurityPolicy(t *testing.T) {
	srv := newServer(t)
	policy := regexp.MustCompile(`^default-src 'self'; style-src 'self' 'nonce-([A-Za-z0-9_-]{22})'; img-src 'self'; script-src 'nonce-([A-Za-z0-9_-]{22})'$`)
	seen := map[string]string{}
	for _, path := range []string{"/", "/resources", "/billing", "/marketplace", "/headers", "/no/such/page", "/", "/gzip"} {
		resp, body := get(t, srv, path, nil)
		m := policy.FindStringSubmatch(resp.Header.Get("Content-Security-Policy"))
		if m == nil || m[1] != m[2] {
			t.Fatalf("%s: Content-Security-Policy %q", path, resp.Header.Get("Content-Security-Policy"))
		}
		nonce := m[1]
		if prev, dup := seen[nonce]; dup {
			t.Errorf("%s reuses the nonce of %s", path, prev)
		}
		seen[nonce] = path
		if n := bytes.Count(body, []byte(`<style nonce="`+nonce+`">`)); n != 1 {
			t.Errorf("%s: %d <style> elements with the response's nonce", path, n)
		}
		if n := bytes.Count(body, []byte(`<script nonce="`+nonce+`">`)); n != 1 {
			t.Errorf("%s: %d <script> elements with the response's nonce", path, n)
		}
		// Nothing inline that the policy would block.
		if c := bytes.Count(body, []byte("<style")) + bytes.Count(body, []byte("<script")); c != 2 {
			t.Errorf("%s: %d inline style/script elements, want 2", path, c)
		}
		if bytes.Contains(body, []byte(" style=")) || bytes.Contains(body, []byte(" onclick=")) {
			t.Errorf("%s: inline style or event handler attribute", path)
		}
	}
	// Not on other responses.
	for _, path := range []string{"/headers?format=json", "/healthz", LogoPath} {
		if resp, _ := get(t, srv, path, nil); resp.Header.Get("Content-Security-Policy") != "" {
			t.Errorf("%s: unexpected CSP %q", path, resp.Header.Get("Content-Security-Policy"))
		}
	}
}

func TestLogo(t *testing.T) {
	srv := newServer(t)
	resp, body := get(t, srv, LogoPath, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" ||
		!bytes.HasPrefix(body, []byte("<svg ")) || resp.ContentLength != int64(len(body)) {
		t.Fatalf("logo: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	if _, page := get(t, srv, "/", nil); !bytes.Contains(page, []byte(`src="`+LogoPath+`"`)) {
		t.Error("the console does not show its logo")
	}
}
