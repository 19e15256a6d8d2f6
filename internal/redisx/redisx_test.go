package redisx

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/testenv"
)

// TestConformance runs the Redis behaviour Livery relies on against the
// embedded server and a real redis-server: the embedded default must not
// behave differently.
func TestConformance(t *testing.T) {
	backends := map[string]func(t *testing.T) *Conn{
		"embedded": func(t *testing.T) *Conn {
			c, err := Open(context.Background(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if c.Mode != "embedded" || c.Embedded == nil {
				t.Fatalf("mode %s", c.Mode)
			}
			return c
		},
		"redis-server": func(t *testing.T) *Conn {
			c, err := Open(context.Background(), Options{URL: "redis://" + testenv.Redis(t) + "/0"})
			if err != nil {
				t.Fatal(err)
			}
			if c.Mode != "standalone" {
				t.Fatalf("mode %s", c.Mode)
			}
			return c
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			c := open(t)
			t.Cleanup(func() { c.Close() })
			ctx := context.Background()

			t.Run("set nx is exclusive", func(t *testing.T) {
				ok1, err1 := c.SetNX(ctx, "nx", "a", time.Minute).Result()
				ok2, err2 := c.SetNX(ctx, "nx", "b", time.Minute).Result()
				if err1 != nil || err2 != nil || !ok1 || ok2 {
					t.Fatalf("SetNX: %v %v %v %v", ok1, err1, ok2, err2)
				}
				if v, _ := c.Get(ctx, "nx").Result(); v != "a" {
					t.Fatalf("value %q", v)
				}
			})
			t.Run("keys expire in real time", func(t *testing.T) {
				if err := c.Set(ctx, "ttl", "x", 300*time.Millisecond).Err(); err != nil {
					t.Fatal(err)
				}
				if v, err := c.Get(ctx, "ttl").Result(); err != nil || v != "x" {
					t.Fatalf("before expiry: %q %v", v, err)
				}
				deadline := time.Now().Add(3 * time.Second)
				for {
					_, err := c.Get(ctx, "ttl").Result()
					if errors.Is(err, redis.Nil) {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("key did not expire: %v", err)
					}
					time.Sleep(50 * time.Millisecond)
				}
			})
			t.Run("lua scripts", func(t *testing.T) {
				n, err := c.Eval(ctx, `return redis.call("INCRBY", KEYS[1], ARGV[1])`, []string{"lua"}, 5).Int()
				if err != nil || n != 5 {
					t.Fatalf("eval: %d %v", n, err)
				}
			})
			t.Run("pub sub", func(t *testing.T) {
				sub := c.Subscribe(ctx, "livery.test")
				defer sub.Close()
				if _, err := sub.Receive(ctx); err != nil { // subscription confirmed
					t.Fatal(err)
				}
				if err := c.Publish(ctx, "livery.test", "hello").Err(); err != nil {
					t.Fatal(err)
				}
				select {
				case m := <-sub.Channel():
					if m.Payload != "hello" {
						t.Fatalf("payload %q", m.Payload)
					}
				case <-time.After(3 * time.Second):
					t.Fatal("no message")
				}
			})
		})
	}
}

func TestOpenFailures(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"bad url", Options{URL: "http://nope"}, "invalid url"},
		{"unreachable", Options{URL: "redis://127.0.0.1:1/0"}, "ping"},
		{"password not leaked", Options{URL: "redis://127.0.0.1:1/0", Password: "hunter2-secret"}, "ping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("got %v", err)
			}
		})
	}
}
