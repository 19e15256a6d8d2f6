package partnerapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/redisindex"
)

// BenchmarkCreateCustomer measures signed create-customer requests through
// the API listener against real MinIO and redis-server (each op is a new
// customer with a generated name: signature check, rate limit, risk
// control, conditional writes, provisioning, index, audit), by how many
// customers the tenant holds already and how many clients call at once.
//
// The tenant is seeded directly, not through the create path: its index
// in Redis holds every existing customer (Fill), and MinIO holds the
// records and name claims of the first LIVERY_CREATE_BENCH_STORE_MAX of
// them (default 100,000: a small object takes about 8 KB of disk in
// MinIO, so a million customers would need 16 GB). Sizes come from
// LIVERY_CREATE_BENCH_SIZES (default 10000):
//
//	LIVERY_CREATE_BENCH_SIZES=10000,1000000 \
//	  go test -run '^$' -bench CreateCustomer -benchtime 3000x -timeout 60m ./gateway/partnerapi/
//
// Each sub-benchmark reports customers/s and the p50 and p99 latency of
// its creates.
func BenchmarkCreateCustomer(b *testing.B) {
	sizes := []int{10_000}
	if v := os.Getenv("LIVERY_CREATE_BENCH_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	storeMax := 100_000
	if v := os.Getenv("LIVERY_CREATE_BENCH_STORE_MAX"); v != "" {
		var err error
		if storeMax, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	// A partner platform keeps its connections open; the shared test
	// client keeps 2 per host, so most of 64 concurrent calls would open a
	// new one.
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		prev := t.MaxIdleConnsPerHost
		t.MaxIdleConnsPerHost = 128
		b.Cleanup(func() { t.MaxIdleConnsPerHost = prev })
	}
	for _, size := range sizes {
		b.Run(fmt.Sprintf("existing=%d", size), func(b *testing.B) {
			e := gatewaytest.StartPartnerEnv(b, gatewaytest.PartnerConfig{Real: true, Rates: 1 << 20,
				Risk: tenants.RiskPolicy{PerPartner: tenants.Quota{N: 1 << 30, Per: time.Second}}})
			t0 := time.Now()
			seedTenant(b, e, "pa", size, min(size, storeMax))
			b.Logf("seeded %d customers (%d in the store) in %s", size, min(size, storeMax), time.Since(t0).Round(time.Second))
			var seq atomic.Int64
			for _, clients := range []int{1, 8, 64} {
				b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
					benchCreates(b, e, clients, &seq)
				})
			}
		})
	}
}

// benchCreates runs b.N creates from clients goroutines.
func benchCreates(b *testing.B, e *gatewaytest.PartnerEnv, clients int, seq *atomic.Int64) {
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t := time.Now()
				resp, body := e.Do(b, gatewaytest.RawCall{Tenant: "pa", Path: "/v2/partners/sub-customers",
					Body: fmt.Sprintf(`{"xaccount_id":"bench-%d","xaccount_type":"pa_platform"}`, seq.Add(1))})
				lat[i] = time.Since(t)
				if resp.StatusCode != 200 {
					b.Errorf("%d %s", resp.StatusCode, body)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "customers/s")
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// seedTenant gives tenant n active customers with generated names
// (registered over the last three years): all of them in the index, the
// first inStore also as records and name claims in the object store,
// under the keys the create path uses (checked through the service).
func seedTenant(b *testing.B, e *gatewaytest.PartnerEnv, tenant string, n, inStore int) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(11, uint64(n)))
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	start := time.Now().Add(-3 * 365 * 24 * time.Hour).Truncate(time.Second)
	cs := make([]tenants.Customer, n)
	for i := range cs {
		nb := make([]byte, 32)
		nb[0] = alnum[r.IntN(26)]
		for j := 1; j < 32; j++ {
			nb[j] = alnum[r.IntN(36)]
		}
		cs[i] = tenants.Customer{Tenant: tenant, XAccountType: "pa_platform", XAccountID: fmt.Sprintf("seed-%08d", i),
			State: tenants.StateActive, DomainID: fmt.Sprintf("%032x", r.Uint64()), DomainName: string(nb),
			AssociationType: tenants.AssociationResale, AssociatedOn: start.Add(time.Duration(i) * 90 * time.Second),
			IdempotencyKey: fmt.Sprintf("%032x", i), CreatedAt: start.Add(time.Duration(i) * 90 * time.Second)}
	}
	// The object store, 64 writes at a time.
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= inStore || failed.Load() != nil {
					return
				}
				c := &cs[i]
				key := tenants.CustomerKey(tenant, c.XAccountType, c.XAccountID)
				if _, err := objstore.PutJSON(ctx, e.Store, key, c, objstore.PutOptions{IfNoneMatch: true}); err != nil {
					failed.Store(err)
					return
				}
				sum := sha256.Sum256([]byte(strings.ToLower(c.DomainName)))
				claim := map[string]string{"tenant": tenant, "customer_key": key}
				if _, err := objstore.PutJSON(ctx, e.Store, "names/"+hex.EncodeToString(sum[:])[:40]+".json", claim,
					objstore.PutOptions{IfNoneMatch: true}); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	// The index meanwhile, 500 at a time.
	x := redisindex.Index{RDB: e.RDB}
	for i := 0; i < n; i += 500 {
		batch := cs[i:min(i+500, n)]
		if err := x.Fill(ctx, tenant, batch, "", 0, i+500 >= n); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	if inStore > 0 {
		last := cs[inStore-1]
		id, err := e.Customers.CheckIdentity(ctx, "name", last.DomainName)
		found, ferr := e.Customers.Find(ctx, tenant, last.XAccountType, last.XAccountID)
		if err != nil || !id.Used || ferr != nil || found == nil {
			b.Fatalf("seeded customer not found by the service: name used %v (%v), record %v (%v)", id.Used, err, found, ferr)
		}
	}
	list, total, err := e.Customers.List(ctx, tenant, tenants.Query{Limit: 1})
	if err != nil || total != n || len(list) != 1 {
		b.Fatalf("seeded index: %d customers, %v", total, err)
	}
}
