package gateway

import (
	"github.com/livery/livery/gateway/branded"
	"github.com/livery/livery/gateway/preview"
	"github.com/livery/livery/gateway/web"
)

// BrandingOptions wires branding into both listeners.
type BrandingOptions struct {
	// Chrome decides what each HTML document gets; nil disables injection.
	Chrome branded.ChromeProvider
	// Assets serves logos and stylesheets under /_livery/ on the console
	// listener; nil disables them.
	Assets branded.AssetSource
	// Workflow, with Options.Admin set, mounts the branding admin API.
	Workflow BrandingWorkflow
	// Preview, when set, enables branding preview for staff.
	Preview *preview.Options
	// CookieSecure marks the language cookie Secure (outside plain-HTTP
	// development).
	CookieSecure bool
}

// mountBrandingConsole installs the console side: preview marker lookup
// (before sign-in), preview routes, asset routes and the injection hooks.
func (g *Gateway) mountBrandingConsole(o BrandingOptions) *preview.Service {
	var pv *preview.Service
	if o.Preview != nil {
		pv = preview.New(*o.Preview, g.trusted)
		g.console.Use(pv.Middleware)
		g.console.Get(web.LiveryPrefix+"preview", pv.Enter)
		g.console.Get(web.LiveryPrefix+"preview/end", pv.Leave)
	}
	rewrite, modify := branded.Mount(g.console, branded.Options{Chrome: o.Chrome, Assets: o.Assets,
		CookieSecure: o.CookieSecure, Unbranded: g.metrics.Unbranded})
	if rewrite != nil {
		g.proxy.Rewrite = append(g.proxy.Rewrite, rewrite)
		g.proxy.ModifyResponse = append(g.proxy.ModifyResponse, modify)
	}
	return pv
}
