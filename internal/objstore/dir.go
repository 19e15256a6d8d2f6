package objstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Dir is a Store backed by a local directory, one file per key. Writes are
// atomic (temp file, fsync, rename) and preconditions are enforced with a
// per-key flock, so several goroutines and several processes may share one
// root safely (on a local file system; flock over NFS is not relied upon).
//
// ETags are the hex SHA-256 of the content. Files are not plain content:
// each carries a small metadata trailer (see dir_format.go), so do not
// edit the tree by hand. Lock files under root/locks are never removed.
type Dir struct {
	root    string
	objects string
	locks   string
}

var _ Store = (*Dir)(nil)

// NewDir opens (creating if needed) a Dir store rooted at root.
func NewDir(root string) (*Dir, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("objstore: dir %q: %w", root, err)
	}
	d := &Dir{root: abs, objects: filepath.Join(abs, "objects"), locks: filepath.Join(abs, "locks")}
	for _, p := range []string{d.objects, d.locks} {
		if err := os.MkdirAll(p, 0o700); err != nil {
			return nil, fmt.Errorf("objstore: dir %q: %w", root, err)
		}
	}
	return d, nil
}

// Root returns the absolute root directory.
func (d *Dir) Root() string { return d.root }

// Get opens key for streaming; ErrNotFound if missing, ErrInvalidKey if invalid.
func (d *Dir) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	if err := d.check(ctx, key); err != nil {
		return nil, Object{}, err
	}
	f, err := os.Open(d.objectPath(key))
	if err != nil {
		return nil, Object{}, d.fail("get", key, err)
	}
	tr, err := readTrailer(f)
	if err != nil {
		f.Close()
		return nil, Object{}, d.fail("get", key, err)
	}
	return sectionReadCloser{io.NewSectionReader(f, 0, tr.Size), f}, tr.object(), nil
}

// Stat returns key's metadata; ErrNotFound if missing, ErrInvalidKey if invalid.
func (d *Dir) Stat(ctx context.Context, key string) (Object, error) {
	if err := d.check(ctx, key); err != nil {
		return Object{}, err
	}
	tr, err := statFile(d.objectPath(key))
	if err != nil {
		return Object{}, d.fail("stat", key, err)
	}
	return tr.object(), nil
}

// Put atomically writes key. The content is first streamed to a temp file
// next to the target (outside the lock); then, under the key's flock, the
// preconditions are checked and the temp file renamed into place.
// Errors: ErrInvalidKey, ErrPreconditionFailed, or I/O / size mismatch.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (Object, error) {
	if err := d.check(ctx, key); err != nil {
		return Object{}, err
	}
	path := d.objectPath(key)
	tmp, err := d.createTemp(filepath.Dir(path))
	if err != nil {
		return Object{}, d.fail("put", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	src := r
	if size >= 0 {
		src = io.LimitReader(r, size+1) // +1 detects a too-long body
	}
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, src})
	if err != nil {
		return Object{}, d.fail("put", key, err)
	}
	if size >= 0 && n != size {
		return Object{}, d.fail("put", key, fmt.Errorf("body has %s bytes, size says %d", sizeDesc(n, size), size))
	}
	ct := opts.ContentType
	if ct == "" {
		ct = DefaultContentType
	}
	tr := trailer{Key: key, Size: n, ETag: hex.EncodeToString(h.Sum(nil)), ContentType: ct,
		Modified: time.Now().UnixNano()}
	if err := writeTrailer(tmp, tr); err != nil {
		return Object{}, d.fail("put", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return Object{}, d.fail("put", key, err)
	}
	if err := tmp.Close(); err != nil {
		return Object{}, d.fail("put", key, err)
	}
	if err := ctx.Err(); err != nil {
		return Object{}, d.fail("put", key, err)
	}

	unlock, err := d.lockKey(ctx, key)
	if err != nil {
		return Object{}, d.fail("put", key, err)
	}
	defer unlock()
	if opts.IfNoneMatch || opts.IfMatch != "" {
		cur, err := statFile(path)
		exists := err == nil
		if err != nil && !isNotExist(err) {
			return Object{}, d.fail("put", key, err)
		}
		if opts.IfNoneMatch && exists {
			return Object{}, fmt.Errorf("objstore: put %q: key exists: %w", key, ErrPreconditionFailed)
		}
		if want := strings.Trim(opts.IfMatch, `"`); opts.IfMatch != "" && (!exists || cur.ETag != want) {
			return Object{}, fmt.Errorf("objstore: put %q: etag does not match: %w", key, ErrPreconditionFailed)
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Object{}, d.fail("put", key, err)
	}
	committed = true
	if err := syncDir(filepath.Dir(path)); err != nil {
		return Object{}, d.fail("put", key, err)
	}
	return tr.object(), nil
}

// createTemp creates a temp file in dir, creating dir first. A concurrent
// Delete may prune the (then empty) directory between MkdirAll and
// CreateTemp, so retry a few times.
func (d *Dir) createTemp(dir string) (*os.File, error) {
	// Never recreate the root: if objects/ is gone (an unmounted volume, a
	// removed directory), writing a fresh tree would hide the real data.
	if err := d.rootErr(); err != nil {
		return nil, err
	}
	var err error
	for range 10 {
		if err = os.MkdirAll(dir, 0o700); err != nil {
			continue
		}
		var f *os.File
		if f, err = os.CreateTemp(dir, tmpPrefix+"*"); err == nil {
			return f, nil
		}
		if !isNotExist(err) {
			return nil, err
		}
	}
	return nil, err
}

// Delete removes key; a missing key is not an error. Empty parent
// directories are pruned. Errors: ErrInvalidKey or I/O.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := d.check(ctx, key); err != nil {
		return err
	}
	path := d.objectPath(key)
	unlock, err := d.lockKey(ctx, key)
	if err != nil {
		return d.fail("delete", key, err)
	}
	err = os.Remove(path)
	unlock()
	if err != nil {
		if isNotExist(err) && d.rootErr() == nil {
			return nil
		}
		return d.fail("delete", key, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil && !isNotExist(err) {
		return d.fail("delete", key, err)
	}
	// Best effort: remove now-empty d- directories up to objects/. Remove
	// fails harmlessly on non-empty directories.
	for dir := filepath.Dir(path); dir != d.objects && strings.HasPrefix(dir, d.objects); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// List returns all objects whose key starts with prefix, sorted by key.
// Errors: ErrInvalidKey (see ValidatePrefix) or I/O.
func (d *Dir) List(ctx context.Context, prefix string) ([]Object, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("objstore: list %q: %w", prefix, err)
	}
	if err := d.rootErr(); err != nil {
		return nil, fmt.Errorf("objstore: list %q: %w", prefix, err)
	}
	// Start the walk at the deepest directory fully named by the prefix.
	start, keyBase := d.objects, ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		for _, s := range strings.Split(prefix[:i], "/") {
			start = filepath.Join(start, dirPrefix+s)
		}
		keyBase = prefix[:i+1]
	}
	out := []Object{}
	if err := d.walk(ctx, start, keyBase, prefix, &out); err != nil {
		if unusable(err) {
			return nil, fmt.Errorf("objstore: list %q: %w: %w", prefix, ErrUnavailable, err)
		}
		return nil, fmt.Errorf("objstore: list %q: %w", prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (d *Dir) walk(ctx context.Context, dir, keyBase, prefix string, out *[]Object) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if isNotExist(err) {
			return nil // missing or concurrently pruned
		}
		return err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir() && strings.HasPrefix(name, dirPrefix):
			sub := keyBase + name[len(dirPrefix):] + "/"
			// Descend only if sub can lead to a match.
			if strings.HasPrefix(sub, prefix) || strings.HasPrefix(prefix, sub) {
				if err := d.walk(ctx, filepath.Join(dir, name), sub, prefix, out); err != nil {
					return err
				}
			}
		case e.Type().IsRegular() && strings.HasPrefix(name, objPrefix):
			key := keyBase + name[len(objPrefix):]
			if !strings.HasPrefix(key, prefix) {
				continue
			}
			tr, err := statFile(filepath.Join(dir, name))
			if err != nil {
				if isNotExist(err) {
					continue // deleted meanwhile
				}
				return err
			}
			*out = append(*out, tr.object())
		}
	}
	return nil
}

// Ping checks that the root is still a writable directory.
func (d *Dir) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("objstore: ping: %w", err)
	}
	if err := d.rootErr(); err != nil {
		return fmt.Errorf("objstore: ping: %w", err)
	}
	f, err := os.CreateTemp(d.locks, tmpPrefix+"ping-*")
	if err != nil {
		return fmt.Errorf("objstore: ping %s: %w: %w", d.root, ErrUnavailable, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("objstore: ping %s: %w: %w", d.root, ErrUnavailable, err)
	}
	return nil
}

func (d *Dir) check(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("objstore: %q: %w", key, err)
	}
	return nil
}

// fail wraps err, mapping a missing file to ErrNotFound (unless the whole
// root is missing) and a file system that cannot be used to ErrUnavailable.
func (d *Dir) fail(op, key string, err error) error {
	if errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("objstore: %s %q: %w", op, key, err)
	}
	if isNotExist(err) {
		if rerr := d.rootErr(); rerr != nil {
			return fmt.Errorf("objstore: %s %q: %w", op, key, rerr)
		}
		return fmt.Errorf("objstore: %s %q: %w", op, key, ErrNotFound)
	}
	if unusable(err) {
		return fmt.Errorf("objstore: %s %q: %w: %w", op, key, ErrUnavailable, err)
	}
	return fmt.Errorf("objstore: %s %q: %w", op, key, err)
}

// rootErr returns an error wrapping ErrUnavailable when the root's
// objects directory is no longer a directory (removed, unmounted, replaced):
// a missing file then says nothing about the key.
func (d *Dir) rootErr() error {
	fi, err := os.Stat(d.objects)
	switch {
	case err != nil:
		return fmt.Errorf("store root %s: %w: %w", d.root, ErrUnavailable, err)
	case !fi.IsDir():
		return fmt.Errorf("store root %s: %w: objects is not a directory", d.root, ErrUnavailable)
	}
	return nil
}

// unusable reports file system errors that say the store cannot be used
// right now (rather than anything about one key).
func unusable(err error) bool {
	for _, e := range []syscall.Errno{syscall.EIO, syscall.EROFS, syscall.ENOSPC, syscall.EDQUOT,
		syscall.EACCES, syscall.EPERM, syscall.ESTALE, syscall.ENOTDIR, syscall.EMFILE, syscall.ENFILE} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func sizeDesc(n, size int64) string {
	if n > size {
		return "more than " + fmt.Sprint(size)
	}
	return fmt.Sprint(n)
}

// ctxReader fails reads once ctx is done, so a long Put can be cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
