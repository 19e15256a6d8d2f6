package ratelimit

import (
	"context"
	"fmt"
	"strings"

	"github.com/livery/livery/tenants"
)

// Refusal messages for registration risk control, to be returned to the
// end user when CheckRegistration refuses (which != "").
const (
	RiskMessageZH = "系统侦测到您当前的客户端注册数量超限,请稍晚再注册或更换客户端注册。"
	RiskMessageEN = "The system has detected too many registrations from your current client. Please register later or use a different client."
)

// Risk dimensions, as returned by CheckRegistration.
const (
	DimDevice  = "device"
	DimAddress = "address"
	DimPartner = "partner"
)

type dimension struct {
	name string
	key  string
	lim  Limit
}

// CheckRegistration records one registration attempt for tenant from device
// and address under the tenant's risk policy p (a zero quota takes its
// default, tenants.DefaultRiskPolicy) and reports whether it may proceed.
// Call it once per create-customer request, before creating anything.
//
// Dimensions: device and address are checked only when non-empty; the
// partner dimension (the tenant as a whole) always is. Counters are per
// tenant: one tenant's registrations never use another's quota.
//
// Result: allowed → (decision of the dimension with the fewest remaining,
// "", nil).
// Refused → (that dimension's refusal, its name "device" | "address" |
// "partner", nil); device is reported before address before partner; show
// RiskMessageZH / RiskMessageEN.
//
// Quota: a refusal consumes nothing in any dimension. All dimensions are
// first peeked (redis_rate AllowN with n = 0, which writes nothing), and
// only when all have room is one unit taken from each. The peek and the
// takes are separate Redis calls (the keys may live on different cluster
// slots), so under a race for the last unit a request can still be refused
// at the take step after the dimensions before it were charged one unit —
// bounded by the number of racing requests, and always erring towards
// refusing.
//
// Errors: a wrapped ErrInvalid for an empty tenant, a ':' in tenant or a bad
// Limit; otherwise a wrapped Redis error. With an error the Decision is zero
// (not allowed): callers must fail closed.
func (l *Limiter) CheckRegistration(ctx context.Context, tenant, device, address string, p tenants.RiskPolicy) (Decision, string, error) {
	if tenant == "" || strings.Contains(tenant, ":") {
		return Decision{}, "", fmt.Errorf("%w: tenant %q", ErrInvalid, tenant)
	}
	p = p.WithDefaults()
	base := "risk:" + tenant + ":"
	var dims []dimension
	if device != "" {
		dims = append(dims, dimension{DimDevice, base + "device:" + device, quotaLimit(p.PerDevice)})
	}
	if address != "" {
		dims = append(dims, dimension{DimAddress, base + "address:" + address, quotaLimit(p.PerAddress)})
	}
	dims = append(dims, dimension{DimPartner, base + "partner", quotaLimit(p.PerPartner)})

	for _, d := range dims {
		dec, err := l.peek(ctx, d.key, d.lim)
		if err != nil {
			return Decision{}, "", fmt.Errorf("ratelimit: registration %s: %w", d.name, err)
		}
		if !dec.Allowed {
			return dec, d.name, nil
		}
	}
	var tightest Decision
	for i, d := range dims {
		dec, err := l.Allow(ctx, d.key, d.lim)
		if err != nil {
			return Decision{}, "", fmt.Errorf("ratelimit: registration %s: %w", d.name, err)
		}
		if !dec.Allowed {
			return dec, d.name, nil
		}
		if i == 0 || dec.Remaining < tightest.Remaining {
			tightest = dec
		}
	}
	return tightest, "", nil
}

// quotaLimit is the limit enforcing a registration quota: N per Per, burst N.
func quotaLimit(q tenants.Quota) Limit { return Limit{Rate: q.N, Burst: q.N, Period: q.Per} }
