package web

import (
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"
)

// originCheck refuses cross-origin state-changing requests made with a
// cookie session (CSRF), using the standard library's
// http.CrossOriginProtection rules:
//   - GET, HEAD and OPTIONS pass (they change nothing);
//   - Sec-Fetch-Site "same-origin" or "none" (typed, bookmarked) passes;
//     any other value ("cross-site", "same-site") is refused;
//   - without Sec-Fetch-Site, an Origin equal to the request's Host, or
//     to a trusted origin (the listener's public URL), passes; another
//     Origin is refused;
//   - with neither header the request is not a browser's and passes.
//
// Only cookie-authenticated requests are checked: a bearer token is not
// sent by the browser on its own, so it cannot be ridden.
type OriginCheck struct{ p *http.CrossOriginProtection }

// newOriginCheck trusts the origins of the given base URLs (for listeners
// behind a proxy that rewrites Host); unparsable or empty ones are skipped.
func NewOriginCheck(trusted ...string) *OriginCheck {
	p := http.NewCrossOriginProtection()
	for _, t := range trusted {
		if u, err := url.Parse(t); err == nil && u.Scheme != "" && u.Host != "" {
			_ = p.AddTrustedOrigin(u.Scheme + "://" + u.Host) // scheme://host is a valid origin
		}
	}
	return &OriginCheck{p: p}
}

// check returns nil when c may change state with its cookies, else a 403
// cross_origin error. Nothing has been read or written when it refuses.
func (o *OriginCheck) Check(c *fiber.Ctx) error {
	h := http.Header{}
	if v := c.Get("Sec-Fetch-Site"); v != "" {
		h.Set("Sec-Fetch-Site", v)
	}
	if v := c.Get(fiber.HeaderOrigin); v != "" {
		h.Set("Origin", v)
	}
	req := &http.Request{Method: c.Method(), Host: string(c.Request().Host()), Header: h, URL: &url.URL{Path: c.Path()}}
	if err := o.p.Check(req); err != nil {
		return &Error{Status: http.StatusForbidden, Code: "cross_origin",
			Message: "This request came from another site and was refused. Use the page on this site to do this. / 该请求来自其他站点，已被拒绝。请在本站页面上操作。",
			Err:     err}
	}
	return nil
}
