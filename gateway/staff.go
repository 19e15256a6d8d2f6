package gateway

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/sessions"
)

// Authorizer decides every admin API call and console request.
type Authorizer interface {
	Authorize(ctx context.Context, s authz.Subject, r authz.Request) (authz.Decision, error)
}

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
}

// Staff roles.
var staffRoles = map[string]bool{"operator": true, "partner_admin": true, "customer_manager": true}

type staff struct {
	StaffOptions
	g  *Gateway
	rp *relyingParty
	id *identity // cookie helpers
}

const localPrincipal = "livery.principal"

func (g *Gateway) mountStaff(o StaffOptions) *staff {
	if o.RolesClaim == "" {
		o.RolesClaim = "roles"
	}
	if o.TenantClaim == "" {
		o.TenantClaim = "tenant"
	}
	s := &staff{StaffOptions: o, g: g, rp: newRelyingParty(o.Client),
		id: &identity{IdentityOptions: IdentityOptions{CookieSecure: o.CookieSecure}}}
	g.api.Get("/admin/login", s.login)
	g.api.Get("/admin/callback", s.callback)
	g.api.Post("/admin/logout", s.logout)
	g.api.Get("/admin/whoami", s.authenticate, s.whoami)
	return s
}

// principalFromClaims maps identity claims to roles and home tenant.
func (s *staff) principalFromClaims(claims map[string]any) (roles []string, tenant string) {
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

func (s *staff) login(c *fiber.Ctx) error {
	p, err := s.rp.get(c.UserContext())
	if err != nil {
		return &Error{Status: http.StatusBadGateway, Code: "idp_unavailable", Message: "The staff sign-in service is unavailable.", Err: err}
	}
	bind, state, nonce, verifier := randomToken(), randomToken(), randomToken(), oauth2.GenerateVerifier()
	st, _ := json.Marshal(loginState{Tenant: "_staff", Verifier: verifier, Nonce: nonce,
		Return: SafeReturnPath(c.Query("rd")), Bind: hashToken(bind)})
	if err := s.Redis.Set(c.UserContext(), "livery:login:"+hashToken(state), st, loginStateTTL).Err(); err != nil {
		return unavailableErr(err)
	}
	s.id.setCookie(c, "livery_staff_login", bind, loginStateTTL)
	u := s.rp.oauth(p, s.PublicURL+"/admin/callback").AuthCodeURL(state, oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", nonce))
	return c.Redirect(u, http.StatusFound)
}

func (s *staff) callback(c *fiber.Ctx) error {
	if e := c.Query("error"); e != "" {
		return &Error{Status: http.StatusUnauthorized, Code: "login_refused", Message: "Sign-in refused (" + sanitizeCode(e) + ")."}
	}
	raw, err := s.Redis.GetDel(c.UserContext(), "livery:login:"+hashToken(c.Query("state"))).Bytes()
	if err != nil {
		return loginFailed("unknown or used state", err)
	}
	var st loginState
	if json.Unmarshal(raw, &st) != nil || st.Tenant != "_staff" ||
		subtle.ConstantTimeCompare([]byte(hashToken(c.Cookies(s.id.cookieName("livery_staff_login")))), []byte(st.Bind)) != 1 {
		return loginFailed("sign-in started elsewhere", nil)
	}
	s.id.setCookie(c, "livery_staff_login", "", -1)
	p, err := s.rp.get(c.UserContext())
	if err != nil {
		return &Error{Status: http.StatusBadGateway, Code: "idp_unavailable", Message: "The staff sign-in service is unavailable.", Err: err}
	}
	ctx := s.rp.ctx(c.UserContext())
	tok, err := s.rp.oauth(p, s.PublicURL+"/admin/callback").Exchange(ctx, c.Query("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return loginFailed("code exchange refused", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := s.rp.verifier(p).Verify(ctx, rawID)
	if err != nil {
		return loginFailed("ID token rejected", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return loginFailed("nonce mismatch", nil)
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	roles, home := s.principalFromClaims(claims)
	if len(roles) == 0 {
		return Errorf(http.StatusForbidden, "no_role", "Your account has no Livery staff role.")
	}
	name, _ := claims["name"].(string)
	sid, _ := claims["sid"].(string)
	sess, err := s.Sessions.Create(c.UserContext(), sessions.Session{Tenant: "_staff", Kind: "staff", Issuer: idt.Issuer,
		Subject: idt.Subject, SID: sid, User: firstNonEmpty(name, idt.Subject), Roles: roles, HomeTenant: home, IDToken: rawID})
	if err != nil {
		return unavailableErr(err)
	}
	s.id.setCookie(c, "livery_staff", sess.ID, 0)
	return c.Redirect(st.Return, http.StatusFound)
}

func (s *staff) logout(c *fiber.Ctx) error {
	if raw := c.Cookies(s.id.cookieName("livery_staff")); raw != "" {
		if err := s.Sessions.Delete(c.UserContext(), raw); err != nil {
			return unavailableErr(err)
		}
	}
	s.id.setCookie(c, "livery_staff", "", -1)
	return c.SendStatus(http.StatusNoContent)
}

// authenticate resolves the staff principal from a bearer JWT or the staff
// session cookie. Neither: 401.
func (s *staff) authenticate(c *fiber.Ctx) error {
	if h := c.Get(fiber.HeaderAuthorization); strings.HasPrefix(h, "Bearer ") {
		p, err := s.rp.get(c.UserContext())
		if err != nil {
			return &Error{Status: http.StatusBadGateway, Code: "idp_unavailable", Message: "The staff sign-in service is unavailable.", Err: err}
		}
		tok, err := s.rp.verifier(p).Verify(s.rp.ctx(c.UserContext()), strings.TrimPrefix(h, "Bearer "))
		if err != nil {
			return &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "The bearer token is invalid or expired.", Err: err}
		}
		var claims map[string]any
		_ = tok.Claims(&claims)
		roles, home := s.principalFromClaims(claims)
		name, _ := claims["name"].(string)
		c.Locals(localPrincipal, authz.Subject{User: firstNonEmpty(name, tok.Subject), Roles: roles, Tenant: home})
		return c.Next()
	}
	raw := c.Cookies(s.id.cookieName("livery_staff"))
	if raw == "" {
		return Errorf(http.StatusUnauthorized, "unauthenticated", "Sign in at /admin/login or send a bearer token.")
	}
	sess, err := s.Sessions.Get(c.UserContext(), raw)
	if errors.Is(err, sessions.ErrNotFound) || (err == nil && sess.Kind != "staff") {
		return Errorf(http.StatusUnauthorized, "unauthenticated", "Your staff session has ended. Sign in again.")
	}
	if err != nil {
		return unavailableErr(err)
	}
	c.Locals(localSession, sess)
	c.Locals(localPrincipal, authz.Subject{User: sess.User, Roles: sess.Roles, Tenant: sess.HomeTenant})
	return c.Next()
}

// PrincipalOf returns the authenticated staff subject.
func PrincipalOf(c *fiber.Ctx) (authz.Subject, bool) {
	p, ok := c.Locals(localPrincipal).(authz.Subject)
	return p, ok
}

func (s *staff) whoami(c *fiber.Ctx) error {
	p, _ := PrincipalOf(c)
	return c.JSON(fiber.Map{"user": p.User, "roles": p.Roles, "tenant": p.Tenant})
}

// authorize asks the Authorizer about the admin API call: the tenant is
// the :tenant path parameter, the object the path, the action the method.
func authorize(a Authorizer) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, ok := PrincipalOf(c)
		if !ok {
			return Errorf(http.StatusUnauthorized, "unauthenticated", "Sign in first.")
		}
		req := authz.Request{Tenant: c.Params("tenant"), Object: c.Path(), Action: c.Method()}
		if err := decide(c, a, p, req, "You are not allowed to do this."); err != nil {
			return err
		}
		return c.Next()
	}
}

// decide asks a about r for s and maps the outcome: allowed → nil; denied
// (authz.ErrDenied) → 403 with msg; any other failure → 500 (fail closed).
// The decision's reason is logged, never shown.
func decide(c *fiber.Ctx, a Authorizer, s authz.Subject, r authz.Request, msg string) error {
	d, err := a.Authorize(c.UserContext(), s, r)
	switch {
	case err == nil && d.Allowed:
		return nil
	case err == nil || errors.Is(err, authz.ErrDenied):
		return &Error{Status: http.StatusForbidden, Code: "forbidden", Message: msg,
			Err: fmt.Errorf("user %q: %s", s.User, d.Reason)}
	default:
		return &Error{Status: http.StatusInternalServerError, Code: "authz_error", Err: err}
	}
}
