// Package console is the console door: the reverse proxy to each tenant's
// upstream console, with hooks (Rewrite, ModifyResponse) for the features
// that plug into it.
package console

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/gateway/exchange"
	"github.com/livery/livery/gateway/preview"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// ProxyOptions configures the reverse proxy to the upstream consoles.
type ProxyOptions struct {
	ConnectTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the upstream's response
	// (until its first byte); bodies may then stream for as long as they
	// last.
	ResponseHeaderTimeout time.Duration
	IdleConnTimeout       time.Duration
	// MaxConnsPerHost caps the connections to one upstream; a request
	// waits up to ConnectTimeout for a free one.
	MaxConnsPerHost int
	// TrustedProxies are the peers whose X-Forwarded-* headers are kept.
	TrustedProxies []*net.IPNet
}

// Proxy forwards console requests to the tenant's upstream. Request and
// response bodies stream in both directions; WebSocket upgrades are
// tunnelled. It is safe for concurrent use once built; hooks must be added
// before the first request.
type Proxy struct {
	Rewrite        []exchange.RewriteFunc
	ModifyResponse []exchange.ModifyResponseFunc

	upstreams *upstreams
	trusted   []*net.IPNet
	metrics   *web.Metrics
	log       *slog.Logger
}

// NewProxy builds a proxy with a keep-alive client per upstream and the
// given connect, response-header and idle timeouts.
func NewProxy(o ProxyOptions, m *web.Metrics, log *slog.Logger) *Proxy {
	if o.MaxConnsPerHost <= 0 {
		panic("console: ProxyOptions.MaxConnsPerHost must be positive (proxy.max_conns_per_host)")
	}
	return &Proxy{upstreams: newUpstreams(o), trusted: o.TrustedProxies, metrics: m, log: log}
}

// PruneUpstreams drops the keep-alive clients of upstreams no tenant uses
// any more (after the tenant table changed), closing their idle
// connections; inUse are the upstreams of the tenants served now. Requests
// in flight finish on the client they hold. It returns how many it dropped.
func (p *Proxy) PruneUpstreams(inUse []*url.URL) int {
	keep := make(map[string]bool, len(inUse))
	for _, u := range inUse {
		keep[originKey(u)] = true
	}
	return p.upstreams.prune(keep)
}

// CloseIdleConnections closes the idle upstream connections.
func (p *Proxy) CloseIdleConnections() { p.upstreams.closeIdle() }

// langCookie is the visitor's console language choice (zh or en); like
// every livery_* cookie it is not forwarded to the upstream.
const langCookie = render.LocaleCookie

// Handle is the Fiber handler that proxies the request to the tenant
// resolved by the tenant middleware. The upstream receives the canonical
// path (consolePath), the one sign-in and authorization decided; a path
// without one is answered 400 bad_path, and a path in Livery's own
// namespace (/_livery) that no Livery route served is answered 404: it is
// never proxied.
func (p *Proxy) Handle(c *fiber.Ctx) error {
	t := web.TenantOf(c)
	if t == nil {
		return web.Errorf(http.StatusNotFound, "unknown_host", "No console is configured for this host.")
	}
	path, err := web.ConsolePath(c)
	if err != nil {
		return err
	}
	if web.IsLiveryPath(path) {
		return web.Errorf(http.StatusNotFound, "not_found", "There is no such page.")
	}
	out, body := p.outbound(c, t, path)
	release := true
	defer func() {
		if release {
			fasthttp.ReleaseRequest(out.Request)
		}
	}()
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
	if upgrade {
		return p.upgrade(c, t, out)
	}
	fr := fasthttp.AcquireResponse()
	if err := p.upstreams.client(t.Upstream).Do(out.Request, fr); err != nil {
		fasthttp.ReleaseResponse(fr)
		return p.roundTripError(c, t, err, body)
	}
	release = false // the response body releases it
	return p.respond(c, t, newResponse(out, fr, out.Request, nil))
}

// newResponse wraps an upstream response for the hooks. Its body releases
// fr and, when set, the request release and the dedicated connection conn.
func newResponse(out *exchange.Outbound, fr *fasthttp.Response, release *fasthttp.Request, conn net.Conn) *exchange.Response {
	fr.Header.SetNoDefaultContentType(true) // a response without Content-Type stays without one
	body := &exchangeBody{fr: fr, out: release, conn: conn, stream: fr.BodyStream()}
	if body.stream == nil {
		body.stream = bytes.NewReader(fr.Body())
	}
	return &exchange.Response{Out: out, StatusCode: fr.StatusCode(), Header: &fr.Header, Body: body,
		ContentLength: max(int64(fr.Header.ContentLength()), -1)}
}

// respond runs the response hooks and copies the response to the client.
func (p *Proxy) respond(c *fiber.Ctx, t *tenants.Tenant, resp *exchange.Response) error {
	for _, fn := range p.ModifyResponse {
		if err := fn(resp); err != nil {
			resp.Body.Close()
			if errors.Is(err, exchange.ErrUpstreamBody) {
				p.metrics.UpstreamErrors.WithLabelValues(t.ID, "body").Inc()
				return &web.Error{Status: http.StatusBadGateway, Code: "upstream_body",
					Message: "The console's response was cut short. Please try again.", Err: err}
			}
			p.metrics.UpstreamErrors.WithLabelValues(t.ID, "modify").Inc()
			return &web.Error{Status: http.StatusBadGateway, Code: "bad_gateway",
				Message: "The console returned a response that could not be processed.", Err: err}
		}
	}
	p.copyResponse(c, t, resp)
	return nil
}

// exchangeBody is the upstream body of an exchange: Close ends the stream
// (a pooled connection goes back to the pool only when the body was fully
// read; a dedicated one is closed) and releases the request and response.
type exchangeBody struct {
	fr     *fasthttp.Response
	out    *fasthttp.Request // nil when the caller releases it
	conn   net.Conn          // the dedicated connection, nil when pooled
	stream io.Reader
}

func (b *exchangeBody) Read(p []byte) (int, error) {
	if b.stream == nil {
		return 0, io.ErrClosedPipe
	}
	return b.stream.Read(p)
}

func (b *exchangeBody) Close() error {
	if b.fr == nil {
		return nil
	}
	err := b.fr.CloseBodyStream()
	fasthttp.ReleaseResponse(b.fr)
	if b.out != nil {
		fasthttp.ReleaseRequest(b.out)
	}
	if b.conn != nil {
		err = errors.Join(err, b.conn.Close())
	}
	b.fr, b.out, b.conn, b.stream = nil, nil, nil, nil
	return err
}

// outbound builds the upstream request: target URL (the upstream's base
// path joined with the canonical request path, sent exactly as it is),
// cleaned headers, X-Forwarded-*, and the streaming request body.
func (p *Proxy) outbound(c *fiber.Ctx, t *tenants.Tenant, path string) (*exchange.Outbound, *clientBody) {
	req := fasthttp.AcquireRequest()
	req.Header.SetNoDefaultContentType(true)
	req.Header.SetMethod(c.Method())
	req.SetRequestURI(upstreamURI(t.Upstream, path, c.Request().URI().QueryString()))
	req.URI().DisablePathNormalizing = true // pooled and upgrade connections alike
	trusted := web.PeerTrusted(c, p.trusted)
	copyRequestHeaders(&req.Header, c, trusted)
	p.setForwarded(&req.Header, c, trusted)
	req.Header.Set(fiber.HeaderXRequestID, web.RequestIDOf(c))
	out := &exchange.Outbound{Request: req, Tenant: t, Session: web.SessionOf(c), Preview: preview.Of(c),
		Lang: c.Cookies(langCookie), RequestID: web.RequestIDOf(c), Origin: t.Upstream.Scheme + "://" + t.Upstream.Host}
	out.Delegation, _ = c.Locals(web.LocalDelegation).(*exchange.Delegation)

	var body *clientBody
	switch n := c.Request().Header.ContentLength(); {
	case n == 0 || n == -2: // no body
	default:
		if stream := c.Context().RequestBodyStream(); stream != nil {
			body = &clientBody{r: stream, want: int64(n)}
			req.SetBodyStream(body, n) // -1: chunked
		}
	}
	return out, body
}

// upstreamURI is the upstream's scheme://host, its base path and the
// canonical request path, and the query as received.
func upstreamURI(u *url.URL, path string, query []byte) string {
	base := strings.TrimSuffix(u.EscapedPath(), "/")
	var b strings.Builder
	b.Grow(len(u.Scheme) + 3 + len(u.Host) + len(base) + len(path) + 1 + len(query))
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(u.Host)
	b.WriteString(base)
	b.WriteString(path)
	if len(query) > 0 {
		b.WriteByte('?')
		b.Write(query)
	}
	return b.String()
}

// copyRequestHeaders copies inbound headers except:
//   - every header whose name has a character other than a letter, a digit
//     or "-" ("X_Livery_User", "X.Forwarded.For"): CGI-style servers (WSGI,
//     PHP, Rack) read "_" and other punctuation as "-", so such a name can
//     impersonate any header Livery strips or sets (nginx drops them too);
//   - hop-by-hop headers, those named by Connection, Host, Content-Length;
//   - every X-Livery-* header, from anyone: identity headers are set by
//     Livery alone;
//   - method-override headers (isMethodOverride), from anyone: the method
//     authorized is the method sent, and frameworks that honour
//     X-HTTP-Method-Override would run another;
//   - unless the peer is a trusted proxy, every forwarding header
//     (isForwardingHeader): setForwarded sets X-Forwarded-For/-Proto/-Host
//     afresh.
//
// Livery's own cookies (sessions, login state) are removed from Cookie: the
// upstream never sees a session id.
func copyRequestHeaders(dst *fasthttp.RequestHeader, c *fiber.Ctx, trusted bool) {
	hdr := &c.Request().Header
	connTokens := connectionTokens(string(hdr.Peek(fiber.HeaderConnection)))
	hdr.VisitAll(func(k, v []byte) {
		if !plainHeaderName(k) || headerIs(k, "Host") || headerIs(k, "Content-Length") || isHopByHopBytes(k) ||
			connTokens != nil && connTokens[strings.ToLower(string(k))] || IsLiveryHeader(string(k)) ||
			isMethodOverride(k) || !trusted && isForwardingHeader(k) {
			return
		}
		if headerIs(k, "Cookie") {
			if v = withoutLiveryCookies(v); len(v) == 0 {
				return
			}
		}
		dst.AddBytesKV(k, v)
	})
}

// headerIs reports whether the header name k is name, ignoring case.
func headerIs(k []byte, name string) bool {
	return len(k) == len(name) && strings.EqualFold(string(k), name) // no allocation: the conversion is only compared
}

// hopByHopNames are the headers that describe one connection, not the
// message (RFC 9110 section 7.6.1, plus Proxy-Connection and Keep-Alive).
var hopByHopNames = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func isHopByHopBytes(k []byte) bool {
	for _, n := range hopByHopNames {
		if headerIs(k, n) {
			return true
		}
	}
	return false
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
// else they are set afresh (copyRequestHeaders dropped every forwarding
// header).
func (p *Proxy) setForwarded(h *fasthttp.RequestHeader, c *fiber.Ctx, trusted bool) {
	peer := c.Context().RemoteIP()
	proto := "http"
	if c.Context().IsTLS() {
		proto = "https"
	}
	if !trusted {
		h.Set("X-Forwarded-For", peer.String())
		h.Set("X-Forwarded-Proto", proto)
		h.Set("X-Forwarded-Host", string(c.Request().Host()))
		return
	}
	var prior []string
	for _, v := range h.PeekAll("X-Forwarded-For") {
		prior = append(prior, string(v))
	}
	if len(prior) > 0 {
		h.Set("X-Forwarded-For", strings.Join(prior, ", ")+", "+peer.String())
	} else {
		h.Set("X-Forwarded-For", peer.String())
	}
	if len(h.Peek("X-Forwarded-Proto")) == 0 {
		h.Set("X-Forwarded-Proto", proto)
	}
	if len(h.Peek("X-Forwarded-Host")) == 0 {
		h.Set("X-Forwarded-Host", string(c.Request().Host()))
	}
}

// roundTripError maps a failed upstream exchange. When the client failed
// to deliver its body the answer is 400 bad_request (the connection is then
// closed): a malformed body (a bad chunk size, ...) is the client's error;
// a client that went away mid-body is recorded as 499 in the access log
// and metrics (not a server error), but 499 never goes on the wire. Else:
// timeout → 504, anything else → 502.
func (p *Proxy) roundTripError(c *fiber.Ctx, t *tenants.Tenant, err error, body *clientBody) error {
	if body.failed() {
		c.Context().SetConnectionClose()
		if body.gone() {
			c.Locals(web.LocalAborted, true)
			p.metrics.ClientAborts.WithLabelValues("console", t.ID).Inc()
			return &web.Error{Status: http.StatusBadRequest, Code: "bad_request",
				Message: "The request body was not received completely.", Err: body.err}
		}
		return &web.Error{Status: http.StatusBadRequest, Code: "bad_request",
			Message: "The request body is malformed.", Err: body.err}
	}
	kind, status, msg := "unreachable", http.StatusBadGateway, "The console is temporarily unreachable. Please try again shortly."
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrTimeout) ||
		errors.Is(err, fasthttp.ErrDialTimeout) || errors.As(err, &ne) && ne.Timeout():
		kind, status, msg = "timeout", http.StatusGatewayTimeout, "The console did not respond in time. Please try again shortly."
	case errors.Is(err, syscall.ECONNREFUSED):
		kind = "refused"
	}
	p.metrics.UpstreamErrors.WithLabelValues(t.ID, kind).Inc()
	return &web.Error{Status: status, Code: "upstream_" + kind, Message: msg, Err: err}
}

// clientBody is the inbound request body as the upstream client reads it
// (on the handler's goroutine, while sending the request). It remembers
// whether the client failed to deliver it, so that a cut upload is not
// blamed on the upstream.
type clientBody struct {
	r    io.Reader
	want int64 // Content-Length, or -1 when chunked
	n    int64
	err  error // the read error (not io.EOF) that ended the body
}

// Read reads the client's body. A failure is final: later reads return it
// again, so that a caller that drops an error returned with data (the
// upstream client does, for a chunk) cannot then take the end of the
// connection for the end of the body.
func (b *clientBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if err == io.EOF && b.want >= 0 && b.n < b.want {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

func (b *clientBody) failed() bool { return b != nil && b.err != nil }

// gone reports whether the body failed because the client stopped sending
// it (connection closed or reset, cut short, timed out) rather than because
// it was malformed.
func (b *clientBody) gone() bool {
	var ne net.Error
	if errors.Is(b.err, io.ErrUnexpectedEOF) || errors.Is(b.err, io.EOF) || errors.Is(b.err, net.ErrClosed) ||
		errors.Is(b.err, syscall.ECONNRESET) || errors.Is(b.err, syscall.EPIPE) || errors.As(b.err, &ne) {
		return true
	}
	// A chunked body cut at a chunk's end: fasthttp.ErrBrokenChunk wraps
	// the read error without exposing it (no Unwrap); its text ends with
	// the cause.
	var bc fasthttp.ErrBrokenChunk
	return errors.As(b.err, &bc) && strings.HasSuffix(bc.Error(), io.EOF.Error())
}
