package authz

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const (
	homeTenant  = "acme"   // the subjects' home tenant
	otherTenant = "globex" // some other tenant
)

// allMethods is tried on every endpoint: the methods the policy lists and
// those it does not (DELETE is allowed on no admin endpoint).
var allMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// roleCases are the subjects of the matrix, keyed by the abbreviation used in
// the expectation tables. The operator has no home tenant.
var roleCases = []struct {
	abbr string
	s    Subject
}{
	{"op", Subject{User: "olga", Roles: []string{RoleOperator}}},
	{"pa", Subject{User: "pam", Roles: []string{RolePartnerAdmin}, Tenant: homeTenant}},
	{"cm", Subject{User: "carl", Roles: []string{RoleCustomerManager}, Tenant: homeTenant}},
	{"cu", Subject{User: "cindy", Roles: []string{RoleCustomer}, Tenant: homeTenant, Customer: "c1"}},
	{"de", Subject{User: "pam", Roles: []string{RoleDelegated}, Tenant: homeTenant, Customer: "c1"}},
	// Delegated sessions carry one delegated:<scope> role per scope of
	// their grant (package delegation); "dall" holds all five.
	{"dr", Subject{User: "pam", Roles: []string{"delegated:resources"}, Tenant: homeTenant, Customer: "c1"}},
	{"db", Subject{User: "pam", Roles: []string{"delegated:billing"}, Tenant: homeTenant, Customer: "c1"}},
	{"dp", Subject{User: "pam", Roles: []string{"delegated:power"}, Tenant: homeTenant, Customer: "c1"}},
	{"ds", Subject{User: "pam", Roles: []string{"delegated:security"}, Tenant: homeTenant, Customer: "c1"}},
	{"df", Subject{User: "pam", Roles: []string{"delegated:finance_read"}, Tenant: homeTenant, Customer: "c1"}},
	{"dall", Subject{User: "pam", Roles: []string{"delegated:resources", "delegated:billing", "delegated:power",
		"delegated:security", "delegated:finance_read"}, Tenant: homeTenant, Customer: "c1"}},
	{"none", Subject{User: "nobody", Tenant: homeTenant}},
	{"unknown", Subject{User: "aud", Roles: []string{"auditor"}, Tenant: homeTenant}},
}

// endpoint is one row of an expectation table.
type endpoint struct {
	// path is the request path; "{t}" becomes the request's tenant.
	path string
	// platform: the request's domain is "" whatever the tenant case (the
	// review endpoints, which the gateway authorizes without a tenant);
	// otherwise it is the tenant in the path / console host.
	platform bool
	// allow maps a method to the roles (abbreviations) allowed in their
	// home tenant; a method not listed is allowed to nobody. In another
	// tenant only "op" can ever be allowed (tenant-scoped roles never act
	// outside their home tenant).
	allow map[string]string
}

const (
	staffRead = "op pa cm" // customer_manager rule, inherited by pa and op
	adminOnly = "op pa"    // partner_admin rule, inherited by op
	opOnly    = "op"
)

// The admin API catalogue: every path of configs/authz/policy.csv. The
// operator may GET/HEAD every path (its "/*" rule), so POST-only endpoints
// still list GET and HEAD for op.
var adminEndpoints = []endpoint{
	{path: "/admin/v1/tenants/{t}/customers", allow: map[string]string{"GET": staffRead, "HEAD": staffRead}},
	{path: "/admin/v1/tenants/{t}/customers/c1", allow: map[string]string{"GET": staffRead, "HEAD": staffRead}},
	{path: "/admin/v1/tenants/{t}/customers/c1/managers", allow: map[string]string{"GET": staffRead, "HEAD": staffRead, "PUT": adminOnly}},
	{path: "/admin/v1/tenants/{t}/staff", allow: map[string]string{"GET": adminOnly, "HEAD": adminOnly}},
	{path: "/admin/v1/tenants/{t}/keys", allow: map[string]string{"GET": adminOnly, "HEAD": adminOnly, "POST": adminOnly}},
	{path: "/admin/v1/tenants/{t}/keys/AK1/revoke", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": adminOnly}},
	{path: "/admin/v1/tenants/{t}/delegations", allow: map[string]string{"GET": staffRead, "HEAD": staffRead, "POST": staffRead}},
	{path: "/admin/v1/tenants/{t}/delegations/g1/switch", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": staffRead}},
	{path: "/admin/v1/tenants/{t}/delegations/g1", allow: map[string]string{"GET": staffRead, "HEAD": staffRead}},
	{path: "/admin/v1/tenants/{t}/delegations/g1/withdraw", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": staffRead}},
	{path: "/admin/v1/tenants/{t}/delegations/g1/revoke", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": staffRead}},
	{path: "/admin/v1/tenants/{t}/delegation-agreement", allow: map[string]string{"GET": staffRead, "HEAD": staffRead, "POST": adminOnly}},
	{path: "/admin/v1/tenants/{t}/invitations", allow: map[string]string{"GET": adminOnly, "HEAD": adminOnly, "POST": adminOnly}},
	{path: "/admin/v1/tenants/{t}/invitations/qr", allow: map[string]string{"GET": adminOnly, "HEAD": adminOnly, "POST": adminOnly}},
	{path: "/admin/v1/tenants/{t}/invitations/i1", allow: map[string]string{"GET": adminOnly, "HEAD": adminOnly}},
	{path: "/admin/v1/tenants/{t}/invitations/i1/resend", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": adminOnly}},
	{path: "/admin/v1/tenants/{t}/invitations/i1/revoke", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": adminOnly}},
	{path: "/admin/v1/tenants/{t}/customers/c1/association", allow: map[string]string{"GET": adminOnly, "HEAD": adminOnly}},
	{path: "/admin/v1/tenants/{t}/customers/c1/association/changes", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": adminOnly}},
	{path: "/admin/v1/tenants/{t}/customers/c1/managers/history", allow: map[string]string{"GET": staffRead, "HEAD": staffRead}},
	{path: "/admin/v1/tenants/{t}/managers/m1/customers", allow: map[string]string{"GET": staffRead, "HEAD": staffRead}},
	{path: "/admin/v1/tenants/{t}/branding/draft", allow: map[string]string{"GET": adminOnly, "HEAD": adminOnly, "PUT": adminOnly}},
	{path: "/admin/v1/tenants/{t}/branding/images", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": adminOnly}},
	{path: "/admin/v1/tenants/{t}/branding/submit", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": adminOnly}},
	{path: "/admin/v1/tenants/{t}/branding/withdraw", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": adminOnly}},
	{path: "/admin/v1/tenants/{t}/branding/submissions", allow: map[string]string{"GET": adminOnly, "HEAD": adminOnly}},
	{path: "/admin/v1/tenants/{t}/branding/versions", allow: map[string]string{"GET": adminOnly, "HEAD": adminOnly}},
	{path: "/admin/v1/tenants/{t}/branding/audit", allow: map[string]string{"GET": adminOnly, "HEAD": adminOnly}},
	{path: "/admin/v1/tenants/{t}/branding/preview", allow: map[string]string{"GET": adminOnly, "HEAD": adminOnly, "POST": adminOnly}},
	{path: "/admin/v1/tenants/{t}/branding/rollback", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": opOnly}},
	// Tenant records: onboarding, editing and suspension are the
	// operator's; a partner admin reads its own record, edits only its
	// sign-in provider, tests discovery and reads the request summary; a
	// customer manager does none of it.
	{path: "/admin/v1/tenants", platform: true, allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": opOnly}},
	{path: "/admin/v1/tenants/{t}", allow: map[string]string{"GET": adminOnly, "HEAD": adminOnly, "PUT": opOnly}},
	{path: "/admin/v1/tenants/{t}/suspend", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": opOnly}},
	{path: "/admin/v1/tenants/{t}/resume", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": opOnly}},
	{path: "/admin/v1/tenants/{t}/sign-in", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "PUT": adminOnly}},
	{path: "/admin/v1/tenants/{t}/sign-in/test", allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": adminOnly}},
	{path: "/admin/v1/tenants/{t}/partner-api/summary", allow: map[string]string{"GET": adminOnly, "HEAD": adminOnly}},
	{path: "/admin/v1/reviews", platform: true, allow: map[string]string{"GET": opOnly, "HEAD": opOnly}},
	{path: "/admin/v1/branding", platform: true, allow: map[string]string{"GET": opOnly, "HEAD": opOnly}},
	{path: "/admin/v1/reviews/{t}", platform: true, allow: map[string]string{"GET": opOnly, "HEAD": opOnly}},
	{path: "/admin/v1/reviews/{t}/approve", platform: true, allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": opOnly}},
	{path: "/admin/v1/reviews/{t}/reject", platform: true, allow: map[string]string{"GET": opOnly, "HEAD": opOnly, "POST": opOnly}},
}

// consoleAllow builds an expectation: reads (GET, HEAD) and writes (POST,
// PUT, PATCH, DELETE) by role abbreviations; per-method overrides win.
func consoleAllow(readers, writers string, perMethod map[string]string) map[string]string {
	m := map[string]string{"GET": readers, "HEAD": readers, "POST": writers, "PUT": writers, "PATCH": writers, "DELETE": writers}
	for k, v := range perMethod {
		m[k] = v
	}
	return m
}

const allDelegated = "de dr db dp ds df dall"

// The console: a customer may use all of it in their tenant; the operator
// only reads; a delegated session reads the landing page and does what its
// scopes allow (each scope its own paths), never writes to the marketplace
// and never sees its orders; nobody but the operator reaches /admin on a
// console host.
var consoleEndpoints = []endpoint{
	{path: "/", allow: consoleAllow("op cu "+allDelegated, "cu", nil)},
	{path: "/overview", allow: consoleAllow("op cu", "cu", nil)},
	{path: "/static/logo.svg", allow: consoleAllow("op cu "+allDelegated, "cu", nil)},
	{path: "/administrator", allow: consoleAllow("op cu", "cu", nil)}, // not /admin
	{path: "/resources", allow: consoleAllow("op cu dr dp dall", "cu dr dall", map[string]string{"DELETE": "cu"})},
	{path: "/resources/vm-1", allow: consoleAllow("op cu dr dp dall", "cu dr dall", map[string]string{"DELETE": "cu dp dall"})},
	{path: "/power", allow: consoleAllow("op cu dp dall", "cu", map[string]string{"POST": "cu dp dall"})},
	{path: "/power/vm-1/restart", allow: consoleAllow("op cu dp dall", "cu", map[string]string{"POST": "cu dp dall"})},
	{path: "/billing", allow: consoleAllow("op cu df dall", "cu", nil)},
	{path: "/billing/invoices/42", allow: consoleAllow("op cu df dall", "cu db dall", nil)},
	{path: "/billing/renewals", allow: consoleAllow("op cu df dall", "cu db dall", nil)},
	{path: "/security", allow: consoleAllow("op cu ds dall", "cu ds dall", nil)},
	{path: "/security/password-reset", allow: consoleAllow("op cu ds dall", "cu ds dall", nil)},
	{path: "/marketplace", allow: consoleAllow("op cu", "cu", nil)},
	{path: "/marketplace/", allow: consoleAllow("op cu", "cu", nil)},
	{path: "/marketplace/buy", allow: consoleAllow("op cu", "cu", nil)},
	{path: "/marketplace/kafka/subscribe", allow: consoleAllow("op cu", "cu", nil)},
	{path: "/marketplace/orders", allow: consoleAllow("op cu", "cu", nil)},
	{path: "/marketplace/orders/77", allow: consoleAllow("op cu", "cu", nil)},
	{path: "/marketplace/orders/77/cancel", allow: consoleAllow("op cu", "cu", nil)},
	{path: "/admin", allow: consoleAllow(opOnly, "", nil)},
	{path: "/admin/", allow: consoleAllow(opOnly, "", nil)},
	{path: "/admin/whoami", allow: consoleAllow(opOnly, "", nil)},
	{path: "/admin/v1/tenants/{t}/delegations", allow: consoleAllow(staffRead, staffRead, map[string]string{"PUT": "", "PATCH": "", "DELETE": ""})},
}

// TestDelegatedCatalogueComplete keeps the console matrix honest for
// delegated sessions: every path of a delegated or delegated:<scope> rule
// must be exercised by consoleEndpoints (a "/*" pattern by a path below
// it).
func TestDelegatedCatalogueComplete(t *testing.T) {
	rules, err := parsePolicy("embedded", embeddedPolicy())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if r.ptype != "p" || (r.vals[0] != RoleDelegated && !strings.HasPrefix(r.vals[0], RoleDelegated+":")) {
			continue
		}
		pat, found := r.vals[2], false
		for _, ep := range consoleEndpoints {
			if prefix, ok := strings.CutSuffix(pat, "/*"); ok {
				found = found || strings.HasPrefix(ep.path, prefix+"/") && len(ep.path) > len(prefix)+1
			} else {
				found = found || ep.path == pat
			}
		}
		if !found {
			t.Errorf("delegated rule path %s (role %s) is not exercised by the console matrix", pat, r.vals[0])
		}
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func embedded(t testing.TB) *Casbin {
	t.Helper()
	c, err := NewCasbin("", "", Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("NewCasbin(embedded): %v", err)
	}
	return c
}

// checkDecision asserts the Authorize contract for one expected outcome and
// that Explain reaches the same decision.
func checkDecision(t *testing.T, c *Casbin, s Subject, r Request, want bool) {
	t.Helper()
	d, err := c.Authorize(context.Background(), s, r)
	if want {
		if err != nil || !d.Allowed {
			t.Fatalf("%v %+v: want allowed, got %+v, %v", s.Roles, r, d, err)
		}
		if !slices.Contains(s.Roles, d.Role) || len(d.Rule) != 5 || d.Rule[4] != "allow" {
			t.Fatalf("%v %+v: allowed with role %q rule %v", s.Roles, r, d.Role, d.Rule)
		}
	} else {
		if d.Allowed || !errors.Is(err, ErrDenied) {
			t.Fatalf("%v %+v: want denied (ErrDenied), got %+v, %v", s.Roles, r, d, err)
		}
		if d.Reason == "" || !strings.Contains(err.Error(), d.Reason) {
			t.Fatalf("%v %+v: reason %q not in error %q", s.Roles, r, d.Reason, err)
		}
	}
	e := c.Explain(s, r)
	if !reflect.DeepEqual(e.Decision, d) || (e.Err == nil) != (err == nil) {
		t.Fatalf("%v %+v: Explain decided %+v, %v; Authorize %+v, %v", s.Roles, r, e.Decision, e.Err, d, err)
	}
}

func runMatrix(t *testing.T, endpoints []endpoint) {
	c := embedded(t)
	for _, ep := range endpoints {
		for _, tc := range []struct {
			name, tenant string
		}{{"own tenant", homeTenant}, {"other tenant", otherTenant}} {
			path := strings.ReplaceAll(ep.path, "{t}", tc.tenant)
			dom := tc.tenant
			if ep.platform {
				dom = ""
			}
			for _, m := range allMethods {
				for _, rc := range roleCases {
					want := slices.Contains(strings.Fields(ep.allow[m]), rc.abbr) &&
						(tc.tenant == homeTenant || rc.abbr == "op")
					t.Run(tc.name+"/"+m+" "+path+"/"+rc.abbr, func(t *testing.T) {
						checkDecision(t, c, rc.s, Request{Tenant: dom, Object: path, Action: m}, want)
					})
				}
			}
		}
	}
}

func TestAuthorizeAdminMatrix(t *testing.T) { runMatrix(t, adminEndpoints) }

func TestAuthorizeConsoleMatrix(t *testing.T) { runMatrix(t, consoleEndpoints) }

// TestAdminCatalogueComplete keeps the matrix honest: every object of the
// policy under /admin/v1 must be in adminEndpoints (as a pattern).
func TestAdminCatalogueComplete(t *testing.T) {
	rules, err := parsePolicy("embedded", embeddedPolicy())
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, ep := range adminEndpoints {
		covered[ep.path] = true
	}
	for _, r := range rules {
		if r.ptype != "p" || !strings.HasPrefix(r.vals[2], "/admin/v1") {
			continue
		}
		p := strings.NewReplacer(":tenant", "{t}", ":reviewed_tenant", "{t}", ":customer", "c1", ":grant", "g1", ":key", "AK1", ":invitation", "i1", ":manager", "m1").Replace(r.vals[2])
		if !covered[p] {
			t.Errorf("policy object %s (as %s) is not in the test catalogue", r.vals[2], p)
		}
	}
}

func TestAuthorizeMultipleRoles(t *testing.T) {
	c := embedded(t)
	for _, tc := range []struct {
		name     string
		s        Subject
		r        Request
		want     bool
		wantRole string
	}{
		{"a deny of one role beats an allow of another",
			Subject{Roles: []string{RoleCustomer, RoleDelegated}, Tenant: homeTenant},
			Request{Tenant: homeTenant, Object: "/marketplace/buy", Action: "POST"}, false, RoleDelegated},
		{"first allowing role is reported",
			Subject{Roles: []string{"auditor", RoleCustomerManager, RolePartnerAdmin}, Tenant: homeTenant},
			Request{Tenant: homeTenant, Object: "/admin/v1/tenants/acme/customers/c1/managers", Action: "PUT"}, true, RolePartnerAdmin},
		{"platform role acts where the tenant-scoped one cannot",
			Subject{Roles: []string{RolePartnerAdmin, RoleOperator}, Tenant: homeTenant},
			Request{Tenant: otherTenant, Object: "/admin/v1/tenants/globex/branding/rollback", Action: "POST"}, true, RoleOperator},
		{"operator with a home tenant still acts everywhere",
			Subject{Roles: []string{RoleOperator}, Tenant: homeTenant},
			Request{Tenant: otherTenant, Object: "/admin/v1/tenants/globex/customers", Action: "GET"}, true, RoleOperator},
		{"tenant-scoped role without home tenant",
			Subject{Roles: []string{RoleCustomer}},
			Request{Tenant: homeTenant, Object: "/overview", Action: "GET"}, false, ""},
		{"tenant-scoped role without home tenant, platform domain",
			Subject{Roles: []string{RolePartnerAdmin}},
			Request{Tenant: "", Object: "/admin/v1/reviews", Action: "GET"}, false, ""},
		{"duplicate and empty roles are ignored",
			Subject{Roles: []string{"", RoleCustomer, RoleCustomer}, Tenant: homeTenant},
			Request{Tenant: homeTenant, Object: "/overview", Action: "POST"}, true, RoleCustomer},
		{"lower-case method is the method",
			Subject{Roles: []string{RoleCustomer}, Tenant: homeTenant},
			Request{Tenant: homeTenant, Object: "/overview", Action: "get"}, true, RoleCustomer},
		{"lower-case method does not dodge a deny",
			Subject{Roles: []string{RoleDelegated}, Tenant: homeTenant},
			Request{Tenant: homeTenant, Object: "/marketplace/buy", Action: "post"}, false, RoleDelegated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkDecision(t, c, tc.s, tc.r, tc.want)
			d, _ := c.Authorize(context.Background(), tc.s, tc.r)
			if d.Role != tc.wantRole {
				t.Fatalf("decision role %q, want %q (%s)", d.Role, tc.wantRole, d.Reason)
			}
		})
	}
}

func TestCustomPlatformRoles(t *testing.T) {
	c, err := NewCasbin("", "", Options{Logger: quietLogger(), PlatformRoles: []string{"support"}})
	if err != nil {
		t.Fatal(err)
	}
	r := Request{Tenant: otherTenant, Object: "/overview", Action: "GET"}
	// support is platform-wide but has no rules; operator is now tenant-scoped.
	checkDecision(t, c, Subject{Roles: []string{"support"}}, r, false)
	checkDecision(t, c, Subject{Roles: []string{RoleOperator}}, r, false)
	checkDecision(t, c, Subject{Roles: []string{RoleOperator}, Tenant: otherTenant}, r, true)
}

// A path that names a tenant is never allowed in another tenant's domain,
// not even under a rule without :tenant such as the operator's "/*".
func TestPathTenantMustMatchDomain(t *testing.T) {
	c := embedded(t)
	pa := Subject{User: "pam", Roles: []string{RolePartnerAdmin}, Tenant: homeTenant}
	op := Subject{User: "olga", Roles: []string{RoleOperator}}
	for _, tc := range []struct {
		name string
		s    Subject
		r    Request
		want bool
	}{
		{"partner admin, path of other tenant", pa, Request{Tenant: homeTenant, Object: "/admin/v1/tenants/globex/customers", Action: "GET"}, false},
		{"partner admin, control", pa, Request{Tenant: homeTenant, Object: "/admin/v1/tenants/acme/customers", Action: "GET"}, true},
		{"operator, path of other tenant", op, Request{Tenant: homeTenant, Object: "/admin/v1/tenants/globex/customers", Action: "GET"}, false},
		{"operator, control", op, Request{Tenant: otherTenant, Object: "/admin/v1/tenants/globex/customers", Action: "GET"}, true},
		{"operator, path not in the catalogue", op, Request{Tenant: homeTenant, Object: "/admin/v1/tenants/globex/branding/audit", Action: "GET"}, false},
		{"operator, path not in the catalogue, control", op, Request{Tenant: otherTenant, Object: "/admin/v1/tenants/globex/branding/audit", Action: "GET"}, true},
		{"operator, tenant itself", op, Request{Tenant: homeTenant, Object: "/admin/v1/tenants/globex", Action: "GET"}, false},
		{"operator, tenants list is not a tenant path", op, Request{Tenant: "", Object: "/admin/v1/tenants", Action: "GET"}, true},
		{"operator, tenants list with slash", op, Request{Tenant: "", Object: "/admin/v1/tenants/", Action: "GET"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkDecision(t, c, tc.s, tc.r, tc.want)
			if !tc.want {
				_, err := c.Authorize(context.Background(), tc.s, tc.r)
				if !strings.Contains(err.Error(), "names tenant") {
					t.Fatalf("unexpected reason: %v", err)
				}
			}
		})
	}
}

// Requests that are malformed are denied even for a role that would be
// allowed on the canonical form (each table has a positive control).
func TestAuthorizeMalformedRequests(t *testing.T) {
	c := embedded(t)
	cust := Subject{User: "cindy", Roles: []string{RoleCustomer}, Tenant: homeTenant}
	pa := Subject{User: "pam", Roles: []string{RolePartnerAdmin}, Tenant: homeTenant}
	paths := []struct {
		s    Subject
		path string
		want bool
	}{
		{cust, "/overview", true},
		{cust, "/overview/", true},
		{cust, "/", true},
		{cust, "//overview", false},
		{cust, "/overview//x", false},
		{cust, "/./overview", false},
		{cust, "/overview/.", false},
		{cust, "/x/../admin/whoami", false},
		{cust, "/..", false},
		{cust, "/overview?tab=1", false},
		{cust, "/overview#top", false},
		{cust, "/overview\x00", false},
		{cust, "overview", false},
		{cust, "", false},
		{pa, "/admin/v1/tenants/acme/customers", true},
		{pa, "/admin/v1/tenants/acme//customers", false},
		{pa, "/admin/v1/tenants/acme/./customers", false},
		{pa, "/admin/v1/tenants/globex/../acme/customers", false},
		{pa, "/admin/v1/tenants/acme/customers?x=/admin", false},
	}
	for _, tc := range paths {
		t.Run("path "+tc.path, func(t *testing.T) {
			checkDecision(t, c, tc.s, Request{Tenant: homeTenant, Object: tc.path, Action: "GET"}, tc.want)
		})
	}
	// Methods are also checked against a policy allowing any method, so that
	// only the engine's own validation can deny them.
	anyMethod, err := NewCasbin("", writePolicy(t, t.TempDir(), "p, customer, *, /*, .*, allow\n"), Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method string
		want   bool
	}{
		{"POST", true},
		{"OPTIONS", true},
		{"", false},
		{"PO ST", false},
		{"POST ", false},
		{"POST\n", false},
		{"P0ST", false},
		{"POST|GET", false},
		{".*", false},
		{"*", false},
		{"GET\x00", false},
		{strings.Repeat("P", 33), false},
	} {
		t.Run("method "+tc.method, func(t *testing.T) {
			checkDecision(t, anyMethod, cust, Request{Tenant: homeTenant, Object: "/overview", Action: tc.method}, tc.want)
		})
	}
	// With the default policy, well-formed methods it does not list.
	for _, m := range []string{"TRACE", "CONNECT", "PROPFIND"} {
		t.Run("method "+m, func(t *testing.T) {
			checkDecision(t, c, cust, Request{Tenant: homeTenant, Object: "/overview", Action: m}, false)
		})
	}
	for _, roles := range [][]string{nil, {}, {""}, {"", ""}} {
		t.Run("roles "+strings.Join(roles, ","), func(t *testing.T) {
			s := Subject{User: "x", Roles: roles, Tenant: homeTenant}
			checkDecision(t, c, s, Request{Tenant: homeTenant, Object: "/overview", Action: "GET"}, false)
		})
	}
}

func TestAuthorizeContextDone(t *testing.T) {
	c := embedded(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := c.Authorize(ctx, Subject{Roles: []string{RoleOperator}}, Request{Object: "/", Action: "GET"})
	if d.Allowed || !errors.Is(err, context.Canceled) || errors.Is(err, ErrDenied) {
		t.Fatalf("got %+v, %v; want not allowed, context.Canceled", d, err)
	}
}

// The review endpoints are platform endpoints: their tenant segment is not
// bound to the request's domain (the gateway sends ""), and tenant-scoped
// roles cannot act there whatever the domain.
func TestReviewEndpointsArePlatform(t *testing.T) {
	c := embedded(t)
	op := Subject{User: "olga", Roles: []string{RoleOperator}}
	pa := Subject{User: "pam", Roles: []string{RolePartnerAdmin}, Tenant: homeTenant}
	for _, tc := range []struct {
		s      Subject
		dom    string
		method string
		path   string
		want   bool
	}{
		{op, "", "POST", "/admin/v1/reviews/acme/approve", true},
		{op, "acme", "POST", "/admin/v1/reviews/acme/approve", true},
		{op, "globex", "POST", "/admin/v1/reviews/acme/reject", true},
		{op, "", "GET", "/admin/v1/reviews/acme", true},
		{op, "", "DELETE", "/admin/v1/reviews/acme", false},
		{pa, "", "POST", "/admin/v1/reviews/acme/approve", false},
		{pa, "acme", "POST", "/admin/v1/reviews/acme/approve", false},
		{pa, "acme", "GET", "/admin/v1/reviews", false},
	} {
		t.Run(fmt.Sprintf("%v %s %s in %q", tc.s.Roles, tc.method, tc.path, tc.dom), func(t *testing.T) {
			checkDecision(t, c, tc.s, Request{Tenant: tc.dom, Object: tc.path, Action: tc.method}, tc.want)
		})
	}
}

func TestCanSeeCustomer(t *testing.T) {
	mine := []string{"carl", "dora"}
	for _, tc := range []struct {
		name     string
		s        Subject
		tenant   string
		managers []string
		want     bool
	}{
		{"operator, any tenant", Subject{User: "olga", Roles: []string{RoleOperator}}, otherTenant, nil, true},
		{"operator, even without tenant", Subject{User: "olga", Roles: []string{RoleOperator}}, "", nil, true},
		{"partner admin, home tenant", Subject{User: "pam", Roles: []string{RolePartnerAdmin}, Tenant: homeTenant}, homeTenant, nil, true},
		{"partner admin, other tenant", Subject{User: "pam", Roles: []string{RolePartnerAdmin}, Tenant: homeTenant}, otherTenant, nil, false},
		{"partner admin, no tenant", Subject{User: "pam", Roles: []string{RolePartnerAdmin}, Tenant: homeTenant}, "", nil, false},
		{"partner admin without home tenant", Subject{User: "pam", Roles: []string{RolePartnerAdmin}}, "", nil, false},
		{"manager, assigned", Subject{User: "carl", Roles: []string{RoleCustomerManager}, Tenant: homeTenant}, homeTenant, mine, true},
		{"manager, not assigned", Subject{User: "eve", Roles: []string{RoleCustomerManager}, Tenant: homeTenant}, homeTenant, mine, false},
		{"manager, no managers", Subject{User: "carl", Roles: []string{RoleCustomerManager}, Tenant: homeTenant}, homeTenant, nil, false},
		{"manager, assigned but other tenant", Subject{User: "carl", Roles: []string{RoleCustomerManager}, Tenant: homeTenant}, otherTenant, mine, false},
		{"manager without user id", Subject{Roles: []string{RoleCustomerManager}, Tenant: homeTenant}, homeTenant, []string{""}, false},
		{"manager and partner admin", Subject{User: "eve", Roles: []string{RoleCustomerManager, RolePartnerAdmin}, Tenant: homeTenant}, homeTenant, mine, true},
		{"manager and another partner role", Subject{User: "eve", Roles: []string{RoleCustomerManager, "billing_staff"}, Tenant: homeTenant}, homeTenant, mine, true},
		{"manager and customer, not assigned", Subject{User: "eve", Roles: []string{RoleCustomer, RoleCustomerManager}, Tenant: homeTenant}, homeTenant, mine, false},
		{"manager and delegated, assigned", Subject{User: "dora", Roles: []string{RoleDelegated, RoleCustomerManager}, Tenant: homeTenant}, homeTenant, mine, true},
		{"customer", Subject{User: "carl", Roles: []string{RoleCustomer}, Tenant: homeTenant}, homeTenant, mine, false},
		{"delegated", Subject{User: "carl", Roles: []string{RoleDelegated}, Tenant: homeTenant}, homeTenant, mine, false},
		{"delegated scope roles", Subject{User: "carl", Roles: []string{RoleDelegated + ":resources", RoleDelegated + ":billing"}, Tenant: homeTenant}, homeTenant, mine, false},
		{"no roles", Subject{User: "carl", Tenant: homeTenant}, homeTenant, mine, false},
		{"empty role", Subject{User: "carl", Roles: []string{""}, Tenant: homeTenant}, homeTenant, mine, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CanSeeCustomer(tc.s, tc.tenant, tc.managers); got != tc.want {
				t.Fatalf("CanSeeCustomer(%+v, %q, %v) = %v, want %v", tc.s, tc.tenant, tc.managers, got, tc.want)
			}
		})
	}
}
