package signin

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/livery/livery/gateway/web"
	"github.com/livery/livery/tenants/ratelimit"
)

// LoginLimiter bounds sign-in starts (each writes a login state to Redis
// before the visitor is known). *ratelimit.Limiter implements it.
type LoginLimiter interface {
	Allow(ctx context.Context, key string, lim ratelimit.Limit) (ratelimit.Decision, error)
}

// loginBudget charges one sign-in start to the client's address: nil when
// allowed, 429 too_many_logins with Retry-After when the budget is spent,
// 503 when the limiter's store fails (sign-in needs it anyway).
func loginBudget(c *fiber.Ctx, l LoginLimiter, lim ratelimit.Limit, door string, trusted []*net.IPNet) error {
	if l == nil {
		return nil
	}
	d, err := l.Allow(c.UserContext(), "login:"+door+":"+web.ClientAddrKey(c, trusted), lim)
	if err != nil {
		return storeUnavailable(err)
	}
	if !d.Allowed {
		return &web.Error{Status: http.StatusTooManyRequests, Code: "too_many_logins",
			Message:    "Too many sign-in attempts from your network. Wait a moment and try again. / 登录尝试过于频繁，请稍后再试。",
			RetryAfter: max(int((d.RetryAfter+time.Second-1)/time.Second), 1)}
	}
	return nil
}
