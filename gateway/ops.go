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

// OpsApp returns the operations listener's app (tests use app.Test).
func (g *Gateway) OpsApp() *fiber.App { return g.ops }

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
