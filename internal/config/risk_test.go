package config

import (
	"strings"
	"testing"
)

// TestRiskRequireDevice: tenants[].risk.require_device is read, and is
// refused when the per-device limit it exists for is off.
func TestRiskRequireDevice(t *testing.T) {
	const base = `
tenants:
  - id: a1
    name: {zh: 甲, en: A}
    hosts: [a.example]
    upstream: "http://u"
    risk: {%s}
`
	for _, tc := range []struct {
		risk    string
		require bool
		problem string
	}{
		{"require_device: true", true, ""},
		{"require_device: true, per_device: 5/1h", true, ""},
		{"", false, ""},
		{"require_device: false, per_device: \"off\"", false, ""},
		{"require_device: true, per_device: \"off\"", false, "tenants[0].risk.require_device: requires the per-device limit"},
		{"require_device: sometimes", false, "into bool"},
	} {
		t.Run(tc.risk, func(t *testing.T) {
			cfg, problems := Parse([]byte(strings.Replace(base, "%s", tc.risk, 1)), noEnv)
			if tc.problem != "" {
				var all []string
				for _, p := range problems {
					all = append(all, p.String())
				}
				if cfg != nil || !strings.Contains(strings.Join(all, "\n"), tc.problem) {
					t.Fatalf("want problem %q, got %v (config %v)", tc.problem, all, cfg != nil)
				}
				return
			}
			if cfg == nil {
				t.Fatalf("refused: %v", problems)
			}
			if got := cfg.Tenants[0].Risk.RequireDevice; got != tc.require {
				t.Fatalf("require_device %v, want %v", got, tc.require)
			}
		})
	}
}
