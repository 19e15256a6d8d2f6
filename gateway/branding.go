package gateway

// BrandingOptions wires branding into the console listener.
type BrandingOptions struct {
	// Chrome decides what each HTML document gets; nil disables injection.
	Chrome ChromeProvider
}

// mountBranding installs the injection hooks.
func (g *Gateway) mountBranding(o BrandingOptions) {
	if o.Chrome != nil {
		g.proxy.Rewrite = append(g.proxy.Rewrite, documentRequest)
		g.proxy.ModifyResponse = append(g.proxy.ModifyResponse, injectBranding(o.Chrome))
	}
}
