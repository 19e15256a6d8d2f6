package gateway

import (
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/gateway/preview"
	"github.com/livery/livery/gateway/web"
)

// BrandingOptions wires branding into both listeners.
type BrandingOptions struct {
	// Chrome decides what each HTML document gets; nil disables injection.
	Chrome ChromeProvider
	// Assets serves logos and stylesheets under /_livery/ on the console
	// listener; nil disables them.
	Assets AssetSource
	// Workflow, with Options.Admin set, mounts the branding admin API.
	Workflow BrandingWorkflow
	// Preview, when set, enables branding preview for staff.
	Preview *preview.Options
	// CookieSecure marks the language cookie Secure (outside plain-HTTP
	// development).
	CookieSecure bool
}

// mountBrandingConsole installs the console side: preview marker lookup
// (before sign-in), asset routes and the injection hooks.
func (g *Gateway) mountBrandingConsole(o BrandingOptions) *preview.Service {
	var pv *preview.Service
	if o.Preview != nil {
		pv = preview.New(*o.Preview, g.trusted)
		g.console.Use(pv.Middleware)
		g.console.Get(web.LiveryPrefix+"preview", pv.Enter)
		g.console.Get(web.LiveryPrefix+"preview/end", pv.Leave)
	}
	if o.Assets != nil {
		g.console.Get(assetsPath+":name", serveAsset(o.Assets))
		g.console.Get(stylesPath+":tenant/:name", serveStylesheet(o.Assets))
	}
	if bc, ok := o.Chrome.(*BrandChrome); ok && bc.unbranded == nil {
		bc.unbranded = g.metrics.Unbranded
	}
	if o.Chrome != nil {
		g.console.Get(render.LanguagePath, setLanguage(o.CookieSecure))
		g.proxy.Rewrite = append(g.proxy.Rewrite, documentRequest)
		g.proxy.ModifyResponse = append(g.proxy.ModifyResponse, injectBranding(o.Chrome))
	}
	return pv
}

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
