package delegation

import (
	"fmt"
	"slices"
	"strings"

	"github.com/livery/livery/authz"
)

// Scope is one permission a customer can grant to its partner. The list
// is fixed (Scopes) and mirrors the reference's delegated operations;
// ordering marketplace goods is never a scope.
type Scope string

// The scopes. Each maps to the Casbin role Role(scope) =
// "delegated:<scope>" in configs/authz/policy.csv, which allows only that
// scope's console paths (docs/delegation.md lists them).
const (
	// ScopeResources: manage resources (create, view, modify).
	ScopeResources Scope = "resources"
	// ScopeBilling: buy, renew, unsubscribe and change (cloud services,
	// never marketplace goods).
	ScopeBilling Scope = "billing"
	// ScopePower: power on/off, restart and delete resources.
	ScopePower Scope = "power"
	// ScopeSecurity: reset passwords and modify security policies.
	ScopeSecurity Scope = "security"
	// ScopeFinanceRead: view the account, spending, orders, discounts and
	// contracts (read-only).
	ScopeFinanceRead Scope = "finance_read"
)

// ScopeInfo describes a scope for people (zh and en).
type ScopeInfo struct {
	Scope Scope  `json:"scope"`
	Role  string `json:"role"`
	ZH    string `json:"zh"`
	EN    string `json:"en"`
}

var scopeInfo = []ScopeInfo{
	{ScopeResources, Role(ScopeResources), "管理资源", "Manage resources"},
	{ScopeBilling, Role(ScopeBilling), "购买、续费、退订、变更", "Buy, renew, unsubscribe and change"},
	{ScopePower, Role(ScopePower), "开机、关机、重启、删除", "Power on/off, restart and delete"},
	{ScopeSecurity, Role(ScopeSecurity), "重置密码、修改策略", "Reset passwords and modify policies"},
	{ScopeFinanceRead, Role(ScopeFinanceRead), "查看账户、消费、订单、折扣、合同", "View account, spending, orders, discounts and contracts"},
}

// Scopes returns every scope with its role and description, in display
// order (a fresh slice).
func Scopes() []ScopeInfo { return slices.Clone(scopeInfo) }

// RolePrefix starts every delegated scope role.
const RolePrefix = authz.RoleDelegated + ":"

// Role returns the Casbin role of scope: "delegated:<scope>".
func Role(s Scope) string { return RolePrefix + string(s) }

// Roles returns the Casbin roles of scopes, in order: the roles a
// delegated session under a grant carries.
func Roles(scopes []Scope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = Role(s)
	}
	return out
}

// Known reports whether s is one of the scopes.
func (s Scope) Known() bool {
	return slices.ContainsFunc(scopeInfo, func(i ScopeInfo) bool { return i.Scope == s })
}

// ValidateScopes checks a scope list: non-empty, every scope known, no
// duplicates. It returns the list in display order. Errors: ErrBadScope
// (wrapped, naming the problem).
func ValidateScopes(scopes []Scope) ([]Scope, error) {
	if len(scopes) == 0 {
		return nil, fmt.Errorf("%w: at least one scope is required / 至少需要一个权限范围", ErrBadScope)
	}
	seen := map[Scope]bool{}
	for _, s := range scopes {
		switch {
		case !s.Known():
			return nil, fmt.Errorf("%w: unknown scope %q (known: %s) / 未知的权限范围", ErrBadScope, s, knownList())
		case seen[s]:
			return nil, fmt.Errorf("%w: scope %q listed twice / 权限范围重复", ErrBadScope, s)
		}
		seen[s] = true
	}
	out := make([]Scope, 0, len(scopes))
	for _, i := range scopeInfo {
		if seen[i.Scope] {
			out = append(out, i.Scope)
		}
	}
	return out, nil
}

func knownList() string {
	names := make([]string, len(scopeInfo))
	for i, s := range scopeInfo {
		names[i] = string(s.Scope)
	}
	return strings.Join(names, ", ")
}
