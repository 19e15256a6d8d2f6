package inject

import (
	"io"
	"sync"
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
//
// Close releases the read-ahead buffer (it does not close src); the reader
// must not be used after Close.
func Sized(src io.Reader, n int64, f Fragments, limit int) (io.ReadCloser, int64) {
	if limit <= 0 {
		limit = MaxSizedPrefix
	}
	return sized(newReader(src, f, MaxHeadHold), n, limit)
}

// aheadPool holds read-ahead buffers of the initial size; a buffer that
// had to grow is left to the collector.
var aheadPool = sync.Pool{New: func() any { b := make([]byte, 0, aheadSize); return &b }}

const aheadSize = 4 << 10

func sized(r *reader, n int64, limit int) (io.ReadCloser, int64) {
	if n < 0 {
		return io.NopCloser(r), -1
	}
	pb := aheadPool.Get().(*[]byte)
	buf := (*pb)[:0]
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
		size = n + int64(r.added())
	case err == io.EOF && int64(len(buf)) == n:
		size = n // the source ended without a <body>: passed through as is
	}
	s := &sizedReader{buf: buf, rest: r, err: err}
	if cap(buf) == aheadSize {
		s.pooled = pb
	}
	return s, size
}

// sizedReader yields the bytes read ahead, then the rest of the injector's
// output, or the source's error that stopped the read-ahead.
type sizedReader struct {
	buf    []byte
	off    int
	rest   io.Reader
	err    error
	pooled *[]byte // buf's pool entry, nil when buf is not pooled
}

func (s *sizedReader) Read(p []byte) (int, error) {
	if s.off < len(s.buf) {
		n := copy(p, s.buf[s.off:])
		s.off += n
		return n, nil
	}
	if s.err != nil {
		return 0, s.err
	}
	return s.rest.Read(p)
}

// Close returns the read-ahead buffer to the pool.
func (s *sizedReader) Close() error {
	if s.pooled != nil {
		*s.pooled = s.buf[:0]
		aheadPool.Put(s.pooled)
		s.pooled = nil
	}
	s.buf, s.off, s.err = nil, 0, io.ErrClosedPipe
	return nil
}
