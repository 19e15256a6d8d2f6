package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPolicyCheck(t *testing.T) {
	dir := t.TempDir()
	custom := filepath.Join(dir, "policy.csv")
	os.WriteFile(custom, []byte("p, customer, *, /only-this, GET, allow\n"), 0o600)
	broken := filepath.Join(dir, "broken.csv")
	os.WriteFile(broken, []byte("p, customer, *, /x, GET, maybe\n"), 0o600)
	q := func(extra ...string) []string {
		return append([]string{"policy", "check"}, extra...)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{"manager in own tenant", q("-sub", "carol", "-roles", "customer_manager", "-tenant", "acme", "-dom", "acme",
			"-obj", "/admin/v1/tenants/acme/customers", "-act", "GET"), 0,
			[]string{"Decision: ALLOW", "p, customer_manager, *, /admin/v1/tenants/:tenant/customers, GET|HEAD, allow"}},
		{"manager in another tenant", q("--sub", "carol", "--roles", "customer_manager", "--tenant", "acme", "--dom", "globex",
			"--obj", "/admin/v1/tenants/globex/customers", "--act", "GET"), 1,
			[]string{"Decision: DENY", `tenant-scoped role of tenant "acme" does not act in tenant "globex"`}},
		{"delegated marketplace order", q("-sub", "pat", "-roles", "delegated", "-tenant", "acme", "-dom", "acme",
			"-obj", "/marketplace/orders", "-act", "POST"), 1, []string{"Decision: DENY", "deny"}},
		{"custom policy file", q("-roles", "customer", "-tenant", "acme", "-dom", "acme", "-obj", "/only-this", "-policy", custom), 0,
			[]string{"Decision: ALLOW", custom}},
		{"broken policy file", q("-roles", "customer", "-dom", "acme", "-obj", "/x", "-policy", broken), 2,
			[]string{"line 1", "effect"}},
		{"missing object", q("-roles", "customer"), 2, []string{"-obj and -roles are required"}},
		{"no subcommand", []string{"policy"}, 2, []string{"usage: livery policy check"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkRun(t, tt.args, tt.wantCode, tt.wantOut) })
	}
}
