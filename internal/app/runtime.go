package app

import (
	"log/slog"
	"runtime/debug"

	"github.com/livery/livery/internal/config"
)

// tuneRuntime applies runtime.gc_percent and runtime.memory_limit_mb. A
// GOGC or GOMEMLIMIT environment variable wins over the matching setting:
// the runtime has already applied it.
func tuneRuntime(r config.Runtime, getenv func(string) string, log *slog.Logger) {
	if env := getenv("GOGC"); env != "" {
		log.Debug("runtime: GOGC from the environment", "GOGC", env)
	} else {
		debug.SetGCPercent(r.GCPercent)
	}
	if env := getenv("GOMEMLIMIT"); env != "" {
		log.Debug("runtime: GOMEMLIMIT from the environment", "GOMEMLIMIT", env)
	} else if r.MemoryLimitMB > 0 {
		debug.SetMemoryLimit(int64(r.MemoryLimitMB) << 20)
	}
}
