package redisx

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// LogEvery is how often one go-redis message (by its format) is logged at
// most; repeats in between are counted and reported with the next line.
const LogEvery = 10 * time.Second

// SetLogger routes go-redis's own log lines (reconnections, pool and
// cluster warnings) to log, as structured warnings with
// component=go-redis, instead of the plain-text lines go-redis writes to
// stderr by default; each message is logged at most once per LogEvery (see
// Logger). It is process-wide: go-redis has one logger.
func SetLogger(log *slog.Logger) { redis.SetLogger(NewLogger(log, LogEvery)) }

// Logger adapts go-redis's logging interface to log/slog with a back-off:
// a message (identified by its format string, so the same warning about
// different addresses counts as one) is logged at most once per every; the
// next line logged for it carries "suppressed": how many were dropped
// since. Safe for concurrent use.
type Logger struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]*logState
}

type logState struct {
	last       time.Time
	suppressed int
}

// maxFormats bounds the back-off table; go-redis's formats are a fixed set
// in its source, so this is only a guard.
const maxFormats = 1024

// NewLogger returns a Logger writing to log, at most one line per message
// per every.
func NewLogger(log *slog.Logger, every time.Duration) *Logger {
	return &Logger{log: log, every: every, now: time.Now, seen: map[string]*logState{}}
}

// Printf implements go-redis's internal.Logging.
func (l *Logger) Printf(ctx context.Context, format string, v ...any) {
	now := l.now()
	l.mu.Lock()
	st := l.seen[format]
	if st == nil {
		if len(l.seen) >= maxFormats {
			clear(l.seen)
		}
		st = &logState{}
		l.seen[format] = st
	} else if now.Sub(st.last) < l.every {
		st.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := st.suppressed
	st.last, st.suppressed = now, 0
	l.mu.Unlock()

	msg := strings.TrimPrefix(strings.TrimSpace(fmt.Sprintf(format, v...)), "redis: ")
	attrs := []any{"component", "go-redis"}
	if suppressed > 0 {
		attrs = append(attrs, "suppressed", suppressed, "since", l.every.String())
	}
	if ctx == nil {
		ctx = context.Background()
	}
	l.log.WarnContext(ctx, "redis: "+msg, attrs...)
}
