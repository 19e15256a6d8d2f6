package gateway

import (
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/gateway/adminapi"
	"github.com/livery/livery/gateway/branded"
	"github.com/livery/livery/gateway/mypartners"
	"github.com/livery/livery/gateway/openapi"
	"github.com/livery/livery/gateway/partnerapi"
	"github.com/livery/livery/gateway/preview"
	"github.com/livery/livery/gateway/signin"
	"github.com/livery/livery/gateway/staffui"
	"github.com/livery/livery/gateway/switchrole"
	"github.com/livery/livery/gateway/web"
)

// routes is the route table: both listeners' middleware chains, in the
// order they run, and every route. Fiber runs Use middleware and routes
// in registration order, so the order of the statements here is the
// order of the request path.
//
// Console listener (customers; the tenant is chosen by Host):
//
//	recover → request id → access log → tenant (Host checked) →
//	canonical path → suspended tenant (one page) → preview marker →
//	(delegation switch-in / switch back) →
//	sign-in and authorization (a delegated session: switchrole's check) →
//	Livery's own routes (/_livery/…) → proxy to the upstream
//
// Livery's routes under /_livery are the whole table of its own paths: the
// proxy answers any other /_livery path 404 (docs/security.md).
//
// API listener (partner platforms, staff):
//
//	recover → request id → access log → JWKS, OpenAPI documents
//	(/openapi/partner.json, /openapi/admin.json; public), staff sign-in, /admin/v1 (staff authentication → authorization),
//	/v2 (AK/SK authentication → limits)
//
// Operations listener (operators only; loopback by default):
//
//	recover → request id → /healthz, /readyz, /metrics, /debug/pprof/ (ops.pprof)
func (g *Gateway) routes(o Options) {
	signins := newSigninObserver(g.metrics.Registry)
	g.forgetters = append(g.forgetters, signins.forget)
	g.opsRoutes(o.Ops)
	c := g.console
	g.chain(c, "console", true)
	c.Use(web.SuspendedMiddleware(branded.PagePaths...)) // a suspended tenant's console: one page
	var pv *preview.Service
	if b := o.Branding; b != nil && b.Preview != nil {
		pv = preview.New(*b.Preview, g.trusted)
		c.Use(pv.Middleware)
		c.Get(preview.EnterPath, pv.Enter)
		c.Get(preview.LeavePath, pv.Leave)
	}
	var page web.PageFunc         // Livery's own console pages: in the tenant's chrome with branding
	var document web.DocumentFunc // and its richer ones (forms, tables)
	if b := o.Branding; b != nil {
		pages := branded.NewPages(b.Chrome)
		g.consolePage, page, document = pages.Error, pages.Render, pages.RenderDocument
		rewrite, modify := branded.Mount(c, branded.Options{Chrome: b.Chrome, Assets: b.Assets,
			CookieSecure: b.CookieSecure, Unbranded: g.metrics.Unbranded})
		if rewrite != nil {
			g.proxy.Rewrite = append(g.proxy.Rewrite, rewrite)
			g.proxy.ModifyResponse = append(g.proxy.ModifyResponse, modify)
		}
	}
	var sw *switchrole.Service // delegated operation's switch role
	if o.Delegation != nil && o.Identity != nil {
		do := *o.Delegation
		if do.Page == nil {
			do.Page = page
		}
		do.Trusted = g.trusted
		sw = switchrole.New(do)
		g.closers = append(g.closers, sw.Close)
		g.metrics.Registry.MustRegister(sw.Collectors()...)
		c.Get(switchrole.EnterPath, sw.Enter)
		c.Post(switchrole.LeavePath, sw.Leave)
	}
	if o.Identity != nil {
		io := *o.Identity
		io.Page = page
		if sw != nil {
			io.Delegated = sw.Check // every request of a delegated session, in place of the Authorizer
		}
		id := signin.NewCustomer(io, g.log, g.trusted)
		c.Use(id.Authenticate)
		c.Get(signin.LoginPath, id.Login)
		c.Get(signin.CallbackPath, signins.wrap("customer", id.Callback))
		c.Get(signin.LogoutPath, id.Logout)
		c.Post(signin.LogoutPath, id.Logout)
		c.Get(signin.LoggedOutPath, id.LoggedOut)
		c.Post(signin.BackchannelLogoutPath, id.BackchannelLogout)
		if id.CloudEnabled() {
			c.Get(signin.CloudLoginPath, id.CloudLogin)
			c.Get(signin.CloudCallbackPath, signins.wrap("cloud", id.CloudCallback))
			c.Post(signin.CloudBackchannelLogoutPath, id.CloudBackchannelLogout)
		}
		if o.MyPartners != nil {
			mo := mypartners.Options{Grants: o.MyPartners, Session: id.Session,
				Document: document, LoginPath: signin.LoginPath, Log: g.log}
			if o.AssociationPages != nil {
				mo.Associations = o.AssociationPages
				mo.Associated = id.Associated
				if id.CloudEnabled() {
					mo.CloudLoginPath = signin.CloudLoginPath
				}
			}
			mypartners.Mount(c, mo)
		}
	}
	if o.Assertions != nil {
		g.proxy.Rewrite = append(g.proxy.Rewrite, o.Assertions.IdentityHeaders)
	}
	c.Use(g.proxy.Handle)

	a := g.api
	g.chain(a, "api", false)
	if o.Assertions != nil {
		a.Get("/.well-known/jwks.json", o.Assertions.JWKSHandler)
	}
	openapi.Mount(a)
	tables := []web.CodeTable{partnerapi.Codes, adminapi.Codes}
	if o.Admin != nil {
		s := signin.NewStaff(o.Admin.Staff, g.trusted)
		a.Get(signin.StaffLoginPath, s.Login)
		a.Get(signin.StaffCallbackPath, signins.wrap("staff", s.Callback))
		a.Post(signin.StaffLogoutPath, s.Logout)
		a.Get(signin.StaffWhoamiPath, s.Authenticate, s.Whoami)
		ao := adminapi.Options{Authorizer: o.Admin.Authorizer, Customers: o.Admin.Customers, Tenants: g.adminTenants(o.Admin)}
		ao.Managers, ao.Staff, ao.Keys = o.Admin.Managers, o.Admin.Directory, o.Admin.Keys
		if o.Admin.Delegations != nil {
			ao.Delegations = o.Admin.Delegations
		}
		ao.Associations, ao.InvitationLink = o.Admin.Associations, o.Admin.InvitationLink
		if b := o.Branding; b != nil && b.Workflow != nil {
			w := b.Workflow
			ao.Drafts, ao.Submissions, ao.Reviews, ao.History = w, w, w, w
			if pv != nil {
				ao.Preview = pv.Start
			}
		}
		if sw != nil {
			ao.Switch = sw.Start
		}
		g.tenantRecords(o.Admin, &ao)
		adminapi.Mount(a, s.Authenticate, ao)
		if ui, ok := g.staffUI(o, ao); ok {
			tables = append(tables, staffui.Mount(a, s.Authenticate, ui))
		}
	}
	if o.Partner != nil {
		partnerapi.Mount(a, *o.Partner, g.trusted, g.log, g.metrics.Registry)
	}
	g.apiErrors = web.ErrorHandler(g.log, true, tables...)
}

// opsRoutes is the operations listener's table: health, readiness,
// metrics and, with o.Pprof, the profiler. These paths are served here
// only, never on the console or API listener.
func (g *Gateway) opsRoutes(o OpsOptions) {
	p := g.ops
	g.opsChain(p)
	p.Get("/healthz", g.healthz)
	p.Get("/readyz", g.readyz)
	p.Get("/metrics", g.metricsHandler())
	if o.Pprof {
		p.Use(pprofHandler())
	}
}

// staffUI is the web UI's wiring: the admin API's services, when the
// branding workflow is there (its pages are mostly branding). ok is false
// without it.
func (g *Gateway) staffUI(o Options, ao adminapi.Options) (staffui.Options, bool) {
	b := o.Branding
	if b == nil || b.Workflow == nil {
		return staffui.Options{}, false
	}
	l, ok := ao.Tenants.(staffui.Tenants)
	if !ok {
		return staffui.Options{}, false
	}
	w := b.Workflow
	ui := staffui.Options{Authorizer: o.Admin.Authorizer, Tenants: l, Customers: o.Admin.Customers,
		Managers: o.Admin.Managers, Staff: o.Admin.Directory, Keys: o.Admin.Keys, Drafts: w, Submissions: w, Reviews: w, History: w, Upstream: o.Admin.Upstream,
		LoginPath: signin.StaffLoginPath, LogoutPath: signin.StaffLogoutPath,
		CookieSecure: o.Admin.Staff.CookieSecure, Log: g.log}
	if ao.Records != nil {
		ui.Records, ui.ProbeIssuer = o.Admin.Records, ao.ProbeIssuer
	}
	if o.Admin.APIStats != nil {
		ui.APIStats = o.Admin.APIStats
	}
	if o.Admin.Delegations != nil {
		ui.Delegations = o.Admin.Delegations
		ui.SwitchPath = func(tenant, grant string) string {
			return adminapi.Prefix + "/tenants/" + url.PathEscape(tenant) + "/delegations/" + url.PathEscape(grant) + "/switch"
		}
	}
	if o.AssociationPages != nil {
		ui.Associations = o.AssociationPages
	}
	if b.Preview != nil {
		ui.ConsoleURL = b.Preview.ConsoleURL
	} else if o.Delegation != nil {
		ui.ConsoleURL = o.Delegation.ConsoleURL // the operate page's form-action
	}
	if ao.Preview != nil {
		ui.PreviewPath = func(tenant, source string) string {
			return adminapi.Prefix + "/tenants/" + url.PathEscape(tenant) + "/branding/preview?source=" + url.QueryEscape(source)
		}
	}
	return ui, true
}

// chain installs the middleware every request of a listener runs first:
// recover → request id → access log → (console only) tenant, with the Host
// checked → canonical path. On the console, everything that reads the path
// comes after the canonical path step, and chain runs before any route is
// added: the router then continues on the canonical path (its route lists
// share this common head).
func (g *Gateway) chain(app *fiber.App, listener string, console bool) {
	app.Use(web.Recover(g.log))
	app.Use(web.RequestIDMiddleware)
	app.Use(web.AccessLog(g.log, g.metrics, listener, app.ErrorHandler))
	if console {
		app.Use(web.TenantMiddleware(g.tenants))
		app.Use(web.CanonicalPathMiddleware)
	}
}

// adminTenants is the admin API's tenant lookup: o.Tenants, else the
// gateway's resolver when it can look tenants up by id.
func (g *Gateway) adminTenants(o *AdminOptions) adminapi.Tenants {
	if o.Tenants != nil {
		return o.Tenants
	}
	l, ok := g.tenants.(TenantLookup)
	if !ok {
		panic("gateway: AdminOptions.Tenants is required")
	}
	return l
}

// tenantRecords wires the tenant records, the discovery test (the sign-in
// door's, unless o overrides it) and the request summary into the admin
// API's options.
func (g *Gateway) tenantRecords(o *AdminOptions, ao *adminapi.Options) {
	if o.Records != nil {
		ao.Records, ao.ProbeIssuer = o.Records, o.ProbeIssuer
		if ao.ProbeIssuer == nil {
			ao.ProbeIssuer = signin.ProbeIssuer
		}
	}
	if o.APIStats != nil {
		ao.APIStats = o.APIStats
	}
}
