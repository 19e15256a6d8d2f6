package branded

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/gateway/exchange"
	"github.com/livery/livery/gateway/web"
)

// setLanguage answers the chrome's language switch (?to=zh|en): it pins
// the console language in a cookie and returns to the page the switch was
// clicked on (the Referer, when it is this host), else to "/".
func setLanguage(secure bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		to := c.Query("to")
		if to != render.LocaleZH && to != render.LocaleEN {
			return web.Errorf(http.StatusBadRequest, "bad_request", "The language must be zh or en.")
		}
		c.Cookie(&fiber.Cookie{Name: render.LocaleCookie, Value: to, Path: "/", MaxAge: 365 * 24 * 3600,
			HTTPOnly: true, Secure: secure, SameSite: fiber.CookieSameSiteLaxMode})
		back := "/"
		if ref, err := url.Parse(c.Get(fiber.HeaderReferer)); err == nil && ref.Host != "" && ref.Host == string(c.Request().Host()) {
			back = web.SafeReturnPath(ref.RequestURI())
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Redirect(back, http.StatusSeeOther)
	}
}

// upstreamLanguages are the Accept-Language values the upstream gets for
// the language pinned by the chrome's switch.
var upstreamLanguages = map[string]string{
	render.LocaleZH: "zh-CN,zh;q=0.9",
	render.LocaleEN: "en-US,en;q=0.9",
}

// upstreamLanguage makes the upstream answer in the language the visitor
// chose in the chrome: with the language cookie set (zh or en), every
// proxied request's Accept-Language is replaced by that language's value;
// without it, the browser's header passes unchanged. It is a RewriteFunc.
func upstreamLanguage(out *exchange.Outbound) error {
	if v, ok := upstreamLanguages[strings.ToLower(strings.TrimSpace(out.Lang))]; ok {
		out.Header.Set(fiber.HeaderAcceptLanguage, v)
	}
	return nil
}
