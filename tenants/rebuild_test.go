package tenants_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/redisx"
	"github.com/livery/livery/internal/testenv"
	"github.com/livery/livery/tenants"
	"github.com/livery/livery/tenants/redisindex"
)

// recordStore counts the listings of customer records and the record
// reads, and fails the reads of records whose key sorts at or after
// failFrom (when set).
type recordStore struct {
	objstore.Store
	lists, reads atomic.Int32
	failFrom     atomic.Value // string
}

var errInjected = errors.New("injected store failure")

func (s *recordStore) List(ctx context.Context, prefix string) ([]objstore.Object, error) {
	if strings.Contains(prefix, "/customers/") {
		s.lists.Add(1)
	}
	return s.Store.List(ctx, prefix)
}

func (s *recordStore) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	if strings.Contains(key, "/customers/") {
		s.reads.Add(1)
		if f, _ := s.failFrom.Load().(string); f != "" && key >= f {
			return nil, objstore.Object{}, errInjected
		}
	}
	return s.Store.Get(ctx, key)
}

// seedCustomers registers n customers of tenant acme through svc.
func seedCustomers(t *testing.T, svc *tenants.Customers, n int) {
	t.Helper()
	for i := range n {
		if _, err := svc.Create(context.Background(), "acme", reg(fmt.Sprintf("x%04d", i), fmt.Sprintf("seed_%04d", i), ""), tenants.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRebuildOnceAfterFlush: after FLUSHALL, many concurrent queries on
// three instances (three services sharing the store and Redis) rebuild
// the index once — one listing of the records — and all get the answer.
func TestRebuildOnceAfterFlush(t *testing.T) {
	ctx := context.Background()
	dir, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := &recordStore{Store: dir}
	addr := testenv.Redis(t)
	var instances []*tenants.Customers
	var rdb *redisx.Conn
	for range 3 {
		c, err := redisx.Open(ctx, redisx.Options{URL: "redis://" + addr})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		rdb = c
		instances = append(instances, tenants.NewCustomers(tenants.CustomerOptions{Store: store, Provisioner: tenants.Builtin{},
			Codes: &fakeCodes{}, Index: redisindex.Index{RDB: c}, PhoneLimit: 2}))
	}
	seedCustomers(t, instances[0], 1200) // more than one rebuild batch
	for round := range 2 {
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		store.lists.Store(0)
		var wg sync.WaitGroup
		errs := make(chan error, 60)
		for i := range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				list, count, err := instances[i%3].List(ctx, "acme", tenants.Query{AccountName: "SEED_01", Limit: 5})
				if err == nil && (count != 100 || len(list) != 5) {
					err = fmt.Errorf("got %d of %d; want 5 of 100", len(list), count)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		if n := store.lists.Load(); n != 1 {
			t.Fatalf("round %d: the index was rebuilt %d times (record listings); want once", round, n)
		}
	}
}

// TestReindexResumes: a rebuild that fails half-way resumes after its
// last checkpoint (it reads fewer records than all), telling progress
// from there, and the result is complete.
func TestReindexResumes(t *testing.T) {
	ctx := context.Background()
	dir, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store := &recordStore{Store: dir}
	rdb, err := redisx.Open(ctx, redisx.Options{URL: "redis://" + testenv.Redis(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	svc := tenants.NewCustomers(tenants.CustomerOptions{Store: store, Provisioner: tenants.Builtin{},
		Codes: &fakeCodes{}, Index: redisindex.Index{RDB: rdb}, PhoneLimit: 2})
	const n = 1300
	seedCustomers(t, svc, n)
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	objs, err := dir.List(ctx, "tenants/acme/customers/")
	if err != nil || len(objs) != n {
		t.Fatalf("records: %d %v", len(objs), err)
	}
	store.reads.Store(0)
	store.failFrom.Store(objs[1100].Key) // fails in the third batch of 500 (batches are read ahead)
	if _, err := svc.Reindex(ctx, "acme"); !errors.Is(err, tenants.ErrUnavailable) || !errors.Is(err, errInjected) {
		t.Fatalf("reindex with a failing store: %v", err)
	}
	store.failFrom.Store("")
	store.reads.Store(0)
	var reports [][2]int
	got, err := svc.ReindexProgress(ctx, "acme", func(read, total int) { reports = append(reports, [2]int{read, total}) })
	if err != nil || got != n {
		t.Fatalf("resumed reindex: %d %v; want %d", got, err, n)
	}
	if r := store.reads.Load(); r != n-1000 {
		t.Fatalf("resumed reindex read %d records; want %d (after the checkpoint)", r, n-1000)
	}
	if len(reports) == 0 || reports[0][0] <= 1000 || reports[len(reports)-1] != [2]int{n, n} {
		t.Fatalf("progress %v", reports)
	}
	list, count, err := svc.List(ctx, "acme", tenants.Query{Limit: 3})
	if err != nil || count != n || len(list) != 3 {
		t.Fatalf("after the resumed rebuild: %d of %d, %v", len(list), count, err)
	}
}
