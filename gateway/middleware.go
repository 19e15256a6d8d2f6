package gateway

import (
	"github.com/gofiber/fiber/v2"
	"github.com/livery/livery/gateway/web"
)

// chain installs the middleware of a listener in its one fixed order:
// recover → request id → access log → (console only) tenant, with the Host
// checked → canonical path → handlers. On the console, everything that
// reads the path (branding preview, sign-in, authorization, Livery's
// routes, the proxy) comes after the canonical path step, and chain must
// run before any route is added: the router then continues on the
// canonical path (its route lists share this common head).
func (g *Gateway) chain(app *fiber.App, listener string, console bool) {
	app.Use(web.Recover(g.log))
	app.Use(web.RequestIDMiddleware)
	app.Use(web.AccessLog(g.log, g.metrics, listener, app.ErrorHandler))
	if console {
		app.Use(web.TenantMiddleware(g.tenants))
		app.Use(web.CanonicalPathMiddleware)
	}
}
