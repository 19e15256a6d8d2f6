// Package ratelimit enforces API rate limits (APIGW.0308) and registration
// risk control with the GCRA algorithm of github.com/go-redis/redis_rate,
// state kept in Redis so every gateway instance shares the same budget.
//
// Every key is stored as livery:rl:<key>; each decision touches exactly one
// key, so the package works on a standalone server, the embedded server and
// Redis Cluster alike. The Redis clock (TIME) is authoritative.
//
// Errors are fail-closed by contract: when Redis cannot be reached, Allow
// and CheckRegistration return a non-nil error and a zero Decision (Allowed
// false); callers must refuse the request (500/503), never let it through.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/livery/livery/internal/redisx"
	"github.com/redis/go-redis/v9"
)

// KeyPrefix prefixes every Redis key written by this package.
const KeyPrefix = redisx.KeyRateLimit

// ErrInvalid is returned (wrapped) for a Limit with Rate or Period <= 0 and
// for unusable keys. It is a caller bug, not a Redis failure.
var ErrInvalid = errors.New("ratelimit: invalid argument")

// Limit allows Rate events per Period with bursts of up to Burst events.
// Burst <= 0 means Burst = Rate.
type Limit struct {
	Rate   int
	Burst  int
	Period time.Duration
}

// PerSecond returns n per second with burst n.
func PerSecond(n int) Limit { return Limit{Rate: n, Burst: n, Period: time.Second} }

// PerHour returns n per hour with burst n.
func PerHour(n int) Limit { return Limit{Rate: n, Burst: n, Period: time.Hour} }

func (l Limit) normalize() (Limit, error) {
	if l.Rate <= 0 || l.Period <= 0 {
		return l, fmt.Errorf("%w: rate %d per %s", ErrInvalid, l.Rate, l.Period)
	}
	if l.Burst <= 0 {
		l.Burst = l.Rate
	}
	return l, nil
}

func (l Limit) rr() redis_rate.Limit {
	return redis_rate.Limit{Rate: l.Rate, Burst: l.Burst, Period: l.Period}
}

// Decision is the outcome of one rate-limit check.
type Decision struct {
	Allowed bool
	Limit   Limit // normalized (Burst filled in)
	// Remaining is how many more events would be allowed right now.
	Remaining int
	// RetryAfter is how long until the next event would be allowed; 0 when
	// Allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the bucket is full again (Remaining == Burst).
	ResetAfter time.Duration
}

// Limiter checks limits against Redis. Safe for concurrent use.
type Limiter struct {
	rl *redis_rate.Limiter
}

// New returns a Limiter on rdb. It does not contact Redis.
func New(rdb redis.UniversalClient) *Limiter {
	return &Limiter{rl: redis_rate.NewLimiter(prefixed{rdb})}
}

// Allow records one event for key under lim and reports whether it is
// allowed. A refused event consumes nothing. key is caller-chosen (e.g.
// "api:<tenant>:<operation>:<source>") and is stored as livery:rl:<key>; the
// same key must always be used with the same Limit.
//
// Errors: a wrapped ErrInvalid for an empty key or a bad lim, otherwise a wrapped Redis
// error; in both cases the Decision is zero (not allowed) — fail closed.
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) (Decision, error) {
	return l.allowN(ctx, key, lim, 1)
}

func (l *Limiter) allowN(ctx context.Context, key string, lim Limit, n int) (Decision, error) {
	if key == "" {
		return Decision{}, fmt.Errorf("%w: empty key", ErrInvalid)
	}
	lim, err := lim.normalize()
	if err != nil {
		return Decision{}, err
	}
	res, err := l.rl.AllowN(ctx, key, lim.rr(), n)
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	d := Decision{
		Allowed:    res.Allowed > 0,
		Limit:      lim,
		Remaining:  res.Remaining,
		RetryAfter: max(res.RetryAfter, 0),
		ResetAfter: max(res.ResetAfter, 0),
	}
	return d, nil
}

// Peek reports, without consuming anything, whether one more event for key
// would be allowed under lim now: Allowed, and when not, RetryAfter. Use it
// to refuse early on a budget that only some outcomes charge (Allow them).
//
// Errors: as Allow; the Decision is then zero (not allowed).
func (l *Limiter) Peek(ctx context.Context, key string, lim Limit) (Decision, error) {
	return l.peek(ctx, key, lim)
}

// peek reports, without consuming anything, whether one more event for key
// would be allowed now. redis_rate's AllowN with n = 0 answers "allowed"
// with the bucket's ResetAfter (= TAT - now); one event of cost 1 is
// refused exactly when ResetAfter > (Burst-1) × emission interval, and then
// has to wait the difference.
func (l *Limiter) peek(ctx context.Context, key string, lim Limit) (Decision, error) {
	d, err := l.allowN(ctx, key, lim, 0)
	if err != nil {
		return d, err
	}
	interval := d.Limit.Period / time.Duration(d.Limit.Rate)
	if wait := d.ResetAfter - time.Duration(d.Limit.Burst-1)*interval; wait > 0 {
		d.Allowed, d.Remaining, d.RetryAfter = false, 0, wait
	} else {
		d.Allowed = true
	}
	return d, nil
}

// Headers renders the IETF draft RateLimit header fields for d:
//
//	RateLimit-Policy: 5;w=1            (";burst=N" added when Burst != Rate)
//	RateLimit: limit=5, remaining=2, reset=1
//	Retry-After: 1                     (only when refused; seconds, rounded up, ≥ 1)
//
// reset is ResetAfter in whole seconds, rounded up. A zero Decision (e.g.
// after an error) yields no headers.
func (d Decision) Headers() map[string]string {
	if d.Limit.Rate <= 0 || d.Limit.Period <= 0 {
		return map[string]string{}
	}
	policy := strconv.Itoa(d.Limit.Rate) + ";w=" + strconv.Itoa(ceilSeconds(d.Limit.Period))
	if d.Limit.Burst > 0 && d.Limit.Burst != d.Limit.Rate {
		policy += ";burst=" + strconv.Itoa(d.Limit.Burst)
	}
	h := map[string]string{
		"RateLimit-Policy": policy,
		"RateLimit": fmt.Sprintf("limit=%d, remaining=%d, reset=%d",
			d.Limit.Rate, max(d.Remaining, 0), ceilSeconds(d.ResetAfter)),
	}
	if !d.Allowed {
		h["Retry-After"] = strconv.Itoa(max(ceilSeconds(d.RetryAfter), 1))
	}
	return h
}

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}

// prefixed adapts a client for redis_rate, whose keys are "rate:<key>",
// so that they are stored as livery:rl:<key> instead.
type prefixed struct{ redis.UniversalClient }

const rateLibPrefix = "rate:"

func rekey(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = KeyPrefix + strings.TrimPrefix(k, rateLibPrefix)
	}
	return out
}

func (p prefixed) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return p.UniversalClient.Eval(ctx, script, rekey(keys), args...)
}

func (p prefixed) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return p.UniversalClient.EvalSha(ctx, sha1, rekey(keys), args...)
}

func (p prefixed) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return p.UniversalClient.EvalRO(ctx, script, rekey(keys), args...)
}

func (p prefixed) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return p.UniversalClient.EvalShaRO(ctx, sha1, rekey(keys), args...)
}

func (p prefixed) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return p.UniversalClient.Del(ctx, rekey(keys)...)
}
