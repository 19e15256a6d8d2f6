package tenants_test

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/redisindex"
)

// opCounter counts the calls of each kind that reach the store.
type opCounter struct {
	objstore.Store
	get, put, del, list, stat atomic.Int64
}

func (c *opCounter) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	c.get.Add(1)
	return c.Store.Get(ctx, key)
}

func (c *opCounter) Put(ctx context.Context, key string, r io.Reader, size int64, o objstore.PutOptions) (objstore.Object, error) {
	c.put.Add(1)
	return c.Store.Put(ctx, key, r, size, o)
}

func (c *opCounter) Delete(ctx context.Context, key string) error {
	c.del.Add(1)
	return c.Store.Delete(ctx, key)
}

func (c *opCounter) List(ctx context.Context, prefix string) ([]objstore.Object, error) {
	c.list.Add(1)
	return c.Store.List(ctx, prefix)
}

func (c *opCounter) Stat(ctx context.Context, key string) (objstore.Object, error) {
	c.stat.Add(1)
	return c.Store.Stat(ctx, key)
}

// BenchmarkRegister measures Customers.Create alone (no HTTP, no audit)
// against real MinIO and redis-server, with an admission like the
// partner API's, from 1, 8 and 64 goroutines, and counts the object-store
// calls per registration (put/op, get/op, delete/op, list/op). The
// "put-ceiling" sub-benchmarks are the floor under it: bare create-only
// PUTs of a small object into the same MinIO from as many goroutines.
//
//	go test -run '^$' -bench Register -benchtime 2000x ./tenants/
func BenchmarkRegister(b *testing.B) {
	ctx := context.Background()
	st, rdb := benchBackends(b)
	cs := &opCounter{Store: st}
	s := tenants.NewCustomers(tenants.CustomerOptions{Store: cs, Provisioner: tenants.Builtin{}, Codes: &fakeCodes{},
		Index: redisindex.Index{RDB: rdb}, PhoneLimit: 2})
	if _, _, err := s.List(ctx, "ta", tenants.Query{Limit: 1}); err != nil { // builds the empty index
		b.Fatal(err)
	}
	admit := tenants.Meta{Admit: func(ctx context.Context) error { return rdb.Incr(ctx, "bench-admit").Err() }}
	var seq atomic.Int64
	for _, clients := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			g, p, d, l := cs.get.Load()+cs.stat.Load(), cs.put.Load(), cs.del.Load(), cs.list.Load()
			parallel(b, clients, func() error {
				_, err := s.Create(ctx, "ta", reg(fmt.Sprintf("reg-%d", seq.Add(1)), "", ""), admit)
				return err
			})
			n := float64(b.N)
			b.ReportMetric(n/b.Elapsed().Seconds(), "customers/s")
			b.ReportMetric(float64(cs.put.Load()-p)/n, "put/op")
			b.ReportMetric(float64(cs.get.Load()+cs.stat.Load()-g)/n, "get/op")
			b.ReportMetric(float64(cs.del.Load()-d)/n, "delete/op")
			b.ReportMetric(float64(cs.list.Load()-l)/n, "list/op")
		})
	}
	for _, clients := range []int{1, 64} {
		b.Run(fmt.Sprintf("put-ceiling/clients=%d", clients), func(b *testing.B) {
			body := []byte(`{"tenant":"ta","customer_key":"tenants/ta/customers/0123456789012345678901234567890123456789.json"}`)
			parallel(b, clients, func() error {
				_, err := objstore.PutBytes(ctx, st, fmt.Sprintf("ceiling/%d.json", seq.Add(1)), body, objstore.PutOptions{IfNoneMatch: true})
				return err
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
		})
	}
}

// parallel runs b.N calls of f from clients goroutines.
func parallel(b *testing.B, clients int, f func() error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := f(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
}
