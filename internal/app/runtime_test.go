package app

import (
	"io"
	"log/slog"
	"runtime/debug"
	"testing"

	"github.com/livery/livery/internal/config"
)

func TestTuneRuntime(t *testing.T) {
	prevGC := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(prevGC); debug.SetMemoryLimit(prevLimit) })
	const noLimit = int64(^uint64(0) >> 1) // math.MaxInt64: the runtime's "no limit"
	tests := []struct {
		name      string
		r         config.Runtime
		env       map[string]string
		wantGC    int
		wantLimit int64
	}{
		{"settings applied", config.Runtime{GCPercent: 400, MemoryLimitMB: 512}, nil, 400, 512 << 20},
		{"no memory limit by default", config.Runtime{GCPercent: 250}, nil, 250, noLimit},
		{"GOGC wins", config.Runtime{GCPercent: 400, MemoryLimitMB: 64}, map[string]string{"GOGC": "100"}, 100, 64 << 20},
		{"GOMEMLIMIT wins", config.Runtime{GCPercent: 300, MemoryLimitMB: 64}, map[string]string{"GOMEMLIMIT": "1GiB"}, 300, noLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(100) // as the runtime left it (GOGC=100 when the env says so)
			debug.SetMemoryLimit(noLimit)
			tuneRuntime(tt.r, func(k string) string { return tt.env[k] }, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if gc := debug.SetGCPercent(100); gc != tt.wantGC {
				t.Errorf("gc percent %d, want %d", gc, tt.wantGC)
			}
			if l := debug.SetMemoryLimit(-1); l != tt.wantLimit {
				t.Errorf("memory limit %d, want %d", l, tt.wantLimit)
			}
		})
	}
}
