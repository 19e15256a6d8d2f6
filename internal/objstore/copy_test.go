package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/livery/livery/internal/objstore"
	"github.com/livery/livery/internal/testenv"
)

// fill puts n objects with nested keys, varied sizes and content types
// into s and returns their keys.
func fill(t *testing.T, s objstore.Store, n int) []string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	for i := range n {
		key := fmt.Sprintf("tenants/t%d/customers/c%03d.json", i%7, i)
		ct := "application/json"
		if i%5 == 0 {
			key = fmt.Sprintf("branding/t%d/v%d/logos/deep/logo%03d.png", i%3, i%4, i)
			ct = "image/png"
		}
		body := bytes.Repeat([]byte(fmt.Sprintf("object %d;", i)), i%40+1)
		if _, err := objstore.PutBytes(ctx, s, key, body, objstore.PutOptions{ContentType: ct}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}

// sameStores fails unless dst holds exactly src's keys with the same
// bytes and content types.
func sameStores(t *testing.T, src, dst objstore.Store) {
	t.Helper()
	ctx := context.Background()
	a, err := src.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := dst.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("destination has %d objects, source %d", len(b), len(a))
	}
	for i := range a {
		if a[i].Key != b[i].Key {
			t.Fatalf("key %d: destination %q, source %q", i, b[i].Key, a[i].Key)
		}
		x, xo, err := objstore.GetBytes(ctx, src, a[i].Key)
		if err != nil {
			t.Fatal(err)
		}
		y, yo, err := objstore.GetBytes(ctx, dst, a[i].Key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) || xo.ContentType != yo.ContentType {
			t.Fatalf("%s: destination %q (%s), source %q (%s)", a[i].Key, y, yo.ContentType, x, xo.ContentType)
		}
	}
}

func TestCopy(t *testing.T) {
	m := testenv.StartMinIO(t)
	dests := map[string]func(t *testing.T) objstore.Store{
		"dir": newDir,
		"s3": func(t *testing.T) objstore.Store {
			s, err := objstore.NewS3(context.Background(), objstore.S3Config{
				Endpoint: m.Endpoint, Bucket: m.NewBucket(t), AccessKey: m.AccessKey, SecretKey: m.SecretKey})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for name, open := range dests {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			src, dst := newDir(t), open(t)
			keys := fill(t, src, 300)
			var last objstore.CopyProgress
			rep, err := objstore.Copy(ctx, src, dst, objstore.CopyOptions{Verify: true, Progress: func(p objstore.CopyProgress) {
				if p.Phase == "copy" {
					last = p
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Total != len(keys) || rep.Copied != len(keys) || rep.AlreadyThere != 0 || rep.Verified != len(keys) {
				t.Fatalf("report %+v, want %d copied and verified", rep, len(keys))
			}
			if last.Done != len(keys) || last.Total != len(keys) || last.Bytes != rep.Bytes || rep.Bytes == 0 {
				t.Fatalf("last progress %+v, report bytes %d", last, rep.Bytes)
			}
			sameStores(t, src, dst)
			// A second run copies nothing.
			rep, err = objstore.Copy(ctx, src, dst, objstore.CopyOptions{Verify: true})
			if err != nil || rep.Copied != 0 || rep.AlreadyThere != len(keys) || rep.Verified != len(keys) {
				t.Fatalf("second run: %+v, %v", rep, err)
			}
		})
	}
}

// TestCopyResume: a run interrupted midway, then run again, copies every
// object exactly once between the two runs.
func TestCopyResume(t *testing.T) {
	ctx := context.Background()
	src, dst := newDir(t), newDir(t)
	keys := fill(t, src, 300)
	cctx, cancel := context.WithCancel(ctx)
	rep1, err := objstore.Copy(cctx, src, dst, objstore.CopyOptions{Progress: func(p objstore.CopyProgress) {
		if p.Done == 100 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	have, _ := dst.List(ctx, "")
	if rep1.Copied < 100 || rep1.Copied >= len(keys) || len(have) != rep1.Copied {
		t.Fatalf("interrupted run copied %d, destination has %d", rep1.Copied, len(have))
	}
	rep2, err := objstore.Copy(ctx, src, dst, objstore.CopyOptions{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.AlreadyThere != rep1.Copied || rep2.Copied+rep2.AlreadyThere != len(keys) || rep2.Verified != len(keys) {
		t.Fatalf("first run %+v, second %+v; want %d in all", rep1, rep2, len(keys))
	}
	sameStores(t, src, dst)
}

// TestCopyConflict: a key already in the destination with other bytes is
// reported and left as it was; the rest is copied.
func TestCopyConflict(t *testing.T) {
	ctx := context.Background()
	src, dst := newDir(t), newDir(t)
	keys := fill(t, src, 50)
	theirs := []byte("written to the destination by someone else")
	if _, err := objstore.PutBytes(ctx, dst, keys[7], theirs, objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	same, _, _ := objstore.GetBytes(ctx, src, keys[8])
	if _, err := objstore.PutBytes(ctx, dst, keys[8], same, objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err := objstore.Copy(ctx, src, dst, objstore.CopyOptions{Verify: true})
	if !errors.Is(err, objstore.ErrCopyConflict) || errors.Is(err, objstore.ErrVerifyMismatch) {
		t.Fatalf("err %v, want only ErrCopyConflict", err)
	}
	if !slices.Equal(rep.Conflicts, []string{keys[7]}) || rep.AlreadyThere != 1 || rep.Copied != len(keys)-2 || rep.Verified != len(keys)-1 {
		t.Fatalf("report %+v", rep)
	}
	got, _, _ := objstore.GetBytes(ctx, dst, keys[7])
	if !bytes.Equal(got, theirs) {
		t.Fatalf("conflicting object overwritten: %q", got)
	}
}

// TestCopyVerify: the verify step catches a destination that stored other
// bytes than it was given.
func TestCopyVerify(t *testing.T) {
	ctx := context.Background()
	src := newDir(t)
	keys := fill(t, src, 40)
	dst := &tampering{Store: newDir(t), key: keys[3]}
	rep, err := objstore.Copy(ctx, src, dst, objstore.CopyOptions{Verify: true})
	if !errors.Is(err, objstore.ErrVerifyMismatch) {
		t.Fatalf("err %v, want ErrVerifyMismatch", err)
	}
	if !slices.Equal(rep.Mismatches, []string{keys[3]}) || rep.Verified != len(keys)-1 || rep.Copied != len(keys) {
		t.Fatalf("report %+v", rep)
	}
	if _, err := objstore.Copy(ctx, src, dst, objstore.CopyOptions{}); !errors.Is(err, objstore.ErrCopyConflict) {
		t.Fatalf("without verify, a re-run: %v, want the tampered key as a conflict", err)
	}
}

// tampering is a Store that flips a byte of key on Put.
type tampering struct {
	objstore.Store
	key string
}

func (s *tampering) Put(ctx context.Context, key string, r io.Reader, size int64, opts objstore.PutOptions) (objstore.Object, error) {
	if key != s.key {
		return s.Store.Put(ctx, key, r, size, opts)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return objstore.Object{}, err
	}
	b[0] ^= 1
	return s.Store.Put(ctx, key, bytes.NewReader(b), size, opts)
}

// TestCopyUnavailable: a destination that fails stops the run with its
// error (after bounded work), not a report of conflicts.
func TestCopyUnavailable(t *testing.T) {
	ctx := context.Background()
	src := newDir(t)
	fill(t, src, 30)
	rep, err := objstore.Copy(ctx, src, failing{newDir(t)}, objstore.CopyOptions{})
	if !errors.Is(err, objstore.ErrUnavailable) || rep.Copied != 0 {
		t.Fatalf("report %+v, err %v; want ErrUnavailable", rep, err)
	}
}

type failing struct{ objstore.Store }

func (failing) Put(context.Context, string, io.Reader, int64, objstore.PutOptions) (objstore.Object, error) {
	return objstore.Object{}, fmt.Errorf("test: %w", objstore.ErrUnavailable)
}

// TestCopyCreateOnly: even when a key appears in the destination between
// the look and the write (here: a Stat that sees nothing), the create-only
// Put keeps the other bytes and the key is reported as a conflict.
func TestCopyCreateOnly(t *testing.T) {
	ctx := context.Background()
	src, inner := newDir(t), newDir(t)
	keys := fill(t, src, 20)
	theirs := []byte("written meanwhile")
	if _, err := objstore.PutBytes(ctx, inner, keys[2], theirs, objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	same, _, _ := objstore.GetBytes(ctx, src, keys[3])
	if _, err := objstore.PutBytes(ctx, inner, keys[3], same, objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err := objstore.Copy(ctx, src, blindStat{inner}, objstore.CopyOptions{})
	if !errors.Is(err, objstore.ErrCopyConflict) || !slices.Equal(rep.Conflicts, []string{keys[2]}) || rep.AlreadyThere != 1 {
		t.Fatalf("report %+v, err %v", rep, err)
	}
	if got, _, _ := objstore.GetBytes(ctx, inner, keys[2]); !bytes.Equal(got, theirs) {
		t.Fatalf("overwritten: %q", got)
	}
}

type blindStat struct{ objstore.Store }

func (blindStat) Stat(context.Context, string) (objstore.Object, error) {
	return objstore.Object{}, objstore.ErrNotFound
}
