package redisindex

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
)

// BenchmarkSelect measures every filter of the partner API's customer
// query on one tenant of 10k and 100k customers (and 1M when
// LIVERY_INDEX_BENCH_SIZES says so, e.g. "10000,100000,1000000") in a
// real redis-server, seeded through Fill (pipelined script calls). Each
// sub-benchmark reports ns/op and the p99 of its queries (p99-µs), and
// the tenant's Redis memory per customer (B/customer, INFO memory before
// and after the seed). Benchmarks run only with -bench.
//
//	go test -run '^$' -bench Select -benchtime 2s ./tenants/redisindex/
func BenchmarkSelect(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if v := os.Getenv("LIVERY_INDEX_BENCH_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchSize(b, n) })
	}
}

// benchTenant is a seeded tenant: its customers and the Redis memory the
// seed took.
type benchTenant struct {
	cs        []tenants.Customer
	perCust   float64
	breakdown map[string]int64
}

// seedBench builds a tenant of n customers: half with random 32-character
// names (as Livery gives), half with partner-chosen names ("word_word_N");
// association times over three years at one-second resolution; every
// customer has an association type, 20% a label (of 5), 10% an indirect
// partner (of 50), 30% a manager (of 200).
func seedBench(b *testing.B, x Index, n int) benchTenant {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, uint64(n)))
	words := []string{"acme", "globex", "initech", "umbrella", "stark", "wayne", "tyrell", "cyber", "delta", "north",
		"south", "cloud", "data", "soft", "tech", "trade", "group", "labs", "media", "retail"}
	used, _ := memory(x.RDB)
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	cs := make([]tenants.Customer, n)
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	for i := range cs {
		var name string
		if i%2 == 0 {
			nb := make([]byte, 32)
			nb[0] = alnum[r.IntN(26)]
			for j := 1; j < 32; j++ {
				nb[j] = alnum[r.IntN(36)]
			}
			name = string(nb)
		} else {
			name = fmt.Sprintf("%s_%s_%d", words[r.IntN(len(words))], words[r.IntN(len(words))], i)
		}
		c := tenants.Customer{Tenant: "bench", XAccountType: "plat_1", XAccountID: fmt.Sprintf("user-%08d", i),
			State: tenants.StateActive, DomainID: fmt.Sprintf("%032x", r.Uint64()) + strconv.Itoa(i), DomainName: name,
			AssociationType: []string{"1", "2"}[r.IntN(2)], Phone: fmt.Sprintf("0086-138%08d", i),
			AssociatedOn:   start.Add(time.Duration(r.IntN(3*365*86400)) * time.Second),
			IdempotencyKey: fmt.Sprintf("%032x", r.Uint64()), KeyID: "AK0123456789", RequestID: fmt.Sprintf("req-%016x", r.Uint64()),
			CreatedAt: start}
		if r.IntN(5) == 0 {
			c.Label = fmt.Sprintf("label-%d", r.IntN(5))
		}
		if r.IntN(10) == 0 {
			c.IndirectPartnerID = fmt.Sprintf("partner-%02d", r.IntN(50))
		}
		if r.IntN(10) < 3 {
			c.Managers = []string{fmt.Sprintf("manager-%03d", r.IntN(200))}
		}
		cs[i] = c
	}
	t0 := time.Now()
	const batch = 1000
	for i := 0; i < n; i += batch {
		if err := x.Fill(ctx, "bench", cs[i:min(i+batch, n)], "seed", i, false); err != nil {
			b.Fatal(err)
		}
	}
	if err := x.Fill(ctx, "bench", nil, "", n, true); err != nil {
		b.Fatal(err)
	}
	after, _ := memory(x.RDB)
	k := keysOf("bench")
	br := map[string]int64{}
	for _, key := range []string{k.records(), k.order(), k.ids(), k.names(), k.gramCounts(), k.term(tenants.Term{Kind: tenants.TermAssociationType, Value: "1"})} {
		br[strings.TrimPrefix(key, k.p)], _ = x.RDB.MemoryUsage(ctx, key, 0).Result()
	}
	b.Logf("seeded %d customers in %s: %.0f B/customer (INFO used_memory); MEMORY USAGE %v", n, time.Since(t0).Round(time.Millisecond),
		float64(after-used)/float64(n), br)
	return benchTenant{cs: cs, perCust: float64(after-used) / float64(n), breakdown: br}
}

func memory(rdb redis.UniversalClient) (int64, error) {
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("no used_memory")
}

func benchSize(b *testing.B, n int) {
	x := Index{RDB: redis.NewClient(&redis.Options{Addr: testenv.Redis(b)})}
	defer x.RDB.Close()
	t := seedBench(b, x, n)
	cs := t.cs
	term := func(k tenants.TermKind, v string) [][]tenants.Term { return [][]tenants.Term{{{Kind: k, Value: v}}} }
	r := rand.New(rand.NewPCG(9, 9))
	pick := func() *tenants.Customer { return &cs[r.IntN(len(cs))] }
	// Each case makes the i-th query (varying the value, so no cache helps).
	cases := []struct {
		name string
		sel  func() tenants.Selection
	}{
		{"all", func() tenants.Selection { return tenants.Selection{Limit: 10} }},
		{"all offset 1000", func() tenants.Selection { return tenants.Selection{Limit: 10, Offset: 1000} }},
		{"customer_id", func() tenants.Selection { return tenants.Selection{CustomerID: pick().DomainID, Limit: 10} }},
		{"indirect_partner_id", func() tenants.Selection {
			return tenants.Selection{Groups: term(tenants.TermIndirectPartnerID, fmt.Sprintf("partner-%02d", r.IntN(50))), Limit: 10}
		}},
		{"label", func() tenants.Selection {
			return tenants.Selection{Groups: term(tenants.TermLabel, fmt.Sprintf("label-%d", r.IntN(5))), Limit: 10}
		}},
		{"association_type", func() tenants.Selection {
			return tenants.Selection{Groups: term(tenants.TermAssociationType, strconv.Itoa(1+r.IntN(2))), Limit: 10}
		}},
		{"managers (2)", func() tenants.Selection {
			return tenants.Selection{Groups: [][]tenants.Term{{{Kind: tenants.TermManager, Value: fmt.Sprintf("manager-%03d", r.IntN(200))},
				{Kind: tenants.TermManager, Value: fmt.Sprintf("manager-%03d", r.IntN(200))}}}, Limit: 10}
		}},
		{"associated_on window (1 week)", func() tenants.Selection {
			at := pick().AssociatedOn
			return tenants.Selection{Begin: at, End: at.Add(7 * 24 * time.Hour), Limit: 10, Offset: 10}
		}},
		{"account_name 6 chars of a random name", func() tenants.Selection {
			name := cs[2*r.IntN(len(cs)/2)].DomainName
			i := r.IntN(len(name) - 6)
			return tenants.Selection{Contains: []string{strings.ToUpper(name[i : i+6])}, Limit: 10}
		}},
		{"account_name 6 chars of a word name", func() tenants.Selection {
			name := cs[2*r.IntN(len(cs)/2)+1].DomainName
			i := r.IntN(len(name) - 6)
			return tenants.Selection{Contains: []string{strings.ToUpper(name[i : i+6])}, Limit: 10}
		}},
		{"account_name full", func() tenants.Selection { return tenants.Selection{Contains: []string{pick().DomainName}, Limit: 10} }},
		{"customer substring (2 chars)", func() tenants.Selection {
			name := pick().DomainName
			i := r.IntN(len(name) - 2)
			return tenants.Selection{Contains: []string{name[i : i+2]}, Limit: 10}
		}},
		{"account_name word (common)", func() tenants.Selection { return tenants.Selection{Contains: []string{"globex_"}, Limit: 10} }},
		{"type and window", func() tenants.Selection {
			at := pick().AssociatedOn
			return tenants.Selection{Groups: term(tenants.TermAssociationType, "2"), Begin: at, End: at.Add(30 * 24 * time.Hour), Limit: 10}
		}},
	}
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				sel := c.sel()
				t0 := time.Now()
				if _, _, ok, err := x.Select(ctx, "bench", sel); err != nil || !ok {
					b.Fatal(ok, err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(t.perCust, "B/customer")
		})
	}
}
