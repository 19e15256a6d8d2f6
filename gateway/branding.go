package gateway

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
	Preview *PreviewOptions
}

// mountBrandingConsole installs the console side: preview marker lookup
// (before sign-in), asset routes and the injection hooks.
func (g *Gateway) mountBrandingConsole(o BrandingOptions) *previews {
	var pv *previews
	if o.Preview != nil {
		pv = newPreviews(*o.Preview)
		g.console.Use(pv.middleware)
		g.console.Get(pathPrefix+"preview", pv.enter)
		g.console.Get(pathPrefix+"preview/end", pv.leave)
	}
	if o.Assets != nil {
		g.console.Get(assetsPath+":name", serveAsset(o.Assets))
		g.console.Get(stylesPath+":tenant/:name", serveStylesheet(o.Assets))
	}
	if bc, ok := o.Chrome.(*BrandChrome); ok && bc.unbranded == nil {
		bc.unbranded = g.metrics.unbranded
	}
	if o.Chrome != nil {
		g.proxy.Rewrite = append(g.proxy.Rewrite, documentRequest)
		g.proxy.ModifyResponse = append(g.proxy.ModifyResponse, injectBranding(o.Chrome))
	}
	return pv
}
