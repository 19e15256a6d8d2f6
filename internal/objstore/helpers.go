package objstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// GetBytes reads a whole object into memory. Errors are those of Store.Get
// (ErrNotFound, ErrInvalidKey) or the read error.
func GetBytes(ctx context.Context, s Store, key string) ([]byte, Object, error) {
	rc, obj, err := s.Get(ctx, key)
	if err != nil {
		return nil, Object{}, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, Object{}, fmt.Errorf("objstore: read %q: %w", key, err)
	}
	return b, obj, nil
}

// PutBytes stores b under key. Errors are those of Store.Put.
func PutBytes(ctx context.Context, s Store, key string, b []byte, opts PutOptions) (Object, error) {
	return s.Put(ctx, key, bytes.NewReader(b), int64(len(b)), opts)
}

// GetJSON reads key and decodes it as JSON into a new T. Errors are those of
// Store.Get, or a decode error (which wraps no sentinel).
func GetJSON[T any](ctx context.Context, s Store, key string) (T, Object, error) {
	var v T
	b, obj, err := GetBytes(ctx, s, key)
	if err != nil {
		return v, Object{}, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, Object{}, fmt.Errorf("objstore: decode %q: %w", key, err)
	}
	return v, obj, nil
}

// PutJSON encodes v as JSON and stores it under key with content type
// application/json (unless opts.ContentType is set). Errors are those of
// Store.Put, or an encode error.
func PutJSON(ctx context.Context, s Store, key string, v any, opts PutOptions) (Object, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Object{}, fmt.Errorf("objstore: encode %q: %w", key, err)
	}
	if opts.ContentType == "" {
		opts.ContentType = "application/json"
	}
	return PutBytes(ctx, s, key, b, opts)
}

// LookupJSON is GetJSON for an object that may be missing: found is false,
// with a nil error, when key does not exist; etag is the object's. Other
// errors are GetJSON's.
func LookupJSON[T any](ctx context.Context, s Store, key string) (v T, etag string, found bool, err error) {
	v, obj, err := GetJSON[T](ctx, s, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return v, "", false, nil
	case err != nil:
		return v, "", false, err
	}
	return v, obj.ETag, true, nil
}
