package inject

import (
	"bytes"
	"io"
)

// MaxSizedPrefix is the default bound on how much output Sized reads ahead
// to learn the output's length.
const MaxSizedPrefix = 64 << 10

// Sized is NewReader for a source of known length n (a response with a
// Content-Length): it reads ahead until the injection is decided — the
// body fragment emitted, or the source ended — and returns the whole
// output (the bytes read ahead, then the rest of the source streamed) and
// its exact length, n plus the inserted fragments. The length lets the
// response go out with a Content-Length instead of in chunks.
//
// At most limit output bytes are read ahead (MaxSizedPrefix when limit <=
// 0), plus what the injector itself holds back (see MaxHeadHold). When the
// decision needs more, or the source fails or yields a number of bytes
// other than n while reading ahead, the length is -1 (unknown) and the
// returned reader still yields exactly what NewReader would, including
// the source's error after the bytes read before it.
//
// Reading ahead only waits for bytes the source already committed to
// sending (a body of known length is complete at its origin), so it does
// not hold up a progressively streamed page; callers should use NewReader
// for bodies of unknown length.
func Sized(src io.Reader, n int64, f Fragments, limit int) (io.Reader, int64) {
	if limit <= 0 {
		limit = MaxSizedPrefix
	}
	return sized(newReader(src, f, MaxHeadHold), n, limit)
}

func sized(r *reader, n int64, limit int) (io.Reader, int64) {
	if n < 0 {
		return r, -1
	}
	buf := make([]byte, 0, min(4<<10, limit))
	var err error
	for empty := 0; !r.done && len(buf) < limit && empty < 100; {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, min(cap(buf), limit-len(buf)))...)[:len(buf)]
		}
		var m int
		m, err = r.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+m]
		if err != nil {
			break
		}
		if m == 0 {
			empty++ // a source that keeps returning nothing: stop reading ahead
		}
	}
	size := int64(-1)
	switch {
	case r.done:
		size = n + int64(len(r.f.Head)+len(r.f.Body))
	case err == io.EOF && int64(len(buf)) == n:
		size = n // the source ended without a <body>: passed through as is
	}
	if err != nil {
		return io.MultiReader(bytes.NewReader(buf), errReader{err}), size
	}
	return io.MultiReader(bytes.NewReader(buf), r), size
}

// errReader replays a source's error after the bytes read ahead.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
