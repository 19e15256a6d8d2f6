package partnerapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/livery/livery/gateway/web"
)

// operations names the partner API's endpoints (paths under Prefix, all
// POST) for the metrics; any other request is "other".
var operations = map[string]string{
	"/partners/sub-customers":                      "create",
	"/partners/sub-customers/query":                "query",
	"/partners/sub-customers/users/check-identity": "check-identity",
	"/bases/verificationcode/send":                 "send-code",
}

// Operation is the metrics name of the partner API request to path with
// method: create, query, check-identity, send-code, or other.
func Operation(method, path string) string {
	if method == http.MethodPost {
		if op, ok := operations[strings.TrimPrefix(path, Prefix)]; ok {
			return op
		}
	}
	return "other"
}

// observer counts partner API requests by operation and error code and
// times them by operation.
type observer struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	stats    Stats // nil: not counted per tenant
}

func newObserver(reg prometheus.Registerer, stats Stats) *observer {
	o := &observer{stats: stats,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livery_partner_requests_total",
			Help: "Partner API requests by operation (create, query, check-identity, send-code, other) and error code (the code of the answer, e.g. CBC.0154; none: success).",
		}, []string{"operation", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "livery_partner_request_duration_seconds",
			Help:    "Partner API request time by operation, authentication and limits included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
	}
	for _, op := range operations {
		o.requests.WithLabelValues(op, "none")
		o.duration.WithLabelValues(op)
	}
	reg.MustRegister(o.requests, o.duration)
	return o
}

// observe runs first on the partner API's paths. The code counted is the
// one the client receives: the handler's, translated by the door's code
// table (Codes) as the error handler will.
func (o *observer) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	op := Operation(c.Method(), c.Path())
	code := "none"
	if err != nil {
		e := *web.ToError(err) // a copy: the error handler translates the original
		Codes.Translate(&e)
		code = e.Code
	} else if s := c.Response().StatusCode(); s >= 400 {
		code = codeForStatus(s)
	}
	o.requests.WithLabelValues(op, code).Inc()
	o.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	record(o.stats, c, op, code)
	return err
}
