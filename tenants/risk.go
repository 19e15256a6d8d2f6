package tenants

import (
	"strconv"
	"strings"
	"time"
)

// RiskPolicy bounds a partner's customer registrations (registration risk
// control). It is partner configuration, a plain value: the rate limiter
// (tenants/ratelimit) enforces it. A zero Quota selects that dimension's
// default (DefaultRiskPolicy).
type RiskPolicy struct {
	PerDevice  Quota // per client device fingerprint
	PerAddress Quota // per client IP address
	PerPartner Quota // per tenant, all clients together
	// RequireDevice makes the device id mandatory on registrations (the
	// partner API refuses a registration without one; the limiter itself
	// skips an empty device).
	RequireDevice bool
}

// Quota allows N registrations per Per, all of them at once if need be
// (burst N). The zero Quota means "the default".
type Quota struct {
	N   int
	Per time.Duration
}

// String is the quota as the settings write it, "N/duration" ("3/1h").
func (q Quota) String() string {
	d := q.Per.String() // 1h0m0s, 1h30m0s, 5m0s, 1m30s, 10s
	if strings.HasSuffix(d, "m0s") {
		d = d[:len(d)-2]
	}
	if strings.HasSuffix(d, "h0m") {
		d = d[:len(d)-2]
	}
	return strconv.Itoa(q.N) + "/" + d
}

// PerHour returns n per hour.
func PerHour(n int) Quota { return Quota{N: n, Per: time.Hour} }

// DefaultRiskPolicy: 3 per device, 10 per address and 600 per partner, each
// per hour.
func DefaultRiskPolicy() RiskPolicy {
	return RiskPolicy{PerDevice: PerHour(3), PerAddress: PerHour(10), PerPartner: PerHour(600)}
}

// WithDefaults returns p with every zero Quota replaced by its default.
func (p RiskPolicy) WithDefaults() RiskPolicy {
	d := DefaultRiskPolicy()
	if p.PerDevice == (Quota{}) {
		p.PerDevice = d.PerDevice
	}
	if p.PerAddress == (Quota{}) {
		p.PerAddress = d.PerAddress
	}
	if p.PerPartner == (Quota{}) {
		p.PerPartner = d.PerPartner
	}
	return p
}
