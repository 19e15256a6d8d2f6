package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBrandingNotify: branding.notify defaults to the log; a webhook needs
// its URLs and secrets (from the environment or files, never the file),
// and per-tenant entries must name configured tenants.
func TestBrandingNotify(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "a1.secret")
	if err := os.WriteFile(secret, []byte("a1-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const base = `
tenants:
  - id: a1
    name: {zh: 甲, en: A}
    hosts: [a.example]
    upstream: "http://u"
branding:
  notify: {%s}
`
	env := func(kv ...string) LookupEnv {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	for _, tc := range []struct {
		name, notify string
		env          LookupEnv
		problem      string
		check        func(t *testing.T, n BrandingNotify)
	}{
		{name: "defaults", env: noEnv, check: func(t *testing.T, n BrandingNotify) {
			if n.Kind != "log" || n.Timeout != 5*time.Second || n.MaxAttempts != 5 {
				t.Fatalf("defaults %+v", n)
			}
		}},
		{name: "global webhook", notify: "kind: webhook, url: https://p.example/hook",
			env: env("LIVERY_BRANDING_NOTIFY_SECRET", "s3"), check: func(t *testing.T, n BrandingNotify) {
				if n.URL != "https://p.example/hook" || n.Secret != "s3" {
					t.Fatalf("%+v", n)
				}
			}},
		{name: "per-tenant webhook", notify: "kind: webhook, tenants: [{tenant: a1, url: 'https://a1.example/h', secret_file: '" + secret + "'}]",
			env: noEnv, check: func(t *testing.T, n BrandingNotify) {
				if len(n.Tenants) != 1 || n.Tenants[0].Secret != "a1-secret" {
					t.Fatalf("%+v", n.Tenants)
				}
			}},
		{name: "secret in the file", notify: "kind: webhook, url: https://p.example/hook, secret: x", env: noEnv,
			problem: "branding.notify.secret: secrets must not be written"},
		{name: "no secret", notify: "kind: webhook, url: https://p.example/hook", env: noEnv, problem: "branding.notify.secret: is required"},
		{name: "no url", notify: "kind: webhook", env: noEnv, problem: "branding.notify.url: is required"},
		{name: "bad url", notify: "kind: webhook, url: ftp://x", env: env("LIVERY_BRANDING_NOTIFY_SECRET", "s"), problem: "branding.notify.url: must be an absolute"},
		{name: "bad kind", notify: "kind: sms", env: noEnv, problem: "branding.notify.kind"},
		{name: "unknown tenant", notify: "kind: webhook, tenants: [{tenant: zz, url: 'https://z.example', secret_file: '" + secret + "'}]",
			env: noEnv, problem: "branding.notify.tenants[0].tenant: must be a configured tenant"},
		{name: "tenant without secret", notify: "kind: webhook, tenants: [{tenant: a1, url: 'https://z.example'}]",
			env: noEnv, problem: "branding.notify.tenants[0].secret_file: is required"},
		{name: "attempts", notify: "kind: webhook, url: https://p.example/hook, max_attempts: 0",
			env: env("LIVERY_BRANDING_NOTIFY_SECRET", "s"), problem: "branding.notify.max_attempts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, problems := Parse([]byte(strings.Replace(base, "%s", tc.notify, 1)), tc.env)
			if tc.problem != "" {
				var all []string
				for _, p := range problems {
					all = append(all, p.String())
				}
				if cfg != nil || !strings.Contains(strings.Join(all, "\n"), tc.problem) {
					t.Fatalf("want problem %q, got %v", tc.problem, all)
				}
				return
			}
			if cfg == nil {
				t.Fatalf("refused: %v", problems)
			}
			tc.check(t, cfg.Branding.Notify)
		})
	}
}
