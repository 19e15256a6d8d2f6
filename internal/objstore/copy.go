package objstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
)

// Errors of Copy, besides the stores' own. Test with errors.Is.
var (
	// ErrCopyConflict: some keys already exist in the destination with
	// different bytes; they were left untouched and are listed in
	// CopyReport.Conflicts.
	ErrCopyConflict = errors.New("objstore copy: objects differ in the destination")
	// ErrVerifyMismatch: after the copy, some keys read back differently
	// (or not at all) from the destination; see CopyReport.Mismatches.
	ErrVerifyMismatch = errors.New("objstore copy: verification failed")
)

// DefaultCopyConcurrency is the number of objects Copy handles at once
// when CopyOptions.Concurrency is 0.
const DefaultCopyConcurrency = 8

// CopyOptions controls Copy. The zero value copies the whole store, 8
// objects at a time, without the verify step.
type CopyOptions struct {
	// Prefix limits the copy to the keys starting with it ("" is all).
	Prefix string
	// Concurrency is the number of objects handled at once (0: 8).
	Concurrency int
	// Verify re-reads every copied or already present key from both stores
	// after the copy and compares their SHA-256.
	Verify bool
	// Progress, when not nil, is called (never concurrently) after each
	// object of each phase.
	Progress func(CopyProgress)
}

// CopyProgress is one step of a Copy. Phase is "copy" or "verify"; Done of
// Total objects are finished; Bytes counts the bytes written to the
// destination (copy) or read back from it (verify) so far.
type CopyProgress struct {
	Phase       string
	Done, Total int
	Bytes       int64
}

// CopyReport is what a Copy did. Total = Copied + AlreadyThere +
// len(Conflicts) + len(Vanished) when the run was not interrupted.
type CopyReport struct {
	Total        int      // keys listed in the source
	Copied       int      // written to the destination by this run
	AlreadyThere int      // present in the destination with the same bytes
	Bytes        int64    // bytes written by this run
	Conflicts    []string // present in the destination with different bytes (sorted)
	Vanished     []string // listed in the source, gone when read (sorted)
	Verified     int      // keys whose bytes match in both stores (Verify)
	Mismatches   []string // keys that failed verification (sorted)
}

// Copy copies every object of src (under opts.Prefix) to dst, create-only
// (PutOptions.IfNoneMatch), keeping content types. It is resumable: a key
// already in dst with the same bytes counts as AlreadyThere, so a second
// run after an interruption copies only what is missing. A key already in
// dst with different bytes is never overwritten: it is listed in
// Conflicts. With opts.Verify every other key is then read back from both
// stores and compared by SHA-256.
//
// Copy returns the report and nil when everything was copied (and
// verified); an error wrapping ErrCopyConflict and/or ErrVerifyMismatch
// (errors.Join) when objects differ; or, at the first store error (for
// example ErrUnavailable) or when ctx ends, that error with the report so
// far — nothing half-written is left in dst, since each Put is atomic.
// Deadlines are those of the stores (wrap them with WithTimeout) and ctx.
func Copy(ctx context.Context, src, dst Store, opts CopyOptions) (CopyReport, error) {
	var rep CopyReport
	if err := ValidatePrefix(opts.Prefix); err != nil {
		return rep, err
	}
	n := opts.Concurrency
	if n <= 0 {
		n = DefaultCopyConcurrency
	}
	objs, err := src.List(ctx, opts.Prefix)
	if err != nil {
		return rep, fmt.Errorf("objstore copy: list source: %w", err)
	}
	rep.Total = len(objs)
	var (
		mu    sync.Mutex
		done  int
		bytes int64
	)
	step := func(phase string, written int64) {
		mu.Lock()
		defer mu.Unlock()
		done++
		bytes += written
		if opts.Progress != nil {
			opts.Progress(CopyProgress{Phase: phase, Done: done, Total: len(objs), Bytes: bytes})
		}
	}
	outcomes := make([]copyOutcome, len(objs))
	err = forEach(ctx, n, len(objs), func(ctx context.Context, i int) error {
		o, w, err := copyOne(ctx, src, dst, objs[i].Key)
		if err != nil {
			return err
		}
		outcomes[i] = o
		step("copy", w)
		return nil
	})
	for i, o := range outcomes {
		switch o {
		case copied:
			rep.Copied++
		case alreadyThere:
			rep.AlreadyThere++
		case conflict:
			rep.Conflicts = append(rep.Conflicts, objs[i].Key)
		case vanished:
			rep.Vanished = append(rep.Vanished, objs[i].Key)
		}
	}
	rep.Bytes = bytes
	if err != nil {
		return rep, err
	}
	var errs []error
	if len(rep.Conflicts) > 0 {
		errs = append(errs, fmt.Errorf("%w: %d key(s): %v", ErrCopyConflict, len(rep.Conflicts), rep.Conflicts))
	}
	if opts.Verify {
		var keys []string
		for i, o := range outcomes {
			if o == copied || o == alreadyThere {
				keys = append(keys, objs[i].Key)
			}
		}
		mism := make([]bool, len(keys))
		done, bytes = 0, 0
		err := forEach(ctx, n, len(keys), func(ctx context.Context, i int) error {
			same, size, err := sameBytes(ctx, src, dst, keys[i])
			if err != nil {
				return err
			}
			mism[i] = !same
			mu.Lock()
			done++
			bytes += size
			if opts.Progress != nil {
				opts.Progress(CopyProgress{Phase: "verify", Done: done, Total: len(keys), Bytes: bytes})
			}
			mu.Unlock()
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("objstore copy: verify: %w", err)
		}
		for i, m := range mism {
			if m {
				rep.Mismatches = append(rep.Mismatches, keys[i])
			} else {
				rep.Verified++
			}
		}
		if len(rep.Mismatches) > 0 {
			errs = append(errs, fmt.Errorf("%w: %d key(s): %v", ErrVerifyMismatch, len(rep.Mismatches), rep.Mismatches))
		}
	}
	sort.Strings(rep.Conflicts)
	sort.Strings(rep.Vanished)
	sort.Strings(rep.Mismatches)
	return rep, errors.Join(errs...)
}

type copyOutcome int

const (
	notDone copyOutcome = iota
	copied
	alreadyThere
	conflict
	vanished
)

// copyOne copies key create-only and says what happened, with the bytes
// written.
func copyOne(ctx context.Context, src, dst Store, key string) (copyOutcome, int64, error) {
	// A cheap look first, so that a resumed run does not re-send bytes.
	if _, err := dst.Stat(ctx, key); err == nil {
		return compare(ctx, src, dst, key)
	} else if !errors.Is(err, ErrNotFound) {
		return notDone, 0, fmt.Errorf("objstore copy: stat destination %q: %w", key, err)
	}
	rc, obj, err := src.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return vanished, 0, nil
	}
	if err != nil {
		return notDone, 0, fmt.Errorf("objstore copy: read source %q: %w", key, err)
	}
	defer rc.Close()
	put, err := dst.Put(ctx, key, rc, obj.Size, PutOptions{IfNoneMatch: true, ContentType: obj.ContentType})
	if errors.Is(err, ErrPreconditionFailed) { // written meanwhile by someone else
		return compare(ctx, src, dst, key)
	}
	if err != nil {
		return notDone, 0, fmt.Errorf("objstore copy: write destination %q: %w", key, err)
	}
	return copied, put.Size, nil
}

// compare classifies a key present in dst: alreadyThere or conflict.
func compare(ctx context.Context, src, dst Store, key string) (copyOutcome, int64, error) {
	same, _, err := sameBytes(ctx, src, dst, key)
	switch {
	case errors.Is(err, errSourceGone):
		return vanished, 0, nil
	case err != nil:
		return notDone, 0, err
	case same:
		return alreadyThere, 0, nil
	}
	return conflict, 0, nil
}

var errSourceGone = errors.New("source object gone")

// sameBytes reads key from both stores and compares their SHA-256; a key
// missing from dst is not the same. It returns the destination's size.
func sameBytes(ctx context.Context, src, dst Store, key string) (bool, int64, error) {
	a, _, err := hashObject(ctx, src, key)
	if errors.Is(err, ErrNotFound) {
		return false, 0, fmt.Errorf("objstore copy: %q: %w", key, errSourceGone)
	}
	if err != nil {
		return false, 0, fmt.Errorf("objstore copy: read source %q: %w", key, err)
	}
	b, size, err := hashObject(ctx, dst, key)
	if errors.Is(err, ErrNotFound) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("objstore copy: read destination %q: %w", key, err)
	}
	return a == b, size, nil
}

func hashObject(ctx context.Context, s Store, key string) ([sha256.Size]byte, int64, error) {
	var sum [sha256.Size]byte
	rc, _, err := s.Get(ctx, key)
	if err != nil {
		return sum, 0, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return sum, 0, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, n, nil
}

// forEach runs fn for 0..n-1 with at most workers at once; the first error
// (or ctx ending) stops handing out work and is returned.
func forEach(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}
