// Package gateway is Livery's HTTP edge: the console listener (tenant by
// Host, reverse proxy to the upstream console) and the API listener
// (health, readiness, metrics; later the partner and admin APIs).
//
// It is the only package tree that imports Fiber. Handlers return errors;
// web.ErrorHandler is the one place that writes error bodies.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/livery/livery/gateway/assertion"
	"github.com/livery/livery/gateway/console"
	"github.com/livery/livery/gateway/partnerapi"
	"github.com/livery/livery/gateway/preview"
	"github.com/livery/livery/gateway/signin"
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
	Proxy   console.ProxyOptions
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
}

// TenantLookup finds a configured tenant by id.
type TenantLookup interface {
	ByID(id string) (*tenants.Tenant, bool)
}

// Gateway owns the two listeners' Fiber apps, the proxy and the metrics.
type Gateway struct {
	log     *slog.Logger
	tenants web.TenantResolver
	checks  []Check
	metrics *web.Metrics
	proxy   *console.Proxy
	console *fiber.App
	api     *fiber.App
	// trusted are the proxies whose X-Forwarded-* name the client.
	trusted []*net.IPNet
	// adminTenants is the admin API's tenant lookup (set by mountAdmin).
	adminTenants TenantLookup
}

// New builds a gateway. Routes are registered; nothing listens until Serve.
func New(o Options) *Gateway {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	g := &Gateway{log: o.Logger, tenants: o.Tenants, checks: o.Checks, metrics: web.NewMetrics()}
	g.trusted = o.Proxy.TrustedProxies
	g.proxy = console.NewProxy(o.Proxy, g.metrics, g.log)

	// The console, in order: chain (tenant, canonical path) before any
	// route; the preview marker and Livery's branding routes; sign-in and
	// authorization; Livery's sign-in routes; the proxy. Livery's routes
	// under /_livery are the whole table of its own paths: the proxy
	// answers any other /_livery path 404 (docs/security.md).
	g.console = fiber.New(fiberConfig(o.Console, web.ErrorHandler(g.log, false), true))
	g.chain(g.console, "console", true)
	var pv *preview.Service
	if o.Branding != nil {
		pv = g.mountBrandingConsole(*o.Branding)
	}
	if o.Identity != nil {
		id := signin.NewCustomer(*o.Identity, g.log, g.trusted)
		g.console.Use(id.Authenticate)
		g.console.Get(web.LiveryPrefix+"login", id.Login)
		g.console.Get(web.LiveryPrefix+"callback", id.Callback)
		g.console.Get(web.LiveryPrefix+"logout", id.Logout)
		g.console.Post(web.LiveryPrefix+"logout", id.Logout)
		g.console.Get(web.LiveryPrefix+"logged-out", id.LoggedOut)
		g.console.Post(web.LiveryPrefix+"backchannel-logout", id.BackchannelLogout)
	}
	if o.Assertions != nil {
		g.proxy.Rewrite = append(g.proxy.Rewrite, o.Assertions.IdentityHeaders)
	}
	g.console.Use(g.proxy.Handle)

	g.api = fiber.New(fiberConfig(o.API, web.ErrorHandler(g.log, true, partnerapi.Codes), false))
	g.chain(g.api, "api", false)
	g.api.Get("/healthz", g.healthz)
	g.api.Get("/readyz", g.readyz)
	g.api.Get("/metrics", g.metricsHandler())
	if o.Assertions != nil {
		g.api.Get("/.well-known/jwks.json", o.Assertions.JWKSHandler)
	}
	if o.Admin != nil {
		v1 := g.mountAdmin(*o.Admin)
		if o.Branding != nil && o.Branding.Workflow != nil {
			g.mountAdminBranding(v1, o.Admin.Authorizer, o.Branding.Workflow, pv)
		}
	}
	if o.Partner != nil {
		partnerapi.Mount(g.api, *o.Partner, g.log, g.metrics.Registry)
	}
	return g
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
		StreamRequestBody:            streaming,
		DisablePreParseMultipartForm: true,
		DisableDefaultContentType:    true,
	}
}

// Proxy returns the console reverse proxy, for installing hooks.
func (g *Gateway) Proxy() *console.Proxy { return g.proxy }

// Metrics returns the gateway's metrics.
func (g *Gateway) Metrics() *web.Metrics { return g.metrics }

// ConsoleApp and APIApp expose the Fiber apps (tests use app.Test).
func (g *Gateway) ConsoleApp() *fiber.App { return g.console }

// APIApp returns the API listener's app.
func (g *Gateway) APIApp() *fiber.App { return g.api }

// Serve serves the console and API listeners until Shutdown or until one
// of them fails; it returns the first failure.
func (g *Gateway) Serve(console, api net.Listener) error {
	errc := make(chan error, 2)
	go func() { errc <- g.console.Listener(console) }()
	go func() { errc <- g.api.Listener(api) }()
	err := <-errc
	if err != nil {
		_ = g.Shutdown(context.Background())
	}
	return err
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx expires, then closes idle upstream connections.
func (g *Gateway) Shutdown(ctx context.Context) error {
	err := errors.Join(g.console.ShutdownWithContext(ctx), g.api.ShutdownWithContext(ctx))
	g.proxy.CloseIdleConnections()
	return err
}
