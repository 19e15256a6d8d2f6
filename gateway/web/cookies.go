package web

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// Livery's cookie names, every one of them (base names: with
// Cookies.Secure they carry the __Host- prefix). Every livery_* cookie is
// removed from the Cookie header before a request reaches the upstream.
const (
	CookieSession    = "livery_session"     // a customer's session id (console)
	CookieLogin      = "livery_login"       // binds a customer sign-in to its browser
	CookieStaff      = "livery_staff"       // a staff member's session id (API listener)
	CookieStaffLogin = "livery_staff_login" // binds a staff sign-in to its browser
	CookiePreview    = "livery_preview"     // a staff member's branding preview marker
)

// Cookies writes and reads Livery's cookies: HttpOnly, SameSite=Lax, Path
// /, and with Secure the __Host- prefix (Secure, no Domain), which only
// plain-HTTP development turns off.
type Cookies struct{ Secure bool }

// Name is the cookie's name on the wire.
func (k Cookies) Name(base string) string {
	if k.Secure {
		return "__Host-" + base
	}
	return base
}

// Get returns the request's cookie base ("" when absent).
func (k Cookies) Get(c *fiber.Ctx, base string) string { return c.Cookies(k.Name(base)) }

// Set sets cookie base to value: maxAge 0 for a browser-session cookie,
// negative to delete it.
func (k Cookies) Set(c *fiber.Ctx, base, value string, maxAge time.Duration) {
	ck := &fiber.Cookie{Name: k.Name(base), Value: value, Path: "/", HTTPOnly: true,
		Secure: k.Secure, SameSite: fiber.CookieSameSiteLaxMode}
	if maxAge < 0 {
		ck.Expires, ck.MaxAge = time.Unix(1, 0), -1
	} else if maxAge > 0 {
		ck.MaxAge = int(maxAge.Seconds())
	}
	c.Cookie(ck)
}
