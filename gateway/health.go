package gateway

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// readyTimeout bounds each readiness probe.
const readyTimeout = 2 * time.Second

// healthz is liveness: the process serves requests.
func (g *Gateway) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz really pings every dependency, in parallel, and answers 503 naming
// the ones that failed. Failure details are logged, not returned.
func (g *Gateway) readyz(c *fiber.Ctx) error {
	results := make(map[string]string, len(g.checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ch := range g.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
			defer cancel()
			state := "ok"
			if err := ch.Check(ctx); err != nil {
				state = "failed"
				g.log.Warn("readiness check failed", "check", ch.Name, "request_id", requestID(c), "err", err)
			}
			mu.Lock()
			results[ch.Name] = state
			mu.Unlock()
		}()
	}
	wg.Wait()
	status, overall := http.StatusOK, "ok"
	for _, s := range results {
		if s != "ok" {
			status, overall = http.StatusServiceUnavailable, "unavailable"
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).JSON(fiber.Map{"status": overall, "checks": results})
}

func (g *Gateway) metricsHandler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(g.metrics.Registry, promhttp.HandlerOpts{}))
}
