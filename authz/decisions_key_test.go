package authz

import (
	"context"
	"log/slog"
	"testing"
	"unsafe"
)

// TestDecisionCacheKeepsItsOwnKeys: the decision cache is handed request
// values that point into a buffer the HTTP server reuses (Fiber's
// zero-copy strings). It must key its entries by copies: otherwise a
// later request overwriting the buffer changes a cached key, and the
// decision made for one path and method can answer another.
func TestDecisionCacheKeepsItsOwnKeys(t *testing.T) {
	c, err := NewCasbin("", "", Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := Subject{User: "op", Roles: []string{RoleOperator}}
	path, method := []byte("/admin/v1/tenants/acme/customers"), []byte("GET")
	r := Request{Tenant: "acme", Object: unsafe.String(&path[0], len(path)), Action: unsafe.String(&method[0], len(method))}
	if _, err := c.Authorize(ctx, s, r); err != nil {
		t.Fatalf("operator GET: %v", err)
	}
	copy(path, "/admin/v1/tenants/acme/xxxxxxxxx")
	copy(method, "PUT")
	c.decisions.mu.RLock()
	defer c.decisions.mu.RUnlock()
	if len(c.decisions.m) == 0 {
		t.Fatal("nothing cached")
	}
	for k := range c.decisions.m {
		if k.obj != "/admin/v1/tenants/acme/customers" || k.meth != "GET" {
			t.Fatalf("cached key changed with the request buffer: %q %q", k.obj, k.meth)
		}
	}
}
