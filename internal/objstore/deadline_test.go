package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/objstore/objstoretest"
	"github.com/livery/livery/internal/testenv"
)

// conformanceTimeout is the deadline the conformance runs use behind
// WithTimeout: generous, because the suite checks the contract, not speed
// (the Deadline case sets its own short one).
const conformanceTimeout = 30 * time.Second

// Both drivers pass the suite behind the deadline wrapper the program uses.
func TestBoundedConformance(t *testing.T) {
	t.Run("dir", func(t *testing.T) {
		objstoretest.Run(t, func(t *testing.T) objstore.Store {
			return objstore.WithTimeout(newDir(t), conformanceTimeout)
		})
	})
	t.Run("s3", func(t *testing.T) {
		m := testenv.StartMinIO(t)
		objstoretest.Run(t, func(t *testing.T) objstore.Store {
			return objstore.WithTimeout(newS3(t, m), conformanceTimeout)
		})
	})
}

func newS3(t *testing.T, m testenv.MinIO) *objstore.S3 {
	t.Helper()
	s, err := objstore.NewS3(context.Background(), objstore.S3Config{
		Endpoint: m.Endpoint, Bucket: m.NewBucket(t), AccessKey: m.AccessKey, SecretKey: m.SecretKey,
	})
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	return s
}

// storeCall is one method of the Store interface, called on key "k/obj".
type storeCall struct {
	name string
	call func(ctx context.Context, s objstore.Store) error
}

var storeCalls = []storeCall{
	{"Get", func(ctx context.Context, s objstore.Store) error {
		_, _, err := objstore.GetBytes(ctx, s, "k/obj")
		return err
	}},
	{"Put", func(ctx context.Context, s objstore.Store) error {
		_, err := objstore.PutBytes(ctx, s, "k/new", []byte("new"), objstore.PutOptions{})
		return err
	}},
	{"Stat", func(ctx context.Context, s objstore.Store) error { _, err := s.Stat(ctx, "k/obj"); return err }},
	{"List", func(ctx context.Context, s objstore.Store) error { _, err := s.List(ctx, "k/"); return err }},
	{"Delete", func(ctx context.Context, s objstore.Store) error { return s.Delete(ctx, "k/obj") }},
	{"Ping", func(ctx context.Context, s objstore.Store) error { return s.Ping(ctx) }},
}

// wantUnavailable runs every store call and checks that each fails with
// ErrUnavailable (and, when deadline, context.DeadlineExceeded) within a
// generous bound of the timeout: an upper bound, not a performance claim.
func wantUnavailable(t *testing.T, s *objstore.Bounded, deadline bool) {
	t.Helper()
	for _, c := range storeCalls {
		start := time.Now()
		err := c.call(context.Background(), s)
		elapsed := time.Since(start)
		if !errors.Is(err, objstore.ErrUnavailable) {
			t.Errorf("%s: err = %v; want ErrUnavailable", c.name, err)
		}
		if deadline && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: err = %v; want context.DeadlineExceeded", c.name, err)
		}
		if errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("%s: err = %v also says not found", c.name, err)
		}
		if elapsed > 4*s.Timeout() {
			t.Errorf("%s: answered after %s with a %s store timeout", c.name, elapsed, s.Timeout())
		}
	}
}

// TestS3Unavailable: a frozen MinIO (SIGSTOP: connections up, no answers)
// makes every call fail with ErrUnavailable at the deadline; thawed, the
// store works again; a stopped MinIO (connection refused) fails every call
// with ErrUnavailable too.
func TestS3Unavailable(t *testing.T) {
	m := testenv.StartMinIO(t)
	s := objstore.WithTimeout(newS3(t, m), 500*time.Millisecond)
	ctx := context.Background()
	if _, err := objstore.PutBytes(ctx, s, "k/obj", []byte("hello"), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	m.Freeze(t)
	wantUnavailable(t, s, true)
	m.Thaw(t)
	if b, _, err := objstore.GetBytes(ctx, s, "k/obj"); err != nil || string(b) != "hello" {
		t.Fatalf("after thaw: %q %v", b, err)
	}

	m.Stop()
	wantUnavailable(t, s, false)
}

// TestS3BodyStall: the deadline covers each Read of a Get's body; a server
// that stops sending mid-body fails the read with ErrUnavailable instead of
// hanging the reader, while time spent between reads does not count.
func TestS3BodyStall(t *testing.T) {
	m := testenv.StartMinIO(t)
	raw := newS3(t, m)
	const timeout = 500 * time.Millisecond
	s := objstore.WithTimeout(raw, timeout)
	ctx := context.Background()
	// Far more than loopback socket buffers hold, so the reader must wait
	// for the server once it is frozen.
	big := bytes.Repeat([]byte("0123456789abcdef"), 32<<20/16)
	if _, err := objstore.PutBytes(ctx, raw, "big", big, objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	// A slow consumer is not cut off: pauses longer than the timeout
	// between reads of a working server are fine.
	if _, _, err := s.Get(ctx, "missing"); !errors.Is(err, objstore.ErrNotFound) || errors.Is(err, objstore.ErrUnavailable) {
		t.Fatalf("Get(missing) = %v; want ErrNotFound only", err)
	}
	rc, _, err := s.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	if _, err := io.ReadFull(rc, buf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * timeout)
	if _, err := io.ReadFull(rc, buf); err != nil {
		t.Fatalf("read after a pause between reads: %v", err)
	}

	m.Freeze(t)
	start := time.Now()
	_, err = io.Copy(io.Discard, rc)
	rc.Close()
	if !errors.Is(err, objstore.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("reading a body from a frozen server: err = %v; want ErrUnavailable and DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 20*timeout { // reading the buffered part is included
		t.Fatalf("body read failed only after %s", elapsed)
	}
}

// TestDirUnavailable: a Dir whose root went away (an unmounted volume, a
// removed directory) fails every call with ErrUnavailable, never "not
// found", and a Put does not silently recreate an empty store there.
func TestDirUnavailable(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	d, err := objstore.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	s := objstore.WithTimeout(d, time.Second)
	if _, err := objstore.PutBytes(context.Background(), s, "k/obj", []byte("x"), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, fault := range []struct {
		name  string
		apply func(t *testing.T)
		undo  func(t *testing.T)
	}{
		{"root moved away", func(t *testing.T) { mustRename(t, root, root+".away") }, func(t *testing.T) { mustRename(t, root+".away", root) }},
		{"root replaced by a file", func(t *testing.T) {
			mustRename(t, root, root+".away")
			if err := os.WriteFile(root, []byte("not a directory"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T) {
			if err := os.Remove(root); err != nil {
				t.Fatal(err)
			}
			mustRename(t, root+".away", root)
		}},
	} {
		t.Run(fault.name, func(t *testing.T) {
			fault.apply(t)
			wantUnavailable(t, s, false)
			if fi, err := os.Stat(filepath.Join(root, "objects")); err == nil && fi.IsDir() {
				t.Errorf("a call recreated the store root")
			}
			fault.undo(t)
			if b, _, err := objstore.GetBytes(context.Background(), s, "k/obj"); err != nil || string(b) != "x" {
				t.Fatalf("after restoring the root: %q %v", b, err)
			}
		})
	}
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}
