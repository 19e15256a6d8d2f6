package tenants_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/redisindex"
	"github.com/redis/go-redis/v9"
)

// BenchmarkReindex measures `livery reindex` (Customers.ReindexProgress)
// of one tenant from real MinIO into real redis-server: the records are
// seeded directly into MinIO (LIVERY_REINDEX_BENCH_SIZE of them, default
// 10,000; generated names, as Livery gives), then each op deletes the
// index and rebuilds it. It reports the rebuild's seconds and records/s;
// progress is logged every 10%.
//
//	LIVERY_REINDEX_BENCH_SIZE=100000 go test -run '^$' -bench Reindex -benchtime 1x -timeout 60m ./tenants/
func BenchmarkReindex(b *testing.B) {
	n := 10_000
	if v := os.Getenv("LIVERY_REINDEX_BENCH_SIZE"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	st, rdb := benchBackends(b)
	t0 := time.Now()
	seedRecords(b, st, "acme", n)
	b.Logf("seeded %d records in %s", n, time.Since(t0).Round(time.Second))
	s := tenants.NewCustomers(tenants.CustomerOptions{Store: st, Provisioner: tenants.Builtin{}, Codes: &fakeCodes{},
		Index: redisindex.Index{RDB: rdb}, PhoneLimit: 2})
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start, step := time.Now(), max(n/10, 1)
		got, err := s.ReindexProgress(ctx, "acme", func(read, total int) {
			if read/step != (read-500)/step || read == total {
				b.Logf("reindex: %d/%d records after %s", read, total, time.Since(start).Round(100*time.Millisecond))
			}
		})
		if err != nil || got != n {
			b.Fatalf("reindexed %d of %d: %v", got, n, err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/reindex")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// seedRecords stores n active customer records of tenant in st, 64 writes
// at a time.
func seedRecords(b *testing.B, st objstore.Store, tenant string, n int) {
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now().Add(-3 * 365 * 24 * time.Hour).Truncate(time.Second)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(rand.Uint64(), 1))
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed.Load() != nil {
					return
				}
				c := tenants.Customer{Tenant: tenant, XAccountType: "plat_1", XAccountID: fmt.Sprintf("seed-%08d", i),
					State: tenants.StateActive, DomainID: fmt.Sprintf("%032x", r.Uint64()), DomainName: tenants.RandomDomainName(),
					AssociationType: tenants.AssociationResale, AssociatedOn: start.Add(time.Duration(i) * 90 * time.Second),
					IdempotencyKey: fmt.Sprintf("%032x", i), CreatedAt: start.Add(time.Duration(i) * 90 * time.Second)}
				if _, err := objstore.PutJSON(context.Background(), st, tenants.CustomerKey(tenant, c.XAccountType, c.XAccountID), c,
					objstore.PutOptions{IfNoneMatch: true}); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
}

// benchBackends starts a real MinIO (a fresh bucket) and redis-server for a
// benchmark and opens them as the gateway does.
func benchBackends(b *testing.B) (objstore.Store, redis.UniversalClient) {
	b.Helper()
	m := testenv.StartMinIO(b)
	st, err := objstore.NewS3(context.Background(), objstore.S3Config{Endpoint: m.Endpoint, Bucket: m.NewBucket(b),
		AccessKey: m.AccessKey, SecretKey: m.SecretKey, Region: "us-east-1"})
	if err != nil {
		b.Fatal(err)
	}
	rdb, err := redisx.Open(context.Background(), redisx.Options{URL: "redis://" + testenv.Redis(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rdb.Close() })
	return st, rdb
}
