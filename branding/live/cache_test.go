package live_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/livery/livery/branding/live"
	"github.com/livery/livery/internal/testenv"
)

// Two gateway instances share Redis and the object store: an approval
// through instance A's notifier is served by instance B within 1 s.
func TestPublishReachesOtherInstanceWithinOneSecond(t *testing.T) {
	w := newWorld(t)
	addr := testenv.Redis(t)
	srcB := &source{LiveSource: w.reader}
	cntB := &commandCounter{}
	opts := live.Options{RefreshEvery: time.Hour, Logger: quiet} // no refresh: only pub/sub can deliver
	a := live.New(w.reader, redisClient(t, addr), opts)
	b := live.New(srcB, redisClient(t, addr, cntB), opts)
	start(t, a)
	start(t, b)
	subscribed(t, a)
	subscribed(t, b)
	svc := w.writer(a)

	if v, ok := b.Get(tenant); ok || v != nil {
		t.Fatalf("Get before any approval = %v, %v; want nil, false", v, ok)
	}
	if b.Misses() != 1 {
		t.Fatalf("Misses = %d; want 1", b.Misses())
	}
	a.Get(tenant)
	hammer(t, b, tenant)

	steps := []struct {
		name string
		do   func() int
	}{
		{"approve v1", func() int { return w.approve(t, svc, tenant, "#111111").Number }},
		{"approve v2", func() int { return w.approve(t, svc, tenant, "#222222").Number }},
		{"rollback to v1", func() int {
			v, err := svc.Rollback(w.ctx, tenant, 1, operator, "regression")
			if err != nil {
				t.Fatal(err)
			}
			return v.Number
		}},
	}
	for _, s := range steps {
		n := s.do()
		// The publishing instance reloads before Published returns.
		if got := number(a, tenant); got != n {
			t.Fatalf("%s: instance A serves %d right after; want %d", s.name, got, n)
		}
		took := eventually(t, time.Second, s.name+": instance B serves version", func() bool { return number(b, tenant) == n })
		t.Logf("%s: instance B updated after %s", s.name, took)
	}

	// Steady state: Get does no Redis and no object-store I/O.
	cmds, calls := cntB.n.Load(), srcB.calls.Load()
	for range 1000 {
		if _, ok := b.Get(tenant); !ok {
			t.Fatal("Get missed in steady state")
		}
	}
	if d := cntB.n.Load() - cmds; d != 0 {
		t.Fatalf("1000 Gets sent %d Redis commands; want 0", d)
	}
	if d := srcB.calls.Load() - calls; d != 0 {
		t.Fatalf("1000 Gets made %d object-store loads; want 0", d)
	}
}

// With the object store down, the last cached version keeps being served;
// with nothing cached, Get answers ok=false quickly and counts the miss.
func TestStoreDownKeepsLastVersion(t *testing.T) {
	w := newWorld(t)
	addr := testenv.Redis(t)
	src := &source{LiveSource: w.reader}
	c := live.New(src, redisClient(t, addr), live.Options{RefreshEvery: time.Hour, RetryAfter: time.Hour, Logger: quiet})
	other := live.New(w.reader, redisClient(t, addr), live.Options{RefreshEvery: time.Hour, Logger: quiet})
	start(t, c)
	subscribed(t, c)
	svc := w.writer(other)
	w.approve(t, svc, tenant, "#111111")
	w.approve(t, svc, "beta", "#BBBBBB")
	if v, ok := c.Get(tenant); !ok || v.Number != 1 {
		t.Fatalf("Get = %v, %v; want version 1", v, ok)
	}

	src.down.Store(true)
	errs := c.Errors()
	// A change announced while the store is down cannot be loaded ...
	w.approve(t, w.writer(nil), tenant, "#222222")
	other.Published(w.ctx, tenant, 2)
	c.Refresh(w.ctx)
	eventually(t, 5*time.Second, "load errors counted", func() bool { return c.Errors() >= errs+2 })
	// ... and the cached version is still served.
	if v, ok := c.Get(tenant); !ok || v.Number != 1 || v.Doc.Brand.NavColor != "#111111" {
		t.Fatalf("Get while the store is down = %v, %v; want the cached version 1", v, ok)
	}

	// Nothing cached: ok=false, counted, and no retry on every request.
	misses, calls := c.Misses(), src.calls.Load()
	for range 3 {
		if v, ok := c.Get("beta"); ok || v != nil {
			t.Fatalf("Get(beta) with the store down = %v, %v; want nil, false", v, ok)
		}
	}
	if c.Misses() != misses+3 {
		t.Fatalf("Misses = %d; want %d", c.Misses(), misses+3)
	}
	if d := src.calls.Load() - calls; d != 1 {
		t.Fatalf("3 Gets of an unloadable tenant made %d loads; want 1 (then RetryAfter)", d)
	}

	// Store back: the next refresh catches up on both tenants.
	src.down.Store(false)
	c.Refresh(w.ctx)
	if n := number(c, tenant); n != 2 {
		t.Fatalf("after recovery Get(%s) = %d; want 2", tenant, n)
	}
	if n := number(c, "beta"); n != 1 {
		t.Fatalf("after recovery Get(beta) = %d; want 1", n)
	}
}

// A dead or hung Redis never blocks Get, and the publishing instance still
// serves its own change.
func TestRedisDownDoesNotBlockGet(t *testing.T) {
	cases := []struct {
		name string
		addr func(t *testing.T) string
	}{
		{"refused", func(t *testing.T) string { return "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)) }},
		{"hung", blackhole},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			c := live.New(w.reader, redisClient(t, tc.addr(t)), live.Options{RefreshEvery: time.Hour,
				PublishTimeout: 200 * time.Millisecond, Logger: quiet})
			start(t, c)
			svc := w.writer(c)
			if err := c.Warm(w.ctx, []string{tenant}); err != nil {
				t.Fatal(err)
			}
			w.approve(t, svc, tenant, "#111111") // Published: Redis fails, local reload works
			got := make(chan int, 1)
			go func() { got <- number(c, tenant) }()
			select {
			case n := <-got:
				if n != 1 {
					t.Fatalf("Get = %d; want 1", n)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Get blocked while Redis is down")
			}
			if c.RedisErrors() == 0 {
				t.Fatal("Redis failure not counted")
			}
			select {
			case <-c.Subscribed():
				t.Fatal("reported subscribed to a dead Redis")
			default:
			}
		})
	}
}

// Messages missed while the subscription was down are caught up by the
// full refresh that follows every resubscription.
func TestResubscribeRefreshesEverything(t *testing.T) {
	w := newWorld(t)
	addr := testenv.Redis(t)
	c := live.New(w.reader, redisClient(t, addr), live.Options{RefreshEvery: time.Hour, Logger: quiet})
	start(t, c)
	subscribed(t, c)
	w.approve(t, w.writer(nil), tenant, "#111111")
	if n := number(c, tenant); n != 1 {
		t.Fatalf("Get = %d; want 1", n)
	}
	w.approve(t, w.writer(nil), tenant, "#222222") // no message sent
	if n := number(c, tenant); n != 1 {
		t.Fatalf("Get = %d without a message or refresh; want still 1", n)
	}
	admin := redisClient(t, addr)
	killed, err := admin.ClientKillByFilter(context.Background(), "TYPE", "pubsub").Result()
	if err != nil || killed == 0 {
		t.Fatalf("CLIENT KILL TYPE pubsub = %d, %v", killed, err)
	}
	eventually(t, 10*time.Second, "refresh after resubscription", func() bool { return number(c, tenant) == 2 })
}

// The periodic refresh is the safety net when no message arrives at all.
func TestPeriodicRefresh(t *testing.T) {
	w := newWorld(t)
	c := live.New(w.reader, redisClient(t, testenv.Redis(t)), live.Options{RefreshEvery: 20 * time.Millisecond, Logger: quiet})
	start(t, c)
	if v, ok := c.Get(tenant); ok {
		t.Fatalf("Get = %v; want nothing live", v)
	}
	w.approve(t, w.writer(nil), tenant, "#111111")
	eventually(t, 10*time.Second, "periodic refresh", func() bool { return number(c, tenant) == 1 })
}
