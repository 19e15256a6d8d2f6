package staffui

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
)

func keysPath(t string) string { return Prefix + "t/" + url.PathEscape(t) + "/keys" }

// keys lists the partner's access keys with their created, last-used and
// revoked times, active keys first, newest first.
func (u *UI) keys(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodGet, tenantPath(t, "/keys")); err != nil {
		return err
	}
	return u.showKeys(c, t, nil, "")
}

func (u *UI) showKeys(c *fiber.Ctx, t string, created *tenants.AccessKey, secret string) error {
	list, err := u.o.Keys.List(c.UserContext(), t)
	if err != nil {
		return customerError(err)
	}
	slices.SortStableFunc(list, func(a, b tenants.AccessKey) int {
		if (a.RevokedAt == nil) != (b.RevokedAt == nil) {
			if a.RevokedAt == nil {
				return -1
			}
			return 1
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	page := u.base(c, "keys.title", t)
	page.TitleArg = u.tenantName(c, t)
	page.Data = map[string]any{"Tenant": t, "Keys": list, "Created": created, "Secret": secret,
		"CanCreate": u.allowed(c, http.MethodPost, tenantPath(t, "/keys"), t),
		"CanRevoke": u.allowed(c, http.MethodPost, tenantPath(t, "/keys/x/revoke"), t)}
	if created != nil {
		page.Flash = &flash{Kind: "ok", Text: tr(page.Lang, "done.key_created")}
	}
	return u.page(c, "keys", page)
}

// createKey makes a new key pair and shows the secret once, on this
// response only (no-store; the page is not reachable again).
func (u *UI) createKey(c *fiber.Ctx) error {
	t := web.Param(c, "tenant")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/keys")); err != nil {
		return err
	}
	k, sk, err := u.o.Keys.Create(c.UserContext(), actorOf(c), t)
	if err != nil {
		return back(c, keysPath(t), customerError(err))
	}
	return u.showKeys(c, t, &k, sk)
}

// revokeKey revokes a key after a confirmation.
func (u *UI) revokeKey(c *fiber.Ctx) error {
	t, ak := web.Param(c, "tenant"), web.Param(c, "key")
	if err := u.authorizeAs(c, http.MethodPost, tenantPath(t, "/keys/"+ak+"/revoke")); err != nil {
		return err
	}
	if !confirmed(c) {
		return u.confirm(c, confirmData{Action: c.Path(), Text: "confirm.revoke", Arg: ak, Back: keysPath(t), Button: "action.revoke"})
	}
	if _, err := u.o.Keys.Revoke(c.UserContext(), actorOf(c), t, ak); err != nil {
		return back(c, keysPath(t), customerError(err))
	}
	return done(c, keysPath(t), "done.key_revoked")
}
