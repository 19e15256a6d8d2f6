package partnerapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/ratelimit"
	"github.com/livery/livery/tenants/signing"
)

// authLimiterTimeout bounds each Redis call of the unauthenticated limiter,
// so that a slow Redis cannot hold requests that have not even been
// authenticated.
const authLimiterTimeout = 250 * time.Millisecond

// Reasons of livery_partner_auth_failures_total (a fixed set: labels are
// never taken from the request).
const (
	authMissing   = "missing"   // no Authorization or no X-Sdk-Date
	authMalformed = "malformed" // unparsable or duplicated authentication, unsigned payload
	authExpired   = "expired"   // date outside the allowed skew
	authUnknown   = "unknown_key"
	authSignature = "signature"   // signature or body hash mismatch
	authTenant    = "tenant_gone" // the key's tenant is no longer configured
	authLimited   = "rate_limited"
)

// authGuard keeps unauthenticated traffic cheap: it writes nothing durable,
// counts failures in Prometheus, logs them sampled, and refuses a source
// address whose failure budget is spent before its signature is checked.
type authGuard struct {
	limiter  Limiter
	lim      ratelimit.Limit
	log      *slog.Logger
	failures *prometheus.CounterVec
	limErrs  prometheus.Counter
	sample   *logSampler
}

func newAuthGuard(l Limiter, lim ratelimit.Limit, log *slog.Logger, reg prometheus.Registerer) *authGuard {
	if lim.Rate <= 0 || lim.Period <= 0 {
		panic("partnerapi: Options.AuthFailureLimit is required (partner_api.auth_failure_limit)")
	}
	g := &authGuard{limiter: l, lim: lim, log: log, sample: newLogSampler(time.Minute, 10),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livery_partner_auth_failures_total",
			Help: "Partner API requests refused before authentication, by reason (missing, malformed, expired, unknown_key, signature, tenant_gone; rate_limited: refused unread because the source address spent its failure budget).",
		}, []string{"reason"}),
		limErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livery_partner_auth_limiter_errors_total",
			Help: "Checks of the unauthenticated per-address limiter that could not reach Redis (the request was let through to the signature check).",
		}),
	}
	for _, r := range []string{authMissing, authMalformed, authExpired, authUnknown, authSignature, authTenant, authLimited} {
		g.failures.WithLabelValues(r)
	}
	reg.MustRegister(g.failures, g.limErrs)
	return g
}

func authFailKey(peer string) string { return "authfail:" + peer }

// admit refuses a source address whose failure budget is spent, without
// charging anything (a peek). When Redis cannot answer in time the request
// is let through (fail open): the signature check that follows is cheap and
// writes nothing, whereas failing closed would let anyone who can slow
// Redis shut every partner out.
func (g *authGuard) admit(c *fiber.Ctx, peer string) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), authLimiterTimeout)
	defer cancel()
	d, err := g.limiter.Peek(ctx, authFailKey(peer), g.lim)
	if err != nil {
		g.limErrs.Inc()
		g.logSampled(peer, "partner auth limiter unavailable; request let through", "source", peer, "err", err)
		return nil
	}
	if d.Allowed {
		return nil
	}
	g.failures.WithLabelValues(authLimited).Inc()
	setLimitHeaders(c, d)
	g.logSampled(peer, "partner auth refused: too many failures from this address", "source", peer,
		"request_id", web.RequestIDOf(c), "retry_after", d.RetryAfter.String())
	return &web.Error{Status: http.StatusTooManyRequests, Code: "APIGW.0308",
		Message: "Too many failed authentications from this address. Retry after " +
			strconv.Itoa(max(int(d.RetryAfter.Seconds()+0.999), 1)) + " s."}
}

// failed records one failed authentication (metric, sampled log, one unit
// of the address's failure budget) and returns the 401 CBC.0154 answer.
func (g *authGuard) failed(c *fiber.Ctx, peer, reason, ak string, cause error) error {
	g.failures.WithLabelValues(reason).Inc()
	ctx, cancel := context.WithTimeout(c.UserContext(), authLimiterTimeout)
	defer cancel()
	if _, err := g.limiter.Allow(ctx, authFailKey(peer), g.lim); err != nil {
		g.limErrs.Inc()
	}
	if len(ak) > 40 {
		ak = ak[:40] + "…"
	}
	g.logSampled(peer, "partner signature failed", "reason", reason, "source", peer, "access_key", strconv.Quote(ak),
		"request_id", web.RequestIDOf(c), "err", cause)
	return &web.Error{Status: http.StatusUnauthorized, Code: "CBC.0154",
		Message: "The credential is invalid or expired, or the request signature does not match.", Err: cause}
}

func (g *authGuard) logSampled(peer, msg string, args ...any) {
	if ok, suppressed := g.sample.allow(peer); ok {
		if suppressed > 0 {
			args = append(args, "suppressed_since_last", suppressed)
		}
		g.log.Warn(msg, args...)
	}
}

// authReason classifies a signing or key-lookup error for the metric.
func authReason(err error) string {
	switch {
	case errors.Is(err, signing.ErrMissing):
		return authMissing
	case errors.Is(err, signing.ErrSkew):
		return authExpired
	case errors.Is(err, tenants.ErrUnknownKey):
		return authUnknown
	case errors.Is(err, signing.ErrSignature), errors.Is(err, signing.ErrBodyHash):
		return authSignature
	}
	return authMalformed
}

// logSampler lets through the first line per source address per interval,
// and at most perSecond lines a second in all (so that a flood from many
// addresses cannot flood the log either). Lines it holds back are counted
// and the count is reported with the next line let through.
type logSampler struct {
	interval   time.Duration
	perSecond  int
	mu         sync.Mutex
	last       map[string]time.Time
	second     time.Time
	inSecond   int
	suppressed int
}

const maxSampledSources = 4096

func newLogSampler(interval time.Duration, perSecond int) *logSampler {
	return &logSampler{interval: interval, perSecond: perSecond, last: map[string]time.Time{}}
}

func (s *logSampler) allow(source string) (ok bool, suppressed int) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.second) >= time.Second {
		s.second, s.inSecond = now, 0
	}
	if t, seen := s.last[source]; (seen && now.Sub(t) < s.interval) || s.inSecond >= s.perSecond {
		s.suppressed++
		return false, 0
	}
	if len(s.last) >= maxSampledSources {
		clear(s.last) // bounded memory; at worst a few extra lines
	}
	s.last[source] = now
	s.inSecond++
	suppressed, s.suppressed = s.suppressed, 0
	return true, suppressed
}
