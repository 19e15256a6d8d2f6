package signin

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gofiber/fiber/v2"
	"github.com/livery/livery/gateway/web"
)

// backchannelEvent is the events member every logout token carries.
const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// logout ends the local session and, when the provider supports it,
// continues with RP-initiated logout at the provider.
func (id *Customer) Logout(c *fiber.Ctx) error {
	if err := id.origin.Check(c); err != nil {
		return err
	}
	sess, _ := id.session(c)
	id.cookies.Set(c, web.CookieSession, "", -1)
	c.Set(fiber.HeaderCacheControl, "no-store")
	if sess == nil {
		return c.Redirect(LoggedOutPath, http.StatusFound)
	}
	if err := id.Sessions.Delete(c.UserContext(), sess.ID); err != nil {
		return &web.Error{Status: http.StatusServiceUnavailable, Code: "session_store_unavailable",
			Message: "Sign-out could not be completed. Please try again.", Err: err, RetryAfter: 5}
	}
	rp, ok := id.rps.of(web.TenantOf(c))
	if sess.Extra[viaExtra] == viaCloud {
		rp, ok = id.cloud, id.cloud != nil
	}
	if ok {
		if _, err := rp.get(c.UserContext()); err == nil {
			if end := rp.endSession(); end != "" {
				u, err := url.Parse(end)
				if err == nil {
					q := u.Query()
					q.Set("id_token_hint", sess.IDToken)
					q.Set("client_id", rp.cfg.ClientID)
					q.Set("post_logout_redirect_uri", id.baseURL(c)+LoggedOutPath)
					u.RawQuery = q.Encode()
					return c.Redirect(u.String(), http.StatusFound)
				}
			}
		}
	}
	return c.Redirect(LoggedOutPath, http.StatusFound)
}

func (id *Customer) baseURL(c *fiber.Ctx) string {
	scheme := "http"
	if id.CookieSecure || c.Context().IsTLS() {
		scheme = "https"
	}
	return scheme + "://" + string(c.Request().Host())
}

// signedOut is the page LoggedOut shows.
var signedOut = web.Page{TitleZH: "您已退出登录", TitleEN: "You are signed out",
	TextZH: "您已安全退出控制台。", TextEN: "You have left the console safely.",
	NextZH: "如需继续使用，请重新登录。", NextEN: "To continue, sign in again.",
	LinkHref: "/", LinkZH: "重新登录", LinkEN: "Sign in again"}

// LoggedOut shows the signed-out page, through IdentityOptions.Page when
// set (in the tenant's chrome), else plain.
func (id *Customer) LoggedOut(c *fiber.Ctx) error {
	if id.Page != nil {
		if err := id.Page(c, signedOut); err == nil {
			return nil
		}
		c.Response().ResetBody()
	}
	return web.PlainPage(c, signedOut)
}

// backchannelLogout implements OIDC Back-Channel Logout 1.0: the provider
// POSTs a signed logout token; every session of its sid (or, without sid,
// of its subject) ends on every instance.
func (id *Customer) BackchannelLogout(c *fiber.Ctx) error {
	rp, err := id.rp(c)
	if err != nil {
		return err
	}
	return id.backchannel(c, rp, func(err error) error { return idpUnavailable(web.TenantOf(c), err) })
}

// CloudBackchannelLogout is BackchannelLogout for sessions signed in at
// the cloud's provider (identity.cloud_sign_in): its logout tokens end the
// sessions of its sid or subject. 404 without cloud sign-in.
func (id *Customer) CloudBackchannelLogout(c *fiber.Ctx) error {
	rp, err := id.cloudRP()
	if err != nil {
		return err
	}
	return id.backchannel(c, rp, cloudUnavailable)
}

// backchannel verifies a logout token of rp's provider (signature, issuer,
// audience, iat, events, no nonce, sid or sub) and ends those sessions.
// Errors: 400 invalid_request for a bad token, idpDown's when the
// provider's keys cannot be had, 503 when the session store fails.
func (id *Customer) backchannel(c *fiber.Ctx, rp *relyingParty, idpDown func(error) error) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	bad := func(err error) error {
		id.log.Warn("back-channel logout refused", "request_id", web.RequestIDOf(c), "err", err)
		return c.Status(http.StatusBadRequest).JSON(fiber.Map{"error": "invalid_request"})
	}
	raw := c.FormValue("logout_token")
	if raw == "" || len(raw) > 16<<10 {
		return bad(errors.New("missing logout_token"))
	}
	p, err := rp.get(c.UserContext())
	if err != nil {
		return idpDown(err)
	}
	v := p.Verifier(&oidc.Config{ClientID: rp.cfg.ClientID, SkipExpiryCheck: true,
		SupportedSigningAlgs: []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.PS256}})
	tok, err := v.Verify(rp.ctx(c.UserContext()), raw)
	if err != nil {
		return bad(err)
	}
	var claims struct {
		SID    string         `json:"sid"`
		Nonce  *string        `json:"nonce"`
		Events map[string]any `json:"events"`
		IAT    int64          `json:"iat"`
	}
	if err := tok.Claims(&claims); err != nil {
		return bad(err)
	}
	switch {
	case claims.Nonce != nil:
		return bad(errors.New("logout token carries a nonce"))
	case claims.Events == nil || claims.Events[backchannelEvent] == nil:
		return bad(errors.New("logout token lacks the back-channel logout event"))
	case claims.IAT == 0 || time.Since(time.Unix(claims.IAT, 0)).Abs() > 10*time.Minute:
		return bad(errors.New("logout token iat missing or stale"))
	case claims.SID == "" && tok.Subject == "":
		return bad(errors.New("logout token has neither sid nor sub"))
	}
	var n int
	if claims.SID != "" {
		n, err = id.Sessions.EndBySID(c.UserContext(), tok.Issuer, claims.SID)
	} else {
		n, err = id.Sessions.EndBySubject(c.UserContext(), tok.Issuer, tok.Subject)
	}
	if err != nil {
		return &web.Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "Try again.", Err: err, RetryAfter: 5}
	}
	id.log.Info("back-channel logout", "tenant", web.TenantOf(c).ID, "sessions", n, "request_id", web.RequestIDOf(c))
	return c.SendStatus(http.StatusOK)
}
