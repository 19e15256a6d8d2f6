package live_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding/live"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/internal/objstore"
)

const tenant = "acme"

var (
	partner  = authz.Subject{User: "alice", Tenant: tenant}
	operator = authz.Subject{User: "oscar", Roles: []string{"operator"}}
	quiet    = slog.New(slog.DiscardHandler)
)

// source wraps a LiveSource: it counts calls and can be switched "down".
type source struct {
	live.LiveSource
	down  atomic.Bool
	calls atomic.Int64
}

var errDown = errors.New("object store unavailable")

func (s *source) Live(ctx context.Context, t string) (*workflow.Version, error) {
	s.calls.Add(1)
	if s.down.Load() {
		return nil, errDown
	}
	return s.LiveSource.Live(ctx, t)
}

// commandCounter counts every Redis command a client sends.
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.n.Add(1); return next(ctx, cmd) }
}
func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.n.Add(int64(len(cmds))); return next(ctx, cmds) }
}

type world struct {
	store  objstore.Store
	reader *workflow.Service // no notifier: approvals through it send no message
	ctx    context.Context
}

func newWorld(t *testing.T) *world {
	st, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &world{store: st, reader: workflow.New(st, workflow.Options{Logger: quiet}), ctx: t.Context()}
}

// writer is a workflow Service that notifies n (nil: nobody).
func (w *world) writer(n workflow.Notifier) *workflow.Service {
	return workflow.New(w.store, workflow.Options{Notifier: n, Logger: quiet})
}

// approve publishes a document with nav colour nav through svc.
func (w *world) approve(t *testing.T, svc *workflow.Service, tn, nav string) workflow.Version {
	t.Helper()
	doc := workflow.DefaultDocument()
	doc.Brand.NavColor = nav
	cur, err := svc.Draft(w.ctx, tn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutDraft(w.ctx, tn, doc, cur.ETag, partner); err != nil {
		t.Fatal(err)
	}
	s, err := svc.Submit(w.ctx, tn, partner)
	if err != nil {
		t.Fatal(err)
	}
	v, err := svc.Approve(w.ctx, tn, s.ID, operator, "")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func redisClient(t *testing.T, addr string, hooks ...redis.Hook) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 500 * time.Millisecond})
	for _, h := range hooks {
		c.AddHook(h)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// start runs c until the test ends.
func start(t *testing.T, c *live.Cache) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func subscribed(t *testing.T, c *live.Cache) {
	t.Helper()
	select {
	case <-c.Subscribed():
	case <-time.After(10 * time.Second):
		t.Fatal("cache never subscribed")
	}
}

// eventually polls cond until it holds or within passes, and returns how
// long it took.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func number(c *live.Cache, tn string) int {
	v, ok := c.Get(tn)
	if !ok {
		return 0
	}
	return v.Number
}

// hammer calls Get from several goroutines until the test ends, so that
// the race detector sees reads concurrent with reloads.
func hammer(t *testing.T, c *live.Cache, tn string) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if v, ok := c.Get(tn); ok && v.Tenant != tn {
					t.Errorf("Get(%s) returned tenant %s", tn, v.Tenant)
				}
			}
		})
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// blackhole accepts TCP connections and never answers: a hung Redis.
func blackhole(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return l.Addr().String()
}
