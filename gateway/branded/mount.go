package branded

import (
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/gateway/exchange"
	"github.com/livery/livery/gateway/web"
)

// Options wires branding on the console listener.
type Options struct {
	// Chrome decides what each HTML document gets; nil disables injection.
	Chrome ChromeProvider
	// Assets serves logos and stylesheets under /_livery/; nil disables them.
	Assets AssetSource
	// CookieSecure marks the language cookie Secure (outside plain-HTTP
	// development).
	CookieSecure bool
	// Unbranded counts documents served without the chrome (by tenant and
	// reason); nil: not counted.
	Unbranded *prometheus.CounterVec
}

// Mount registers the asset and language routes on the console listener
// and returns the proxy hooks that brand documents (nil when o.Chrome is
// nil): rewrite marks document requests and sets the upstream's
// Accept-Language to the language chosen in the chrome, modify injects the
// chrome.
func Mount(r fiber.Router, o Options) (rewrite exchange.RewriteFunc, modify exchange.ModifyResponseFunc) {
	if o.Assets != nil {
		r.Get(web.AssetsPath+":name", serveAsset(o.Assets))
		r.Get(stylesPath+":tenant/:name", serveStylesheet(o.Assets))
	}
	if bc, ok := o.Chrome.(*Chrome); ok && bc.unbranded == nil {
		bc.unbranded = o.Unbranded
	}
	if o.Chrome == nil {
		return nil, nil
	}
	r.Get(render.LanguagePath, setLanguage(o.CookieSecure))
	return rewriteRequest, injectBranding(o.Chrome)
}

// PagePaths are the path prefixes Livery's own pages need besides the
// page itself (images, stylesheets, the language switch): served also when
// everything else of the tenant is refused, e.g. while it is suspended.
var PagePaths = []string{web.AssetsPath, stylesPath, render.LanguagePath}

// rewriteRequest is the branding door's RewriteFunc.
func rewriteRequest(out *exchange.Outbound) error {
	if err := upstreamLanguage(out); err != nil {
		return err
	}
	return documentRequest(out)
}
