package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"
)

// Bounded is a Store whose every call has a deadline. Build it with
// WithTimeout; it is the one place deadlines are applied, so no caller can
// forget one.
//
// What the deadline covers:
//
//   - Put, Delete, List, Stat, Ping: the whole call, including reading a
//     Put's body (a body that stops yielding bytes in time fails the Put at
//     the next read; a Read that blocks forever cannot be interrupted).
//   - Get: opening the object (until Get returns the reader and metadata),
//     and then each Read of the body separately: a Read that makes no
//     progress for the timeout fails, and the body is unusable after that.
//     Time the caller spends between Reads does not count, so a slow
//     consumer (a slow client of a streamed image) is not cut off, while a
//     backend that stops sending is.
//
// A call that runs out of time returns an error wrapping both
// ErrUnavailable and context.DeadlineExceeded (so does one that runs past a
// shorter deadline of the caller's own context); a connection failure
// (refused, reset, unreachable) wraps ErrUnavailable too. If the caller
// cancels its context, the driver's error (context.Canceled) is returned as
// is, without ErrUnavailable: that is not the store's fault.
//
// The deadline works through the context: drivers must honour it. The S3
// driver does (every request is bound to it); the Dir driver checks it
// between file operations and while waiting for a key's lock, but a local
// system call stuck in the kernel (a hung network file system) cannot be
// interrupted.
type Bounded struct {
	s       Store
	timeout time.Duration
}

var _ Store = (*Bounded)(nil)

// WithTimeout returns s with a deadline of timeout on every call (see
// Bounded); it panics when timeout is not positive (store.timeout is
// validated by the configuration, which holds its default). Wrapping a
// *Bounded again replaces its timeout instead of nesting.
func WithTimeout(s Store, timeout time.Duration) *Bounded {
	if timeout <= 0 {
		panic("objstore: WithTimeout needs a positive timeout (store.timeout)")
	}
	if b, ok := s.(*Bounded); ok {
		s = b.s
	}
	return &Bounded{s: s, timeout: timeout}
}

// Timeout returns the per-call deadline.
func (b *Bounded) Timeout() time.Duration { return b.timeout }

// Unwrap returns the driver under the deadline (for tests and tools).
func (b *Bounded) Unwrap() Store { return b.s }

// Get opens key with a deadline on opening and on each body Read (see
// Bounded). Errors: those of the driver, or ErrUnavailable.
func (b *Bounded) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	cctx, cancel := context.WithCancel(ctx)
	w := &watchdog{cancel: cancel}
	w.timer = time.AfterFunc(b.timeout, w.fire)
	rc, obj, err := b.s.Get(cctx, key)
	w.timer.Stop()
	if err != nil {
		cancel()
		return nil, Object{}, classify(ctx, w.fired.Load(), "get", key, err)
	}
	return &boundedBody{rc: rc, w: w, timeout: b.timeout, parent: ctx, key: key}, obj, nil
}

// Put stores key with a deadline on the whole call, body included.
func (b *Bounded) Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (Object, error) {
	cctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	o, err := b.s.Put(cctx, key, ctxReader{cctx, r}, size, opts)
	return o, classify(ctx, expired(cctx), "put", key, err)
}

// Delete removes key with a deadline.
func (b *Bounded) Delete(ctx context.Context, key string) error {
	cctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	err := b.s.Delete(cctx, key)
	return classify(ctx, expired(cctx), "delete", key, err)
}

// List lists prefix with a deadline on the whole listing.
func (b *Bounded) List(ctx context.Context, prefix string) ([]Object, error) {
	cctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	l, err := b.s.List(cctx, prefix)
	return l, classify(ctx, expired(cctx), "list", prefix, err)
}

// Stat returns key's metadata with a deadline.
func (b *Bounded) Stat(ctx context.Context, key string) (Object, error) {
	cctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	o, err := b.s.Stat(cctx, key)
	return o, classify(ctx, expired(cctx), "stat", key, err)
}

// Ping probes the backend with a deadline; a failure always wraps
// ErrUnavailable (unless the caller's context ended).
func (b *Bounded) Ping(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	err := b.s.Ping(cctx)
	if err != nil && !errors.Is(ctx.Err(), context.Canceled) && !errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// expired reports whether the call's own deadline has passed.
func expired(cctx context.Context) bool {
	return errors.Is(cctx.Err(), context.DeadlineExceeded)
}

// classify adds ErrUnavailable to err when the store, not the caller, is
// the reason the call failed: timedOut (the call's own deadline passed
// while the caller's context is still live) or a connection failure.
func classify(parent context.Context, timedOut bool, op, key string, err error) error {
	switch {
	case err == nil, errors.Is(err, ErrUnavailable):
		return err
	case errors.Is(parent.Err(), context.Canceled):
		return err // the caller gave up: not the store's fault
	case timedOut, parent.Err() != nil:
		return fmt.Errorf("%w: %s %q: no answer within the store timeout: %w: %w", ErrUnavailable, op, key, context.DeadlineExceeded, err)
	case IsConnectionError(err):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// IsConnectionError reports whether err is a transport failure: a network
// operation that failed (refused, reset, unreachable, timed out), an HTTP
// round trip that could not complete, or a connection cut mid-response.
func IsConnectionError(err error) bool {
	var (
		op *net.OpError
		ue *url.Error
		de *net.DNSError
	)
	switch {
	case errors.As(err, &op), errors.As(err, &ue), errors.As(err, &de):
		return true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	}
	for _, e := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EPIPE, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ETIMEDOUT} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// watchdog cancels a Get's context when one step (opening, or one Read)
// takes longer than the timeout.
type watchdog struct {
	timer  *time.Timer
	cancel context.CancelFunc
	fired  atomic.Bool
}

func (w *watchdog) fire() {
	w.fired.Store(true)
	w.cancel()
}

// boundedBody is a Get's body: each Read must make progress within the
// timeout; Close releases the context.
type boundedBody struct {
	rc      io.ReadCloser
	w       *watchdog
	timeout time.Duration
	parent  context.Context
	key     string
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.w.fired.Load() {
		return 0, classify(b.parent, true, "read", b.key, context.DeadlineExceeded)
	}
	b.w.timer.Reset(b.timeout)
	n, err := b.rc.Read(p)
	b.w.timer.Stop()
	if err != nil && err != io.EOF {
		err = classify(b.parent, b.w.fired.Load(), "read", b.key, err)
	}
	return n, err
}

func (b *boundedBody) Close() error {
	b.w.timer.Stop()
	err := b.rc.Close()
	b.w.cancel()
	return err
}
