package redisx

import (
	"context"
	"io"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/testenv"
)

// Close (or the context ending) stops the Subscriber wherever it is —
// subscribed, after a reconnection, waiting out a backoff — and leaves no
// goroutine behind.
func TestSubscriberStopsCleanly(t *testing.T) {
	srv := testenv.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	ctx := context.Background()
	// A client's first connection stops some of its background goroutines
	// (go-redis maintenance notifications): connect first, then count.
	for _, c := range []*redis.Client{rdb, admin} {
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	dead := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(testenv.FreePort(t)))})
	defer dead.Close()

	noLeak := func(t *testing.T, before int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	stopWithin := func(t *testing.T, stop func()) {
		t.Helper()
		start := time.Now()
		stop()
		if d := time.Since(start); d > time.Second {
			t.Fatalf("stopping took %s", d)
		}
	}

	t.Run("close after a reconnection", func(t *testing.T) {
		before := runtime.NumGoroutine()
		rec := newRecorder()
		s := Subscribe(ctx, rdb, testChannel, rec.handlers(), quiet)
		subscribed(t, s)
		if err := admin.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 10*time.Second, "resubscribed", func() bool { return rec.subscribed.Load() == 2 })
		stopWithin(t, s.Close)
		s.Close() // again: nothing
		if s.Ready() {
			t.Fatal("Ready after Close")
		}
		noLeak(t, before)
	})
	t.Run("context cancelled while subscribed", func(t *testing.T) {
		before := runtime.NumGoroutine()
		cctx, cancel := context.WithCancel(ctx)
		s := Subscribe(cctx, rdb, testChannel, Handlers{}, quiet)
		subscribed(t, s)
		stopWithin(t, func() { cancel(); s.Close() })
		noLeak(t, before)
	})
	t.Run("close while backing off", func(t *testing.T) {
		before := runtime.NumGoroutine()
		rec := newRecorder()
		s := Subscribe(ctx, dead, testChannel, rec.handlers(), quiet)
		waitUntil(t, 10*time.Second, "attempts failed", func() bool { return rec.errs.Load() >= 4 }) // waiting ≥ 400 ms now
		stopWithin(t, s.Close)
		noLeak(t, before)
	})
	t.Run("handlers do not run after close", func(t *testing.T) {
		var closed atomic.Bool
		var late atomic.Int64
		s := Subscribe(ctx, rdb, testChannel, Handlers{OnMessage: func(string) {
			if closed.Load() {
				late.Add(1)
			}
		}}, quiet)
		subscribed(t, s)
		pub, stopPub := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() {
			for pub.Err() == nil {
				admin.Publish(ctx, testChannel, "x")
			}
		})
		time.Sleep(50 * time.Millisecond)
		s.Close()
		closed.Store(true)
		time.Sleep(50 * time.Millisecond)
		stopPub()
		wg.Wait()
		if n := late.Load(); n != 0 {
			t.Fatalf("OnMessage ran %d times after Close returned", n)
		}
	})
}

// freezer is a TCP proxy to a Redis server whose open connections can be
// frozen: what the server sends on them is dropped, as on a half-open
// connection. New connections are forwarded normally.
type freezer struct {
	addr string
	mu   sync.Mutex
	live []*atomic.Bool // the frozen flag of each open connection
}

func newFreezer(t *testing.T, target string) *freezer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{addr: l.Addr().String()}
	var wg sync.WaitGroup
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			frozen := &atomic.Bool{}
			f.mu.Lock()
			f.live = append(f.live, frozen)
			conns = append(conns, c, up)
			f.mu.Unlock()
			wg.Go(func() { io.Copy(up, c); up.Close() })
			wg.Go(func() {
				buf := make([]byte, 4096)
				for {
					n, err := up.Read(buf)
					if err != nil {
						c.Close()
						return
					}
					if !frozen.Load() {
						c.Write(buf[:n])
					}
				}
			})
		}
	}()
	t.Cleanup(func() {
		l.Close()
		f.mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		f.mu.Unlock()
		wg.Wait()
	})
	return f
}

func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fr := range f.live {
		fr.Store(true)
	}
}

// A quiet subscription is pinged, not dropped; one whose connection has
// gone silent is noticed by the unanswered ping and replaced.
func TestSubscriberHealthCheck(t *testing.T) {
	for _, name := range []string{"embedded", "redis-server"} {
		t.Run(name, func(t *testing.T) {
			b := backends(t)[name](t)
			f := newFreezer(t, b.addr)
			rdb := redis.NewClient(&redis.Options{Addr: f.addr})
			defer rdb.Close()
			cfg := defaultBackoff
			cfg.health = 100 * time.Millisecond
			rec := newRecorder()
			s := subscribe(context.Background(), rdb, testChannel, rec.handlers(), quiet, cfg)
			defer s.Close()
			subscribed(t, s)
			time.Sleep(10 * cfg.health) // quiet: pinged every 100 ms
			if !s.Ready() || rec.subscribed.Load() != 1 || rec.errs.Load() != 0 {
				t.Fatalf("quiet subscription: Ready %v, OnSubscribed %d, OnError %d; want it kept",
					s.Ready(), rec.subscribed.Load(), rec.errs.Load())
			}
			f.freeze()
			took := waitUntil(t, 10*time.Second, "resubscribed", func() bool { return rec.subscribed.Load() == 2 })
			t.Logf("silent connection replaced after %s", took)
			if err := b.conn.Publish(context.Background(), testChannel, "after").Err(); err != nil {
				t.Fatal(err)
			}
			if got := rec.next(t); got != "after" {
				t.Fatalf("message %q; want after", got)
			}
		})
	}
}
