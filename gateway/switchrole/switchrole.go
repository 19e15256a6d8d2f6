// Package switchrole is delegated operation's switch role (代客运维, like
// AWS Switch Role): partner staff holding an active grant switch into the
// customer's console with a new, short session, operate it within the
// grant's scopes under a coloured banner, and switch back. It is a leaf of
// the gateway, like preview: the route table (gateway/routes.go) mounts
// Start on the API listener and Enter, Leave and Check on the console;
// no door imports it.
//
// How a switch works. Start (admin API, after staff authentication and
// authorization) checks the grant and the staff member and mints a
// one-time token (TokenTTL) bound to the staff session; Enter, on the
// tenant's console host, redeems it once, audits the switch-in
// (delegation.Service.RecordSwitch) and creates a delegated session
// (sessions.KindDelegated) with the customer's identity, ending at
// Options.SessionTTL or the grant's end, whichever is first. Every request
// of that session passes Check (called by sign-in's Authenticate): the
// grant still active (an in-memory cache invalidated over Redis pub/sub,
// so no Redis round trip per request in steady state), the staff session
// still live, Casbin with the grant's scope roles, and the activity log
// (every request, reads included, is recorded synchronously before it is
// forwarded; a failed record is a 503). Leave ends the session, audits the
// switch-out and returns to the partner UI.
package switchrole

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

// Paths on the console listener.
const (
	EnterPath = web.LiveryPrefix + "delegate/enter" // GET ?token=…: the switch-in
	LeavePath = web.LiveryPrefix + "delegate/leave" // POST: switch back
)

// TokenTTL is a switch-in link's life.
const TokenTTL = 2 * time.Minute

// Keys of a delegated session's Extra.
const (
	ExtraGrant      = "delegation.grant"       // grant id
	ExtraStaff      = "delegation.staff"       // the staff member's subject (user id)
	ExtraStaffName  = "delegation.staff_name"  // their display name
	ExtraStaffRoles = "delegation.staff_roles" // their roles, comma-separated
	ExtraStaffHome  = "delegation.staff_home"  // their home tenant
	ExtraStaffSID   = "delegation.staff_sid"   // the staff session the switch is bound to
	ExtraExpires    = "delegation.expires"     // RFC 3339: the delegated session's end
)

// Grants is the part of delegation.Service the switch uses.
type Grants interface {
	Get(ctx context.Context, tenant, id string) (delegation.Grant, error)
	RecordSwitch(ctx context.Context, g delegation.Grant, staff authz.Subject, in bool, requestID string) error
	RecordAction(ctx context.Context, a delegation.ActionRecord) error
}

// Customers finds a customer of a tenant (nil, nil when there is none):
// its account name and managers.
type Customers interface {
	ByDomainID(ctx context.Context, tenant, domainID string) (*tenants.Customer, error)
}

// Options wires the switch.
type Options struct {
	Redis     redis.UniversalClient
	Sessions  *sessions.Store // console sessions and the staff sessions switches are bound to
	Grants    Grants
	Customers Customers
	// Authorizer decides every delegated request with the grant's roles.
	Authorizer web.Authorizer
	Tenants    interface {
		ByID(id string) (*tenants.Tenant, bool)
	}
	// ConsoleURL is a tenant console's external base URL (no trailing /).
	ConsoleURL func(t *tenants.Tenant) string
	// StaffURL is the API listener's external base URL (staff.public_url);
	// switching back lands on StaffURL/ui/t/<tenant>/customers/<customer>.
	StaffURL string
	// SessionTTL bounds a delegated session (delegation.session_ttl).
	SessionTTL   time.Duration
	CookieSecure bool
	// Trusted are the proxies whose X-Forwarded-For names the client: a
	// link works only from the client address that asked for it (set by
	// the route table from the gateway's trusted proxies).
	Trusted []*net.IPNet
	// Page renders Livery's own pages in the tenant's chrome; nil: plain.
	Page   web.PageFunc
	Logger *slog.Logger
	Now    func() time.Time
}

// Service implements the switch. Close stops its pub/sub listener.
type Service struct {
	o       Options
	cookies web.Cookies
	origin  *web.OriginCheck
	tokens  tokenStore
	grants  *grantCache
	cancel  context.CancelFunc
	stats   stats
}

// New builds the service and subscribes to grant changes (it returns once
// subscribed, or after 5 s, logging). SessionTTL must be positive (its
// default lives in internal/config): New panics otherwise.
func New(o Options) *Service {
	if o.SessionTTL <= 0 {
		panic("switchrole: Options.SessionTTL is required (delegation.session_ttl)")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Page == nil {
		o.Page = web.PlainPage
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{o: o, cookies: web.Cookies{Secure: o.CookieSecure}, origin: web.NewOriginCheck(),
		tokens: tokenStore{o.Redis}, cancel: cancel}
	s.grants = newGrantCache(ctx, o.Redis, o.Grants.Get, o.Now, o.Logger)
	return s
}

// Close stops the grant change listener.
func (s *Service) Close() {
	s.cancel()
	s.grants.close()
}

// unavailable is the answer to a failed store.
func unavailable(err error) error {
	return &web.Error{Status: http.StatusServiceUnavailable, Code: "delegation_unavailable", RetryAfter: 5, Err: err,
		Message: "Delegated operation is unavailable right now. Please try again shortly. / 代客运维暂时不可用，请稍后重试。"}
}

// Start (API listener, POST /admin/v1/tenants/:tenant/delegations/:grant/switch,
// after staff authentication and Casbin) checks that the grant is active,
// that the signed-in staff member may operate the customer (staff of the
// tenant; a customer manager only for customers they manage) and mints a
// one-time switch-in link bound to their staff session. It answers 201
// JSON {url, expires_in}, or 303 to the link for a browser form (a
// request that accepts HTML). Errors: 403 switch_needs_session (no staff
// browser session: bearer tokens cannot switch), 404 not_found (no such
// tenant or grant, or a customer the staff member may not see), 409
// grant_not_active, 403 forbidden (staff of another tenant), 503.
func (s *Service) Start(c *fiber.Ctx) error {
	tenant, grantID := web.Param(c, "tenant"), web.Param(c, "grant")
	t, ok := s.o.Tenants.ByID(tenant)
	if !ok {
		return web.Errorf(http.StatusNotFound, "not_found", "No tenant %q.", tenant)
	}
	p, ok := web.PrincipalOf(c)
	sess, _ := c.Locals(web.LocalSession).(*sessions.Session)
	if !ok || sess == nil || sess.Kind != "staff" {
		return web.Errorf(http.StatusForbidden, "switch_needs_session",
			"Switching into a customer's console needs a signed-in staff browser session (access tokens cannot switch). / 代客运维须在已登录的员工浏览器会话中进行（访问令牌不能切换）。")
	}
	if p.Tenant != tenant {
		return web.Errorf(http.StatusForbidden, "forbidden", "Only staff of %s may operate its customers' consoles. / 仅该合作伙伴的员工可代客运维。", tenant)
	}
	notFound := web.Errorf(http.StatusNotFound, "not_found", "No delegation grant %q. / 没有该代客运维授权。", grantID)
	g, err := s.grants.grant(c.UserContext(), tenant, grantID, true)
	switch {
	case errors.Is(err, delegation.ErrNotFound), errors.Is(err, delegation.ErrInvalidArgument):
		return notFound
	case err != nil:
		return unavailable(err)
	case g.Tenant != tenant:
		return notFound
	}
	cust, err := s.o.Customers.ByDomainID(c.UserContext(), tenant, g.Customer)
	if err != nil {
		return unavailable(err)
	}
	if cust == nil || !authz.CanSeeCustomer(p, tenant, cust.Managers) {
		return notFound // a customer they may not see: not even its existence
	}
	if st := g.StateAt(s.o.Now()); st != delegation.StateApproved {
		return web.Errorf(http.StatusConflict, "grant_not_active",
			"The delegation grant is %s, not active: ask the customer for a new one. / 该授权当前状态为 %s，不可用，请申请新的授权。", st, st)
	}
	name, _ := c.Locals(web.LocalPrincipalName).(string)
	tok := web.RandomToken()
	rec := ticket{Tenant: tenant, Grant: g.ID, Customer: g.Customer, Account: cust.DomainName, User: p.User, Name: name,
		Roles: p.Roles, Home: p.Tenant, StaffSID: sess.ID, From: web.ClientAddrKey(c, s.o.Trusted)}
	if err := s.tokens.put(c.UserContext(), tok, rec, TokenTTL); err != nil {
		return unavailable(err)
	}
	u := s.o.ConsoleURL(t) + EnterPath + "?token=" + url.QueryEscape(tok)
	c.Set(fiber.HeaderCacheControl, "no-store")
	if browserForm(c) {
		return c.Redirect(u, http.StatusSeeOther)
	}
	return c.Status(http.StatusCreated).JSON(fiber.Map{"url": u, "expires_in": int(TokenTTL.Seconds())})
}

// browserForm reports whether the request is a browser's form post (it
// wants a page, not JSON).
func browserForm(c *fiber.Ctx) bool {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	return strings.HasPrefix(ct, fiber.MIMEApplicationForm) || strings.HasPrefix(ct, fiber.MIMEMultipartForm) ||
		strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
}

// Enter (console listener, GET EnterPath?token=) redeems a switch-in link
// once: the token's tenant must be this console's, the staff session it is
// bound to still live and the grant still active. It audits the switch-in
// (refusing the switch when that fails); it works only from the client
// address that asked for it (Options.Trusted), creates a new delegated session
// (ending a session this browser held) and redirects to "/". A replayed,
// expired or foreign link is a 403 page (switch_refused).
func (s *Service) Enter(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	tok := c.Query("token")
	if tok == "" || len(tok) > 100 {
		return s.refused(c)
	}
	rec, found, err := s.tokens.take(c.UserContext(), tok)
	if err != nil {
		return unavailable(err)
	}
	t := web.TenantOf(c)
	if !found || t == nil || rec.Tenant != t.ID {
		return s.refused(c)
	}
	if rec.From != web.ClientAddrKey(c, s.o.Trusted) {
		// A forwarded link: the switch is for the staff member who asked.
		s.o.Logger.Warn("delegation: switch-in link opened from another address than the one that requested it",
			"tenant", rec.Tenant, "grant", rec.Grant, "staff", rec.User, "request_id", web.RequestIDOf(c))
		return s.refused(c)
	}
	if _, err := s.o.Sessions.Get(c.UserContext(), rec.StaffSID); err != nil {
		if errors.Is(err, sessions.ErrNotFound) {
			return s.refused(c) // the staff member signed out meanwhile
		}
		return unavailable(err)
	}
	g, err := s.grants.grant(c.UserContext(), rec.Tenant, rec.Grant, true)
	if err != nil && !errors.Is(err, delegation.ErrNotFound) {
		return unavailable(err)
	}
	now := s.o.Now()
	if err != nil || !g.Active(now) || g.Customer != rec.Customer {
		return s.endedPage(c, rec.Tenant, rec.Customer)
	}
	staff := authz.Subject{User: rec.User, Roles: rec.Roles, Tenant: rec.Home}
	if err := s.o.Grants.RecordSwitch(c.UserContext(), g, staff, true, web.RequestIDOf(c)); err != nil {
		if errors.Is(err, delegation.ErrState) {
			return s.endedPage(c, rec.Tenant, rec.Customer)
		}
		return unavailable(err) // never an unaudited switch
	}
	ends := now.Add(s.o.SessionTTL)
	if g.EndsAt.Before(ends) {
		ends = g.EndsAt
	}
	sess, err := s.o.Sessions.Create(c.UserContext(), sessions.Session{Tenant: rec.Tenant, Kind: sessions.KindDelegated,
		Issuer: "delegation", Subject: rec.User + "@" + g.ID, User: rec.Account, AccountID: g.Customer,
		Account: rec.Account, Roles: delegation.Roles(g.Scopes), Extra: map[string]string{
			ExtraGrant: g.ID, ExtraStaff: rec.User, ExtraStaffName: rec.Name, ExtraStaffRoles: strings.Join(rec.Roles, ","),
			ExtraStaffHome: rec.Home, ExtraStaffSID: rec.StaffSID, ExtraExpires: ends.UTC().Format(time.RFC3339Nano)}})
	if err != nil {
		return unavailable(err)
	}
	if old := c.Cookies(s.cookies.Name(web.CookieSession)); old != "" {
		_ = s.o.Sessions.Delete(c.UserContext(), old) // a fresh id; the browser's previous session ends
	}
	s.cookies.Set(c, web.CookieSession, sess.ID, 0)
	s.o.Logger.Info("delegation: switched in", "tenant", rec.Tenant, "customer", g.Customer, "grant", g.ID, "staff", rec.User,
		"until", ends, "request_id", web.RequestIDOf(c))
	return c.Redirect("/", http.StatusSeeOther)
}

// Leave (console listener, POST LeavePath, Origin-checked) ends the
// browser's delegated session, audits the switch-out and redirects (303)
// to the customer's page in the partner UI. Without a delegated session
// it redirects to "/".
func (s *Service) Leave(c *fiber.Ctx) error {
	if err := s.origin.Check(c); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	raw := c.Cookies(s.cookies.Name(web.CookieSession))
	if raw == "" {
		return c.Redirect("/", http.StatusSeeOther)
	}
	sess, err := s.o.Sessions.Get(c.UserContext(), raw)
	switch {
	case errors.Is(err, sessions.ErrNotFound):
		s.cookies.Set(c, web.CookieSession, "", -1)
		return c.Redirect("/", http.StatusSeeOther)
	case err != nil:
		return unavailable(err)
	case sess.Kind != sessions.KindDelegated || web.TenantOf(c) == nil || sess.Tenant != web.TenantOf(c).ID:
		return c.Redirect("/", http.StatusSeeOther)
	}
	if err := s.end(c, sess); err != nil {
		return unavailable(err)
	}
	return c.Redirect(s.backURL(sess.Tenant, sess.AccountID), http.StatusSeeOther)
}

// end deletes a delegated session, clears its cookie and audits the
// switch-out (a failed audit is logged: the session ends regardless).
func (s *Service) end(c *fiber.Ctx, sess *sessions.Session) error {
	if err := s.o.Sessions.Delete(c.UserContext(), sess.ID); err != nil {
		return err
	}
	s.stats.gone(sess.ID)
	s.cookies.Set(c, web.CookieSession, "", -1)
	g := delegation.Grant{ID: sess.Extra[ExtraGrant], Tenant: sess.Tenant, Customer: sess.AccountID}
	if err := s.o.Grants.RecordSwitch(c.UserContext(), g, staffOf(sess), false, web.RequestIDOf(c)); err != nil {
		s.o.Logger.Error("delegation: switch-out not audited", "tenant", sess.Tenant, "grant", g.ID, "err", err)
	}
	return nil
}

// staffOf is the staff member a delegated session acts for.
func staffOf(sess *sessions.Session) authz.Subject {
	var roles []string
	if r := sess.Extra[ExtraStaffRoles]; r != "" {
		roles = strings.Split(r, ",")
	}
	return authz.Subject{User: sess.Extra[ExtraStaff], Roles: roles, Tenant: sess.Extra[ExtraStaffHome]}
}

// backURL is the customer's page in the partner UI.
func (s *Service) backURL(tenant, customer string) string {
	return strings.TrimSuffix(s.o.StaffURL, "/") + "/ui/t/" + url.PathEscape(tenant) + "/customers/" + url.PathEscape(customer)
}
