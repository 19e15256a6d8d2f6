package staffui

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/web"
)

// authorizeAs decides a UI request as the admin API call it stands for:
// method and adminPath (below /admin/v1, e.g. "/tenants/demo/branding/draft")
// are what Casbin is asked about, in the tenant the path names (or the
// platform domain "" for /reviews and /branding), exactly as the admin API
// would be. Errors: 401 without a principal, 403 when denied (rendered as
// the UI's 403 page), 500 when the authorizer fails (fail closed).
func (u *UI) authorizeAs(c *fiber.Ctx, method, adminPath string) error {
	p, ok := web.PrincipalOf(c)
	if !ok {
		return web.Errorf(http.StatusUnauthorized, "unauthenticated", "Sign in first.")
	}
	req := authz.Request{Tenant: tenantOf(adminPath), Object: adminPrefix + adminPath, Action: method}
	return web.Decide(c, u.o.Authorizer, p, req, "You are not allowed to see or do this. / 您无权查看或执行此操作。")
}

// allowed reports whether the principal may make the admin API call (for
// showing links and buttons; the handlers decide again).
func (u *UI) allowed(c *fiber.Ctx, method, adminPath, _ string) bool {
	p, ok := web.PrincipalOf(c)
	if !ok {
		return false
	}
	d, err := u.o.Authorizer.Authorize(c.UserContext(), p, authz.Request{Tenant: tenantOf(adminPath),
		Object: adminPrefix + adminPath, Action: method})
	return err == nil && d.Allowed
}

// tenantOf is the tenant an admin path names ("/tenants/<id>/..."), "" for
// platform paths.
func tenantOf(adminPath string) string {
	rest, ok := strings.CutPrefix(adminPath, "/tenants/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// tenantPath is the admin path of tenant t's resource rest.
func tenantPath(t, rest string) string { return "/tenants/" + t + rest }
