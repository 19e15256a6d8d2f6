// Package staffui is the staff web door: the browser application of
// operators, partner admins and customer managers under /ui/ on the API
// listener. It is a client of the same services as the admin API (the
// branding workflow, the customer registry) and asks the same Casbin
// question for each page and form as the admin API call it stands for
// (authorizeAs), so there is one set of rules.
//
// Pages are server-rendered html/template, embedded in the binary, and
// work without JavaScript; ui.js (no inline script) only adds live
// preview, upload progress and copy buttons. Every response carries a
// strict Content-Security-Policy; every form carries a CSRF token bound to
// the staff session (besides the Origin check of the sign-in door); every
// text is in Chinese and English, chosen by ?lang=, the language cookie or
// Accept-Language.
package staffui

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/tenants"
)

// Prefix is where the UI is mounted on the API listener.
const Prefix = "/ui/"

// Root is the UI's home page.
const Root = "/ui/"

// adminPrefix is the admin API the UI's authorization questions are asked
// about (the UI and the API share Casbin rules).
const adminPrefix = "/admin/v1"

// Tenants lists the configured tenants.
type Tenants interface {
	ByID(id string) (*tenants.Tenant, bool)
	All() []*tenants.Tenant
}

// Customers is what the customer pages need of the registry.
type Customers interface {
	Page(ctx context.Context, tenant string, q tenants.Search) (tenants.Page, error)
	ByDomainID(ctx context.Context, tenant, domainID string) (*tenants.Customer, error)
}

// Managers assigns customer managers among the tenant's staff, audited.
type Managers interface {
	Assign(ctx context.Context, actor tenants.Actor, tenant, domainID string, managers []string) (*tenants.Customer, error)
}

// Staff is the staff directory (who signed in), for choosing managers.
type Staff interface {
	List(ctx context.Context, tenant string) ([]tenants.StaffMember, error)
}

// Keys manages a partner's access keys.
type Keys interface {
	List(ctx context.Context, tenant string) ([]tenants.AccessKey, error)
	Create(ctx context.Context, actor tenants.Actor, tenant string) (tenants.AccessKey, string, error)
	Revoke(ctx context.Context, actor tenants.Actor, tenant, ak string) (tenants.AccessKey, error)
}

// Drafts is what the branding editor needs of the workflow.
type Drafts interface {
	Draft(ctx context.Context, tenant string) (workflow.Draft, error)
	PutDraft(ctx context.Context, tenant string, doc branding.Document, ifMatch string, a authz.Subject) (workflow.Draft, error)
	PutImage(ctx context.Context, tenant string, data []byte, a authz.Subject) (branding.Asset, error)
	OpenImage(ctx context.Context, sha, ext string) (io.ReadCloser, string, int64, error)
}

// Submissions is what submitting, withdrawing and the submission history
// need of the workflow.
type Submissions interface {
	Submit(ctx context.Context, tenant string, a authz.Subject) (workflow.Submission, error)
	Withdraw(ctx context.Context, tenant string, a authz.Subject) (workflow.Submission, error)
	SubmissionsPage(ctx context.Context, tenant string, p workflow.Page) ([]workflow.Submission, string, error)
}

// Reviews is what the operator's queue, review page and partners'
// overview need.
type Reviews interface {
	QueuePage(ctx context.Context, p workflow.Page) ([]workflow.QueueEntry, string, error)
	Review(ctx context.Context, tenant string) (workflow.Review, error)
	Approve(ctx context.Context, tenant, submissionID string, a authz.Subject, note string) (workflow.Version, error)
	Reject(ctx context.Context, tenant, submissionID string, a authz.Subject, reason string) (workflow.Submission, error)
	Overview(ctx context.Context, tenants []string) ([]workflow.TenantState, error)
}

// History is what versions, rollback and the audit log need.
type History interface {
	Live(ctx context.Context, tenant string) (*workflow.Version, error)
	Version(ctx context.Context, tenant string, n int) (workflow.Version, error)
	VersionsPage(ctx context.Context, tenant string, p workflow.Page) ([]workflow.Version, string, error)
	Rollback(ctx context.Context, tenant string, version int, a authz.Subject, reason string) (workflow.Version, error)
	AuditPage(ctx context.Context, tenant string, f audit.Filter, p workflow.Page) ([]audit.Record, string, error)
}

// Options wires the UI. Authorizer, Tenants and the branding services are
// required; Customers, Managers, Staff and Keys may be nil (their pages or
// forms are left out).
type Options struct {
	Authorizer  web.Authorizer
	Tenants     Tenants
	Customers   Customers
	Managers    Managers
	Staff       Staff
	Keys        Keys
	Drafts      Drafts
	Submissions Submissions
	Reviews     Reviews
	History     History
	// Delegations is delegated operations (the customer page's section,
	// the grants page and their forms); nil leaves them out (also without
	// Customers).
	Delegations Delegations
	// Associations is customer association (the invitations page, the
	// customer page's association section and change request); nil
	// leaves them out. Usually the association.Service.
	Associations Associations
	// SwitchPath is the admin API's switch-role route of a grant, which
	// the "Operate this console" confirmation posts to; nil hides it.
	SwitchPath func(tenant, grant string) string
	// Upstream is the console's chrome settings, for previews rendered by
	// the same renderer as the console.
	Upstream render.Upstream
	// ConsoleURL is a tenant console's external base URL (no trailing
	// /): the previews load the cloud's logo from there when the upstream
	// settings give it as a path. Nil leaves such logos out.
	ConsoleURL func(t *tenants.Tenant) string
	// LoginPath and LogoutPath are the staff sign-in door's paths.
	LoginPath, LogoutPath string
	// PreviewPath is the admin API's console-preview link for a tenant
	// ("" hides "open preview in the console").
	PreviewPath func(tenant, source string) string
	// Records mounts the operators' partner pages (/ui/partners: list,
	// onboarding, settings, suspend, resume) and the partner admins'
	// integration page (/ui/t/:tenant/integration); nil leaves them out.
	Records TenantRecords
	// ProbeIssuer, with Records, adds the integration page's discovery
	// test (signin.ProbeIssuer); APIStats its partner API request summary.
	ProbeIssuer func(ctx context.Context, issuer string) error
	APIStats    APIStats
	// CookieSecure marks the language cookie Secure.
	CookieSecure bool
	Log          *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// UI is the mounted web application.
type UI struct {
	o       Options
	cookies web.Cookies
	now     func() time.Time
}

// Mount registers every page under Prefix on the API listener, each
// behind authenticate (the staff sign-in door's), and answers the error
// table with which the listener's one error handler renders the UI's error
// pages (403, 404, 5xx in the UI's layout, with the request id).
func Mount(app fiber.Router, authenticate fiber.Handler, o Options) web.CodeTable {
	if o.Authorizer == nil || o.Tenants == nil || o.Drafts == nil || o.Submissions == nil || o.Reviews == nil || o.History == nil {
		panic("staffui: Authorizer, Tenants, Drafts, Submissions, Reviews and History are required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	u := &UI{o: o, cookies: web.Cookies{Secure: o.CookieSecure}, now: o.Now}
	if u.now == nil {
		u.now = time.Now
	}
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect(Root, http.StatusFound) })
	app.Get(staticPrefix+":name", serveStatic)
	app.Get(Prefix+"signed-out", u.headers, u.signedOut)
	g := app.Group(strings.TrimSuffix(Prefix, "/"), u.headers, u.signIn(authenticate), u.csrf)
	u.routes(g)
	return web.CodeTable{Prefix: Prefix, Page: u.errorPage}
}

// routes is the UI's page table.
func (u *UI) routes(g fiber.Router) {
	g.Get("/", u.dashboard)
	g.Get("/assets/:name", u.asset)
	g.Get("/reviews", u.queue)
	g.Get("/reviews/:tenant", u.review)
	g.Post("/reviews/:tenant/approve", u.approve)
	g.Post("/reviews/:tenant/reject", u.reject)
	g.Get("/tenants", u.tenantsPage)
	if u.o.Records != nil {
		g.Get("/partners", u.partners)
		g.Get("/onboarding", u.newPartner)
		g.Post("/partners", u.createPartner)
		g.Get("/partners/:tenant", u.partner)
		g.Post("/partners/:tenant", u.savePartner)
		g.Post("/partners/:tenant/suspend", u.suspendPartner)
		g.Post("/partners/:tenant/resume", u.resumePartner)
	}
	t := g.Group("/t/:tenant", u.knownTenant)
	if u.o.Records != nil {
		t.Get("/integration", u.integration)
		t.Post("/integration", u.saveSignIn)
		if u.o.ProbeIssuer != nil {
			t.Post("/integration/test", u.testSignIn)
		}
	}
	t.Get("/branding", u.editor)
	t.Post("/branding", u.saveDraft)
	t.Post("/branding/preview", u.previewFrame)
	t.Get("/branding/chrome", u.chromeFrame)
	t.Post("/branding/submit", u.submit)
	t.Post("/branding/withdraw", u.withdraw)
	t.Get("/branding/history", u.history)
	t.Post("/branding/rollback", u.rollback)
	t.Get("/audit", u.auditPage)
	if u.o.Customers != nil {
		t.Get("/customers", u.customers)
		t.Get("/customers/:customer", u.customer)
		if u.o.Managers != nil {
			t.Post("/customers/:customer/managers", u.setManagers)
		}
		u.mountDelegations(t)
	}
	u.mountAssociations(t)
	if u.o.Keys != nil {
		t.Get("/keys", u.keys)
		t.Post("/keys", u.createKey)
		t.Post("/keys/:key/revoke", u.revokeKey)
	}
}

// headers sets what every UI response carries: a strict CSP (no inline
// script or style; frames only from this origin, for the chrome previews),
// no caching of pages that show tenant data, and no framing by others.
func (u *UI) headers(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, pageCSP)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	if l := c.Query("lang"); l == render.LocaleZH || l == render.LocaleEN {
		c.Cookie(&fiber.Cookie{Name: render.LocaleCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HTTPOnly: true, Secure: u.o.CookieSecure, SameSite: fiber.CookieSameSiteLaxMode})
		c.Request().Header.SetCookie(render.LocaleCookie, l)
	}
	return c.Next()
}

// pageCSP is the policy of every UI page. The chrome preview frames set
// their own (they carry the renderer's stylesheet inline, by hash). blob:
// images are the editor's thumbnails of chosen files (ui.js, before upload).
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// signIn runs the staff authentication of the sign-in door; a browser
// without a valid staff session is sent to sign in and back here, instead
// of the admin API's 401 JSON.
func (u *UI) signIn(authenticate fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := authenticate(c)
		if _, ok := web.PrincipalOf(c); ok || err == nil {
			return err
		}
		if e := web.ToError(err); e.Status == http.StatusUnauthorized && c.Method() == http.MethodGet {
			return c.Redirect(u.o.LoginPath+"?rd="+url.QueryEscape(string(c.Request().RequestURI())), http.StatusFound)
		}
		return err
	}
}

func (u *UI) signedOut(c *fiber.Ctx) error {
	return u.page(c, "signed_out", pageData{Title: "signed_out.title"})
}

// knownTenant answers 404 for a tenant that is not configured, after the
// page's own authorization decided (see authorizeAs) — it runs first here,
// but tells nothing: a staff member of another tenant gets 403 from the
// handler's authorization before any data is read, and the 404 page for a
// made-up id is the same for everyone.
func (u *UI) knownTenant(c *fiber.Ctx) error {
	if _, ok := u.o.Tenants.ByID(web.Param(c, "tenant")); !ok {
		if err := u.authorizeAs(c, http.MethodGet, "/tenants/"+web.Param(c, "tenant")+"/branding/draft"); err != nil {
			return err
		}
		return web.Errorf(http.StatusNotFound, "unknown_tenant", "No such partner.")
	}
	return c.Next()
}
