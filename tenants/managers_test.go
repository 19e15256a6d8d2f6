package tenants_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/internal/audit"
	"github.com/livery/livery/tenants"
)

// memAudit keeps records in memory and fails while err is set.
type memAudit struct {
	mu   sync.Mutex
	recs []audit.Record
	err  error
}

func (m *memAudit) Record(_ context.Context, r audit.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.recs = append(m.recs, r)
	return nil
}

func (m *memAudit) events() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, r := range m.recs {
		out = append(out, r.Event)
	}
	return out
}

// TestAssignManagers: only staff of the customer's tenant can be newly
// assigned (a manager of another tenant is refused, named in the error);
// ids assigned before stay allowed; every change is audited with before
// and after; nothing is written on a refusal.
func TestAssignManagers(t *testing.T) {
	for name, mk := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			b := mk(t)
			cs := newService(b, tenants.Builtin{}, nil)
			x, err := cs.Create(ctx, "acme", reg("x1", "acme_x_corp", ""), tenants.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			g, err := cs.Create(ctx, "globex", reg("g1", "globex_g_corp", ""), tenants.Meta{})
			if err != nil {
				t.Fatal(err)
			}
			// A legacy assignment, made before the directory existed.
			if _, err := cs.SetManagers(ctx, "acme", x.DomainID, []string{"legacy"}); err != nil {
				t.Fatal(err)
			}
			dir := tenants.NewStaffDirectory(b.store, nil)
			for _, s := range []authz.Subject{
				{User: "cm-a", Roles: []string{authz.RoleCustomerManager}, Tenant: "acme"},
				{User: "pa-a", Roles: []string{authz.RolePartnerAdmin}, Tenant: "acme"},
				{User: "cm-g", Roles: []string{authz.RoleCustomerManager}, Tenant: "globex"},
				{User: "op", Roles: []string{authz.RoleOperator}},
			} {
				if err := dir.Record(ctx, s, ""); err != nil {
					t.Fatal(err)
				}
			}
			au := &memAudit{}
			a := &tenants.Assignments{Customers: cs, Staff: dir, Audit: au}
			actor := tenants.Actor{Subject: authz.Subject{User: "pa-a", Roles: []string{authz.RolePartnerAdmin}, Tenant: "acme"},
				RequestID: "req-1", Source: "198.51.100.7"}
			managers := func(tenant, id string) []string {
				c, err := cs.ByDomainID(ctx, tenant, id)
				if err != nil || c == nil {
					t.Fatalf("%s/%s: %v", tenant, id, err)
				}
				return c.Managers
			}
			for _, tc := range []struct {
				name    string
				ids     []string
				unknown []string
			}{
				{"manager of another tenant", []string{"legacy", "cm-g"}, []string{"cm-g"}},
				{"operator is no tenant staff", []string{"op"}, []string{"op"}},
				{"never signed in", []string{"cm-a", "ghost", "ghost2"}, []string{"ghost", "ghost2"}},
			} {
				_, err := a.Assign(ctx, actor, "acme", x.DomainID, tc.ids)
				var us *tenants.UnknownStaffError
				if !errors.As(err, &us) || !errors.Is(err, tenants.ErrUnknownStaff) || !slices.Equal(us.IDs, tc.unknown) || us.Tenant != "acme" {
					t.Fatalf("%s: %v, want unknown %v", tc.name, err, tc.unknown)
				}
				for _, id := range tc.unknown {
					if !strings.Contains(err.Error(), id) {
						t.Fatalf("%s: error %q does not name %s", tc.name, err, id)
					}
				}
				if got := managers("acme", x.DomainID); !slices.Equal(got, []string{"legacy"}) {
					t.Fatalf("%s: managers changed to %v", tc.name, got)
				}
			}
			if len(au.recs) != 0 {
				t.Fatalf("refusals audited: %v", au.events())
			}
			// Known staff, plus the legacy id kept; duplicates dropped.
			c, err := a.Assign(ctx, actor, "acme", x.DomainID, []string{"legacy", "cm-a", "pa-a", "cm-a"})
			if err != nil || !slices.Equal(c.Managers, []string{"legacy", "cm-a", "pa-a"}) {
				t.Fatalf("assign: %v %v", c, err)
			}
			// In its own tenant, globex's manager is fine.
			if _, err := a.Assign(ctx, actor, "globex", g.DomainID, []string{"cm-g"}); err != nil {
				t.Fatal(err)
			}
			// Once removed, the legacy id cannot come back.
			if _, err := a.Assign(ctx, actor, "acme", x.DomainID, []string{"cm-a"}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Assign(ctx, actor, "acme", x.DomainID, []string{"cm-a", "legacy"}); !errors.Is(err, tenants.ErrUnknownStaff) {
				t.Fatalf("legacy re-added: %v", err)
			}
			if _, err := a.Assign(ctx, actor, "acme", "no-such", nil); !errors.Is(err, tenants.ErrNotFound) {
				t.Fatalf("unknown customer: %v", err)
			}
			if _, err := a.Assign(ctx, actor, "acme", g.DomainID, nil); !errors.Is(err, tenants.ErrNotFound) {
				t.Fatalf("customer of another tenant: %v", err)
			}
			if len(au.recs) != 3 {
				t.Fatalf("audit records %v", au.events())
			}
			r := au.recs[0]
			var d struct{ Before, After []string }
			if err := json.Unmarshal([]byte(r.Detail), &d); err != nil {
				t.Fatal(err)
			}
			if r.Event != tenants.EventManagersSet || r.Tenant != "acme" || r.DomainID != x.DomainID || r.Actor.User != "pa-a" ||
				r.RequestID != "req-1" || r.Source != "198.51.100.7" || !slices.Equal(d.Before, []string{"legacy"}) ||
				!slices.Equal(d.After, []string{"legacy", "cm-a", "pa-a"}) {
				t.Fatalf("audit record %+v (detail %s)", r, r.Detail)
			}
			if au.recs[1].Tenant != "globex" || !strings.Contains(au.recs[1].Detail, `"before":[]`) {
				t.Fatalf("globex record %+v", au.recs[1])
			}
			// The audit log cannot be written: the caller is told.
			au.err = errors.New("audit down")
			if _, err := a.Assign(ctx, actor, "acme", x.DomainID, []string{}); !errors.Is(err, tenants.ErrUnavailable) ||
				!strings.Contains(err.Error(), "not audited") {
				t.Fatalf("unaudited change: %v", err)
			}
		})
	}
}
