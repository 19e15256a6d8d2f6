package authz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// policyRuleCount counts the p and g lines of the embedded policy, without
// the package's parser.
func policyRuleCount() int {
	n := 0
	for _, l := range strings.Split(string(embeddedPolicy()), "\n") {
		if strings.HasPrefix(l, "p,") || strings.HasPrefix(l, "g,") {
			n++
		}
	}
	return n
}

func TestExplain(t *testing.T) {
	c := embedded(t)
	for _, tc := range []struct {
		name      string
		s         Subject
		r         Request
		allowed   bool
		trace     []RoleTrace
		wantLines []string
	}{
		{
			name:    "allowed through an inherited rule",
			s:       Subject{User: "pam", Roles: []string{"auditor", RolePartnerAdmin, RolePartnerAdmin, ""}, Tenant: homeTenant},
			r:       Request{Tenant: homeTenant, Object: "/admin/v1/tenants/acme/customers", Action: "GET"},
			allowed: true,
			trace: []RoleTrace{
				{Role: "auditor", Eligible: true, Note: "no matching allow rule"},
				{Role: RolePartnerAdmin, InPolicy: true, Eligible: true, Allowed: true, Note: "allowed",
					Rule: []string{RoleCustomerManager, "*", "/admin/v1/tenants/:tenant/customers", "GET|HEAD", "allow"}},
			},
			wantLines: []string{
				"Decision: ALLOW",
				"Reason:   role partner_admin: allowed by rule p, customer_manager, *, /admin/v1/tenants/:tenant/customers, GET|HEAD, allow",
				`Request:  GET /admin/v1/tenants/acme/customers in tenant "acme"`,
				`Subject:  user "pam", roles auditor,partner_admin,partner_admin,, home tenant "acme"`,
				"  auditor: no match (no matching allow rule; role not defined in the policy)",
				"  partner_admin: ALLOW (allowed)",
				"    rule: p, customer_manager, *, /admin/v1/tenants/:tenant/customers, GET|HEAD, allow (inherited from customer_manager)",
			},
		},
		{
			name:    "explicit deny of one role",
			s:       Subject{User: "pam", Roles: []string{RoleCustomer, RoleDelegated}, Tenant: homeTenant, Customer: "c1"},
			r:       Request{Tenant: homeTenant, Object: "/marketplace/buy", Action: "POST"},
			allowed: false,
			trace: []RoleTrace{
				{Role: RoleCustomer, InPolicy: true, Eligible: true, Allowed: true, Note: "allowed",
					Rule: []string{RoleCustomer, "*", "/*", "GET|HEAD|POST|PUT|PATCH|DELETE", "allow"}},
				{Role: RoleDelegated, InPolicy: true, Eligible: true, Note: "explicit deny",
					Rule: []string{RoleDelegated, "*", "/marketplace/*", "POST|PUT|PATCH|DELETE", "deny"}},
			},
			wantLines: []string{
				"Decision: DENY",
				"Reason:   role delegated: denied by rule p, delegated, *, /marketplace/*, POST|PUT|PATCH|DELETE, deny",
				`Subject:  user "pam", roles customer,delegated, home tenant "acme", customer "c1"`,
				"  customer: ALLOW (allowed)",
				"    rule: p, customer, *, /*, GET|HEAD|POST|PUT|PATCH|DELETE, allow",
				"  delegated: DENY (explicit deny)",
				"    rule: p, delegated, *, /marketplace/*, POST|PUT|PATCH|DELETE, deny",
			},
		},
		{
			name:    "tenant-scoped roles outside the home tenant",
			s:       Subject{User: "pam", Roles: []string{RolePartnerAdmin}, Tenant: homeTenant},
			r:       Request{Tenant: otherTenant, Object: "/admin/v1/tenants/globex/customers", Action: "GET"},
			allowed: false,
			trace: []RoleTrace{
				{Role: RolePartnerAdmin, InPolicy: true, Note: `tenant-scoped role of tenant "acme" does not act in tenant "globex"`},
			},
			wantLines: []string{
				"Decision: DENY",
				`  partner_admin: not eligible (tenant-scoped role of tenant "acme" does not act in tenant "globex")`,
			},
		},
		{
			name:    "platform request",
			s:       Subject{User: "olga", Roles: []string{RoleOperator}},
			r:       Request{Object: "/admin/v1/reviews", Action: "GET"},
			allowed: true,
			trace: []RoleTrace{
				{Role: RoleOperator, InPolicy: true, Eligible: true, Allowed: true, Note: "allowed",
					Rule: []string{RoleOperator, "*", "/admin/v1/reviews", "GET|HEAD", "allow"}},
			},
			wantLines: []string{
				"Decision: ALLOW",
				`Request:  GET /admin/v1/reviews in tenant "" (platform)`,
				`Subject:  user "olga", roles operator, home tenant none`,
				"    rule: p, operator, *, /admin/v1/reviews, GET|HEAD, allow\n",
			},
		},
		{
			name:    "refused before role evaluation",
			s:       Subject{User: "olga", Roles: []string{RoleOperator}},
			r:       Request{Tenant: homeTenant, Object: "/admin/v1/tenants/globex/customers", Action: "GET"},
			allowed: false,
			wantLines: []string{
				"Decision: DENY",
				`Reason:   path names tenant "globex" but the request concerns tenant "acme"`,
				"Roles:    not evaluated",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := c.Explain(tc.s, tc.r)
			d, err := c.Authorize(context.Background(), tc.s, tc.r)
			if !reflect.DeepEqual(e.Decision, d) || fmt.Sprint(e.Err) != fmt.Sprint(err) {
				t.Fatalf("Explain: %+v, %v; Authorize: %+v, %v", e.Decision, e.Err, d, err)
			}
			if e.Decision.Allowed != tc.allowed || (e.Err == nil) != tc.allowed || (!tc.allowed && !errors.Is(e.Err, ErrDenied)) {
				t.Fatalf("decision %+v, %v; want allowed=%v", e.Decision, e.Err, tc.allowed)
			}
			if !reflect.DeepEqual(e.Roles, tc.trace) {
				t.Fatalf("trace\n got %+v\nwant %+v", e.Roles, tc.trace)
			}
			if e.Source != "embedded policy" || e.Source != c.Source() || e.Rules != policyRuleCount() || e.LoadedAt.IsZero() {
				t.Fatalf("policy: source %q, %d rules (want %d), loaded %v", e.Source, e.Rules, policyRuleCount(), e.LoadedAt)
			}
			if !reflect.DeepEqual(e.Subject, tc.s) || e.Request != tc.r {
				t.Fatalf("subject/request not echoed: %+v %+v", e.Subject, e.Request)
			}
			out := e.String()
			want := append([]string{fmt.Sprintf("Policy:   embedded policy (%d rules, loaded 20", policyRuleCount())}, tc.wantLines...)
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			var buf bytes.Buffer
			if err := e.Format(&buf); err != nil || buf.String() != out {
				t.Fatalf("Format wrote %q, %v; want String()", buf.String(), err)
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExplainFormatWriteError(t *testing.T) {
	e := embedded(t).Explain(customerAcme, Request{Tenant: homeTenant, Object: "/overview", Action: "GET"})
	if err := e.Format(failingWriter{}); err == nil {
		t.Fatal("Format ignored the write error")
	}
}

func TestExplainEvaluationError(t *testing.T) {
	e := Explanation{
		Request:  Request{Object: "/x", Action: "GET"},
		Decision: Decision{Reason: "policy evaluation failed"},
		Err:      errors.New("authz: evaluate role \"x\": boom"),
	}
	out := e.String()
	for _, w := range []string{"Decision: ERROR", "Error:    authz: evaluate role \"x\": boom", "Policy:    (0 rules, loaded unknown)"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}
