package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/livery/livery/gateway/web"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// readyTimeout bounds each readiness probe, and so the answer: a check
// that has not answered by then counts as failed, even if it ignores its
// context.
const readyTimeout = 2 * time.Second

// healthz is liveness: the process serves requests.
func (g *Gateway) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz really pings every dependency, in parallel, and answers 503 naming
// the ones that failed ("store": "failed" for the object store). It answers
// within readyTimeout whatever the dependencies do. Failure details are
// logged, not returned. Once the gateway drains (Drain, shutdown) it
// answers 503 "draining" at once, probing nothing.
func (g *Gateway) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if g.draining.Load() {
		return c.Status(http.StatusServiceUnavailable).JSON(fiber.Map{"status": "draining"})
	}
	type result struct {
		name string
		err  error
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	done := make(chan result, len(g.checks)) // buffered: a late check never blocks
	for _, ch := range g.checks {
		go func() { done <- result{ch.Name, ch.Check(ctx)} }()
	}
	results := make(map[string]string, len(g.checks))
	for _, ch := range g.checks {
		results[ch.Name] = "failed" // until it answers ok
	}
	timer := time.NewTimer(readyTimeout + readyTimeout/10)
	defer timer.Stop()
wait:
	for range g.checks {
		select {
		case r := <-done:
			if r.err != nil {
				g.log.Warn("readiness check failed", "check", r.name, "request_id", web.RequestIDOf(c), "err", r.err)
				continue
			}
			results[r.name] = "ok"
		case <-timer.C:
			g.log.Warn("readiness checks did not answer in time", "request_id", web.RequestIDOf(c), "timeout", readyTimeout)
			break wait
		}
	}
	status, overall := http.StatusOK, "ok"
	for _, s := range results {
		if s != "ok" {
			status, overall = http.StatusServiceUnavailable, "unavailable"
		}
	}
	return c.Status(status).JSON(fiber.Map{"status": overall, "checks": results})
}

func (g *Gateway) metricsHandler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(g.metrics.Registry, promhttp.HandlerOpts{}))
}
