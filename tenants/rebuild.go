package tenants

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/livery/livery/internal/objstore"
)

// Rebuilding the index. Reindex reads every customer record of a tenant
// (in key order, several at a time) and fills the index batch by batch;
// each batch records a checkpoint with it, so a rebuild that stops (a
// crash, a timeout, `livery reindex` interrupted) resumes after the last
// batch the index holds. A query that finds the index missing rebuilds it
// through rebuild: once per process (the callers wait for one rebuild)
// and once across instances (a lock in Redis with a deadline, extended
// while the rebuild runs; when its holder dies the lock expires and a
// waiting instance resumes from the checkpoint).

// Rebuild pace and bounds.
const (
	reindexBatch   = 500              // records per Fill
	reindexReaders = 16               // concurrent record reads of one batch
	reindexAhead   = 3                // batches read at once, ahead of the fill
	fillTimeout    = 30 * time.Second // one Fill
	lockTTL        = 15 * time.Second // the rebuild lock, extended every lockTTL/3
	lockPoll       = 50 * time.Millisecond
	// rebuildTimeout bounds an inline rebuild (the first query's); queries
	// wait for it only as long as their own context allows.
	rebuildTimeout = 10 * time.Minute
)

// Reindex rebuilds the tenant's index from the object store (`livery
// reindex`) and returns the number of active customers indexed. Errors:
// ErrUnavailable when the store or the index fails.
func (s *Customers) Reindex(ctx context.Context, tenant string) (int, error) {
	return s.ReindexProgress(ctx, tenant, nil)
}

// ReindexProgress is Reindex telling progress, when not nil, after each
// batch of customer records read: read of total records (total counts
// records that are not active too; those are not indexed). A rebuild that
// stopped before resumes after its last checkpoint (read then starts
// there). progress runs on the calling goroutine and must return quickly.
// Errors: as Reindex.
func (s *Customers) ReindexProgress(ctx context.Context, tenant string, progress func(read, total int)) (int, error) {
	lctx, cancel := context.WithTimeout(ctx, rebuildTimeout)
	objs, err := s.o.Store.List(lctx, customersPrefix(tenant))
	cancel()
	if err != nil {
		return 0, unavailable("list customers", err)
	}
	cctx, cancel := context.WithTimeout(ctx, indexCallTimeout)
	after, count, err := s.o.Index.Checkpoint(cctx, tenant)
	cancel()
	if err != nil {
		return 0, unavailable("read index checkpoint", err)
	}
	start := 0
	if after != "" {
		start = sort.Search(len(objs), func(i int) bool { return objs[i].Key > after })
	} else {
		count = 0
	}
	// Batches are read ahead (reindexAhead at a time) while the previous
	// ones fill the index, in key order, so a checkpoint never passes a
	// batch the index does not hold.
	rctx, stopReads := context.WithCancel(ctx)
	defer stopReads()
	type batchRead struct {
		cs   []Customer
		err  error
		last string
		end  int
	}
	reads := make(chan chan batchRead, reindexAhead)
	go func() {
		defer close(reads)
		for i := start; i < len(objs); i += reindexBatch {
			batch := objs[i:min(i+reindexBatch, len(objs))]
			f := make(chan batchRead, 1)
			select {
			case reads <- f:
			case <-rctx.Done():
				return
			}
			go func() {
				cs, err := s.readActive(rctx, batch)
				f <- batchRead{cs: cs, err: err, last: batch[len(batch)-1].Key, end: i + len(batch)}
			}()
		}
	}()
	for f := range reads {
		r := <-f
		if r.err != nil {
			return 0, r.err
		}
		count += len(r.cs)
		fctx, cancel := context.WithTimeout(ctx, fillTimeout)
		err := s.o.Index.Fill(fctx, tenant, r.cs, r.last, count, false)
		cancel()
		if err != nil {
			return 0, unavailable("fill index", err)
		}
		if progress != nil && r.end < len(objs) {
			progress(r.end, len(objs))
		}
	}
	fctx, cancel := context.WithTimeout(ctx, fillTimeout)
	err = s.o.Index.Fill(fctx, tenant, nil, "", count, true)
	cancel()
	if err != nil {
		return 0, unavailable("fill index", err)
	}
	if progress != nil {
		progress(len(objs), len(objs))
	}
	return count, nil
}

// readActive reads the records of objs concurrently and returns the
// active customers among them, in key order. Errors: ErrUnavailable.
func (s *Customers) readActive(ctx context.Context, objs []objstore.Object) ([]Customer, error) {
	out := make([]*Customer, len(objs))
	errs := make([]error, len(objs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(reindexReaders, len(objs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				rctx, cancel := context.WithTimeout(ctx, repairCallTimeout)
				c, _, err := objstore.GetJSON[Customer](rctx, s.o.Store, objs[i].Key)
				cancel()
				switch {
				case errors.Is(err, objstore.ErrNotFound): // rolled back meanwhile
				case err != nil:
					errs[i] = err
				case c.State == StateActive:
					out[i] = &c
				}
			}
		}()
	}
	for i := range objs {
		next <- i
	}
	close(next)
	wg.Wait()
	cs := make([]Customer, 0, len(objs))
	for i := range objs {
		if errs[i] != nil {
			return nil, unavailable("read customer", errs[i])
		}
		if out[i] != nil {
			cs = append(cs, *out[i])
		}
	}
	return cs, nil
}

// flight is one in-process rebuild that concurrent callers wait for.
type flight struct {
	done chan struct{}
	err  error
}

// rebuild builds the tenant's missing index once: concurrent callers of
// this process share one attempt, and across instances the holder of the
// rebuild lock builds while the others wait for the index to be built (or
// for the lock to expire, then one of them resumes). It returns when the
// index is built or ctx ends. Errors: ErrUnavailable.
func (s *Customers) rebuild(ctx context.Context, tenant string) error {
	s.mu.Lock()
	f, ok := s.flights[tenant]
	if !ok {
		f = &flight{done: make(chan struct{})}
		s.flights[tenant] = f
		go func() {
			// The rebuild outlives the query that started it: other
			// queries wait for it.
			bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rebuildTimeout)
			f.err = s.rebuildLocked(bctx, tenant)
			cancel()
			s.mu.Lock()
			delete(s.flights, tenant)
			s.mu.Unlock()
			close(f.done)
		}()
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return unavailable("wait for index rebuild", ctx.Err())
	}
}

// rebuildLocked takes the tenant's rebuild lock and rebuilds, or waits
// while another instance holds it. Errors: ErrUnavailable.
func (s *Customers) rebuildLocked(ctx context.Context, tenant string) error {
	token := newID()
	for {
		held, err := s.lock(ctx, tenant, token)
		if err != nil {
			return unavailable("take index rebuild lock", err)
		}
		if held {
			break
		}
		// Another instance rebuilds: done when the index is built.
		built, err := s.indexBuilt(ctx, tenant)
		if err != nil {
			return err
		}
		if built {
			return nil
		}
		select {
		case <-ctx.Done():
			return unavailable("wait for index rebuild", ctx.Err())
		case <-time.After(lockPoll):
		}
	}
	stop := make(chan struct{})
	renewed := make(chan struct{})
	go func() { // extend the lock while rebuilding
		defer close(renewed)
		t := time.NewTicker(lockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if held, err := s.lock(ctx, tenant, token); err != nil || !held {
					s.o.Logger.Warn("customer index rebuild lock not extended", "tenant", tenant, "held", held, "err", err)
				}
			}
		}
	}()
	defer func() {
		close(stop)
		<-renewed
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), indexCallTimeout)
		defer cancel()
		if err := s.o.Index.Unlock(uctx, tenant, token); err != nil {
			s.o.Logger.Warn("customer index rebuild lock not released (it expires)", "tenant", tenant, "err", err)
		}
	}()
	// Built meanwhile by the previous holder?
	built, err := s.indexBuilt(ctx, tenant)
	if err != nil {
		return err
	}
	if built {
		return nil
	}
	t0 := time.Now()
	n, err := s.Reindex(ctx, tenant)
	if err != nil {
		return fmt.Errorf("rebuild customer index: %w", err)
	}
	s.o.Logger.Info("customer index rebuilt", "tenant", tenant, "customers", n, "took", time.Since(t0).String())
	return nil
}

func (s *Customers) lock(ctx context.Context, tenant, token string) (bool, error) {
	lctx, cancel := context.WithTimeout(ctx, indexCallTimeout)
	defer cancel()
	return s.o.Index.Lock(lctx, tenant, token, lockTTL)
}

// indexBuilt reports whether the tenant's index is built (one Select
// within indexCallTimeout). Errors: ErrUnavailable.
func (s *Customers) indexBuilt(ctx context.Context, tenant string) (bool, error) {
	sctx, cancel := context.WithTimeout(ctx, indexCallTimeout)
	defer cancel()
	_, _, built, err := s.o.Index.Select(sctx, tenant, Selection{Limit: 1})
	if err != nil {
		return false, unavailable("query index", err)
	}
	return built, nil
}
