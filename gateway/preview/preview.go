// Package preview lets staff open the real console with proposed
// branding (a leaf of the gateway: the admin API mints links, the console
// honours markers, the sign-in and branding steps read them).
package preview

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/tenants"
)

// How a preview works. The
// admin API mints a one-time token (2 min) for the staff member; opening
// /_livery/preview?token=… on the tenant's console host turns it into a
// preview marker cookie (HttpOnly) whose record lives in Redis. The marker
// is bound to the staff session that created it (ending that session ends
// the preview) and to the tenant. A marker is never honoured inside a
// customer session: a browser that holds one and opens a preview link gets
// no marker (the link is used up), and a marker met alongside a customer
// session is deleted; both are audited (EventPreviewRefused) and the
// customer sees the live branding. Pages served with a marker carry the
// proposed chrome and a visible preview ribbon.
// Paths of the preview on the console listener.
const (
	EnterPath = web.LiveryPrefix + "preview"     // ?token=…: turns a link into a marker
	LeavePath = web.LiveryPrefix + "preview/end" // ends the preview in this browser
)

const (
	TokenTTL = 2 * time.Minute  // a link's life
	MaxTTL   = 30 * time.Minute // a preview's life
	// KeyPrefix prefixes the Redis keys of links and markers.
	KeyPrefix = redisx.KeyPreview
)

// Preview is a staff member's preview of proposed branding.
type Preview struct {
	Tenant   string            `json:"tenant"`
	Source   string            `json:"source"` // "pending:<submission id>" or "draft:<etag>"
	Doc      branding.Document `json:"doc"`
	User     string            `json:"user"`
	Name     string            `json:"name,omitempty"` // display name, shown in the chrome
	Roles    []string          `json:"roles"`
	Home     string            `json:"home,omitempty"`
	StaffSID string            `json:"staff_sid,omitempty"` // "" for bearer-token callers
	// From is the client address (web.ClientAddrKey) that minted the link; the
	// link works only from there.
	From    string    `json:"from,omitempty"`
	Expires time.Time `json:"expires"`
}

// Documents gives the document a preview shows.
type Documents interface {
	// PreviewDocument returns the pending submission's document (source
	// "pending") or the draft (source "draft") and a key naming that exact
	// content. Errors follow the workflow's contract.
	PreviewDocument(ctx context.Context, tenant, source string) (doc branding.Document, key string, err error)
}

// Options wires branding preview.
type Options struct {
	Redis    redis.UniversalClient
	Sessions *sessions.Store // staff sessions a preview is bound to
	Docs     Documents
	Tenants  interface {
		ByID(id string) (*tenants.Tenant, bool)
	}
	// ConsoleURL is a tenant console's external base URL (no trailing /).
	ConsoleURL   func(t *tenants.Tenant) string
	CookieSecure bool
	// Audit records refused previews; nil: they are only logged.
	Audit Auditor
	// Logger, nil: slog.Default().
	Logger *slog.Logger
}

// Auditor records a preview refused because the browser holds a
// customer session; by is the staff member who minted it.
type Auditor interface {
	RecordPreviewRefused(ctx context.Context, tenant string, by authz.Subject, detail string) error
}

// Service mints preview links (Start, admin API) and honours them on the
// console (Enter, Leave, Middleware).
type Service struct {
	Options
	cookies web.Cookies
	store   store
	trusted []*net.IPNet // proxies whose X-Forwarded-For names the client
}

// New builds the service; trusted are the proxies whose X-Forwarded-For
// names the client (a link works only from the address that asked).
func New(o Options, trusted []*net.IPNet) *Service {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Service{Options: o, cookies: web.Cookies{Secure: o.CookieSecure}, store: store{o.Redis}, trusted: trusted}
}

// Start (admin API, after staff authentication and authorization) mints a
// token and answers with the console URL that starts the preview: JSON
// for POST, a redirect for GET (a link the reviewer can click). Errors of
// Docs are returned as they are, for the admin API's error table.
func (pv *Service) Start(c *fiber.Ctx) error {
	tenant := web.Param(c, "tenant")
	t, ok := pv.Tenants.ByID(tenant)
	if !ok {
		return web.Errorf(http.StatusNotFound, "not_found", "No tenant %q.", tenant)
	}
	source := c.Query("source", "pending")
	if source != "pending" && source != "draft" {
		return web.Errorf(http.StatusBadRequest, "bad_request", "source must be pending or draft.")
	}
	doc, key, err := pv.Docs.PreviewDocument(c.UserContext(), tenant, source)
	if err != nil {
		return err
	}
	p, _ := web.PrincipalOf(c)
	name, _ := c.Locals(web.LocalPrincipalName).(string)
	rec := Preview{Tenant: tenant, Source: source + ":" + key, Doc: doc, User: p.User, Name: name, Roles: p.Roles, Home: p.Tenant,
		Expires: time.Now().Add(MaxTTL), From: web.ClientAddrKey(c, pv.trusted)}
	if sess, ok := c.Locals(web.LocalSession).(*sessions.Session); ok {
		rec.StaffSID = sess.ID
	}
	token := web.RandomToken()
	if err := pv.store.put(c.UserContext(), kindToken, token, rec, TokenTTL); err != nil {
		return &web.Error{Status: http.StatusServiceUnavailable, Code: "preview_unavailable", Message: "Preview is unavailable right now.", Err: err}
	}
	u := pv.ConsoleURL(t) + EnterPath + "?token=" + url.QueryEscape(token)
	if c.Method() == http.MethodGet {
		return c.Redirect(u, http.StatusSeeOther)
	}
	return c.Status(http.StatusCreated).JSON(fiber.Map{"url": u, "expires_in": int(TokenTTL.Seconds())})
}

// Enter (console listener) exchanges a token for the marker cookie.
func (pv *Service) Enter(c *fiber.Ctx) error {
	refused := web.Errorf(http.StatusForbidden, "preview_refused", "This preview link is invalid, expired or already used. Start the preview again from the admin console.")
	token := c.Query("token")
	if token == "" || len(token) > 100 {
		return refused
	}
	rec, found, err := pv.store.take(c.UserContext(), kindToken, token)
	if err != nil {
		return &web.Error{Status: http.StatusServiceUnavailable, Code: "preview_unavailable", Message: "Preview is unavailable right now.", Err: err}
	}
	if !found || rec.Tenant != web.TenantOf(c).ID {
		return refused // a token for another tenant's console
	}
	if rec.From != "" && rec.From != web.ClientAddrKey(c, pv.trusted) {
		// A forwarded link: the preview is for the staff member who asked.
		pv.refuse(c, &rec, "preview link opened from another address than the one that requested it")
		return refused
	}
	if pv.customerSession(c) {
		// Unreviewed branding is for the staff member who asked for it,
		// never for a customer: the link is used up, the live console shown.
		pv.refuse(c, &rec, "preview link opened in a browser with a customer session")
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Redirect("/", http.StatusSeeOther)
	}
	marker := web.RandomToken()
	if err := pv.store.put(c.UserContext(), kindMarker, marker, rec, time.Until(rec.Expires)); err != nil {
		return &web.Error{Status: http.StatusServiceUnavailable, Code: "preview_unavailable", Message: "Preview is unavailable right now.", Err: err}
	}
	pv.cookies.Set(c, web.CookiePreview, marker, 0)
	return c.Redirect("/", http.StatusSeeOther)
}

// Leave ends the preview in this browser.
func (pv *Service) Leave(c *fiber.Ctx) error {
	if raw := c.Cookies(pv.cookies.Name(web.CookiePreview)); raw != "" {
		_ = pv.store.del(c.UserContext(), kindMarker, raw)
	}
	pv.cookies.Set(c, web.CookiePreview, "", -1)
	return c.Redirect("/", http.StatusSeeOther)
}

// lookup returns the request's live preview marker, nil when there is
// none or it is no longer valid (expired, other tenant, staff session
// ended). Only browsers holding a marker cookie pay the Redis round trip.
func (pv *Service) lookup(c *fiber.Ctx) *Preview {
	raw := c.Cookies(pv.cookies.Name(web.CookiePreview))
	if raw == "" || len(raw) > 100 {
		return nil
	}
	rec, found, err := pv.store.get(c.UserContext(), kindMarker, raw)
	if err != nil || !found || rec.Tenant != web.TenantOf(c).ID || time.Now().After(rec.Expires) {
		return nil
	}
	if rec.StaffSID != "" {
		if pv.Sessions == nil {
			return nil
		}
		if _, err := pv.Sessions.Get(c.UserContext(), rec.StaffSID); err != nil {
			return nil // the staff member signed out: the preview ends with them
		}
	}
	return &rec
}

// Middleware finds the request's preview marker (console listener, before
// sign-in) and keeps it for the sign-in check, the proxy and the injector.
// A marker next to a customer session is ended instead (see Preview).
func (pv *Service) Middleware(c *fiber.Ctx) error {
	if rec := pv.lookup(c); rec != nil {
		if pv.customerSession(c) {
			raw := c.Cookies(pv.cookies.Name(web.CookiePreview))
			if err := pv.store.del(c.UserContext(), kindMarker, raw); err != nil {
				pv.Logger.Warn("preview: ending a marker met with a customer session", "tenant", rec.Tenant, "err", err)
			}
			pv.cookies.Set(c, web.CookiePreview, "", -1)
			pv.refuse(c, rec, "preview marker met a customer session")
			return c.Next()
		}
		c.Locals(web.LocalPreview, rec)
	}
	return c.Next()
}

// customerSession reports whether the request carries a live customer
// session of this console. A session store failure counts as a session:
// the preview is refused rather than risk showing it to a customer.
func (pv *Service) customerSession(c *fiber.Ctx) bool {
	raw := c.Cookies(pv.cookies.Name(web.CookieSession))
	if raw == "" || pv.Sessions == nil {
		return false
	}
	sess, err := pv.Sessions.Get(c.UserContext(), raw)
	if errors.Is(err, sessions.ErrNotFound) {
		return false
	}
	return err != nil || sess.Kind != "staff"
}

// refuse logs and audits a preview not honoured for a customer session.
func (pv *Service) refuse(c *fiber.Ctx, rec *Preview, detail string) {
	pv.Logger.Warn("preview refused", "tenant", rec.Tenant, "minted_by", rec.User, "detail", detail,
		"request_id", web.RequestIDOf(c))
	if pv.Audit == nil {
		return
	}
	by := authz.Subject{User: rec.User, Roles: rec.Roles, Tenant: rec.Home}
	if err := pv.Audit.RecordPreviewRefused(c.UserContext(), rec.Tenant, by, detail); err != nil {
		pv.Logger.Error("preview refused but not audited", "tenant", rec.Tenant, "err", err)
	}
}

// Of returns the request's valid preview, nil when none.
func Of(c *fiber.Ctx) *Preview {
	p, _ := c.Locals(web.LocalPreview).(*Preview)
	return p
}

// Subject is what a preview browser without a customer session may do:
// the previewer role in the previewed tenant (read-only console).
func (p *Preview) Subject() authz.Subject {
	return authz.Subject{User: p.User, Roles: []string{authz.RolePreviewer}, Tenant: p.Tenant}
}

// FromWorkflow serves preview documents from the branding workflow.
type FromWorkflow struct {
	W interface {
		Pending(ctx context.Context, tenant string) (workflow.Submission, error)
		Draft(ctx context.Context, tenant string) (workflow.Draft, error)
	}
}

// PreviewDocument implements Documents.
func (p FromWorkflow) PreviewDocument(ctx context.Context, tenant, source string) (branding.Document, string, error) {
	if source == "draft" {
		d, err := p.W.Draft(ctx, tenant)
		return d.Doc, "etag-" + d.ETag, err
	}
	s, err := p.W.Pending(ctx, tenant)
	return s.Doc, s.ID, err
}
