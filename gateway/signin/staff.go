package signin

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants/ratelimit"
)

// StaffOptions wires operator and partner-staff sign-in on the API
// listener: a browser session (/admin/login) or a bearer JWT from the same
// provider for automation.
type StaffOptions struct {
	Client      OIDCClient
	PublicURL   string // external base URL of the API listener
	RolesClaim  string // default "roles"
	TenantClaim string // default "tenant"
	RoleMap     map[string]string
	Sessions    *sessions.Store
	Redis       redis.UniversalClient
	// CookieSecure as for customer sessions.
	CookieSecure bool
	// LoginLimiter and LoginRate bound sign-in starts per client address,
	// as IdentityOptions' do.
	LoginLimiter LoginLimiter
	LoginRate    ratelimit.Limit
	// Directory, when set, records every staff member who signs in (at
	// /admin/login or with a bearer token): see StaffDirectory.
	Directory StaffDirectory
	// Logger receives the directory's failures; nil is slog.Default().
	Logger *slog.Logger
}

// StaffDirectory records staff members as they sign in
// (tenants.StaffDirectory).
type StaffDirectory interface {
	Record(ctx context.Context, s authz.Subject, name string) error
}

// directoryTimeout bounds how long a sign-in waits for the directory.
const directoryTimeout = 2 * time.Second

// record notes p in the directory. It never fails the sign-in: the
// directory only tells who may be assigned as a customer manager, and a
// store outage must not lock staff out (the admin API would answer its own
// errors then). A failure is logged; the member is recorded at a later
// sign-in (a bearer-token user at a later call, after a minute).
func (s *Staff) record(ctx context.Context, p authz.Subject, name string) {
	if s.Directory == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, directoryTimeout)
	defer cancel()
	if err := s.Directory.Record(ctx, p, name); err != nil {
		s.log.Warn("staff directory: sign-in not recorded", "user", p.User, "tenant", p.Tenant, "err", err)
	}
}

// Staff roles.
var staffRoles = map[string]bool{authz.RoleOperator: true, authz.RolePartnerAdmin: true, authz.RoleCustomerManager: true}

// Staff signs operators and partner staff in on the API listener and
// authenticates admin API calls (bearer token or staff session).
type Staff struct {
	StaffOptions
	trusted []*net.IPNet
	rp      *relyingParty
	cookies web.Cookies
	flow    flow
	origin  *web.OriginCheck
	log     *slog.Logger
}

// staffAudience is the login-state audience of staff sign-in (tenant ids
// cannot take this form).
const staffAudience = "_staff"

func staffIdPDown(err error) error {
	return &web.Error{Status: http.StatusBadGateway, Code: "idp_unavailable", Message: "The staff sign-in service is unavailable.", Err: err}
}

// NewStaff builds staff sign-in; trusted are the proxies whose
// X-Forwarded-For names the client (for the sign-in budget).
func NewStaff(o StaffOptions, trusted []*net.IPNet) *Staff {
	if o.RolesClaim == "" || o.TenantClaim == "" {
		panic("signin: StaffOptions.RolesClaim and TenantClaim are required (staff.roles_claim, staff.tenant_claim)")
	}
	if o.LoginLimiter != nil && o.LoginRate.Rate <= 0 {
		panic("signin: StaffOptions.LoginRate is required with a LoginLimiter (sessions.login_rate)")
	}
	s := &Staff{StaffOptions: o, trusted: trusted, rp: newRelyingParty(o.Client),
		cookies: web.Cookies{Secure: o.CookieSecure},
		origin:  web.NewOriginCheck(o.PublicURL), log: cmp.Or(o.Logger, slog.Default())}
	s.flow = flow{states: loginStates{o.Redis}, cookies: s.cookies, bind: web.CookieStaffLogin,
		unavailable: func(err error) error { return staffUnavailable(err) }}
	return s
}

// principalFromClaims maps identity claims to roles and home tenant.
func (s *Staff) principalFromClaims(claims map[string]any) (roles []string, tenant string) {
	seen := map[string]bool{}
	add := func(v string) {
		r := v
		if mapped, ok := s.RoleMap[v]; ok {
			r = mapped
		}
		if staffRoles[r] && !seen[r] {
			seen[r] = true
			roles = append(roles, r)
		}
	}
	switch v := claims[s.RolesClaim].(type) {
	case string:
		for _, r := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			add(r)
		}
	case []any:
		for _, r := range v {
			if str, ok := r.(string); ok {
				add(str)
			}
		}
	}
	tenant, _ = claims[s.TenantClaim].(string)
	return roles, tenant
}

func (s *Staff) Login(c *fiber.Ctx) error {
	if err := loginBudget(c, s.LoginLimiter, s.LoginRate, "staff", s.trusted); err != nil {
		return err
	}
	return s.flow.start(c, s.rp, s.PublicURL+StaffCallbackPath, staffAudience, c.Query("rd"), staffIdPDown)
}

func (s *Staff) Callback(c *fiber.Ctx) error {
	done, err := s.flow.finish(c, s.rp, s.PublicURL+StaffCallbackPath, staffAudience, func(code string) error {
		return &web.Error{Status: http.StatusUnauthorized, Code: "login_refused", Message: "Sign-in refused (" + code + ")."}
	}, staffIdPDown)
	if err != nil {
		return err
	}
	rawID, idt, claims := done.rawID, done.idt, done.claims
	roles, home := s.principalFromClaims(claims)
	if len(roles) == 0 {
		return errNoStaffRole()
	}
	name, _ := claims["name"].(string)
	sid, _ := claims["sid"].(string)
	// A fresh id at sign-in; a previous staff session in this browser ends.
	if old := c.Cookies(s.cookies.Name(web.CookieStaff)); old != "" {
		if prev, err := s.Sessions.Get(c.UserContext(), old); err == nil && prev.Kind == "staff" {
			_ = s.Sessions.Delete(c.UserContext(), old)
		}
	}
	sess, err := s.Sessions.Create(c.UserContext(), sessions.Session{Tenant: staffAudience, Kind: "staff", Issuer: idt.Issuer,
		Subject: idt.Subject, SID: sid, User: cmp.Or(name, idt.Subject), Roles: roles, HomeTenant: home, IDToken: rawID})
	if err != nil {
		return staffUnavailable(err)
	}
	s.record(c.UserContext(), authz.Subject{User: idt.Subject, Roles: roles, Tenant: home}, name)
	s.cookies.Set(c, web.CookieStaff, sess.ID, 0)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Redirect(done.ret, http.StatusFound)
}

// staffUnavailable answers a failed dependency (session or login-state
// store) on the staff endpoints with the admin API's error code (the
// partner API's reference codes are for /v2 only).
func staffUnavailable(err error) *web.Error {
	return &web.Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
		Message: "The service is temporarily unavailable. Retry later.", Err: err, RetryAfter: 5}
}

func errNoStaffRole() *web.Error {
	return web.Errorf(http.StatusForbidden, "no_role", "Your account has no Livery staff role.")
}

// Logout ends the staff session of this browser. It answers 204, or a 303
// to the form field rd when that is a local path (web.SafeReturnPath).
// Errors: 403 for a cross-origin request, 503 when the session store fails.
func (s *Staff) Logout(c *fiber.Ctx) error {
	if err := s.origin.Check(c); err != nil {
		return err
	}
	if raw := c.Cookies(s.cookies.Name(web.CookieStaff)); raw != "" {
		// Only a staff session can be ended here: the cookie is client
		// input and must not end a customer's console session.
		sess, err := s.Sessions.Get(c.UserContext(), raw)
		switch {
		case err == nil && sess.Kind == "staff":
			if err := s.Sessions.Delete(c.UserContext(), raw); err != nil {
				return staffUnavailable(err)
			}
		case err != nil && !errors.Is(err, sessions.ErrNotFound):
			return staffUnavailable(err)
		}
	}
	s.cookies.Set(c, web.CookieStaff, "", -1)
	c.Set(fiber.HeaderCacheControl, "no-store")
	// A browser form (the web UI's sign-out button) names where to go
	// next; only a local path is followed (no open redirect).
	if rd := c.FormValue("rd"); rd != "" {
		if safe := web.SafeReturnPath(rd); safe == rd {
			return c.Redirect(safe, http.StatusSeeOther)
		}
	}
	return c.SendStatus(http.StatusNoContent)
}

// authenticate resolves the staff principal from a bearer JWT or the staff
// session cookie. Neither: 401. A valid token of a user without a staff
// role: 403, as at browser sign-in.
//
// The principal's User is the provider's subject: a stable, unique user id
// (manager assignments and CanSeeCustomer compare it). The display name is
// a claim many providers let users edit, so it never identifies anyone.
func (s *Staff) Authenticate(c *fiber.Ctx) error {
	if scheme, token, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " "); strings.EqualFold(scheme, "Bearer") {
		p, err := s.rp.get(c.UserContext())
		if err != nil {
			return &web.Error{Status: http.StatusBadGateway, Code: "idp_unavailable", Message: "The staff sign-in service is unavailable.", Err: err}
		}
		tok, err := s.rp.verifier(p).Verify(s.rp.ctx(c.UserContext()), strings.TrimSpace(token))
		if err != nil {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer error="invalid_token"`)
			return &web.Error{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "The bearer token is invalid or expired.", Err: err}
		}
		var claims map[string]any
		if err := tok.Claims(&claims); err != nil {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer error="invalid_token"`)
			return &web.Error{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "The bearer token is invalid or expired.", Err: err}
		}
		roles, home := s.principalFromClaims(claims)
		if len(roles) == 0 {
			return errNoStaffRole()
		}
		name, _ := claims["name"].(string)
		who := authz.Subject{User: tok.Subject, Roles: roles, Tenant: home}
		s.record(c.UserContext(), who, name)
		c.Locals(web.LocalPrincipal, who)
		c.Locals(web.LocalPrincipalName, cmp.Or(name, tok.Subject))
		return c.Next()
	}
	raw := c.Cookies(s.cookies.Name(web.CookieStaff))
	if raw == "" {
		c.Set(fiber.HeaderWWWAuthenticate, "Bearer")
		return web.Errorf(http.StatusUnauthorized, "unauthenticated", "Sign in at /admin/login or send a bearer token.")
	}
	// A cookie rides along on requests other sites make: state changes
	// must come from this origin.
	if err := s.origin.Check(c); err != nil {
		return err
	}
	sess, err := s.Sessions.Get(c.UserContext(), raw)
	if errors.Is(err, sessions.ErrNotFound) || (err == nil && (sess.Kind != "staff" || sess.Subject == "")) {
		c.Set(fiber.HeaderWWWAuthenticate, "Bearer")
		return web.Errorf(http.StatusUnauthorized, "unauthenticated", "Your staff session has ended. Sign in again.")
	}
	if err != nil {
		return staffUnavailable(err)
	}
	c.Locals(web.LocalSession, sess)
	c.Locals(web.LocalPrincipal, authz.Subject{User: sess.Subject, Roles: sess.Roles, Tenant: sess.HomeTenant})
	c.Locals(web.LocalPrincipalName, cmp.Or(sess.User, sess.Subject))
	return c.Next()
}

// whoami answers the principal: user (the provider's subject, the id used
// in manager assignments), display name, roles and home tenant.
func (s *Staff) Whoami(c *fiber.Ctx) error {
	p, _ := web.PrincipalOf(c)
	name, _ := c.Locals(web.LocalPrincipalName).(string)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"user": p.User, "name": name, "roles": p.Roles, "tenant": p.Tenant})
}
