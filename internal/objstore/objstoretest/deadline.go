package objstoretest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/livery/livery/internal/objstore"
)

// testCancelled: a driver honours its context. With a cancelled context
// every method fails with an error wrapping context.Canceled (the caller
// gave up: never ErrUnavailable, even behind objstore.WithTimeout), and a
// Put stores nothing.
func testCancelled(t *testing.T, s objstore.Store) {
	put(t, s, "c/exists", "x", objstore.PutOptions{})
	c, cancel := context.WithCancel(context.Background())
	cancel()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) || errors.Is(err, objstore.ErrUnavailable) {
			t.Errorf("%s with a cancelled context: err = %v; want context.Canceled and not ErrUnavailable", op, err)
		}
	}
	rc, _, err := s.Get(c, "c/exists")
	if err == nil {
		// A driver may open lazily; reading must then fail.
		_, err = io.ReadAll(rc)
		rc.Close()
	}
	check("Get", err)
	_, err = s.Put(c, "c/new", bytes.NewReader([]byte("data")), 4, objstore.PutOptions{})
	check("Put", err)
	_, err = s.Stat(c, "c/exists")
	check("Stat", err)
	_, err = s.List(c, "c/")
	check("List", err)
	check("Delete", s.Delete(c, "c/exists"))
	if _, err := s.Stat(ctx(t), "c/new"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Stat after a cancelled Put: %v; want ErrNotFound (nothing stored)", err)
	}
}

// trickle yields one byte per pause, n bytes in all: a body far slower
// than any store deadline.
type trickle struct {
	n     int
	pause time.Duration
}

func (r *trickle) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	time.Sleep(r.pause)
	p[0] = 'x'
	r.n--
	return 1, nil
}

// testDeadline: behind objstore.WithTimeout, a Put whose body outlasts the
// deadline fails with ErrUnavailable and context.DeadlineExceeded, returns
// soon after the deadline (the bound is generous: this is no performance
// claim) and stores nothing; the store works normally afterwards.
func testDeadline(t *testing.T, s objstore.Store) {
	const timeout = 300 * time.Millisecond
	b := objstore.WithTimeout(s, timeout)
	start := time.Now()
	// 4000 bytes at 20 ms each would take 80 s.
	_, err := b.Put(ctx(t), "slow/body", &trickle{n: 4000, pause: 20 * time.Millisecond}, 4000, objstore.PutOptions{IfNoneMatch: true})
	elapsed := time.Since(start)
	if !errors.Is(err, objstore.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Put with a body slower than the deadline: err = %v; want ErrUnavailable and DeadlineExceeded", err)
	}
	if elapsed > 20*timeout {
		t.Fatalf("Put returned after %s with a %s deadline", elapsed, timeout)
	}
	if _, err := b.Stat(ctx(t), "slow/body"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Stat after the timed-out Put: %v; want ErrNotFound (nothing stored)", err)
	}
	put(t, b, "slow/body", "fast", objstore.PutOptions{IfNoneMatch: true})
	if body, _ := mustGet(t, b, "slow/body"); body != "fast" {
		t.Fatalf("after the timed-out Put: body = %q", body)
	}
}
