package ratelimit

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
)

var backends = []struct {
	name string
	open func(t *testing.T) *redisx.Conn
}{
	{"embedded", func(t *testing.T) *redisx.Conn { return open(t, redisx.Options{}) }},
	{"redis-server", func(t *testing.T) *redisx.Conn {
		return open(t, redisx.Options{URL: "redis://" + testenv.Redis(t) + "/0"})
	}},
}

func open(t *testing.T, o redisx.Options) *redisx.Conn {
	t.Helper()
	c, err := redisx.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustAllow(t *testing.T, l *Limiter, key string, lim Limit) Decision {
	t.Helper()
	d, err := l.Allow(context.Background(), key, lim)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func peekRemaining(t *testing.T, l *Limiter, key string, lim Limit) int {
	t.Helper()
	d, err := l.peek(context.Background(), key, lim)
	if err != nil {
		t.Fatal(err)
	}
	return d.Remaining
}

// cases is the shared table run on every backend; each case gets a fresh
// connection (cases may close it).
var cases = []struct {
	name string
	run  func(t *testing.T, c *redisx.Conn)
}{
	{"5/s allows 5, refuses, recovers", func(t *testing.T, c *redisx.Conn) {
		l := New(c)
		lim := PerSecond(5)
		for i := range 5 {
			d := mustAllow(t, l, "api:t1:send", lim)
			if !d.Allowed || d.Remaining != 4-i || d.RetryAfter != 0 {
				t.Fatalf("call %d: %+v", i+1, d)
			}
		}
		d := mustAllow(t, l, "api:t1:send", lim)
		if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 200*time.Millisecond || d.Remaining != 0 {
			t.Fatalf("6th call: %+v", d)
		}
		if h := d.Headers(); h["Retry-After"] != "1" {
			t.Fatalf("headers %v", h)
		}
		time.Sleep(d.RetryAfter + 20*time.Millisecond)
		if d := mustAllow(t, l, "api:t1:send", lim); !d.Allowed {
			t.Fatalf("after RetryAfter: %+v", d)
		}
		time.Sleep(lim.Period + 50*time.Millisecond)
		for i := range 5 {
			if d := mustAllow(t, l, "api:t1:send", lim); !d.Allowed {
				t.Fatalf("after a full period, call %d refused: %+v", i+1, d)
			}
		}
	}},
	{"keys are namespaced and expire", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		l := New(c)
		mustAllow(t, l, "api:t1:x", PerSecond(5))
		n, err := c.Exists(ctx, "livery:rl:api:t1:x").Result()
		if err != nil || n != 1 {
			t.Fatalf("exists: %d %v", n, err)
		}
		if n, _ := c.Exists(ctx, "rate:api:t1:x").Result(); n != 0 {
			t.Fatal("library default prefix used")
		}
		if ttl, _ := c.TTL(ctx, "livery:rl:api:t1:x").Result(); ttl <= 0 || ttl > time.Second {
			t.Fatalf("ttl %v", ttl)
		}
	}},
	{"tenants are independent", func(t *testing.T, c *redisx.Conn) {
		l := New(c)
		lim := PerSecond(2)
		for range 2 {
			mustAllow(t, l, "api:alpha:check", lim)
		}
		if d := mustAllow(t, l, "api:alpha:check", lim); d.Allowed {
			t.Fatal("alpha not limited")
		}
		if d := mustAllow(t, l, "api:beta:check", lim); !d.Allowed || d.Remaining != 1 {
			t.Fatalf("beta affected by alpha: %+v", d)
		}
	}},
	{"invalid input", func(t *testing.T, c *redisx.Conn) {
		l := New(c)
		ctx := context.Background()
		for _, lim := range []Limit{{}, {Rate: 1}, {Period: time.Second}, {Rate: -1, Period: time.Second}} {
			if _, err := l.Allow(ctx, "k", lim); !errors.Is(err, ErrInvalid) {
				t.Errorf("%+v: want ErrInvalid, got %v", lim, err)
			}
		}
		if _, err := l.Allow(ctx, "", PerSecond(1)); !errors.Is(err, ErrInvalid) {
			t.Errorf("empty key: %v", err)
		}
		for _, tenant := range []string{"", "a:b"} {
			if _, _, err := l.CheckRegistration(ctx, tenant, "d", "a", tenants.RiskPolicy{}); !errors.Is(err, ErrInvalid) {
				t.Errorf("tenant %q: %v", tenant, err)
			}
		}
	}},
	{"risk: device limit hits first, others not consumed", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		l := New(c)
		p := tenants.RiskPolicy{PerDevice: tenants.PerHour(2), PerAddress: tenants.PerHour(10), PerPartner: tenants.PerHour(100)}
		for i := range 2 {
			d, which, err := l.CheckRegistration(ctx, "t1", "dev1", "10.0.0.1", p)
			if err != nil || !d.Allowed || which != "" {
				t.Fatalf("registration %d: %+v %q %v", i+1, d, which, err)
			}
			if d.Limit != PerHour(2) || d.Remaining != 1-i {
				t.Fatalf("registration %d: want the device decision, got %+v", i+1, d)
			}
		}
		for range 3 {
			d, which, err := l.CheckRegistration(ctx, "t1", "dev1", "10.0.0.1", p)
			if err != nil || d.Allowed || which != DimDevice || d.RetryAfter <= 0 {
				t.Fatalf("want device refusal: %+v %q %v", d, which, err)
			}
			if d.RetryAfter > 30*time.Minute+time.Second || d.Headers()["Retry-After"] == "" {
				t.Fatalf("retry after %v", d.RetryAfter)
			}
		}
		if r := peekRemaining(t, l, "risk:t1:address:10.0.0.1", PerHour(10)); r != 8 {
			t.Fatalf("address remaining %d, want 8", r)
		}
		if r := peekRemaining(t, l, "risk:t1:partner", PerHour(100)); r != 98 {
			t.Fatalf("partner remaining %d, want 98", r)
		}
		// Another device from the same address still may register.
		d, which, err := l.CheckRegistration(ctx, "t1", "dev2", "10.0.0.1", p)
		if err != nil || !d.Allowed || which != "" {
			t.Fatalf("dev2: %+v %q %v", d, which, err)
		}
		// Another tenant is unaffected by t1's device counter.
		d, which, err = l.CheckRegistration(ctx, "t2", "dev1", "10.0.0.1", p)
		if err != nil || !d.Allowed || which != "" {
			t.Fatalf("t2: %+v %q %v", d, which, err)
		}
	}},
	{"risk: missing device skips that dimension", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		l := New(c)
		p := tenants.RiskPolicy{PerDevice: tenants.PerHour(1), PerAddress: tenants.PerHour(3), PerPartner: tenants.PerHour(100)}
		for i := range 3 {
			if d, which, err := l.CheckRegistration(ctx, "t1", "", "10.0.0.2", p); err != nil || !d.Allowed || which != "" {
				t.Fatalf("registration %d: %+v %q %v", i+1, d, which, err)
			}
		}
		d, which, err := l.CheckRegistration(ctx, "t1", "", "10.0.0.2", p)
		if err != nil || d.Allowed || which != DimAddress {
			t.Fatalf("want address refusal: %+v %q %v", d, which, err)
		}
		if n, _ := c.Keys(ctx, "livery:rl:risk:t1:device:*").Result(); len(n) != 0 {
			t.Fatalf("device keys written: %v", n)
		}
		// Neither device nor address: only the partner counts.
		for i := range 5 {
			if d, which, err := l.CheckRegistration(ctx, "t1", "", "", p); err != nil || !d.Allowed || which != "" {
				t.Fatalf("anonymous %d: %+v %q %v", i+1, d, which, err)
			}
		}
		if r := peekRemaining(t, l, "risk:t1:partner", PerHour(100)); r != 92 {
			t.Fatalf("partner remaining %d, want 92", r)
		}
	}},
	{"risk: partner limit", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		l := New(c)
		p := tenants.RiskPolicy{PerPartner: tenants.PerHour(2)} // device/address: defaults
		for i := range 2 {
			dev := string(rune('a' + i))
			if d, _, err := l.CheckRegistration(ctx, "t1", dev, "", p); err != nil || !d.Allowed {
				t.Fatalf("registration %d: %+v %v", i+1, d, err)
			}
		}
		d, which, err := l.CheckRegistration(ctx, "t1", "z", "", p)
		if err != nil || d.Allowed || which != DimPartner {
			t.Fatalf("want partner refusal: %+v %q %v", d, which, err)
		}
		// The refused request did not charge device "z".
		if r := peekRemaining(t, l, "risk:t1:device:z", PerHour(3)); r != 3 {
			t.Fatalf("device z remaining %d, want 3", r)
		}
	}},
	{"redis unreachable fails closed", func(t *testing.T, c *redisx.Conn) {
		ctx := context.Background()
		l := New(c)
		mustAllow(t, l, "api:t1:x", PerSecond(5))
		if c.Embedded != nil {
			c.Embedded.Close() // stop the server
		} else {
			c.UniversalClient.Close() // close the client
		}
		d, err := l.Allow(ctx, "api:t1:x", PerSecond(5))
		if err == nil || d.Allowed || errors.Is(err, ErrInvalid) {
			t.Fatalf("Allow: %+v %v", d, err)
		}
		d, which, err := l.CheckRegistration(ctx, "t1", "dev", "addr", tenants.RiskPolicy{})
		if err == nil || d.Allowed || which != "" {
			t.Fatalf("CheckRegistration: %+v %q %v", d, which, err)
		}
	}},
}

func TestLimiter(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, b.open(t)) })
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    Decision
		want map[string]string
	}{
		{"allowed", Decision{Allowed: true, Limit: PerSecond(5), Remaining: 2, ResetAfter: 600 * time.Millisecond},
			map[string]string{"RateLimit-Policy": "5;w=1", "RateLimit": "limit=5, remaining=2, reset=1"}},
		{"refused", Decision{Limit: PerSecond(5), RetryAfter: 200 * time.Millisecond, ResetAfter: time.Second},
			map[string]string{"RateLimit-Policy": "5;w=1", "RateLimit": "limit=5, remaining=0, reset=1", "Retry-After": "1"}},
		{"refused, retry rounded up", Decision{Limit: PerHour(3), RetryAfter: 1201*time.Second + time.Millisecond, ResetAfter: 3600 * time.Second},
			map[string]string{"RateLimit-Policy": "3;w=3600", "RateLimit": "limit=3, remaining=0, reset=3600", "Retry-After": "1202"}},
		{"refused, zero retry still 1", Decision{Limit: PerSecond(1)},
			map[string]string{"RateLimit-Policy": "1;w=1", "RateLimit": "limit=1, remaining=0, reset=0", "Retry-After": "1"}},
		{"burst differs", Decision{Allowed: true, Limit: Limit{Rate: 10, Burst: 20, Period: time.Minute}, Remaining: 15, ResetAfter: 30 * time.Second},
			map[string]string{"RateLimit-Policy": "10;w=60;burst=20", "RateLimit": "limit=10, remaining=15, reset=30"}},
		{"full bucket", Decision{Allowed: true, Limit: PerSecond(10), Remaining: 9, ResetAfter: 100 * time.Millisecond},
			map[string]string{"RateLimit-Policy": "10;w=1", "RateLimit": "limit=10, remaining=9, reset=1"}},
		{"zero decision", Decision{}, map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.Headers(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v\nwant %v", got, tc.want)
			}
		})
	}
}
