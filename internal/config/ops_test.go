package config

import (
	"strings"
	"testing"
	"time"
)

// TestOpsAndShutdownSettings: the ops listener and shutdown settings have
// their defaults here, come from the environment, and are validated; the
// embedded Redis is refused with the s3 store unless allowed.
func TestOpsAndShutdownSettings(t *testing.T) {
	cfg, problems := Parse(mustDefault(t), envMap(nil))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if cfg.Ops.Addr != "127.0.0.1:8082" || cfg.Ops.Pprof || cfg.Shutdown.DrainDelay != 5*time.Second || cfg.Shutdown.Timeout != 20*time.Second {
		t.Fatalf("defaults: ops %+v, shutdown %+v", cfg.Ops, cfg.Shutdown)
	}
	cfg, problems = Parse(mustDefault(t), envMap(map[string]string{"LIVERY_OPS_ADDR": ":9102", "LIVERY_OPS_PPROF": "true",
		"LIVERY_SHUTDOWN_DRAIN_DELAY": "0s", "LIVERY_SHUTDOWN_TIMEOUT": "45s"}))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if cfg.Ops.Addr != ":9102" || !cfg.Ops.Pprof || cfg.Shutdown.DrainDelay != 0 || cfg.Shutdown.Timeout != 45*time.Second {
		t.Fatalf("overrides: ops %+v, shutdown %+v", cfg.Ops, cfg.Shutdown)
	}

	const s3 = "LIVERY_STORE_DRIVER=s3 LIVERY_STORE_S3_ENDPOINT=minio:9000 LIVERY_STORE_S3_BUCKET=livery LIVERY_STORE_S3_ACCESS_KEY=ak " +
		"LIVERY_STORE_S3_SECRET_KEY=sk LIVERY_SECURITY_MASTER_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	tests := []struct {
		name string
		env  string
		want []string // problems; none: accepted
	}{
		{"ops addr malformed", "LIVERY_OPS_ADDR=localhost", []string{"ops.addr: must be host:port"}},
		{"ops addr shared with the api", "LIVERY_OPS_ADDR=:8081", []string{"ops.addr: must differ"}},
		{"drain delay out of range", "LIVERY_SHUTDOWN_DRAIN_DELAY=2m", []string{"shutdown.drain_delay: must be between 0s and 1m0s"}},
		{"negative drain delay", "LIVERY_SHUTDOWN_DRAIN_DELAY=-1s", []string{"shutdown.drain_delay"}},
		{"shutdown timeout too short", "LIVERY_SHUTDOWN_TIMEOUT=10ms", []string{"shutdown.timeout: must be between 1s"}},
		{"embedded redis with s3 refused", s3, []string{"redis.url: is required with the s3 store", "redis.allow_embedded_with_s3: true"}},
		{"embedded redis with s3 allowed", s3 + " LIVERY_REDIS_ALLOW_EMBEDDED_WITH_S3=true", nil},
		{"real redis with s3", s3 + " LIVERY_REDIS_URL=redis://r:6379/0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for _, kv := range strings.Fields(tt.env) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			_, problems := Parse(mustDefault(t), envMap(env))
			var all []string
			for _, p := range problems {
				all = append(all, p.String())
			}
			joined := strings.Join(all, "\n")
			if len(tt.want) == 0 && len(problems) > 0 {
				t.Fatalf("refused: %s", joined)
			}
			for _, w := range tt.want {
				if !strings.Contains(joined, w) {
					t.Errorf("missing problem %q in:\n%s", w, joined)
				}
			}
		})
	}
}
