package delegation_test

import (
	"slices"
	"testing"

	"github.com/livery/livery/delegation"
)

func TestScopes(t *testing.T) {
	if got := delegation.Role(delegation.ScopeFinanceRead); got != "delegated:finance_read" {
		t.Fatalf("Role = %q", got)
	}
	var names []delegation.Scope
	for _, s := range delegation.Scopes() {
		if s.Role != delegation.Role(s.Scope) || s.ZH == "" || s.EN == "" {
			t.Fatalf("scope info %+v", s)
		}
		names = append(names, s.Scope)
	}
	want := []delegation.Scope{"resources", "billing", "power", "security", "finance_read"}
	if !slices.Equal(names, want) {
		t.Fatalf("scopes %v; want %v", names, want)
	}
	got, err := delegation.ValidateScopes([]delegation.Scope{"power", "resources"})
	if err != nil || !slices.Equal(got, []delegation.Scope{"resources", "power"}) {
		t.Fatalf("ValidateScopes = %v, %v; want display order", got, err)
	}
	for _, bad := range [][]delegation.Scope{nil, {}, {"marketplace"}, {"power", "power"}, {""}} {
		if _, err := delegation.ValidateScopes(bad); !errorsIs(err, delegation.ErrBadScope) {
			t.Errorf("ValidateScopes(%q) = %v; want ErrBadScope", bad, err)
		}
	}
	if r := delegation.Roles([]delegation.Scope{"resources", "power"}); !slices.Equal(r, []string{"delegated:resources", "delegated:power"}) {
		t.Fatalf("Roles = %v", r)
	}
}
