package objstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// On-disk layout of a Dir rooted at R:
//
//	R/objects/d-<seg>/.../o-<seg>   one file per object
//	R/objects/.../t-<random>        in-flight temp files (same dir as target)
//	R/locks/<sha256(key)>.lock      per-key flock files (never deleted)
//
// Key segments become "d-" directories and the last one an "o-" file, so
// keys "a" and "a/b" can coexist and no key can name a temp file or a lock.
//
// An object file is the content followed by a trailer:
//
//	content | JSON(trailer) | uint32 BE len(JSON) | "LVO1"
//
// so data and metadata are replaced together by a single rename, Stat reads
// only the tail, and Get streams the first Size bytes.

const (
	objPrefix   = "o-"
	dirPrefix   = "d-"
	tmpPrefix   = "t-"
	trailerMark = "LVO1"
	maxTrailer  = 64 << 10
)

type trailer struct {
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	ETag        string `json:"etag"`
	ContentType string `json:"content_type"`
	Modified    int64  `json:"modified_unix_nano"`
}

func (tr trailer) object() Object {
	return Object{Key: tr.Key, Size: tr.Size, ETag: tr.ETag, ContentType: tr.ContentType,
		Modified: time.Unix(0, tr.Modified).UTC()}
}

// objectPath maps a valid key to its file and lock paths.
func (d *Dir) objectPath(key string) string {
	segs := strings.Split(key, "/")
	parts := make([]string, 0, len(segs)+1)
	parts = append(parts, d.objects)
	for _, s := range segs[:len(segs)-1] {
		parts = append(parts, dirPrefix+s)
	}
	parts = append(parts, objPrefix+segs[len(segs)-1])
	return filepath.Join(parts...)
}

func (d *Dir) lockPath(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(d.locks, hex.EncodeToString(sum[:])+".lock")
}

// writeTrailer appends the trailer to w.
func writeTrailer(w io.Writer, tr trailer) error {
	js, err := json.Marshal(tr)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, len(js)+8)
	buf = append(buf, js...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(js)))
	buf = append(buf, trailerMark...)
	_, err = w.Write(buf)
	return err
}

// readTrailer reads the trailer of an open object file.
func readTrailer(f *os.File) (trailer, error) {
	var tr trailer
	fi, err := f.Stat()
	if err != nil {
		return tr, err
	}
	if fi.Size() < 8 {
		return tr, fmt.Errorf("corrupt object file %s: too short", f.Name())
	}
	var tail [8]byte
	if _, err := f.ReadAt(tail[:], fi.Size()-8); err != nil {
		return tr, err
	}
	if string(tail[4:]) != trailerMark {
		return tr, fmt.Errorf("corrupt object file %s: bad trailer mark", f.Name())
	}
	n := int64(binary.BigEndian.Uint32(tail[:4]))
	if n > maxTrailer || n > fi.Size()-8 {
		return tr, fmt.Errorf("corrupt object file %s: bad trailer length", f.Name())
	}
	js := make([]byte, n)
	if _, err := f.ReadAt(js, fi.Size()-8-n); err != nil {
		return tr, err
	}
	if err := json.Unmarshal(js, &tr); err != nil {
		return tr, fmt.Errorf("corrupt object file %s: %w", f.Name(), err)
	}
	if tr.Size != fi.Size()-8-n {
		return tr, fmt.Errorf("corrupt object file %s: size mismatch", f.Name())
	}
	return tr, nil
}

// statFile returns the trailer of the object file at path; a missing file
// is reported as os.ErrNotExist.
func statFile(path string) (trailer, error) {
	f, err := os.Open(path)
	if err != nil {
		return trailer{}, err
	}
	defer f.Close()
	return readTrailer(f)
}

// isNotExist is true for a missing file or a missing parent directory
// (ENOTDIR cannot happen with the d-/o- layout, but be safe).
func isNotExist(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// lockKey takes an exclusive flock on key's lock file and returns the
// unlock function. flock locks belong to the open file description, so this
// excludes other goroutines (each call opens its own descriptor) as well as
// other processes. Lock holders only do a few local file operations, so a
// busy lock is polled (non-blocking flock, short growing pauses) until ctx
// ends: a holder that never lets go costs the caller its deadline, not
// forever.
func (d *Dir) lockKey(ctx context.Context, key string) (func(), error) {
	f, err := os.OpenFile(d.lockPath(key), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	pause := 50 * time.Microsecond
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EINTR && err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("flock %s: %w", f.Name(), err)
		}
		if err == syscall.EWOULDBLOCK {
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				f.Close()
				return nil, fmt.Errorf("waiting for lock %s: %w", f.Name(), ctx.Err())
			case <-t.C:
			}
			pause = min(2*pause, 5*time.Millisecond)
		}
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// syncDir fsyncs a directory so a rename or unlink in it is durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// sectionReadCloser streams the content part of an object file.
type sectionReadCloser struct {
	*io.SectionReader
	f *os.File
}

func (s sectionReadCloser) Close() error { return s.f.Close() }
