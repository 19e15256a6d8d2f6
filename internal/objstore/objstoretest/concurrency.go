package objstoretest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/livery/livery/internal/objstore"
)

func testConcurrentCreate(t *testing.T, s objstore.Store) {
	const n = 20
	var wins, fails atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := objstore.PutBytes(ctx(t), s, "race/key", []byte(strconv.Itoa(i)), objstore.PutOptions{IfNoneMatch: true})
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, objstore.ErrPreconditionFailed):
				fails.Add(1)
			default:
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	if wins.Load() != 1 || fails.Load() != n-1 {
		t.Fatalf("wins=%d fails=%d, want 1 and %d", wins.Load(), fails.Load(), n-1)
	}
}

// IncrementCounter performs one CAS increment of the decimal counter at key
// (creating it with IfNoneMatch if missing), retrying on conflicts. It is
// exported for cross-process tests.
func IncrementCounter(ctx context.Context, s objstore.Store, key string) error {
	for {
		b, o, err := objstore.GetBytes(ctx, s, key)
		opts := objstore.PutOptions{IfMatch: o.ETag}
		n := 0
		switch {
		case errors.Is(err, objstore.ErrNotFound):
			opts = objstore.PutOptions{IfNoneMatch: true}
		case err != nil:
			return err
		default:
			if n, err = strconv.Atoi(string(b)); err != nil {
				return err
			}
		}
		_, err = objstore.PutBytes(ctx, s, key, []byte(strconv.Itoa(n+1)), opts)
		if errors.Is(err, objstore.ErrPreconditionFailed) {
			continue
		}
		return err
	}
}

func testConcurrentCAS(t *testing.T, s objstore.Store) {
	const workers, each = 10, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				if err := IncrementCounter(ctx(t), s, "counter"); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("increment: %v", err)
	}
	if body, _ := mustGet(t, s, "counter"); body != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s, want %d (lost update)", body, workers*each)
	}
}
