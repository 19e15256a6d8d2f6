package console

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/livery/livery/gateway/exchange"
	"github.com/livery/livery/tenants"
)

// copyResponse copies status and end-to-end headers and hands the body to
// the server as a stream, never held in memory, except a body a response
// hook already holds whole (heldBody: a branded document of known small
// length), which is copied into the server's response buffer.
func (p *Proxy) copyResponse(c *fiber.Ctx, t *tenants.Tenant, resp *exchange.Response) {
	h := &c.Response().Header
	h.SetNoDefaultContentType(true)
	copyResponseHeaders(h, resp.Header)
	c.Status(resp.StatusCode)
	noBody := c.Method() == http.MethodHead || resp.StatusCode == http.StatusNoContent ||
		resp.StatusCode == http.StatusNotModified || resp.StatusCode < 200
	if noBody {
		resp.Body.Close()
		if resp.ContentLength >= 0 && c.Method() == http.MethodHead {
			h.SetContentLength(int(resp.ContentLength))
		}
		c.Response().SkipBody = true
		return
	}
	if hb, ok := resp.Body.(heldBody); ok && resp.ContentLength >= 0 {
		// A document held whole (a branded page of known length): its
		// pieces go into the server's pooled response buffer, so headers and
		// body leave in one write (writev), and the upstream connection and
		// the page buffer are released before the client is written to.
		r := c.Response()
		for _, piece := range hb.Pieces() {
			r.AppendBody(piece)
		}
		if err := resp.Body.Close(); err != nil {
			p.log.Debug("closing a held upstream body", "request_id", resp.Out.RequestID, "err", err)
		}
		return
	}
	body := &upstreamBody{rc: resp.Body, p: p, tenant: t.ID, requestID: resp.Out.RequestID}
	c.Context().SetBodyStream(body, int(resp.ContentLength)) // -1: chunked
}

// heldBody is a response body already held whole in memory, as its pieces
// in order (branded.wholeBody). Pieces is called before any Read; the
// pieces stay valid until Close.
type heldBody interface {
	io.ReadCloser
	Pieces() [][]byte
}

// copyResponseHeaders copies the upstream's end-to-end headers: not
// hop-by-hop ones or those named by Connection, not Content-Length (the
// server frames the body) or Date, and no Set-Cookie for Livery's cookies.
func copyResponseHeaders(dst *fasthttp.ResponseHeader, src *fasthttp.ResponseHeader) {
	connTokens := connectionTokens(string(src.Peek(fiber.HeaderConnection)))
	src.VisitAll(func(k, v []byte) {
		if isHopByHopBytes(k) || connTokens != nil && connTokens[strings.ToLower(string(k))] ||
			headerIs(k, "Content-Length") || headerIs(k, "Date") {
			return
		}
		if headerIs(k, "Set-Cookie") && setsLiveryCookie(string(v)) {
			return // the upstream cannot plant or clear Livery's cookies
		}
		dst.AddBytesKV(k, v)
	})
}

// upstreamBody streams the upstream response to the client. The server
// closes it when the client has the whole body or went away; which of the
// two happened decides the metric.
type upstreamBody struct {
	rc        io.ReadCloser
	p         *Proxy
	tenant    string
	requestID string
	n         int64
	eof       bool
	readErr   error
	once      sync.Once
}

func (b *upstreamBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.readErr = err
	}
	return n, err
}

// WriteTo copies the body to w through a pooled buffer. The server uses it
// instead of handing the body to the connection's ReadFrom, which
// allocates a copy buffer per response.
func (b *upstreamBody) WriteTo(w io.Writer) (int64, error) {
	pb := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(pb)
	var n int64
	for {
		m, err := b.Read(*pb)
		if m > 0 {
			k, werr := w.Write((*pb)[:m])
			n += int64(k)
			if werr != nil {
				return n, werr
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// copyBufs are the buffers streamed bodies are copied through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

func (b *upstreamBody) Close() error {
	b.once.Do(func() {
		b.rc.Close()
		switch {
		case b.readErr != nil:
			b.p.metrics.UpstreamErrors.WithLabelValues(b.tenant, "body").Inc()
			b.p.log.Warn("upstream body failed", "request_id", b.requestID, "tenant", b.tenant,
				"bytes", b.n, "err", b.readErr)
		case !b.eof:
			b.p.metrics.ClientAborts.WithLabelValues("console", b.tenant).Inc()
			b.p.log.Debug("client went away during response", "request_id", b.requestID, "bytes", b.n)
		}
	})
	return nil
}

// upgrade sends a protocol-switch request (WebSocket) on a dedicated
// connection. A 101 is tunnelled: the client gets the upstream's 101 on
// the raw connection and bytes are copied both ways until either side
// closes. Any other answer is an ordinary response.
func (p *Proxy) upgrade(c *fiber.Ctx, t *tenants.Tenant, out *exchange.Outbound) error {
	conn, br, err := p.upstreams.dialUpgrade(t.Upstream)
	if err != nil {
		return p.roundTripError(c, t, err, nil)
	}
	bw := bufio.NewWriter(conn)
	if err := out.Write(bw); err == nil {
		err = bw.Flush()
	}
	fr := fasthttp.AcquireResponse()
	fr.StreamBody = true
	_ = conn.SetReadDeadline(time.Now().Add(p.upstreams.o.ResponseHeaderTimeout))
	if err == nil {
		err = fr.Read(br)
	}
	if err != nil {
		conn.Close()
		fasthttp.ReleaseResponse(fr)
		return p.roundTripError(c, t, err, nil)
	}
	_ = conn.SetReadDeadline(time.Time{})
	if fr.StatusCode() != http.StatusSwitchingProtocols {
		return p.respond(c, t, newResponse(out, fr, nil, conn))
	}
	head := &strings.Builder{}
	fmt.Fprintf(head, "HTTP/1.1 101 %s\r\n", http.StatusText(http.StatusSwitchingProtocols))
	fr.Header.VisitAll(func(k, v []byte) {
		fmt.Fprintf(head, "%s: %s\r\n", k, v)
	})
	head.WriteString("\r\n")
	fasthttp.ReleaseResponse(fr)
	tenantID, rid := t.ID, out.RequestID
	c.Status(http.StatusSwitchingProtocols)
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(client net.Conn) {
		defer conn.Close()
		_ = client.SetDeadline(time.Time{})
		if _, err := io.WriteString(client, head.String()); err != nil {
			return
		}
		done := make(chan struct{}, 2)
		go func() { _, _ = io.Copy(conn, client); done <- struct{}{} }()
		go func() { _, _ = io.Copy(client, br); done <- struct{}{} }() // br holds bytes read past the 101
		<-done                                                         // either side closed: tear both down
		client.Close()
		conn.Close()
		<-done
		p.log.Debug("tunnel closed", "request_id", rid, "tenant", tenantID)
	})
	return nil
}

// setsLiveryCookie reports whether a Set-Cookie value names a Livery cookie.
func setsLiveryCookie(v string) bool {
	name, _, _ := strings.Cut(v, "=")
	return IsLiveryCookie(strings.TrimSpace(name))
}
