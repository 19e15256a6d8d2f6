package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/tenants"
)

// ProxyOptions configures the reverse proxy to the upstream consoles.
type ProxyOptions struct {
	ConnectTimeout        time.Duration
	ResponseHeaderTimeout time.Duration
	IdleConnTimeout       time.Duration
	MaxIdleConnsPerHost   int
	// TrustedProxies are the peers whose X-Forwarded-* headers are kept.
	TrustedProxies []*net.IPNet
}

// RewriteFunc may modify the outbound request before it is sent: add
// identity headers, change the path. The request's context carries the
// tenant and request id (TenantFrom, RequestIDFrom). Returning an error
// aborts the exchange; it is answered by the error mapper.
type RewriteFunc func(out *http.Request) error

// ModifyResponseFunc may modify the upstream response before it is copied
// to the client. A function that replaces resp.Body must set
// resp.ContentLength to the new length, or to -1 when unknown, and delete
// validators (ETag) that no longer describe the body. resp.Request is the
// outbound request. Returning an error answers 502.
type ModifyResponseFunc func(resp *http.Response) error

// Proxy forwards console requests to the tenant's upstream. Request and
// response bodies stream in both directions; WebSocket upgrades are
// tunnelled. It is safe for concurrent use once built; hooks must be added
// before the first request.
type Proxy struct {
	Transport      *http.Transport
	Rewrite        []RewriteFunc
	ModifyResponse []ModifyResponseFunc

	trusted []*net.IPNet
	metrics *Metrics
	log     *slog.Logger
}

// NewProxy builds a proxy with a keep-alive connection pool and the given
// connect, response-header and idle timeouts.
func NewProxy(o ProxyOptions, m *Metrics, log *slog.Logger) *Proxy {
	dialer := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
	return &Proxy{
		Transport: &http.Transport{
			Proxy:                 nil, // never route console traffic through an environment proxy
			DialContext:           dialer.DialContext,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
			IdleConnTimeout:       o.IdleConnTimeout,
			ResponseHeaderTimeout: o.ResponseHeaderTimeout,
			TLSHandshakeTimeout:   o.ConnectTimeout,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true, // bodies pass through with their own encoding
		},
		trusted: o.TrustedProxies,
		metrics: m,
		log:     log,
	}
}

// releaseWait bounds how long an exchange waits for the transport to let go
// of the client's request body.
const releaseWait = 5 * time.Second

type ctxKey int

const (
	ctxTenant ctxKey = iota
	ctxRequestID
	ctxSession
	ctxPreview
	ctxLang
)

// langCookie is the visitor's console language choice (zh or en); like
// every livery_* cookie it is not forwarded to the upstream.
const langCookie = render.LocaleCookie

// langFrom returns the language cookie of an outbound request's visitor.
func langFrom(ctx context.Context) string {
	l, _ := ctx.Value(ctxLang).(string)
	return l
}

// TenantFrom returns the tenant of an outbound proxy request's context.
func TenantFrom(ctx context.Context) *tenants.Tenant {
	t, _ := ctx.Value(ctxTenant).(*tenants.Tenant)
	return t
}

// RequestIDFrom returns the request id of an outbound proxy request's context.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(ctxRequestID).(string)
	return id
}

// Handle is the Fiber handler that proxies the request to the tenant
// resolved by the tenant middleware.
func (p *Proxy) Handle(c *fiber.Ctx) error {
	t := TenantOf(c)
	if t == nil {
		return Errorf(http.StatusNotFound, "unknown_host", "No console is configured for this host.")
	}
	out, body, err := p.outbound(c, t)
	if err != nil {
		return err
	}
	upgrade := isUpgrade(c)
	if upgrade {
		out.Header.Set("Connection", "Upgrade")
		out.Header.Set("Upgrade", c.Get(fiber.HeaderUpgrade))
	}
	for _, fn := range p.Rewrite {
		if err := fn(out); err != nil {
			return err
		}
	}
	resp, err := p.Transport.RoundTrip(out)
	if err != nil {
		return p.roundTripError(c, t, err, body)
	}
	if upgrade && resp.StatusCode == http.StatusSwitchingProtocols {
		return p.tunnel(c, t, resp)
	}
	for _, fn := range p.ModifyResponse {
		if err := fn(resp); err != nil {
			resp.Body.Close()
			p.metrics.upstreamErrors.WithLabelValues(t.ID, "modify").Inc()
			return &Error{Status: http.StatusBadGateway, Code: "bad_gateway",
				Message: "The console returned a response that could not be processed.", Err: err}
		}
	}
	p.copyResponse(c, t, resp)
	return nil
}

// outbound builds the upstream request: target URL, cleaned headers,
// X-Forwarded-*, and the streaming request body.
func (p *Proxy) outbound(c *fiber.Ctx, t *tenants.Tenant) (*http.Request, *clientBody, error) {
	in, err := url.ParseRequestURI(string(c.Request().URI().PathOriginal()))
	if err != nil || !strings.HasPrefix(in.Path, "/") {
		return nil, nil, Errorf(http.StatusBadRequest, "bad_request", "The request path is malformed.")
	}
	target := *t.Upstream
	target.Path, target.RawPath = joinURLPath(t.Upstream, in)
	target.RawQuery = string(c.Request().URI().QueryString())

	ctx := context.WithValue(context.WithValue(context.Background(), ctxTenant, t), ctxRequestID, requestID(c))
	if sess := SessionOf(c); sess != nil {
		ctx = context.WithValue(ctx, ctxSession, sess)
	}
	if pv := previewOf(c); pv != nil {
		ctx = context.WithValue(ctx, ctxPreview, pv)
	}
	if lang := c.Cookies(langCookie); lang != "" {
		ctx = context.WithValue(ctx, ctxLang, lang)
	}
	out, err := http.NewRequestWithContext(ctx, c.Method(), target.String(), nil)
	if err != nil {
		return nil, nil, Errorf(http.StatusBadRequest, "bad_request", "The request could not be forwarded.")
	}
	out.URL = &target
	copyRequestHeaders(out.Header, c)
	p.setForwarded(out.Header, c)
	out.Header.Set(fiber.HeaderXRequestID, requestID(c))

	var body *clientBody
	switch n := c.Request().Header.ContentLength(); {
	case n == 0 || n == -2: // no body
	default:
		if stream := c.Context().RequestBodyStream(); stream != nil {
			body = newClientBody(stream, int64(n))
			out.Body = body
			out.ContentLength = int64(n) // -1: chunked
		}
	}
	return out, body, nil
}

// copyRequestHeaders copies inbound headers except hop-by-hop headers,
// those named by Connection, Host, and every X-Livery-* header: identity
// headers are set by Livery alone. Livery's own cookies (sessions, login
// state) are removed from Cookie: the upstream never sees a session id.
func copyRequestHeaders(dst http.Header, c *fiber.Ctx) {
	hdr := &c.Request().Header
	connTokens := connectionTokens(string(hdr.Peek(fiber.HeaderConnection)))
	hdr.VisitAll(func(k, v []byte) {
		name := http.CanonicalHeaderKey(string(k))
		if name == "Host" || name == "Content-Length" || isHopByHop(name) || connTokens[strings.ToLower(name)] ||
			IsLiveryHeader(name) {
			return
		}
		if name == "Cookie" {
			if v = withoutLiveryCookies(v); len(v) == 0 {
				return
			}
		}
		dst.Add(name, string(v))
	})
}

// IsLiveryHeader reports whether name is in the X-Livery-* namespace that
// only Livery may set towards the upstream.
func IsLiveryHeader(name string) bool {
	return len(name) >= 9 && strings.EqualFold(name[:9], "x-livery-")
}

// IsLiveryCookie reports whether a cookie name belongs to Livery
// (livery_*, including the __Host- prefixed forms).
func IsLiveryCookie(name string) bool {
	name = strings.TrimPrefix(name, "__Host-")
	return strings.HasPrefix(name, "livery_")
}

// withoutLiveryCookies returns a Cookie header value without Livery's
// cookies, v itself when it has none.
func withoutLiveryCookies(v []byte) []byte {
	if !bytes.Contains(v, []byte("livery_")) {
		return v
	}
	var out []byte
	for _, part := range bytes.Split(v, []byte(";")) {
		kv := bytes.TrimSpace(part)
		name, _, _ := bytes.Cut(kv, []byte("="))
		if len(kv) == 0 || IsLiveryCookie(string(bytes.TrimSpace(name))) {
			continue
		}
		if len(out) > 0 {
			out = append(out, "; "...)
		}
		out = append(out, kv...)
	}
	return out
}

var hopByHop = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

func isHopByHop(canonical string) bool { return hopByHop[canonical] }

func connectionTokens(v string) map[string]bool {
	if v == "" {
		return nil
	}
	m := map[string]bool{}
	for _, tok := range strings.Split(v, ",") {
		if tok = strings.ToLower(strings.TrimSpace(tok)); tok != "" {
			m[tok] = true
		}
	}
	return m
}

func isUpgrade(c *fiber.Ctx) bool {
	return c.Get(fiber.HeaderUpgrade) != "" &&
		connectionTokens(c.Get(fiber.HeaderConnection))["upgrade"]
}

// setForwarded sets X-Forwarded-For/-Proto/-Host. Values sent by a trusted
// proxy are kept (the peer is appended to X-Forwarded-For); from anyone
// else they are replaced, as is Forwarded.
func (p *Proxy) setForwarded(h http.Header, c *fiber.Ctx) {
	peer := c.Context().RemoteIP()
	trusted := false
	for _, n := range p.trusted {
		if n.Contains(peer) {
			trusted = true
			break
		}
	}
	proto := "http"
	if c.Context().IsTLS() {
		proto = "https"
	}
	if !trusted {
		h.Del("Forwarded")
		h.Set("X-Forwarded-For", peer.String())
		h.Set("X-Forwarded-Proto", proto)
		h.Set("X-Forwarded-Host", string(c.Request().Host()))
		return
	}
	if prior := strings.Join(h.Values("X-Forwarded-For"), ", "); prior != "" {
		h.Set("X-Forwarded-For", prior+", "+peer.String())
	} else {
		h.Set("X-Forwarded-For", peer.String())
	}
	if h.Get("X-Forwarded-Proto") == "" {
		h.Set("X-Forwarded-Proto", proto)
	}
	if h.Get("X-Forwarded-Host") == "" {
		h.Set("X-Forwarded-Host", string(c.Request().Host()))
	}
}

// joinURLPath joins the upstream base path and the request path, keeping
// the request's original escaping.
func joinURLPath(base, in *url.URL) (path, rawpath string) {
	if base.Path == "" || base.Path == "/" {
		return in.Path, in.RawPath
	}
	bp := strings.TrimSuffix(base.EscapedPath(), "/")
	joined := bp + in.EscapedPath()
	p, err := url.PathUnescape(joined)
	if err != nil {
		return strings.TrimSuffix(base.Path, "/") + in.Path, ""
	}
	if p == joined {
		return p, ""
	}
	return p, joined
}

// roundTripError maps a failed upstream exchange: client gone → 499 (not a
// server error), timeout → 504, anything else → 502.
func (p *Proxy) roundTripError(c *fiber.Ctx, t *tenants.Tenant, err error, body *clientBody) error {
	body.wait(releaseWait)
	if body.failed() {
		c.Locals(localAborted, true)
		p.metrics.clientAborts.WithLabelValues("console", t.ID).Inc()
		c.Context().SetConnectionClose()
		c.Status(StatusClientClosedRequest)
		return nil
	}
	kind, status, msg := "unreachable", http.StatusBadGateway, "The console is temporarily unreachable. Please try again shortly."
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		kind, status, msg = "timeout", http.StatusGatewayTimeout, "The console did not respond in time. Please try again shortly."
	case errors.Is(err, syscall.ECONNREFUSED):
		kind = "refused"
	}
	p.metrics.upstreamErrors.WithLabelValues(t.ID, kind).Inc()
	return &Error{Status: status, Code: "upstream_" + kind, Message: msg, Err: err}
}

// clientBody is the inbound request body as read by the transport. It
// remembers whether the client failed to deliver it, so that a cut upload
// is not blamed on the upstream, and signals when the transport is done
// with it: the underlying stream belongs to the server connection and must
// not be read after the exchange ends.
type clientBody struct {
	r      io.Reader
	want   int64 // Content-Length, or -1 when chunked
	n      int64
	broken atomic.Bool
	once   sync.Once
	closed chan struct{}
}

func newClientBody(r io.Reader, want int64) *clientBody {
	return &clientBody{r: r, want: want, closed: make(chan struct{})}
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if err == io.EOF && b.want >= 0 && b.n < b.want {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		b.broken.Store(true)
	}
	return n, err
}

// Close is called by the transport when it has finished with the body.
func (b *clientBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

func (b *clientBody) failed() bool { return b != nil && b.broken.Load() }

// wait blocks until the transport released the body, or d elapsed.
func (b *clientBody) wait(d time.Duration) {
	if b == nil {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-b.closed:
	case <-t.C:
	}
}
