package console

import (
	"bufio"
	"crypto/tls"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// upstreams keeps one fasthttp client per upstream origin. The client runs
// the whole exchange on the calling goroutine (no transport goroutines or
// hand-offs per request) and streams response bodies.
type upstreams struct {
	o       ProxyOptions
	mu      sync.Mutex
	clients map[string]*fasthttp.HostClient // by scheme://host
}

// upstreamReadBuffer bounds the upstream's response header size.
const upstreamReadBuffer = 64 << 10

func newUpstreams(o ProxyOptions) *upstreams {
	return &upstreams{o: o, clients: map[string]*fasthttp.HostClient{}}
}

// client returns the keep-alive client of the upstream u.
func (us *upstreams) client(u *url.URL) *fasthttp.HostClient {
	key := originKey(u)
	us.mu.Lock()
	defer us.mu.Unlock()
	if hc := us.clients[key]; hc != nil {
		return hc
	}
	hc := &fasthttp.HostClient{
		Addr:                     hostPort(u),
		IsTLS:                    u.Scheme == "https",
		TLSConfig:                tlsConfig(u),
		Dial:                     us.dial,
		MaxConns:                 us.o.MaxConnsPerHost,
		MaxConnWaitTimeout:       us.o.ConnectTimeout,
		MaxIdleConnDuration:      us.o.IdleConnTimeout,
		ReadTimeout:              us.o.ResponseHeaderTimeout, // lifted at the first response byte, see headerDeadlineConn
		ReadBufferSize:           upstreamReadBuffer,
		StreamResponseBody:       true,
		DisablePathNormalizing:   true, // the path goes upstream exactly as the client escaped it
		NoDefaultUserAgentHeader: true,
		// Only requests without a body are retried (on a keep-alive
		// connection the upstream closed): a streamed body cannot be
		// replayed.
		RetryIfErr: func(req *fasthttp.Request, attempts int, err error) (bool, bool) {
			return false, attempts < 2 && !req.IsBodyStream() && len(req.Body()) == 0 &&
				(req.Header.IsGet() || req.Header.IsHead())
		},
	}
	us.clients[key] = hc
	return hc
}

// dial connects to an upstream within the connect timeout.
func (us *upstreams) dial(addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: us.o.ConnectTimeout, KeepAlive: 30 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &headerDeadlineConn{Conn: c}, nil
}

// dialUpgrade opens a dedicated connection for a protocol switch.
func (us *upstreams) dialUpgrade(u *url.URL) (net.Conn, *bufio.Reader, error) {
	c, err := us.dial(hostPort(u))
	if err != nil {
		return nil, nil, err
	}
	if u.Scheme == "https" {
		tc := tls.Client(c, tlsConfig(u))
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, nil, err
		}
		c = tc
	}
	return c, bufio.NewReaderSize(c, upstreamReadBuffer), nil
}

// closeIdle closes every client's idle connections.
// prune drops the clients of the origins not in keep (scheme://host) and
// closes their idle connections; a request still using one finishes on it.
// It returns how many it dropped.
func (us *upstreams) prune(keep map[string]bool) int {
	us.mu.Lock()
	defer us.mu.Unlock()
	n := 0
	for key, hc := range us.clients {
		if !keep[key] {
			delete(us.clients, key)
			hc.CloseIdleConnections()
			n++
		}
	}
	return n
}

// originKey is the upstreams map key of u.
func originKey(u *url.URL) string { return u.Scheme + "://" + u.Host }

func (us *upstreams) closeIdle() {
	us.mu.Lock()
	defer us.mu.Unlock()
	for _, hc := range us.clients {
		hc.CloseIdleConnections()
	}
}

func tlsConfig(u *url.URL) *tls.Config {
	return &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// headerDeadlineConn turns the client's read deadline into a response
// header timeout: the deadline set before a response is read is lifted as
// soon as the response's first byte arrives, so a long download or event
// stream is never cut by it.
type headerDeadlineConn struct {
	net.Conn
	armed bool
}

func (c *headerDeadlineConn) SetReadDeadline(t time.Time) error {
	c.armed = !t.IsZero()
	return c.Conn.SetReadDeadline(t)
}

func (c *headerDeadlineConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.armed {
		c.armed = false
		_ = c.Conn.SetReadDeadline(time.Time{})
	}
	return n, err
}
