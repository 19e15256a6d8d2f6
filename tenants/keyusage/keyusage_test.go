package keyusage

import (
	"context"
	"testing"
	"time"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
)

// TestUsage runs against the embedded server and a real redis-server: the
// documented key (one hash per tenant, one cluster slot), tenants apart,
// the last write wins.
func TestUsage(t *testing.T) {
	for name, o := range map[string]func(t *testing.T) redisx.Options{
		"embedded":     func(*testing.T) redisx.Options { return redisx.Options{} },
		"redis-server": func(t *testing.T) redisx.Options { return redisx.Options{URL: "redis://" + testenv.Redis(t)} },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rdb, err := redisx.Open(ctx, o(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rdb.Close() })
			u := Usage{RDB: rdb}
			t1 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
			if m, err := u.LastUsed(ctx, "acme"); err != nil || len(m) != 0 {
				t.Fatalf("empty: %v %v", m, err)
			}
			for _, c := range []struct {
				tenant, ak string
				at         time.Time
			}{{"acme", "AK1", t1}, {"acme", "AK1", t1.Add(time.Minute)}, {"acme", "AK2", t1}, {"globex", "AK3", t1}} {
				if err := u.Touch(ctx, c.tenant, c.ak, c.at); err != nil {
					t.Fatal(err)
				}
			}
			m, err := u.LastUsed(ctx, "acme")
			if err != nil || len(m) != 2 || !m["AK1"].Equal(t1.Add(time.Minute)) || !m["AK2"].Equal(t1) {
				t.Fatalf("acme: %v %v", m, err)
			}
			if n, err := rdb.HLen(ctx, "livery:keyuse:{acme}").Result(); err != nil || n != 2 {
				t.Fatalf("documented key: %d %v", n, err)
			}
		})
	}
}
