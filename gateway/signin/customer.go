// Package signin is the sign-in door: OpenID Connect sign-in of customers
// (per tenant, on the console listener) and of staff (on the API
// listener), sessions, sign-out and back-channel logout, and the
// authentication step in front of the console and the admin API.
package signin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/preview"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/ratelimit"
)

// CustomerFinder looks up the customer mapped to a partner-platform account.
type CustomerFinder interface {
	Find(ctx context.Context, tenant, xaccountType, xaccountID string) (*tenants.Customer, error)
}

// IdentityOptions wires customer sign-in on the console listener.
type IdentityOptions struct {
	Sessions  *sessions.Store
	Redis     redis.UniversalClient // login state (state, nonce, PKCE verifier)
	Customers CustomerFinder
	// Each tenant's OIDC registration is its tenants.Tenant.SignIn; a
	// tenant without one is served without sign-in (development).
	CookieSecure bool
	// Authorizer, when set, decides every signed-in console request.
	Authorizer web.Authorizer
	// LoginLimiter, when set, bounds sign-in starts per client address
	// (LoginRate, required with it: sessions.login_rate), so anonymous visitors cannot
	// fill Redis with login states.
	LoginLimiter LoginLimiter
	LoginRate    ratelimit.Limit
	// Delegated checks every console request of a delegated session
	// (sessions.KindDelegated: partner staff operating the console under a
	// grant) in place of the Authorizer: the grant, its scopes, the audit
	// (gateway/switchrole's Service.Check). nil: delegated sessions are
	// refused (403), so they are never let through unchecked. Like a
	// middleware, it calls c.Next() when it lets the request through.
	Delegated func(c *fiber.Ctx, sess *sessions.Session, path string) error
	// Cloud, when set, is the cloud's own account sign-in
	// (identity.cloud_sign_in; see cloud.go): its AccountClaim carries the
	// cloud account id. Accounts is required with it.
	Cloud    *OIDCClient
	Accounts AccountFinder
	// PublicPaths are console paths served without a session (GET and
	// HEAD, exact canonical path, no query): the cloud's logo in the
	// chrome (branding.cloud_logo), which signed-out pages show too.
	PublicPaths []string
	// Page, when set, renders Livery's own pages (signed out) on the
	// console host, e.g. in the tenant's chrome; nil or failing: the plain
	// page (web.PlainPage).
	Page web.PageFunc
}

const (
	// LoginStateTTL is how long a sign-in may take at the provider.
	LoginStateTTL = 10 * time.Minute
)

// Customer signs customers in on the console listener.
type Customer struct {
	IdentityOptions
	log     *slog.Logger
	trusted []*net.IPNet
	rps     relyingParties
	cloud   *relyingParty // nil: no cloud-account sign-in
	cookies web.Cookies
	flow    flow
	origin  *web.OriginCheck // Livery's own state-changing console endpoints
}

// NewCustomer builds customer sign-in; trusted are the proxies whose
// X-Forwarded-For names the client (for the sign-in budget).
func NewCustomer(o IdentityOptions, log *slog.Logger, trusted []*net.IPNet) *Customer {
	if o.LoginLimiter != nil && o.LoginRate.Rate <= 0 {
		panic("signin: IdentityOptions.LoginRate is required with a LoginLimiter (sessions.login_rate)")
	}
	if o.Cloud != nil && o.Accounts == nil {
		panic("signin: IdentityOptions.Accounts is required with Cloud")
	}
	id := &Customer{IdentityOptions: o, log: log, trusted: trusted, origin: web.NewOriginCheck(),
		cookies: web.Cookies{Secure: o.CookieSecure}}
	if o.Cloud != nil {
		id.cloud = newRelyingParty(*o.Cloud)
	}
	id.flow = flow{states: loginStates{o.Redis}, cookies: id.cookies, bind: web.CookieLogin, unavailable: storeUnavailable}
	return id
}

// authenticate loads the customer session for console requests and sends
// unauthenticated ones to sign-in. It decides the canonical path (see
// consolePath), the one the proxy sends upstream. Paths in Livery's own
// namespace (/_livery) pass: they are served by Livery's routes or answered
// 404, never proxied (Proxy.Handle).
func (id *Customer) Authenticate(c *fiber.Ctx) error {
	path, err := web.ConsolePath(c)
	if err != nil {
		return err
	}
	if web.IsLiveryPath(path) {
		return c.Next()
	}
	t := web.TenantOf(c)
	if t.SignIn == nil {
		return c.Next() // tenant without sign-in (development)
	}
	sess, err := id.session(c)
	if err != nil {
		return err
	}
	if sess == nil && id.public(c, path) {
		return c.Next() // no identity is sent upstream without a session
	}
	if sess == nil {
		if pv := preview.Of(c); pv != nil && id.Authorizer != nil {
			// Staff previewing branding: read-only, as the policy allows.
			if err := web.Decide(c, id.Authorizer, pv.Subject(),
				authz.Request{Tenant: t.ID, Object: path, Action: c.Method()}, "A preview is read-only."); err != nil {
				return err
			}
			return c.Next()
		}
		if c.Method() == http.MethodGet && web.WantsHTML(c) {
			rd := path
			if q := c.Request().URI().QueryString(); len(q) > 0 {
				rd += "?" + string(q)
			}
			return c.Redirect(LoginPath+"?rd="+url.QueryEscape(rd), http.StatusFound)
		}
		return web.Errorf(http.StatusUnauthorized, "unauthenticated", "Sign in to use the console.")
	}
	c.Locals(web.LocalSession, sess)
	if sess.Kind == sessions.KindInvitee {
		return notAssociated(t) // the invitation pages are Livery's own paths, passed above
	}
	if sess.Kind == sessions.KindDelegated {
		if id.Delegated == nil {
			return web.Errorf(http.StatusForbidden, "delegation_unavailable", "Delegated operation is not available on this console. / 此控制台不支持代客运维。")
		}
		return id.Delegated(c, sess, path) // it runs the rest of the chain when it allows the request
	}
	if id.Authorizer != nil {
		if err := web.Decide(c, id.Authorizer,
			authz.Subject{User: sess.User, Roles: sess.Roles, Tenant: sess.Tenant, Customer: sess.AccountID},
			authz.Request{Tenant: t.ID, Object: path, Action: c.Method()},
			"This action is not allowed in this console session."); err != nil {
			return err
		}
	}
	return c.Next()
}

// public reports whether a signed-out request may fetch path: GET or HEAD
// of one of PublicPaths exactly, without a query.
func (id *Customer) public(c *fiber.Ctx, path string) bool {
	if m := c.Method(); m != http.MethodGet && m != http.MethodHead || len(c.Request().URI().QueryString()) > 0 {
		return false
	}
	return slices.Contains(id.PublicPaths, path)
}

// Session returns the request's live console session for this tenant,
// nil (nil error) when signed out. Authenticate does not load sessions on
// Livery's own paths; their doors call this. Errors: 403 foreign_session
// (a session of another tenant), 503 session_store_unavailable.
func (id *Customer) Session(c *fiber.Ctx) (*sessions.Session, error) { return id.session(c) }

// session returns the request's live session for this tenant, nil when
// there is none. A session of another tenant is refused outright.
func (id *Customer) session(c *fiber.Ctx) (*sessions.Session, error) {
	raw := c.Cookies(id.cookies.Name(web.CookieSession))
	if raw == "" {
		return nil, nil
	}
	sess, err := id.Sessions.Get(c.UserContext(), raw)
	switch {
	case errors.Is(err, sessions.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, storeUnavailable(err)
	}
	if sess.Tenant != web.TenantOf(c).ID {
		return nil, web.Errorf(http.StatusForbidden, "foreign_session", "This session belongs to another console. Sign in here instead.")
	}
	return sess, nil
}

func (id *Customer) redirectURL(c *fiber.Ctx) string {
	scheme := "http"
	if id.CookieSecure || c.Context().IsTLS() {
		scheme = "https"
	}
	return scheme + "://" + string(c.Request().Host()) + CallbackPath
}

func (id *Customer) rp(c *fiber.Ctx) (*relyingParty, error) {
	rp, ok := id.rps.of(web.TenantOf(c))
	if !ok {
		return nil, web.Errorf(http.StatusNotFound, "not_found", "Sign-in is not configured for this console.")
	}
	return rp, nil
}

// login starts the authorization code flow with PKCE (S256), state and nonce.
func (id *Customer) Login(c *fiber.Ctx) error {
	rp, err := id.rp(c)
	if err != nil {
		return err
	}
	if err := loginBudget(c, id.LoginLimiter, id.LoginRate, "console", id.trusted); err != nil {
		return err
	}
	t := web.TenantOf(c)
	return id.flow.start(c, rp, id.redirectURL(c), t.ID, c.Query("rd"), func(err error) error { return idpUnavailable(t, err) })
}

// storeUnavailable answers a failed session or login-state store.
func storeUnavailable(err error) error {
	return &web.Error{Status: http.StatusServiceUnavailable, Code: "session_store_unavailable",
		Message: "Sign-in is temporarily unavailable. Please try again shortly.", Err: err, RetryAfter: 5}
}

func idpUnavailable(t *tenants.Tenant, err error) error {
	return &web.Error{Status: http.StatusBadGateway, Code: "idp_unavailable",
		Message: fmt.Sprintf("The sign-in service of %s is unavailable. Please try again shortly.", t.Name.EN), Err: err}
}

func loginFailed(reason string, err error) error {
	return &web.Error{Status: http.StatusBadRequest, Code: "login_failed",
		Message: "Sign-in could not be completed (" + reason + "). Please start again from your partner's site.", Err: err}
}

// callback completes sign-in: state, pre-login binding, code exchange,
// ID-token verification (signature, issuer, audience, expiry, nonce),
// mapping lookup, session with a fresh id.
func (id *Customer) Callback(c *fiber.Ctx) error {
	rp, err := id.rp(c)
	if err != nil {
		return err
	}
	t := web.TenantOf(c)
	done, err := id.flow.finish(c, rp, id.redirectURL(c), t.ID, func(code string) error {
		return &web.Error{Status: http.StatusUnauthorized, Code: "login_refused",
			Message: fmt.Sprintf("%s's sign-in service refused the sign-in (%s).", t.Name.EN, code)}
	}, func(err error) error { return idpUnavailable(t, err) })
	if err != nil {
		return err
	}
	rawID, idt, claims := done.rawID, done.idt, done.claims
	account, _ := claims[rp.cfg.AccountClaim].(string)
	cust, err := id.Customers.Find(c.UserContext(), t.ID, t.XAccountType, account)
	if err != nil {
		return &web.Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "Sign-in is temporarily unavailable.", Err: err, RetryAfter: 5}
	}
	if account == "" || cust == nil || cust.State != tenants.StateActive {
		return &web.Error{Status: http.StatusForbidden, Code: "not_associated",
			Message: fmt.Sprintf("This account is not associated with %s / %s. Register through the partner's site first.", t.Name.EN, t.Name.ZH)}
	}
	name, _ := claims["name"].(string)
	email, _ := claims["email"].(string)
	sid, _ := claims["sid"].(string)
	return id.signedIn(c, sessions.Session{Tenant: t.ID, Kind: sessions.KindCustomer, Issuer: idt.Issuer,
		Subject: idt.Subject, SID: sid, User: cmp.Or(name, email, account), Email: email, AccountID: cust.DomainID,
		Account: cust.DomainName, Roles: []string{authz.RoleCustomer}, IDToken: rawID}, done.ret)
}

// signedIn starts the session of a completed sign-in with a fresh id (a
// previous session in this browser ends) and returns the browser to ret.
// Errors: 503 session_store_unavailable.
func (id *Customer) signedIn(c *fiber.Ctx, s sessions.Session, ret string) error {
	if old := c.Cookies(id.cookies.Name(web.CookieSession)); old != "" {
		_ = id.Sessions.Delete(c.UserContext(), old)
	}
	sess, err := id.Sessions.Create(c.UserContext(), s)
	if err != nil {
		return storeUnavailable(err)
	}
	id.cookies.Set(c, web.CookieSession, sess.ID, 0)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Redirect(ret, http.StatusFound)
}

// maxLoginReturn bounds the return path kept in a login state; a longer
// one returns to "/", so an abandoned sign-in costs Redis at most about
// 1.3 KB for LoginStateTTL.
const maxLoginReturn = 1024

// loginReturn is the safe return path to keep in a login state.
func loginReturn(rd string) string {
	if rd = web.SafeReturnPath(rd); len(rd) > maxLoginReturn {
		return "/"
	}
	return rd
}
