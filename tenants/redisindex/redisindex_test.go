package redisindex

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
)

// servers are the two Redis deployments the index runs on: the embedded
// server and a real redis-server.
func servers() map[string]func(t *testing.T) redisx.Options {
	return map[string]func(t *testing.T) redisx.Options{
		"embedded":     func(*testing.T) redisx.Options { return redisx.Options{} },
		"redis-server": func(t *testing.T) redisx.Options { return redisx.Options{URL: "redis://" + testenv.Redis(t)} },
		// A cluster refuses a multi-key command or script across slots
		// (CROSSSLOT), so this proves one tenant stays in one slot.
		"cluster": func(t *testing.T) redisx.Options { return redisx.Options{Addrs: []string{startCluster(t).Addr}} },
	}
}

// startCluster starts a one-node Redis Cluster holding every slot.
func startCluster(t *testing.T) *testenv.RedisServer {
	srv := testenv.StartRedis(t, "--cluster-enabled", "yes")
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	ctx := context.Background()
	if err := admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if info, _ := admin.ClusterInfo(ctx).Result(); strings.Contains(info, "cluster_state:ok") {
			return srv
		}
		if time.Now().After(end) {
			t.Fatal("cluster state not ok after 10 s")
		}
	}
}

func open(t *testing.T, o redisx.Options) *redisx.Conn {
	t.Helper()
	rdb, err := redisx.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// TestIndex: Put before the build does not mark it built; Fill removes
// nothing; records are stored whole; the documented keys share the
// tenant's hash tag.
func TestIndex(t *testing.T) {
	for name, o := range servers() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rdb := open(t, o(t))
			x := Index{RDB: rdb}
			cust := func(tenant, xid string) tenants.Customer {
				return tenants.Customer{Tenant: tenant, XAccountType: "plat", XAccountID: xid, State: tenants.StateActive,
					DomainID: "d-" + xid, DomainName: "name_" + xid, AssociationType: "2"}
			}
			names := func(cs []tenants.Customer) []string {
				var out []string
				for _, c := range cs {
					out = append(out, c.DomainName)
				}
				slices.Sort(out)
				return out
			}
			if cs, ok, err := x.Load(ctx, "ta"); err != nil || ok || len(cs) != 0 {
				t.Fatalf("unbuilt index: %v %v %v; want not ok", cs, ok, err)
			}
			early := cust("ta", "u0")
			if err := x.Put(ctx, &early); err != nil {
				t.Fatal(err)
			}
			if _, _, ok, err := x.Select(ctx, "ta", tenants.Selection{}); err != nil || ok {
				t.Fatalf("built by a Put: %v %v", ok, err)
			}
			if err := x.Fill(ctx, "ta", []tenants.Customer{cust("ta", "u1"), cust("ta", "u2")}, "k2", 2, false); err != nil {
				t.Fatal(err)
			}
			if after, n, err := x.Checkpoint(ctx, "ta"); err != nil || after != "k2" || n != 2 {
				t.Fatalf("checkpoint %q %d %v", after, n, err)
			}
			if _, _, ok, _ := x.Select(ctx, "ta", tenants.Selection{}); ok {
				t.Fatal("built by a Fill without built")
			}
			if err := x.Fill(ctx, "ta", nil, "", 2, true); err != nil {
				t.Fatal(err)
			}
			if after, n, err := x.Checkpoint(ctx, "ta"); err != nil || after != "" || n != 0 {
				t.Fatalf("checkpoint after the build %q %d %v", after, n, err)
			}
			later := cust("ta", "u3")
			later.Label = "vip"
			if err := x.Put(ctx, &later); err != nil {
				t.Fatal(err)
			}
			cs, ok, err := x.Load(ctx, "ta")
			if want := []string{"name_u0", "name_u1", "name_u2", "name_u3"}; err != nil || !ok || !slices.Equal(names(cs), want) {
				t.Fatalf("Load: %v %v %v; want %v (Fill removes nothing)", names(cs), ok, err, want)
			}
			got, total, ok, err := x.Select(ctx, "ta", tenants.Selection{Groups: [][]tenants.Term{{{Kind: tenants.TermLabel, Value: "vip"}}}})
			if err != nil || !ok || total != 1 || len(got) != 1 || got[0].DomainID != "d-u3" || got[0].Label != "vip" {
				t.Fatalf("by label: %+v %d %v %v", got, total, ok, err)
			}
			if cs, ok, err := x.Load(ctx, "tb"); err != nil || ok || len(cs) != 0 {
				t.Fatalf("other tenant: %v %v %v", cs, ok, err)
			}
			keys, err := rdb.Keys(ctx, "livery:idx:*").Result()
			if err != nil || len(keys) < 10 {
				t.Fatalf("keys %v %v", keys, err)
			}
			for _, k := range keys {
				if !strings.HasPrefix(k, "livery:idx:{ta}:") {
					t.Errorf("key %q outside the tenant's hash tag", k)
				}
			}
			for _, k := range []string{"ready", "c", "o", "id", "n", "seq", "gc", "t:2", "l:vip", "g:nam"} {
				if !slices.Contains(keys, "livery:idx:{ta}:"+k) {
					t.Errorf("documented key %q missing (have %v)", k, keys)
				}
			}
		})
	}
}

// TestLock: one token holds the rebuild lock until it releases it or the
// deadline passes; the holder extends it.
func TestLock(t *testing.T) {
	ctx := context.Background()
	x := Index{RDB: open(t, redisx.Options{URL: "redis://" + testenv.Redis(t)})}
	if held, err := x.Lock(ctx, "ta", "a", 200e6); err != nil || !held {
		t.Fatalf("first lock: %v %v", held, err)
	}
	if held, _ := x.Lock(ctx, "ta", "b", 200e6); held {
		t.Fatal("second token took a held lock")
	}
	if held, _ := x.Lock(ctx, "ta", "a", 200e6); !held {
		t.Fatal("holder could not extend")
	}
	if err := x.Unlock(ctx, "ta", "b"); err != nil {
		t.Fatal(err)
	}
	if held, _ := x.Lock(ctx, "ta", "b", 200e6); held {
		t.Fatal("unlock by another token released the lock")
	}
	if err := x.Unlock(ctx, "ta", "a"); err != nil {
		t.Fatal(err)
	}
	if held, _ := x.Lock(ctx, "ta", "b", 50e6); !held {
		t.Fatal("lock not free after unlock")
	}
	// It expires.
	deadline := testDeadline()
	for {
		if held, _ := x.Lock(ctx, "ta", "c", 50e6); held {
			break
		}
		if deadline() {
			t.Fatal("lock did not expire")
		}
	}
}

// testDeadline returns a poll that sleeps a little and reports whether
// 5 s have passed.
func testDeadline() func() bool {
	end := time.Now().Add(5 * time.Second)
	return func() bool {
		time.Sleep(10 * time.Millisecond)
		return time.Now().After(end)
	}
}
