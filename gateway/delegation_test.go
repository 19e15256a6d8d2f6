package gateway_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/assertion"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/gateway/switchrole"
	"github.com/livery/livery/tenants"
)

// TestDelegatedSwitchThroughGateway runs the switch role as routes.go
// wires it: a signed-in partner admin's browser posts the switch form on
// the admin API, lands in the customer's console with a delegated
// session, an allowed request reaches the upstream with X-Livery-Actor,
// X-Livery-Grant and the act claim in the assertion (forged inbound ones
// dropped), an out-of-scope one is a 403 page naming the scope, and
// switching back returns to the partner UI.
func TestDelegatedSwitchThroughGateway(t *testing.T) {
	var del *delegation.Service
	var signer *assertion.Signer
	e := gatewaytest.NewStaffEnv(t, withSwitch(t, &del, &signer))
	ctx := context.Background()
	x := e.Cust["X"]
	pa := authz.Subject{User: "pa-acme", Roles: []string{authz.RolePartnerAdmin}, Tenant: "acme"}
	if _, err := del.AcceptAgreement(ctx, "acme", delegation.AgreementVersion, pa); err != nil {
		t.Fatal(err)
	}
	g, err := del.Request(ctx, "acme", delegation.RequestInput{Customer: x.DomainID, Scopes: []delegation.Scope{delegation.ScopeResources},
		Duration: 24 * time.Hour, Reason: "migration"}, pa)
	if err != nil {
		t.Fatal(err)
	}
	if g, err = del.Approve(ctx, "acme", g.ID, authz.Subject{User: "cust-1", Roles: []string{authz.RoleCustomer}, Tenant: "acme", Customer: x.DomainID}); err != nil {
		t.Fatal(err)
	}

	b := gatewaytest.StaffBrowser()
	if r := e.StaffSignIn(t, b, "pa-acme"); r.Status != 200 {
		t.Fatalf("staff sign-in: %d %s", r.Status, r.Body)
	}
	// The bearer-token form of the same call cannot switch.
	if r := e.API(t, "POST", "/admin/v1/tenants/acme/delegations/"+g.ID+"/switch", e.Token(t, "pa-acme"), ""); r.Status != http.StatusForbidden || r.ErrorCode(t) != "switch_needs_session" {
		t.Fatalf("bearer switch: %d %s", r.Status, r.Body)
	}
	step := gatewaytest.StepBrowser(b.Jar)
	req := gatewaytest.NewRequest(t, "POST", e.APIURL+"/admin/v1/tenants/acme/delegations/"+g.ID+"/switch", strings.NewReader("confirm=1"),
		"Content-Type", "application/x-www-form-urlencoded", "Origin", e.APIURL, "Accept", "text/html")
	r := gatewaytest.Send(t, step, req)
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, e.ConsoleURL+switchrole.EnterPath+"?token=") {
		t.Fatalf("switch form: %d %s %s", r.Status, loc, r.Body)
	}
	resp, body := gatewaytest.Get(t, b, loc)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/" {
		t.Fatalf("switch-in landed on %s: %d %s", resp.Request.URL, resp.StatusCode, body)
	}

	_, body = gatewaytest.Get(t, b, e.ConsoleURL+"/resources", "Accept", "application/json",
		"X-Livery-Actor", "forged", "X-Livery-Grant", "forged")
	var echo struct {
		Upstream                         bool
		Account, Actor, Grant, Assertion string
	}
	if err := json.Unmarshal([]byte(body), &echo); err != nil || !echo.Upstream {
		t.Fatalf("allowed request: %v %s", err, body)
	}
	if echo.Account != x.DomainID || echo.Actor != "pa-acme" || echo.Grant != g.ID {
		t.Fatalf("identity at the upstream: %+v", echo)
	}
	parts := strings.Split(echo.Assertion, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion %q", echo.Assertion)
	}
	var claims struct {
		Sub string
		Act struct {
			Sub   string `json:"sub"`
			Grant string `json:"livery_grant"`
		}
	}
	if err := json.Unmarshal([]byte(gatewaytest.DecodeSeg(t, parts[1])), &claims); err != nil || claims.Sub != x.DomainID ||
		claims.Act.Sub != "pa-acme" || claims.Act.Grant != g.ID {
		t.Fatalf("assertion claims %s (%v)", gatewaytest.DecodeSeg(t, parts[1]), err)
	}

	resp, body = gatewaytest.Get(t, b, e.ConsoleURL+"/security/users", "Accept", "text/html")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "security") {
		t.Fatalf("out of scope: %d %s", resp.StatusCode, body)
	}
	for _, seen := range e.Upstream.Requests() {
		if strings.Contains(seen, "/security") {
			t.Fatalf("refused request reached the upstream: %s", seen)
		}
	}

	req = gatewaytest.NewRequest(t, "POST", e.ConsoleURL+switchrole.LeavePath, nil, "Origin", e.ConsoleURL)
	r = gatewaytest.Send(t, step, req)
	if want := e.APIURL + "/ui/t/acme/customers/" + x.DomainID; r.Status != http.StatusSeeOther || r.Header.Get("Location") != want {
		t.Fatalf("switch back: %d %q, want %q", r.Status, r.Header.Get("Location"), want)
	}
	if v := gatewaytest.CookieValue(b, e.ConsoleURL, "livery_session"); v != "" {
		t.Fatalf("delegated session cookie still set: %q", v)
	}
}

// TestDelegatedSessionRefusedWithoutSwitch: on a gateway without the
// switch role wired, a delegated session (however it came to be) is
// refused by sign-in, never decided as the customer's own.
func TestDelegatedSessionRefusedWithoutSwitch(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	x := e.Cust["X"]
	s, err := e.Sessions.Create(context.Background(), sessions.Session{Tenant: "acme", Kind: sessions.KindDelegated, Issuer: "delegation",
		Subject: "pa-acme@g", AccountID: x.DomainID, Account: x.DomainName, Roles: []string{authz.RoleCustomer}})
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.Upstream.Requests())
	req := gatewaytest.NewRequest(t, "GET", e.ConsoleURL+"/resources", nil, "Cookie", "livery_session="+s.ID, "Accept", "application/json")
	resp, body := gatewaytest.Do(t, req)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "delegation_unavailable") {
		t.Fatalf("delegated session without the switch: %d %s", resp.StatusCode, body)
	}
	if n := len(e.Upstream.Requests()); n != before {
		t.Fatalf("the upstream was reached")
	}
}

// withSwitch wires delegation's switch role into a StaffEnv's gateway (a
// delegation service on the env's store, assertions), returning the
// service and the signer through del and signer.
func withSwitch(t *testing.T, del **delegation.Service, signer **assertion.Signer) func(e *gatewaytest.StaffEnv, o *gatewaytest.Options) {
	return func(e *gatewaytest.StaffEnv, o *gatewaytest.Options) {
		dir := delegation.DirectoryFunc(func(ctx context.Context, tenant, id string) (delegation.CustomerInfo, bool, error) {
			c, err := e.Customers.ByDomainID(ctx, tenant, id)
			if err != nil || c == nil {
				return delegation.CustomerInfo{}, false, err
			}
			return delegation.CustomerInfo{Name: c.DomainName, AssociationType: c.AssociationType}, true, nil
		})
		*del = delegation.New(e.Store, dir, delegation.Options{Notifier: switchrole.Publisher{Redis: e.RDB}})
		var err error
		if *signer, err = assertion.New(nil, time.Minute); err != nil {
			t.Fatal(err)
		}
		o.Assertions = *signer
		reg := o.Tenants.(*tenants.Registry)
		o.Delegation = &switchrole.Options{Redis: e.RDB, Sessions: e.Sessions, Grants: *del, Customers: e.Customers,
			Authorizer: o.Identity.Authorizer, Tenants: reg, ConsoleURL: func(*tenants.Tenant) string { return e.ConsoleURL },
			StaffURL: e.APIURL, SessionTTL: time.Hour}
	}
}
