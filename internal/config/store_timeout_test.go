package config

import (
	"strings"
	"testing"
	"time"
)

// TestStoreTimeout checks the store.timeout setting: its default, the file
// and LIVERY_STORE_TIMEOUT, and that out-of-range values are refused with
// the setting's path.
func TestStoreTimeout(t *testing.T) {
	base := string(mustDefault(t))
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		want    time.Duration
		problem string // substring of a problem; "" = valid
	}{
		{name: "default", yaml: base, want: 5 * time.Second},
		{name: "file", yaml: strings.Replace(base, "store:\n", "store:\n  timeout: 750ms\n", 1), want: 750 * time.Millisecond},
		{name: "env", yaml: base, env: map[string]string{"LIVERY_STORE_TIMEOUT": "2s"}, want: 2 * time.Second},
		{name: "env wins over file", yaml: strings.Replace(base, "store:\n", "store:\n  timeout: 9s\n", 1),
			env: map[string]string{"LIVERY_STORE_TIMEOUT": "3s"}, want: 3 * time.Second},
		{name: "zero", yaml: base, env: map[string]string{"LIVERY_STORE_TIMEOUT": "0s"}, problem: "store.timeout: must be between 100ms and 2m0s"},
		{name: "negative", yaml: base, env: map[string]string{"LIVERY_STORE_TIMEOUT": "-1s"}, problem: "store.timeout: must be between"},
		{name: "too short", yaml: base, env: map[string]string{"LIVERY_STORE_TIMEOUT": "10ms"}, problem: "store.timeout: must be between"},
		{name: "too long", yaml: strings.Replace(base, "store:\n", "store:\n  timeout: 1h\n", 1), problem: "store.timeout: must be between"},
		{name: "not a duration", yaml: base, env: map[string]string{"LIVERY_STORE_TIMEOUT": "soon"}, problem: "LIVERY_STORE_TIMEOUT: must be a duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, problems := Parse([]byte(tc.yaml), envMap(tc.env))
			if tc.problem == "" {
				if len(problems) > 0 {
					t.Fatalf("problems: %v", problems)
				}
				if cfg.Store.Timeout != tc.want {
					t.Fatalf("store.timeout = %s, want %s", cfg.Store.Timeout, tc.want)
				}
				return
			}
			for _, p := range problems {
				if strings.Contains(p.String(), tc.problem) {
					return
				}
			}
			t.Fatalf("no problem containing %q in %v", tc.problem, problems)
		})
	}
}
