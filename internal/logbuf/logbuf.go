// Package logbuf batches log lines before they reach the log's file or
// pipe, as nginx's access_log buffer=/flush= does: a gateway logs a line
// per request, and one write system call per line costs more than the
// line itself.
//
// Lines are kept whole and in order. They are written when the buffer
// would overflow, once per flush interval, on Flush, and on Close. A line at or above the urgent
// level (see Handler) is written at once together with everything
// before it, so warnings and errors are never delayed.
package logbuf

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Writer buffers whole lines for w. It is safe for concurrent use.
type Writer struct {
	w        io.Writer
	size     int
	interval time.Duration

	mu     sync.Mutex
	buf    []byte
	err    error // the first write error, reported by Close
	closed bool

	stop chan struct{}
	done chan struct{}
}

// New returns a Writer that holds up to size bytes for at most interval
// before writing them to w. size <= 0 or interval <= 0 makes every Write
// go straight through (no goroutine, nothing held).
func New(w io.Writer, size int, interval time.Duration) *Writer {
	b := &Writer{w: w, size: size, interval: interval}
	if size > 0 && interval > 0 {
		b.buf = make([]byte, 0, size)
		b.stop, b.done = make(chan struct{}), make(chan struct{})
		go b.flusher()
	}
	return b
}

// Write buffers p, one log line (slog handlers write each record with
// one call). It never splits p: when p does not fit, the buffer is
// written first, and a p larger than the whole buffer goes straight
// through after it. The returned error is that of a write made now,
// nil when p was only buffered.
func (b *Writer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil || b.closed {
		return b.writeLocked(p)
	}
	if len(b.buf)+len(p) > b.size {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > b.size {
			return b.writeLocked(p)
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Flush writes what is buffered.
func (b *Writer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

// Close writes what is buffered and stops the flusher; later writes go
// straight through, so that lines logged during shutdown are not lost.
// It returns the first error any write met (lines in a failed write are
// lost: there is nowhere else to put them). Calling it again returns nil.
func (b *Writer) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	// Flushing under the same lock that marks the writer closed keeps
	// the buffered lines ahead of any written straight through after.
	b.closed = true
	_ = b.flushLocked() // a failure is recorded in b.err
	err := b.err
	b.mu.Unlock()
	if b.stop != nil {
		close(b.stop)
		<-b.done
	}
	return err
}

func (b *Writer) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.writeLocked(b.buf)
	b.buf = b.buf[:0]
	return err
}

func (b *Writer) writeLocked(p []byte) (int, error) {
	n, err := b.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil && b.err == nil {
		b.err = err
	}
	return n, err
}

// flusher writes the buffer every interval. A line thus waits at most
// about one interval.
func (b *Writer) flusher() {
	defer close(b.done)
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			_ = b.Flush()
		}
	}
}

// Handler wraps a slog handler that writes to w so that records at or
// above urgent are flushed as soon as they are written.
func Handler(h slog.Handler, w *Writer, urgent slog.Level) slog.Handler {
	return &handler{Handler: h, w: w, urgent: urgent}
}

type handler struct {
	slog.Handler
	w      *Writer
	urgent slog.Level
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= h.urgent {
		err = errors.Join(err, h.w.Flush())
	}
	return err
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &handler{Handler: h.Handler.WithAttrs(as), w: h.w, urgent: h.urgent}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{Handler: h.Handler.WithGroup(name), w: h.w, urgent: h.urgent}
}
