package redisindex

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
)

// TestIndex runs against the embedded server and a real redis-server.
func TestIndex(t *testing.T) {
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
			x := Index{RDB: rdb}
			cust := func(tenant, xid string) tenants.Customer {
				return tenants.Customer{Tenant: tenant, XAccountType: "plat", XAccountID: xid, State: tenants.StateActive,
					DomainID: "d-" + xid, DomainName: "name_" + xid}
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
			// A Put before the index is built does not make it built.
			early := cust("ta", "u0")
			if err := x.Put(ctx, &early); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := x.Load(ctx, "ta"); err != nil || ok {
				t.Fatalf("built by a Put: %v %v", ok, err)
			}
			if err := x.Fill(ctx, "ta", []tenants.Customer{cust("ta", "u1"), cust("ta", "u2")}); err != nil {
				t.Fatal(err)
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
			for _, c := range cs {
				if c.DomainName == "name_u3" && (c.Label != "vip" || c.DomainID != "d-u3") {
					t.Fatalf("customer not stored whole: %+v", c)
				}
			}
			if cs, ok, err := x.Load(ctx, "tb"); err != nil || ok || len(cs) != 0 {
				t.Fatalf("other tenant: %v %v %v", cs, ok, err)
			}
			// The documented keys, one cluster slot per tenant.
			keys, err := rdb.Keys(ctx, "livery:idx:*").Result()
			slices.Sort(keys)
			if err != nil || strings.Join(keys, " ") != "livery:idx:{ta}:built livery:idx:{ta}:customers" {
				t.Fatalf("keys %v %v", keys, err)
			}
		})
	}
}
