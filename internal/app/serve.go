// Package app wires one Livery process: configuration → stores and
// services → gateway. This package is the only place that chooses
// implementations. cmd/livery (the production binary) and cmd/demo (the
// quickstart) build their process with it; it never imports the demo.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/console"
	"github.com/livery/livery/internal/config"
	"github.com/livery/livery/internal/logbuf"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/tenants"
)

// NewLogger builds the process logger on w: lines are batched as
// c.BufferBytes and c.FlushInterval say (warnings and errors go out at
// once). The returned function writes what is still buffered; call it
// before exiting.
func NewLogger(c config.Log, w io.Writer) (*slog.Logger, func()) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	bw := logbuf.New(w, c.BufferBytes, c.FlushInterval)
	var h slog.Handler
	if c.Format == "text" {
		h = slog.NewTextHandler(bw, opts)
	} else {
		h = slog.NewJSONHandler(bw, opts)
	}
	return slog.New(logbuf.Handler(h, bw, slog.LevelWarn)), func() { _ = bw.Close() }
}

// Listeners are pre-bound console, API and operations listeners (the demo
// binds them first so that it knows every URL before configuring sign-in).
// Ops may be nil: the operations listener is then bound from ops.addr.
type Listeners struct{ Console, API, Ops net.Listener }

// Options are what a process adds to its configuration.
type Options struct {
	// Listeners, when set, are served instead of binding cfg's addresses.
	// The App owns them from then on (Close closes them, also when Build
	// fails).
	Listeners *Listeners
	// Version is logged when serving starts.
	Version string
	// BuildInfo is exported as livery_build_info (zero: Version only).
	BuildInfo BuildInfo
}

// App is one wired gateway process: its listeners, services and gateway.
type App struct {
	cfg     *config.Config
	log     *slog.Logger
	version string
	info    BuildInfo
	lns     *Listeners
	svc     *services
	idp     *identityParts
	gw      *gateway.Gateway
	stop    context.CancelFunc // ends the background work
}

// Build binds the listeners (unless opts gives them), applies the runtime
// settings, opens the services and wires the gateway, without serving yet.
// The background work (customer index repair, policy file watch, live
// branding) runs until ctx ends or Close. Errors name the listener,
// dependency or setting that failed; on error everything Build opened (and
// opts.Listeners) is closed again.
func Build(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) (*App, error) {
	a := &App{cfg: cfg, log: log, version: opts.Version, info: opts.BuildInfo, lns: opts.Listeners}
	if a.info.Version == "" {
		a.info.Version = opts.Version
	}
	if err := a.build(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) build(ctx context.Context) error {
	cfg, log := a.cfg, a.log
	if a.lns == nil {
		var err error
		if a.lns, err = Listen(cfg); err != nil {
			return err
		}
	}
	if a.lns.Ops == nil {
		ln, err := net.Listen("tcp", cfg.Ops.Addr)
		if err != nil {
			return fmt.Errorf("ops listener: %w", err)
		}
		a.lns.Ops = ln
	}
	tuneRuntime(cfg.Runtime, os.Getenv, log)
	ctx, a.stop = context.WithCancel(ctx)
	obs := newObservability(log)
	svc, err := openServices(ctx, cfg, log, obs)
	if err != nil {
		return err
	}
	a.svc = svc
	go func() { _ = svc.tenants.Run(ctx) }()
	svc.runIndexRepair(ctx)
	idp, err := buildIdentity(cfg, svc, log)
	if err != nil {
		return err
	}
	a.idp = idp
	idp.watchPolicy(ctx, log)
	brand, err := buildBranding(cfg, svc, idp, log)
	if err != nil {
		return err
	}
	brand.run(ctx, tenantIDs(svc.tenants.All()), log) // tenants created later load on first use
	svc.branding = brand
	del, switchOpts := buildDelegation(cfg, svc, idp, brand.notifier, log)
	runDelegationReminders(ctx, del, func() []string { return tenantIDs(svc.tenants.All()) }, time.Hour, log)
	svc.delegation = del
	svc.assoc = buildAssociation(svc, del, idp.sessions, brand.notifier, log)
	svc.managers.Periods = assocPeriods{svc.assoc} // who managed a customer when
	runInvitationSweep(ctx, svc.assoc, func() []string { return tenantIDs(svc.tenants.All()) }, 10*time.Minute, log)
	if idp.admin != nil {
		idp.admin.Delegations = del // the partner's side: admin API and staff UI
		idp.admin.Associations, idp.admin.InvitationLink = svc.assoc, invitationLink(cfg, svc.tenants)
	}
	trusted, err := parseCIDRs(cfg.Proxy.TrustedProxies)
	if err != nil {
		return err
	}
	a.gw = gateway.New(gateway.Options{
		Logger:  log,
		Tenants: svc.tenants,
		Checks: []gateway.Check{
			{Name: "redis", Check: func(ctx context.Context) error { return svc.rdb.Ping(ctx).Err() }},
			{Name: "store", Check: svc.store.Ping},
			// Not ready before the change notices arrive: an instance that
			// took traffic earlier could miss a change made meanwhile
			// until its next periodic refresh.
			{Name: "notices", Check: subscribed(svc.tenants.Subscribed(), brand.live.Subscribed())},
		},
		Console: listenerOptions(cfg.Console),
		API:     listenerOptions(cfg.API),
		Ops:     gateway.OpsOptions{ListenerOptions: opsListener, Pprof: cfg.Ops.Pprof},
		Proxy: console.ProxyOptions{
			ConnectTimeout:        cfg.Proxy.ConnectTimeout,
			ResponseHeaderTimeout: cfg.Proxy.ResponseHeaderTimeout,
			IdleConnTimeout:       cfg.Proxy.IdleConnTimeout,
			MaxConnsPerHost:       cfg.Proxy.MaxConnsPerHost,
			TrustedProxies:        trusted,
		},
		Partner:    svc.partnerOptions(),
		Identity:   idp.identity,
		Admin:      idp.admin,
		Assertions: idp.assertions,
		Branding:   brand.options,
		Delegation: switchOpts,
		MyPartners: del, // the customer's side: My partners on the console
		// Customer association's pages: invitations and changes in the web
		// UI, the invitation link, the notice and the agreements on the console.
		AssociationPages: svc.assoc,
	})
	svc.swaps.add(a.gw.TenantsChanged)
	reg := a.gw.Metrics().Registry
	brand.registerEventMetrics(reg)
	obs.register(reg, a.info, svc, idp, brand)
	return nil
}

func tenantIDs(ts []*tenants.Tenant) []string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

// opsListener is the operations listener's HTTP limits (not settings: its
// requests are small, and a CPU profile or trace takes up to a minute).
var opsListener = gateway.ListenerOptions{ReadTimeout: 10 * time.Second, WriteTimeout: 2 * time.Minute,
	IdleTimeout: time.Minute, MaxHeaderBytes: 8 << 10, BodyLimit: 4 << 10}

// Serve serves the three listeners until ctx ends, then shuts down
// gracefully: /readyz answers 503 at once, the listeners keep serving for
// shutdown.drain_delay (load balancers take the instance out), then they
// close and requests in flight get shutdown.timeout to finish. It returns
// the error that stopped serving, or the shutdown's; call Close afterwards.
func (a *App) Serve(ctx context.Context) error {
	cfg := a.cfg
	a.log.Info("livery serving", "version", a.version, "console", a.lns.Console.Addr().String(),
		"api", a.lns.API.Addr().String(), "ops", a.lns.Ops.Addr().String(), "redis", a.svc.rdb.Mode,
		"store", cfg.Store.Driver, "tenants", len(a.svc.tenants.All()))
	errc := make(chan error, 1)
	go func() { errc <- a.gw.Serve(a.lns.Console, a.lns.API, a.lns.Ops) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.gw.Drain()
	a.log.Info("shutting down: draining", "drain_delay", cfg.Shutdown.DrainDelay, "timeout", cfg.Shutdown.Timeout)
	select {
	case <-time.After(cfg.Shutdown.DrainDelay):
	case err := <-errc: // a listener failed while draining
		return err
	}
	a.log.Info("shutting down: closing listeners")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Shutdown.Timeout)
	defer cancel()
	if err := a.gw.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: requests still in flight after shutdown.timeout (%s): %w", cfg.Shutdown.Timeout, err)
	}
	return nil
}

// Close stops the background work and closes the sessions, the services
// (Redis) and both listeners. It is safe on a partly built App.
func (a *App) Close() {
	if a.stop != nil {
		a.stop()
	}
	if a.idp != nil {
		a.idp.sessions.Close()
	}
	if a.svc != nil {
		a.svc.branding.closeEvents(a.log)
		a.svc.Close()
	}
	if a.lns != nil {
		a.lns.API.Close()
		a.lns.Console.Close()
		if a.lns.Ops != nil {
			a.lns.Ops.Close()
		}
	}
}

// Credentials are the partner access keys of the process's store.
func (a *App) Credentials() *tenants.Credentials { return a.svc.creds }

// BrandingWorkflow is the branding workflow the admin API uses (changes
// through it go live on every instance).
func (a *App) BrandingWorkflow() *workflow.Service { return a.svc.branding.workflow }

// Listen binds the console, API and operations listeners of cfg. Errors
// name the listener.
func Listen(cfg *config.Config) (*Listeners, error) {
	c, err := net.Listen("tcp", cfg.Console.Addr)
	if err != nil {
		return nil, fmt.Errorf("console listener: %w", err)
	}
	a, err := net.Listen("tcp", cfg.API.Addr)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("api listener: %w", err)
	}
	o, err := net.Listen("tcp", cfg.Ops.Addr)
	if err != nil {
		c.Close()
		a.Close()
		return nil, fmt.Errorf("ops listener: %w", err)
	}
	return &Listeners{Console: c, API: a, Ops: o}, nil
}

// openStore opens the configured driver behind the store.timeout deadline
// (objstore.WithTimeout): every store the process uses comes from here.
func openStore(ctx context.Context, c config.Store) (objstore.Store, error) {
	var (
		s   objstore.Store
		err error
	)
	switch c.Driver {
	case "s3":
		cctx, cancel := context.WithTimeout(ctx, c.Timeout)
		defer cancel()
		s, err = objstore.NewS3(cctx, objstore.S3Config{
			Endpoint: c.S3.Endpoint, Region: c.S3.Region, Bucket: c.S3.Bucket, UseSSL: c.S3.UseSSL,
			Credentials: c.S3.Credentials, AccessKey: c.S3.AccessKey, SecretKey: c.S3.SecretKey, CreateBucket: c.S3.CreateBucket,
		})
	case "dir":
		s, err = objstore.NewDir(c.Dir.Path)
	default:
		return nil, fmt.Errorf("unknown store driver %q", c.Driver)
	}
	if err != nil {
		return nil, err
	}
	return objstore.WithTimeout(s, c.Timeout), nil
}

func parseCIDRs(cidrs []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, c := range cidrs {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			return nil, errors.New("proxy.trusted_proxies: " + err.Error())
		}
		out = append(out, n)
	}
	return out, nil
}

func listenerOptions(l config.Listener) gateway.ListenerOptions {
	return gateway.ListenerOptions{ReadTimeout: l.ReadTimeout, WriteTimeout: l.WriteTimeout,
		IdleTimeout: l.IdleTimeout, MaxHeaderBytes: l.MaxHeaderBytes, BodyLimit: l.BodyLimit,
		WriteBufferBytes: l.WriteBufferBytes}
}

// subscribed is a readiness check: ok once every channel is closed (each
// subscriber has subscribed to its change notices once).
func subscribed(chans ...<-chan struct{}) func(context.Context) error {
	return func(context.Context) error {
		for _, ch := range chans {
			select {
			case <-ch:
			default:
				return errors.New("not yet subscribed to change notices")
			}
		}
		return nil
	}
}
