package gateway

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/tenants"
)

// copyResponse copies status and end-to-end headers and hands the body to
// the server as a stream: it is never held in memory.
func (p *Proxy) copyResponse(c *fiber.Ctx, t *tenants.Tenant, resp *http.Response) {
	h := &c.Response().Header
	h.SetNoDefaultContentType(true)
	connTokens := connectionTokens(resp.Header.Get("Connection"))
	for name, values := range resp.Header {
		if isHopByHop(name) || connTokens[strings.ToLower(name)] || name == "Content-Length" || name == "Date" {
			continue
		}
		for _, v := range values {
			if name == "Set-Cookie" && setsLiveryCookie(v) {
				continue // the upstream cannot plant or clear Livery's cookies
			}
			h.Add(name, v)
		}
	}
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
	body := &upstreamBody{rc: resp.Body, p: p, tenant: t.ID, requestID: requestID(c)}
	if cb, ok := resp.Request.Body.(*clientBody); ok {
		body.req = cb
	}
	c.Context().SetBodyStream(body, int(resp.ContentLength)) // -1: chunked
}

// upstreamBody streams the upstream response to the client. The server
// closes it when the client has the whole body or went away; which of the
// two happened decides the metric.
type upstreamBody struct {
	rc        io.ReadCloser
	p         *Proxy
	req       *clientBody
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

func (b *upstreamBody) Close() error {
	b.once.Do(func() {
		b.rc.Close()
		b.req.wait(releaseWait)
		switch {
		case b.readErr != nil:
			b.p.metrics.upstreamErrors.WithLabelValues(b.tenant, "body").Inc()
			b.p.log.Warn("upstream body failed", "request_id", b.requestID, "tenant", b.tenant,
				"bytes", b.n, "err", b.readErr)
		case !b.eof:
			b.p.metrics.clientAborts.WithLabelValues("console", b.tenant).Inc()
			b.p.log.Debug("client went away during response", "request_id", b.requestID, "bytes", b.n)
		}
	})
	return nil
}

// tunnel completes a protocol switch (WebSocket): it answers the client
// with the upstream's 101 on the raw connection and copies bytes both ways
// until either side closes.
func (p *Proxy) tunnel(c *fiber.Ctx, t *tenants.Tenant, resp *http.Response) error {
	backend, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		resp.Body.Close()
		return &Error{Status: http.StatusBadGateway, Code: "bad_gateway",
			Message: "The console's protocol switch could not be completed.", Err: fmt.Errorf("101 body is %T", resp.Body)}
	}
	head := &strings.Builder{}
	fmt.Fprintf(head, "HTTP/1.1 101 %s\r\n", http.StatusText(http.StatusSwitchingProtocols))
	resp.Header.Write(head)
	head.WriteString("\r\n")
	tenantID, rid := t.ID, requestID(c)
	c.Status(http.StatusSwitchingProtocols)
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(conn net.Conn) {
		defer backend.Close()
		_ = conn.SetDeadline(time.Time{})
		if _, err := io.WriteString(conn, head.String()); err != nil {
			return
		}
		done := make(chan struct{}, 2)
		go func() { _, _ = io.Copy(backend, conn); done <- struct{}{} }()
		go func() { _, _ = io.Copy(conn, backend); done <- struct{}{} }()
		<-done // either side closed: tear both down
		conn.Close()
		backend.Close()
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
