// Package gateway is Livery's HTTP edge: the console listener (tenant by
// Host, reverse proxy to the upstream console), the API listener (partner
// API, admin API, staff sign-in, JWKS) and the operations listener
// (health, readiness, metrics, pprof).
//
// The root holds Options, New, Serve, Drain and Shutdown, and routes.go:
// the listeners' middleware chains in order and every route. Each door is a
// sub-package (console, branded, signin, partnerapi, adminapi) that only
// the root imports; doors share the plumbing in web and the leaves
// (exchange, preview, assertion, sessions). It is the only package tree
// that imports Fiber. Handlers return errors; web.ErrorHandler is the one
// place that writes error bodies.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/gateway/adminapi"
	"github.com/livery/livery/gateway/assertion"
	"github.com/livery/livery/gateway/console"
	"github.com/livery/livery/gateway/mypartners"
	"github.com/livery/livery/gateway/partnerapi"
	"github.com/livery/livery/gateway/signin"
	"github.com/livery/livery/gateway/staffui"
	"github.com/livery/livery/gateway/switchrole"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// ListenerOptions configures one Fiber listener.
type ListenerOptions struct {
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
	MaxHeaderBytes int // larger request headers are answered 431
	// WriteBufferBytes is the per-connection response buffer (0: the
	// server's default, 4 KB): a response up to this size, headers
	// included, leaves in one write.
	WriteBufferBytes int
	BodyLimit        int
}

// OpsOptions configures the operations listener: /healthz, /readyz,
// /metrics and, with Pprof, Go's profiler under /debug/pprof/. Nothing on
// it is authenticated: it belongs on the operator's network only (ops.addr,
// loopback by default).
type OpsOptions struct {
	ListenerOptions
	Pprof bool
}

// Check is a named readiness probe of a dependency (Redis, object store).
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Options are the gateway's dependencies and settings.
type Options struct {
	Logger  *slog.Logger
	Tenants web.TenantResolver
	Checks  []Check
	Console ListenerOptions
	API     ListenerOptions
	// Ops is the operations listener (ops.addr).
	Ops   OpsOptions
	Proxy console.ProxyOptions
	// Partner, when set, mounts the partner-platform API on the API listener.
	Partner *partnerapi.Options
	// Identity, when set, signs customers in on the console listener.
	Identity *signin.IdentityOptions
	// Admin, when set, mounts staff sign-in and the admin API.
	Admin *AdminOptions
	// Assertions, when set, adds identity headers and a signed assertion to
	// proxied requests and publishes the JWKS on the API listener.
	Assertions *assertion.Signer
	// Branding, when set, injects tenants' branding into console pages.
	Branding *BrandingOptions
	// MyPartners, when set (with Identity), serves the customer's
	// "My partners" pages (gateway/mypartners) on the console listener:
	// delegation.Service.
	MyPartners mypartners.Grants
	// AssociationPages, when set, serves the people-facing pages of
	// customer association: the console's invitation links, the answer to
	// a change request and Agreements (with MyPartners); the web UI's
	// invitations and the customer page's association section (with
	// Admin and the branding workflow). Usually the association.Service.
	AssociationPages AssociationPages
	// Delegation, when set (with Identity), enables delegated operation's
	// switch role: Start on the admin API (with Admin), Enter, Leave and
	// the delegated session check on the console (gateway/switchrole).
	// Page defaults to the tenant's branded pages.
	Delegation *switchrole.Options
}

// TenantLookup finds a configured tenant by id.
type TenantLookup interface {
	ByID(id string) (*tenants.Tenant, bool)
}

// AdminOptions wires staff sign-in and the admin API on the API listener.
type AdminOptions struct {
	Staff      signin.StaffOptions
	Authorizer web.Authorizer
	Customers  adminapi.Customers
	// Managers, Directory and Keys wire manager assignment, the staff
	// directory and access keys (each nil leaves its routes out).
	Managers  adminapi.Managers
	Directory adminapi.Staff
	Keys      adminapi.Keys
	// Delegations wires the partner's side of delegated operations (the
	// admin API's .../delegations and .../delegation-agreement and the web
	// UI's pages); nil leaves them out. Usually the delegation.Service.
	Delegations Delegations
	// Associations wires the partner's side of the customer association
	// lifecycle in the admin API (invitations, association changes,
	// manager periods); nil leaves it out. Usually the association.Service.
	// InvitationLink is an invitation's link on a tenant's console.
	Associations   adminapi.Associations
	InvitationLink func(tenant, token string) string
	// Tenants tells configured tenants from unknown ones; nil: the
	// gateway's tenant resolver, which must then implement it. The web UI
	// (mounted with the branding workflow) also lists them: it needs All.
	Tenants TenantLookup
	// Upstream is the console's chrome settings: the web UI's branding
	// previews render with them, as the console does.
	Upstream render.Upstream
	// Records, when set, serves the tenant records: the admin API's
	// /tenants and the web UI's partner and integration pages. Usually the
	// records.Store.
	Records TenantRecords
	// ProbeIssuer tests a tenant's sign-in provider (with Records); nil:
	// signin.ProbeIssuer.
	ProbeIssuer func(ctx context.Context, issuer string) error
	// APIStats, when set, serves the partner API request summary
	// (apistats.Stats; the partner API's Options.Stats records into it).
	APIStats APIStats
}

// TenantRecords is what the admin API and the web UI need of the tenant
// records (records.Store has it all).
type TenantRecords interface {
	adminapi.TenantRecords
	staffui.TenantRecords
}

// APIStats is the partner API request summary of the admin API and the
// web UI (apistats.Stats).
type APIStats interface {
	adminapi.APIStats
	staffui.APIStats
}

// Delegations is what the admin API and the web UI need of delegated
// operations (delegation.Service has it all).
type Delegations interface {
	adminapi.Delegations
	staffui.Delegations
}

// AssociationPages is what the console's "My partners" and the web UI
// need of customer association (association.Service has it all).
type AssociationPages interface {
	mypartners.Associations
	staffui.Associations
}

// Gateway owns the three listeners' Fiber apps, the proxy and the metrics.
type Gateway struct {
	log     *slog.Logger
	tenants web.TenantResolver
	checks  []Check
	metrics *web.Metrics
	proxy   *console.Proxy
	console *fiber.App
	api     *fiber.App
	ops     *fiber.App
	// draining is set by Drain: /readyz answers 503 from then on.
	draining atomic.Bool
	// apiErrors is the API listener's error handler, with the error tables
	// of the doors the route table mounted there.
	apiErrors fiber.ErrorHandler
	// trusted are the proxies whose X-Forwarded-* name the client.
	trusted []*net.IPNet
	// consolePage, set by routes when branding is on, renders the console
	// listener's error pages for browsers (in the tenant's chrome).
	consolePage func(c *fiber.Ctx, e *web.Error, requestID string) error
	// closers stop what routes started (pub/sub listeners), at Shutdown.
	closers []func()
	// forgetters drop a tenant's series from what routes registered
	// (TenantsChanged calls them for tenants that left the table).
	forgetters []func(tenant string)
}

// New builds a gateway. Routes are registered; nothing listens until Serve.
func New(o Options) *Gateway {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	g := &Gateway{log: o.Logger, tenants: o.Tenants, checks: o.Checks, metrics: web.NewMetrics()}
	g.trusted = o.Proxy.TrustedProxies
	g.proxy = console.NewProxy(o.Proxy, g.metrics, g.log)

	// Every console path: Livery's own error pages carry the tenant's chrome.
	consolePages := web.CodeTable{Prefix: "/", Page: g.renderConsoleError}
	g.console = fiber.New(fiberConfig(o.Console, web.ErrorHandler(g.log, false, consolePages), true))
	g.api = fiber.New(fiberConfig(o.API, func(c *fiber.Ctx, err error) error { return g.apiErrors(c, err) }, false))
	g.ops = newOpsApp(o.Ops, web.ErrorHandler(g.log, true))
	g.routes(o)
	return g
}

// renderConsoleError is the console listener's error page: consolePage
// when routes installed one; an error makes web.ErrorHandler write the
// plain page.
func (g *Gateway) renderConsoleError(c *fiber.Ctx, e *web.Error, requestID string) error {
	if g.consolePage == nil {
		return errNoConsolePage
	}
	return g.consolePage(c, e, requestID)
}

var errNoConsolePage = errors.New("gateway: no branded console page")

// Drain starts a graceful shutdown: from now on /readyz answers 503
// ("status":"draining") without probing anything, while every listener
// keeps serving, so that load balancers take this instance out before
// Shutdown closes the listeners. It cannot be undone.
func (g *Gateway) Drain() { g.draining.Store(true) }

// Draining reports whether Drain was called.
func (g *Gateway) Draining() bool { return g.draining.Load() }

func newOpsApp(o OpsOptions, eh fiber.ErrorHandler) *fiber.App {
	return fiber.New(fiberConfig(o.ListenerOptions, eh, false))
}

func fiberConfig(o ListenerOptions, eh fiber.ErrorHandler, streaming bool) fiber.Config {
	return fiber.Config{
		ErrorHandler:          eh,
		DisableStartupMessage: true,
		ReadBufferSize:        o.MaxHeaderBytes,
		WriteBufferSize:       o.WriteBufferBytes,
		ReadTimeout:           o.ReadTimeout,
		WriteTimeout:          o.WriteTimeout,
		IdleTimeout:           o.IdleTimeout,
		BodyLimit:             o.BodyLimit,
		// The console listener streams bodies larger than BodyLimit to the
		// upstream instead of refusing them, and never parses forms itself.
		StreamRequestBody: streaming,
		// An idle keep-alive connection holds no buffers: the read and
		// write buffers (max_header_bytes, write_buffer_bytes) and the
		// request context go back to their pools between requests, so a
		// connection waiting for its next request costs its goroutine and
		// socket only (docs/performance.md section 5).
		ReduceMemoryUsage:            true,
		DisablePreParseMultipartForm: true,
		DisableDefaultContentType:    true,
	}
}

// Proxy returns the console reverse proxy, for installing hooks.
func (g *Gateway) Proxy() *console.Proxy { return g.proxy }

// TenantsChanged is the tenant table's swap hook: the metric series of
// tenants no longer served are dropped (label sets stay bounded as tenants
// come and go) and so are the upstream clients no tenant uses any more.
// before is nil at the first table.
func (g *Gateway) TenantsChanged(before, after *tenants.Registry) {
	if before != nil {
		for _, t := range before.All() {
			if _, ok := after.ByID(t.ID); !ok {
				g.metrics.ForgetTenant(t.ID)
				for _, f := range g.forgetters {
					f(t.ID)
				}
			}
		}
	}
	inUse := make([]*url.URL, 0, len(after.All()))
	for _, t := range after.All() {
		inUse = append(inUse, t.Upstream)
	}
	if n := g.proxy.PruneUpstreams(inUse); n > 0 {
		g.log.Info("tenants changed: closed the clients of upstreams no tenant uses", "upstreams", n)
	}
}

// Metrics returns the gateway's metrics.
func (g *Gateway) Metrics() *web.Metrics { return g.metrics }

// ConsoleApp and APIApp expose the Fiber apps (tests use app.Test).
func (g *Gateway) ConsoleApp() *fiber.App { return g.console }

// APIApp returns the API listener's app.
func (g *Gateway) APIApp() *fiber.App { return g.api }

// Serve serves the console, API and operations listeners (ops nil: none)
// until Shutdown or until one of them fails; it returns the first failure.
func (g *Gateway) Serve(console, api, ops net.Listener) error {
	errc := make(chan error, 3)
	go func() { errc <- g.console.Listener(console) }()
	go func() { errc <- g.api.Listener(api) }()
	if ops != nil {
		go func() { errc <- g.ops.Listener(ops) }()
	}
	err := <-errc
	if err != nil {
		_ = g.Shutdown(context.Background())
	}
	return err
}

// Shutdown stops accepting connections on every listener and waits for
// in-flight requests until ctx expires, then closes idle upstream
// connections. Call Drain first (and wait) for a graceful exit behind a
// load balancer.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.Drain()
	err := errors.Join(g.console.ShutdownWithContext(ctx), g.api.ShutdownWithContext(ctx), g.ops.ShutdownWithContext(ctx))
	g.proxy.CloseIdleConnections()
	for _, c := range g.closers {
		c()
	}
	g.closers = nil
	return err
}
