// Package console is a small stand-in for a cloud provider's web console:
// the upstream that Livery reverse-proxies in demos and end-to-end tests.
//
// Besides a few HTML pages with the navigation areas a real console has
// (each with a stable cc-* id), it offers diagnostic endpoints that exercise
// the proxy: a request-header echo, large downloads and uploads, slow
// responses, WebSocket echo, Server-Sent Events and gzip-compressed HTML.
// It uses only net/http and gorilla/websocket.
//
// Every HTML page is sent with a strict nonce-based Content-Security-Policy
// (a fresh nonce per response), as real consoles do, so that the gateway's
// branding is exercised under one. GET /static/logo.svg is the console's
// logo, usable as the cloud logo of the gateway's dual-brand chrome.
package console

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Limits and defaults of the diagnostic endpoints.
const (
	DefaultDownloadSize = 1 << 20 // bytes sent by /download without ?size
	MaxDownloadSize     = 1 << 30 // largest ?size accepted by /download
	MaxUploadSize       = 1 << 30 // largest body accepted by /upload
	DefaultSlowDelay    = 2 * time.Second
	MaxSlowDelay        = 5 * time.Minute
	DefaultEventCount   = 5
	MaxEventCount       = 1000
	EventInterval       = 100 * time.Millisecond
	maxWSMessage        = 1 << 20
)

// PatternByte is the value of byte i of every /download body.
func PatternByte(i int64) byte { return byte(i % 251) }

// patternBuf holds the download pattern from offset 0; its length is a
// multiple of 251 so consecutive copies continue the pattern seamlessly.
var patternBuf = func() []byte {
	b := make([]byte, 251*128)
	for i := range b {
		b[i] = PatternByte(int64(i))
	}
	return b
}()

// Options configures the demo console.
type Options struct {
	// Name is the product name shown in the logo area and page titles
	// ("Demo Cloud" when empty).
	Name string
	// Logger receives one record per request (discarded when nil).
	Logger *slog.Logger
	// AssertionJWKSURL and AssertionAudience enable verification of the
	// gateway's X-Livery-Assertion: the pages then show who is signed in.
	AssertionJWKSURL  string
	AssertionAudience string
	// AccountToken enables the account API (POST /_cloud/accounts, GET
	// /_cloud/accounts/{domain_id}) for callers presenting it as a bearer
	// token; empty disables the API.
	AccountToken string
	// Existing are accounts the cloud has before any registration (for
	// invitations), with their status.
	Existing []Account
}

type server struct {
	name     string
	log      *slog.Logger
	pages    pages
	upgrader websocket.Upgrader
	mux      *http.ServeMux
	verifier *verifier
}

// New returns the demo console's handler.
func New(opts Options) http.Handler {
	s := &server{name: opts.Name, log: opts.Logger, pages: parsePages()}
	if s.name == "" {
		s.name = "Demo Cloud"
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.AssertionJWKSURL != "" {
		s.verifier = &verifier{jwksURL: opts.AssertionJWKSURL, audience: opts.AssertionAudience,
			client: &http.Client{Timeout: 5 * time.Second}}
	}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		// The gateway in front of this console serves it under partner host
		// names, so the Origin seldom matches the Host; accept any origin.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	if _, err := render(s.pages.overview, pageData{Name: s.name, Title: "Overview", Active: "overview", Compressed: true, Nonce: "x"}); err != nil {
		panic(err) // the templates are constant; this is a programming error
	}

	mux := http.NewServeMux()
	s.mux = mux
	mux.HandleFunc("GET /{$}", s.page(s.pages.overview, "Overview", "overview"))
	mux.HandleFunc("GET /resources", s.page(s.pages.resources, "Resources", "resources"))
	mux.HandleFunc("GET /billing", s.page(s.pages.billing, "Billing", "billing"))
	mux.HandleFunc("GET /marketplace", s.page(s.pages.marketplace, "Marketplace", "marketplace"))
	mux.HandleFunc("GET /headers", s.handleHeaders)
	mux.HandleFunc("GET /download", s.handleDownload)
	mux.HandleFunc("POST /upload", s.handleUpload)
	mux.HandleFunc("GET /slow", s.handleSlow)
	mux.HandleFunc("GET /ws", s.handleWS)
	mux.HandleFunc("GET /events", s.handleEvents)
	mux.HandleFunc("GET /gzip", s.handleGzip)
	mux.HandleFunc("GET /whoami", s.handleWhoami)
	mux.HandleFunc("GET "+LogoPath, handleLogo)
	accts := newAccounts(opts.AccountToken, opts.Existing)
	mux.HandleFunc("POST /_cloud/accounts", accts.handleCreate)
	mux.HandleFunc("GET /_cloud/accounts/{id}", accts.handleGet)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/", s.handleNotFound)
	return s.logRequests(mux)
}

// page serves one of the static console pages.
func (s *server) page(t *template.Template, title, active string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.writeHTML(w, r, http.StatusOK, t, pageData{Name: s.name, Title: title, Active: active, Who: s.whoOf(r)})
	}
}

// LogoPath is where the console serves its logo (an SVG image).
const LogoPath = "/static/logo.svg"

const logoSVG = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">` +
	`<rect width="96" height="96" rx="24" fill="#1664ff"/>` +
	`<path d="M26 60a14 14 0 0 1 4-27 20 20 0 0 1 38 5 11 11 0 0 1-2 22z" fill="#fff"/></svg>`

func handleLogo(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Content-Length", strconv.Itoa(len(logoSVG)))
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodHead {
		io.WriteString(w, logoSVG)
	}
}

// newNonce returns a fresh CSP nonce (128 random bits, base64url: nothing for html/template to escape).
func newNonce() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// contentSecurityPolicy is the policy of every HTML page: same-origin
// resources only, inline <style> and <script> only with the nonce.
func contentSecurityPolicy(nonce string) string {
	return "default-src 'self'; style-src 'self' 'nonce-" + nonce + "'; img-src 'self'; script-src 'nonce-" + nonce + "'"
}

// writeHTML renders a page with a fresh nonce and sends it with its
// Content-Security-Policy.
func (s *server) writeHTML(w http.ResponseWriter, r *http.Request, status int, t *template.Template, data pageData) {
	data.Nonce = newNonce()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("render page", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy(data.Nonce))
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// handleNotFound answers every request no other route matches: 405 when
// the path exists for another method, else a 404 page.
func (s *server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" {
			allow = append(allow, m)
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	s.writeHTML(w, r, http.StatusNotFound, s.pages.notFound,
		pageData{Name: s.name, Title: "Page not found", Path: r.URL.Path})
}

// headerEcho is the JSON form of /headers.
type headerEcho struct {
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	Host       string              `json:"host"`
	RemoteAddr string              `json:"remote_addr"`
	Headers    map[string][]string `json:"headers"`
}

func (s *server) handleHeaders(w http.ResponseWriter, r *http.Request) {
	echo := &headerEcho{
		Method:     r.Method,
		Path:       r.URL.Path,
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
		Headers:    map[string][]string(r.Header.Clone()),
	}
	if echo.Headers == nil {
		echo.Headers = map[string][]string{}
	}
	if wantsJSON(r) {
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, echo)
		return
	}
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	var lines []headerLine
	for _, name := range names {
		for _, v := range r.Header[name] {
			lines = append(lines, headerLine{Name: name, Value: v})
		}
	}
	s.writeHTML(w, r, http.StatusOK, s.pages.headers,
		pageData{Name: s.name, Title: "Request headers", Echo: echo, Headers: lines})
}

// wantsJSON reports whether /headers should answer in JSON: ?format=json,
// or an Accept header that names application/json (and ?format is not html).
func wantsJSON(r *http.Request) bool {
	switch strings.ToLower(r.URL.Query().Get("format")) {
	case "json":
		return true
	case "html":
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func (s *server) handleDownload(w http.ResponseWriter, r *http.Request) {
	size := int64(DefaultDownloadSize)
	if v := r.URL.Query().Get("size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > MaxDownloadSize {
			http.Error(w, fmt.Sprintf("size must be an integer between 0 and %d", MaxDownloadSize), http.StatusBadRequest)
			return
		}
		size = n
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("Content-Disposition", `attachment; filename="download.bin"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	for left := size; left > 0; {
		chunk := patternBuf
		if left < int64(len(chunk)) {
			chunk = chunk[:left]
		}
		n, err := w.Write(chunk)
		left -= int64(n)
		if err != nil {
			s.log.Debug("download aborted", "size", size, "left", left, "err", err)
			return
		}
	}
}

func (s *server) handleUpload(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, MaxUploadSize)
	sum := sha256.New()
	n, err := io.CopyBuffer(sum, body, make([]byte, 32<<10))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("body larger than %d bytes", MaxUploadSize), http.StatusRequestEntityTooLarge)
			return
		}
		s.log.Debug("upload aborted", "bytes", n, "err", err)
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"bytes": n, "sha256": hex.EncodeToString(sum.Sum(nil))})
}

// parseDelay accepts a Go duration ("250ms", "2s") or a number of seconds.
func parseDelay(v string) (time.Duration, error) {
	if v == "" {
		return DefaultSlowDelay, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil {
			return 0, err
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < 0 || d > MaxSlowDelay {
		return 0, fmt.Errorf("delay must be between 0 and %s", MaxSlowDelay)
	}
	return d, nil
}

func (s *server) handleSlow(w http.ResponseWriter, r *http.Request) {
	d, err := parseDelay(r.URL.Query().Get("delay"))
	if err != nil {
		http.Error(w, "invalid delay: "+err.Error(), http.StatusBadRequest)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		s.log.Debug("slow request cancelled", "delay", d, "err", r.Context().Err())
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, "slept %s\n", d)
}

func (s *server) handleWS(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has already replied with an HTTP error.
		s.log.Debug("websocket upgrade failed", "err", err)
		return
	}
	defer conn.Close()
	conn.SetReadLimit(maxWSMessage)
	if err := conn.WriteMessage(websocket.TextMessage, []byte("hello "+r.Host)); err != nil {
		return
	}
	for {
		mt, msg, err := conn.ReadMessage()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
				s.log.Debug("websocket read", "err", err)
			}
			return
		}
		if err := conn.WriteMessage(mt, msg); err != nil {
			return
		}
	}
}

func (s *server) handleEvents(w http.ResponseWriter, r *http.Request) {
	count := DefaultEventCount
	if v := r.URL.Query().Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxEventCount {
			http.Error(w, fmt.Sprintf("count must be an integer between 1 and %d", MaxEventCount), http.StatusBadRequest)
			return
		}
		count = n
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		s.log.Debug("events: flush unsupported", "err", err)
	}
	tick := time.NewTicker(EventInterval)
	defer tick.Stop()
	for i := 1; i <= count; i++ {
		if i > 1 {
			select {
			case <-tick.C:
			case <-r.Context().Done():
				return
			}
		}
		data, _ := json.Marshal(map[string]any{"n": i, "of": count, "time": time.Now().UTC().Format(time.RFC3339Nano)})
		if _, err := fmt.Fprintf(w, "id: %d\nevent: tick\ndata: %s\n\n", i, data); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// handleGzip serves the overview gzip-compressed, whatever the request's
// Accept-Encoding. It is compressed per response because of its nonce.
func (s *server) handleGzip(w http.ResponseWriter, r *http.Request) {
	nonce := newNonce()
	html, err := render(s.pages.overview, pageData{Name: s.name, Title: "Overview", Active: "overview", Compressed: true, Nonce: nonce})
	if err != nil {
		s.log.Error("render page", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var zbuf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zbuf, gzip.BestCompression)
	zw.Write(html)
	zw.Close()
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy(nonce))
	h.Set("Content-Encoding", "gzip")
	h.Set("Content-Length", strconv.Itoa(zbuf.Len()))
	h.Set("Vary", "Accept-Encoding")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(zbuf.Bytes())
	}
}
