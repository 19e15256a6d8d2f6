package sessions

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
)

// commandCounter counts every command a client sends.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.n.Add(int64(len(cmds))); return next(ctx, cmds) }
}

func openBackends(t *testing.T) map[string]func() redis.UniversalClient {
	emb, err := redisx.Open(context.Background(), redisx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })
	addr := testenv.Redis(t)
	return map[string]func() redis.UniversalClient{
		"embedded": func() redis.UniversalClient {
			c := redis.NewClient(&redis.Options{Addr: emb.Embedded.Addr()})
			t.Cleanup(func() { c.Close() })
			return c
		},
		"redis-server": func() redis.UniversalClient {
			c := redis.NewClient(&redis.Options{Addr: addr})
			t.Cleanup(func() { c.Close() })
			return c
		},
	}
}

func newStore(t *testing.T, rdb redis.UniversalClient, o Options) *Store {
	o.Logger = slog.New(slog.DiscardHandler)
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 30 * time.Minute
		if o.MaxLifetime > 0 {
			o.IdleTimeout = min(o.IdleTimeout, o.MaxLifetime)
		}
	}
	if o.MaxLifetime == 0 {
		o.MaxLifetime = max(12*time.Hour, o.IdleTimeout)
	}
	if o.CacheEntries == 0 {
		o.CacheEntries = 1000
	}
	s := New(rdb, o)
	t.Cleanup(s.Close)
	return s
}

func waitFor(t *testing.T, within time.Duration, cond func() bool, what string) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func TestSessions(t *testing.T) {
	for name, client := range openBackends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			t.Run("create get delete across instances", func(t *testing.T) {
				a, b := newStore(t, client(), Options{}), newStore(t, client(), Options{})
				s, err := a.Create(ctx, Session{Tenant: "t1", Kind: "customer", Issuer: "https://idp", Subject: "u1", SID: "s1"})
				if err != nil || !ValidID(s.ID) {
					t.Fatalf("create: %+v %v", s, err)
				}
				got, err := b.Get(ctx, s.ID)
				if err != nil || got.Subject != "u1" || got.Tenant != "t1" {
					t.Fatalf("get on b: %+v %v", got, err)
				}
				if err := a.Delete(ctx, s.ID); err != nil {
					t.Fatal(err)
				}
				d := waitFor(t, time.Second, func() bool { _, err := b.Get(ctx, s.ID); return errors.Is(err, ErrNotFound) }, "logout on b")
				t.Logf("logout reached the other instance in %s", d)
			})
			t.Run("back-channel logout by sid and subject", func(t *testing.T) {
				a, b := newStore(t, client(), Options{}), newStore(t, client(), Options{})
				s1, _ := a.Create(ctx, Session{Issuer: "https://idp", Subject: "u2", SID: "sid-x"})
				s2, _ := a.Create(ctx, Session{Issuer: "https://idp", Subject: "u2", SID: "sid-y"})
				other, _ := a.Create(ctx, Session{Issuer: "https://other", Subject: "u2", SID: "sid-x"})
				for _, s := range []*Session{s1, s2, other} {
					if _, err := b.Get(ctx, s.ID); err != nil {
						t.Fatal(err)
					}
				}
				if n, err := b.EndBySID(ctx, "https://idp", "sid-x"); err != nil || n != 1 {
					t.Fatalf("by sid: %d %v", n, err)
				}
				waitFor(t, time.Second, func() bool { _, err := a.Get(ctx, s1.ID); return errors.Is(err, ErrNotFound) }, "sid logout on a")
				if _, err := a.Get(ctx, s2.ID); err != nil {
					t.Fatal("other sid of the subject ended")
				}
				if n, err := a.EndBySubject(ctx, "https://idp", "u2"); err != nil || n != 2 {
					t.Fatalf("by subject: %d %v", n, err)
				}
				waitFor(t, time.Second, func() bool { _, err := b.Get(ctx, s2.ID); return errors.Is(err, ErrNotFound) }, "subject logout on b")
				if _, err := b.Get(ctx, other.ID); err != nil {
					t.Fatal("another issuer's session ended")
				}
			})
			t.Run("idle timeout and absolute lifetime", func(t *testing.T) {
				st := newStore(t, client(), Options{IdleTimeout: 400 * time.Millisecond, MaxLifetime: 1500 * time.Millisecond, CacheTTL: 50 * time.Millisecond})
				idle, _ := st.Create(ctx, Session{Subject: "idle"})
				busy, _ := st.Create(ctx, Session{Subject: "busy"})
				start := time.Now()
				for time.Since(start) < 1200*time.Millisecond {
					if _, err := st.Get(ctx, busy.ID); err != nil {
						t.Fatalf("busy session ended early after %s: %v", time.Since(start), err)
					}
					time.Sleep(40 * time.Millisecond)
				}
				if _, err := st.Get(ctx, idle.ID); !errors.Is(err, ErrNotFound) {
					t.Fatalf("idle session survived: %v", err)
				}
				waitFor(t, 2*time.Second, func() bool { _, err := st.Get(ctx, busy.ID); return errors.Is(err, ErrNotFound) }, "absolute lifetime")
			})
			t.Run("rotate", func(t *testing.T) {
				a, b := newStore(t, client(), Options{}), newStore(t, client(), Options{})
				s, _ := a.Create(ctx, Session{Subject: "rot", Roles: []string{"customer"}})
				b.Get(ctx, s.ID)
				r, err := a.Rotate(ctx, s, func(n *Session) { n.Roles = append(n.Roles, "delegated") })
				if err != nil || r.ID == s.ID || len(r.Roles) != 2 || len(s.Roles) != 1 {
					t.Fatalf("rotate: %+v %v", r, err)
				}
				waitFor(t, time.Second, func() bool { _, err := b.Get(ctx, s.ID); return errors.Is(err, ErrNotFound) }, "old id dead")
			})
			t.Run("forged ids never reach redis", func(t *testing.T) {
				rdb := client()
				cc := &commandCounter{}
				rdb.AddHook(cc)
				st := newStore(t, rdb, Options{})
				before := cc.n.Load()
				for _, id := range []string{"", "x", string(make([]byte, 4096)), "../../etc", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="} {
					if _, err := st.Get(ctx, id); !errors.Is(err, ErrNotFound) {
						t.Fatalf("forged %q: %v", id, err)
					}
				}
				if cc.n.Load() != before {
					t.Fatal("forged ids caused Redis commands")
				}
			})
		})
	}
}

// TestSteadyStateMakesNoRedisCalls: once cached, reading a session costs
// no Redis command.
func TestSteadyStateMakesNoRedisCalls(t *testing.T) {
	addr := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	cc := &commandCounter{}
	rdb.AddHook(cc)
	st := newStore(t, rdb, Options{CacheTTL: time.Minute})
	s, err := st.Create(context.Background(), Session{Subject: "hot"})
	if err != nil {
		t.Fatal(err)
	}
	before := cc.n.Load()
	for i := 0; i < 10000; i++ {
		if _, err := st.Get(context.Background(), s.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := cc.n.Load() - before; n != 0 {
		t.Fatalf("%d Redis commands for 10000 cached reads", n)
	}
}

// TestRedisFlushSignsEveryoneOut: after a flush, sessions are gone once
// the cache entry is re-validated; nothing else breaks.
func TestRedisFlushSignsEveryoneOut(t *testing.T) {
	addr := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	st := newStore(t, rdb, Options{CacheTTL: 100 * time.Millisecond})
	s, _ := st.Create(context.Background(), Session{Subject: "u"})
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, func() bool { _, err := st.Get(context.Background(), s.ID); return errors.Is(err, ErrNotFound) }, "flushed session gone")
	if _, err := st.Create(context.Background(), Session{Subject: "again"}); err != nil {
		t.Fatalf("new sign-in after flush: %v", err)
	}
}

// TestResubscribeClearsCache: when the invalidation subscription breaks
// (here its connection is killed), invalidations may be missed, so the
// cache is cleared once subscribed again; invalidations keep working.
func TestResubscribeClearsCache(t *testing.T) {
	ctx := context.Background()
	addr := testenv.Redis(t)
	client := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { c.Close() })
		return c
	}
	a := newStore(t, client(), Options{CacheTTL: time.Hour})
	b := newStore(t, client(), Options{CacheTTL: time.Hour})
	s1, _ := a.Create(ctx, Session{Subject: "u1"})
	s2, _ := a.Create(ctx, Session{Subject: "u2"})
	if _, err := b.Get(ctx, s1.ID); err != nil {
		t.Fatal(err)
	}
	if a.CacheLen() != 2 || b.CacheLen() != 1 {
		t.Fatalf("cached %d and %d; want 2 and 1", a.CacheLen(), b.CacheLen())
	}
	if n, err := client().ClientKillByFilter(ctx, "TYPE", "pubsub").Result(); err != nil || n != 2 {
		t.Fatalf("CLIENT KILL TYPE pubsub = %d, %v; want both stores' subscriptions", n, err)
	}
	waitFor(t, 5*time.Second, func() bool { return a.CacheLen() == 0 && b.CacheLen() == 0 }, "caches cleared")
	waitFor(t, 5*time.Second, func() bool { return a.sub.Ready() && b.sub.Ready() }, "subscribed again")
	if _, err := b.Get(ctx, s2.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, s2.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, func() bool { return b.CacheLen() == 0 }, "invalidation after resubscribing")
}
