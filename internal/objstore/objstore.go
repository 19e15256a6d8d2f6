// Package objstore is Livery's system of record for everything durable: a
// deliberately small key/value object store interface with two drivers,
// a local directory ([Dir]) and S3-compatible storage ([S3], tested against
// MinIO).
//
// # Contract
//
// Keys are slash-separated UTF-8 paths checked by [ValidateKey]; every
// method refuses an invalid key with an error wrapping [ErrInvalidKey]
// before touching the backend.
//
// Portable keys: do not store an object whose key is another key's
// "directory" (both "a" and "a/b"). [Dir] handles it, and MinIO stores and
// serves both, but MinIO's recursive listing silently omits every key below
// a prefix that is also an object ("a/b" is missing from List("")).
//
// Writes are atomic: a reader sees either the old or the new object, never
// a partial one. Every object has an opaque, unquoted ETag that changes
// whenever the content changes (both drivers derive it from the content, so
// rewriting identical bytes may keep the same ETag).
//
// [PutOptions] gives two preconditions that make the store usable as a
// coordination point without any lock service:
//
//   - IfNoneMatch (create-only, "If-None-Match: *"): the write fails with
//     [ErrPreconditionFailed] if the key already exists.
//   - IfMatch (compare-and-swap, "If-Match: <etag>"): the write fails with
//     [ErrPreconditionFailed] unless the key exists and its current ETag
//     equals IfMatch.
//
// Preconditions are atomic with respect to every other writer of the same
// store (goroutines and, for [Dir], other processes sharing the directory;
// for [S3] the server enforces them). On a failed precondition nothing is
// written. The usual read-modify-write loop is:
//
//	for {
//		v, obj, err := objstore.GetJSON[T](ctx, s, key)
//		... modify v ...
//		_, err = objstore.PutJSON(ctx, s, key, v, objstore.PutOptions{IfMatch: obj.ETag})
//		if errors.Is(err, objstore.ErrPreconditionFailed) { continue }
//		...
//	}
//
// Errors returned by the drivers wrap the sentinel errors with
// fmt.Errorf("objstore: ...: %w"), so test them with errors.Is.
//
// # Deadlines and unavailability
//
// Drivers honour the context they are given. Every store the program uses
// is wrapped by [WithTimeout], which gives each call its own deadline (see
// [Bounded] for what the deadline covers, including a Get's body) and
// reports a call that ran out of time, or could not reach the backend, as
// an error wrapping [ErrUnavailable]: callers answer it as "try again
// later", never as a bug or as "not found".
package objstore

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sentinel errors. Driver errors wrap them; test with errors.Is.
var (
	// ErrNotFound is returned by Get and Stat when the key does not exist.
	ErrNotFound = errors.New("object not found")
	// ErrPreconditionFailed is returned by Put when PutOptions.IfNoneMatch or
	// PutOptions.IfMatch does not hold. Nothing was written.
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrInvalidKey is returned by every method for a key (or List prefix)
	// that ValidateKey rejects. The backend was not contacted.
	ErrInvalidKey = errors.New("invalid key")
	// ErrUnavailable means the backend could not be used: the call ran out
	// of time (see WithTimeout), the connection failed, the server answered
	// with a server-side error (S3 5xx, missing bucket), or the directory
	// root is gone or unusable (I/O error, read-only, full, no permission).
	// Nothing is known about the key; retrying later may succeed. A Put or
	// Delete that failed this way may or may not have taken effect.
	ErrUnavailable = errors.New("object store unavailable")
)

// DefaultContentType is stored when PutOptions.ContentType is empty.
const DefaultContentType = "application/octet-stream"

// Object describes a stored object. ETag is opaque and unquoted.
// Modified is the time of the last write as known by the backend.
type Object struct {
	Key         string
	Size        int64
	ETag        string
	ContentType string
	Modified    time.Time
}

// PutOptions controls a Put. The zero value is an unconditional write of
// DefaultContentType.
type PutOptions struct {
	// IfNoneMatch makes the Put create-only ("If-None-Match: *"): it fails
	// with ErrPreconditionFailed if the key exists.
	IfNoneMatch bool
	// IfMatch makes the Put a compare-and-swap: it fails with
	// ErrPreconditionFailed unless the key exists with exactly this ETag
	// (surrounding double quotes are ignored). Empty means no condition.
	IfMatch string
	// ContentType is stored with the object; empty means DefaultContentType.
	ContentType string
}

// Store is a durable object store. Implementations are safe for concurrent
// use. All methods return an error wrapping ErrInvalidKey for invalid keys.
type Store interface {
	// Get opens the object for streaming. The caller must Close the reader.
	// It returns an error wrapping ErrNotFound if the key does not exist.
	Get(ctx context.Context, key string) (io.ReadCloser, Object, error)
	// Put atomically stores size bytes read from r (size -1 means unknown:
	// read to EOF) and returns the new object's metadata. If size >= 0 and r
	// yields a different number of bytes the Put fails and nothing is
	// written. Preconditions in opts fail with ErrPreconditionFailed.
	Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (Object, error)
	// Delete removes the object. Deleting a missing key is not an error
	// (Delete is idempotent).
	Delete(ctx context.Context, key string) error
	// List returns every object whose key starts with prefix (recursively,
	// not just one "directory" level), sorted by key in byte order. An empty
	// prefix lists the whole store; no match is an empty slice, not an error.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Stat returns the object's metadata, or an error wrapping ErrNotFound.
	Stat(ctx context.Context, key string) (Object, error)
	// Ping really touches the backend (for readiness probes) and returns nil
	// if it is usable.
	Ping(ctx context.Context) error
}

// ValidatePrefix checks a List prefix: "" is allowed (everything);
// otherwise the prefix must be a valid key or a valid key's beginning that
// ends in "/" or inside a segment (e.g. "tenants/", "tenants/ac").
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	// A prefix is acceptable iff appending a plain character makes a valid
	// key: this rejects "/x", "../", "a//", control chars and the like.
	if err := ValidateKey(prefix + "x"); err != nil {
		return err
	}
	return nil
}
