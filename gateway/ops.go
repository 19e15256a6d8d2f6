package gateway

import (
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/pprof"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/livery/livery/gateway/web"
)

// OpsOptions configures the operations listener: /healthz, /readyz,
// /metrics and, with Pprof, Go's profiler under /debug/pprof/. Nothing on
// it is authenticated: it belongs on the operator's network only (ops.addr,
// loopback by default).
type OpsOptions struct {
	ListenerOptions
	Pprof bool
}

// Drain starts a graceful shutdown: from now on /readyz answers 503
// ("status":"draining") without probing anything, while every listener
// keeps serving, so that load balancers take this instance out before
// Shutdown closes the listeners. It cannot be undone.
func (g *Gateway) Drain() { g.draining.Store(true) }

// Draining reports whether Drain was called.
func (g *Gateway) Draining() bool { return g.draining.Load() }

// OpsApp returns the operations listener's app (tests use app.Test).
func (g *Gateway) OpsApp() *fiber.App { return g.ops }

func newOpsApp(o OpsOptions, eh fiber.ErrorHandler) *fiber.App {
	return fiber.New(fiberConfig(o.ListenerOptions, eh, false))
}

// opsChain is the operations listener's middleware: recover → request id.
// Its requests are neither logged nor counted (probes and scrapes every
// few seconds would drown the access log and the request metrics).
func (g *Gateway) opsChain(app *fiber.App) {
	app.Use(web.Recover(g.log))
	app.Use(web.RequestIDMiddleware)
}

// pprofHandler serves /debug/pprof/ (ops.pprof).
func pprofHandler() fiber.Handler { return pprof.New() }

// signinObserver counts sign-ins (the OIDC callbacks) by kind, tenant and
// result: ok, or the error code answered (login_failed, login_refused,
// not_associated, idp_unavailable, no_role, ...). Tenants are the
// configured ones (the console listener resolved them); staff sign-ins
// count under tenant "-".
type signinObserver struct {
	signins  *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newSigninObserver(reg prometheus.Registerer) *signinObserver {
	s := &signinObserver{
		signins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livery_signins_total",
			Help: "Completed sign-in callbacks by kind (customer, staff), tenant (- for staff) and result (ok, or the error code answered).",
		}, []string{"kind", "tenant", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "livery_signin_callback_duration_seconds",
			Help:    "Time of the sign-in callback (code exchange, token verification, account lookup, session) by kind.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"kind"}),
	}
	reg.MustRegister(s.signins, s.duration)
	return s
}

// forget drops the series of tenant.
func (s *signinObserver) forget(tenant string) {
	s.signins.DeletePartialMatch(prometheus.Labels{"tenant": tenant})
}

// wrap counts the callback h of kind.
func (s *signinObserver) wrap(kind string, h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := h(c)
		tenant := "-"
		if t := web.TenantOf(c); t != nil && kind != "staff" {
			tenant = t.ID
		}
		result := "ok"
		if err != nil {
			result = web.ToError(err).Code
		} else if st := c.Response().StatusCode(); st >= http.StatusBadRequest {
			result = strings.ToLower(web.CodeForStatus(st))
		}
		s.signins.WithLabelValues(kind, tenant, result).Inc()
		s.duration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
		return err
	}
}
