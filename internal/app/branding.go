package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/live"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway"
	"github.com/livery/livery/gateway/branded"
	"github.com/livery/livery/gateway/preview"
	"github.com/livery/livery/internal/config"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/notify"
)

// brandingParts are the branding workflow, the live cache shared by the
// injector, and the gateway options built on them.
type brandingParts struct {
	workflow *workflow.Service
	live     *live.Cache
	options  *gateway.BrandingOptions
	events   *notify.EventWebhook // nil: events are logged
	notifier notify.EventNotifier // the partner event notifier (also delegation's)
}

// buildBranding wires the branding workflow on the object store, the live
// branding cache (Redis pub/sub between instances), the chrome renderer
// and preview. Errors name the setting that is wrong.
func buildBranding(cfg *config.Config, svc *services, idp *identityParts, log *slog.Logger) (*brandingParts, error) {
	b := cfg.Branding
	hol, err := workflow.NewHolidays(b.Holidays, b.Workdays)
	if err != nil {
		return nil, fmt.Errorf("branding.holidays: %w", err)
	}
	loc := time.UTC
	if b.Timezone != "" {
		if loc, err = time.LoadLocation(b.Timezone); err != nil {
			return nil, fmt.Errorf("branding.timezone: %w", err)
		}
	}
	opts := workflow.Options{Validate: branding.ValidateOptions{AllowLoopbackHTTP: b.AllowLoopbackLinks},
		Holidays: hol, Location: loc, Logger: log.With("component", "branding")}
	// The cache reads through a service without a notifier; the service the
	// admin API uses tells the cache (and so every instance) about changes.
	cache := live.New(workflow.New(svc.store, opts), svc.rdb, live.Options{Logger: log.With("component", "branding-live")})
	opts.Notifier = cache
	events, hook, err := brandingEvents(b.Notify, log)
	if err != nil {
		return nil, fmt.Errorf("branding.notify: %w", err)
	}
	opts.Announcer = announcer{n: events}
	wf := workflow.New(svc.store, opts)

	up, err := upstreamOf(b)
	if err != nil {
		return nil, err
	}
	chrome := branded.NewChrome(cache, up)
	if idp.admin != nil {
		idp.admin.Upstream = up // the web UI's previews render as the console does
	}
	reg := svc.tenants
	chrome.Names = func(tenant, locale string) string {
		t, ok := reg.ByID(tenant)
		if !ok {
			return ""
		}
		if locale == render.LocaleZH {
			return t.Name.ZH
		}
		return t.Name.EN
	}
	o := &gateway.BrandingOptions{
		Chrome:       chrome,
		CookieSecure: cfg.Sessions.CookieSecure,
		Assets:       branded.WorkflowAssets{Images: wf, Chrome: chrome},
		Workflow:     wf,
		Preview: &preview.Options{Redis: svc.rdb, Sessions: idp.sessions, Docs: preview.FromWorkflow{W: wf},
			Tenants: reg, ConsoleURL: consoleURL(cfg), CookieSecure: cfg.Sessions.CookieSecure,
			Audit: wf, Logger: log.With("component", "preview")},
	}
	return &brandingParts{workflow: wf, live: cache, options: o, events: hook, notifier: events}, nil
}

// run keeps the live cache subscribed until ctx ends, after warming it
// with every tenant so that the first page of each is branded.
func (p *brandingParts) run(ctx context.Context, tenantIDs []string, log *slog.Logger) {
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := p.live.Warm(wctx, tenantIDs); err != nil {
			log.Warn("branding: could not load every tenant's live branding at start; pages are served unbranded until it loads", "err", err)
		}
		cancel()
		if err := p.live.Run(ctx); err != nil {
			log.Error("branding: live cache stopped; approvals reach this instance only by the periodic refresh", "err", err)
		}
	}()
}

// consoleURL derives a tenant console's external base URL (for preview
// links): its first host, https unless cookies are insecure (plain-HTTP
// development), with the console listener's port when it is not the
// scheme's default and the host names no port.
func consoleURL(cfg *config.Config) func(t *tenants.Tenant) string {
	scheme, port := "https", ""
	if !cfg.Sessions.CookieSecure {
		scheme = "http"
	}
	if _, p, err := net.SplitHostPort(cfg.Console.Addr); err == nil && p != "" && p != "0" &&
		!(scheme == "https" && p == "443") && !(scheme == "http" && p == "80") {
		port = p
	}
	return func(t *tenants.Tenant) string {
		host := t.Hosts[0]
		if port != "" && !strings.Contains(host, ":") {
			host += ":" + port
		}
		return scheme + "://" + host
	}
}

// upstreamOf builds the renderer's view of the upstream console from the
// configuration; errors name the setting (branding.console.menus.info).
func upstreamOf(b config.Branding) (render.Upstream, error) {
	up := render.DefaultUpstream()
	if l := b.CloudLogo; l != (config.CloudLogo{}) {
		up.CloudLogo = render.CloudLogo{URLZH: l.URLZH, URLEN: l.URLEN, AltZH: l.AltZH, AltEN: l.AltEN}
	}
	if c := b.Console; c != nil {
		up.Menus = render.MenuSelectors{Info: c.Menus.Info, Resources: c.Menus.Resources, User: c.Menus.User, Custom: c.Menus.Custom}
		up.Ops = render.OpsSelectors{Announcements: c.Ops.Announcements, Activities: c.Ops.Activities, Recommended: c.Ops.Recommended}
		up.Nav, up.Logo = c.Nav, c.Logo
		if c.DefaultNavColor != "" {
			up.DefaultNavColor = c.DefaultNavColor
		}
	}
	if err := render.ValidateUpstream(up); err != nil {
		var problems []error
		for _, e := range unwrapAll(err) {
			var ue *render.UpstreamError
			if errors.As(e, &ue) {
				field := "branding.console." + ue.Field
				if strings.HasPrefix(ue.Field, "cloud_logo") {
					field = "branding." + ue.Field
				}
				problems = append(problems, errors.New(field+": "+ue.Message))
			}
		}
		if len(problems) == 0 {
			return up, fmt.Errorf("branding: %w", err)
		}
		return up, errors.Join(problems...)
	}
	return up, nil
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
