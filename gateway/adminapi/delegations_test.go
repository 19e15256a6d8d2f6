package adminapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/tenants"
)

const dgPrefix = "/admin/v1/tenants/acme"

func grantIDs(t testing.TB, r gatewaytest.Response) ([]string, string) {
	t.Helper()
	m := r.JSON(t)
	raw, ok := m["grants"].([]any)
	if !ok {
		t.Fatalf("no grants array: %s", r.Body)
	}
	var ids []string
	for _, g := range raw {
		ids = append(ids, g.(map[string]any)["id"].(string))
	}
	next, _ := m["next_cursor"].(string)
	return ids, next
}

// TestAdminDelegations: the agreement (read by staff, accepted by a
// partner admin, current version only), requests with their refusals,
// the list with filters and cursor paging, withdraw and revoke; a
// customer manager acts only on their customers; another partner gets
// 403.
func TestAdminDelegations(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	pa, cm, other := e.Token(t, "pa-acme"), e.Token(t, "cm-acme"), e.Token(t, "cm-globex")
	x, y := e.Cust["X"].DomainID, e.Cust["Y"].DomainID
	js := []string{"Content-Type", "application/json"}
	call := func(method, path, tok, body string, wantStatus int, wantCode string) gatewaytest.Response {
		t.Helper()
		var h []string
		if body != "" {
			h = js
		}
		r := e.API(t, method, path, tok, body, h...)
		if r.Status != wantStatus {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, wantStatus, r.Body)
		}
		if wantCode != "" {
			if code := r.ErrorCode(t); code != wantCode {
				t.Fatalf("%s %s: code %s, want %s: %s", method, path, code, wantCode, r.Body)
			}
		}
		return r
	}
	ask := func(customer string, extra string) string {
		return fmt.Sprintf(`{"customer_id":%q,"scopes":["resources","finance_read"],"duration_hours":24,"reason":"Set up the network"%s}`, customer, extra)
	}

	// The agreement.
	r := call("GET", dgPrefix+"/delegation-agreement", cm, "", 200, "")
	m := r.JSON(t)
	if m["accepted"] != false || m["agreement"].(map[string]any)["version"] != delegation.AgreementVersion || m["agreement"].(map[string]any)["zh"] == "" {
		t.Fatalf("agreement: %s", r.Body)
	}
	call("POST", dgPrefix+"/delegations", pa, ask(x, ""), 409, "agreement_required")
	call("POST", dgPrefix+"/delegation-agreement", cm, `{"version":"`+delegation.AgreementVersion+`"}`, 403, "")
	call("POST", dgPrefix+"/delegation-agreement", pa, `{"version":"1999-01"}`, 409, "agreement_version")
	call("POST", dgPrefix+"/delegation-agreement", pa, `{}`, 400, "invalid_request")
	call("POST", dgPrefix+"/delegation-agreement", pa, `{"version":"`+delegation.AgreementVersion+`"}`, 200, "")
	if m := call("GET", dgPrefix+"/delegation-agreement", cm, "", 200, "").JSON(t); m["accepted"] != true || m["accepted_by"] != "pa-acme" {
		t.Fatalf("after acceptance: %v", m)
	}

	// Requests: refusals, then one.
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"no customer", `{"scopes":["resources"],"duration_hours":1,"reason":"r"}`, 400, "invalid_request"},
		{"duration 0", `{"customer_id":"` + x + `","scopes":["resources"],"duration_hours":0,"reason":"r"}`, 400, "invalid_request"},
		{"duration over a year", `{"customer_id":"` + x + `","scopes":["resources"],"duration_hours":8761,"reason":"r"}`, 400, "invalid_request"},
		{"marketplace scope", `{"customer_id":"` + x + `","scopes":["marketplace"],"duration_hours":1,"reason":"r"}`, 400, "invalid_request"},
		{"no scope", `{"customer_id":"` + x + `","scopes":[],"duration_hours":1,"reason":"r"}`, 400, "invalid_request"},
		{"no reason", `{"customer_id":"` + x + `","scopes":["power"],"duration_hours":1,"reason":"  "}`, 400, "invalid_request"},
		{"unknown field", `{"customer_id":"` + x + `","scope":["power"],"duration_hours":1,"reason":"r"}`, 400, "bad_json"},
		{"unknown customer", ask("nosuchcustomer", ""), 404, "not_found"},
		{"another manager's customer", ask(y, ""), 404, "not_found"},
	} {
		r := e.API(t, "POST", dgPrefix+"/delegations", cm, tc.body, js...)
		if r.Status != tc.status || r.ErrorCode(t) != tc.code {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
	}
	if r := e.API(t, "POST", dgPrefix+"/delegations", cm, ask(x, ""), "Content-Type", "text/plain"); r.Status != 415 {
		t.Errorf("text body: %d", r.Status)
	}
	r = call("POST", dgPrefix+"/delegations", cm, ask(x, ""), 201, "")
	g := r.JSON(t)
	gx := g["id"].(string)
	if g["state"] != "requested" || g["customer_id"] != x || g["customer_name"] != "acme_x_corp" || g["duration_hours"] != float64(24) ||
		g["requested_by"] != "cm-acme" || fmt.Sprint(g["scopes"]) != "[resources finance_read]" {
		t.Fatalf("request: %s", r.Body)
	}
	call("POST", dgPrefix+"/delegations", cm, ask(x, ""), 409, "delegation_pending")
	ref, err := e.Customers.Create(t.Context(), "acme", tenants.Registration{XAccountID: "acct-r", XAccountType: "acme-platform",
		DomainName: "acme_ref_corp", AssociationType: delegation.AssociationReferral}, tenants.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	call("POST", dgPrefix+"/delegations", pa, ask(ref.DomainID, ""), 422, "referral_customer")
	gy := call("POST", dgPrefix+"/delegations", pa, ask(y, ""), 201, "").JSON(t)["id"].(string)

	// Reading: the manager sees only X's grant.
	call("GET", dgPrefix+"/delegations/"+gx, cm, "", 200, "")
	call("GET", dgPrefix+"/delegations/"+gy, cm, "", 404, "not_found")
	call("GET", dgPrefix+"/delegations/20260101T000000000000000Z-00000000", pa, "", 404, "not_found")
	if ids, _ := grantIDs(t, call("GET", dgPrefix+"/delegations", cm, "", 200, "")); fmt.Sprint(ids) != "["+gx+"]" {
		t.Fatalf("cm list: %v", ids)
	}
	call("GET", dgPrefix+"/delegations?customer="+y, cm, "", 404, "not_found")
	if ids, _ := grantIDs(t, call("GET", dgPrefix+"/delegations", pa, "", 200, "")); fmt.Sprint(ids) != "["+gy+" "+gx+"]" {
		t.Fatalf("pa list (newest first): %v", ids)
	}
	if ids, next := grantIDs(t, call("GET", dgPrefix+"/delegations?limit=1", pa, "", 200, "")); len(ids) != 1 || ids[0] != gy || next == "" {
		t.Fatalf("page 1: %v %q", ids, next)
	} else if ids, next := grantIDs(t, call("GET", dgPrefix+"/delegations?limit=1&cursor="+next, pa, "", 200, "")); len(ids) != 1 || ids[0] != gx || next != "" {
		t.Fatalf("page 2: %v %q", ids, next)
	}
	if ids, _ := grantIDs(t, call("GET", dgPrefix+"/delegations?customer="+y, pa, "", 200, "")); fmt.Sprint(ids) != "["+gy+"]" {
		t.Fatalf("customer filter: %v", ids)
	}
	for _, q := range []string{"limit=0", "limit=101", "state=active", "cursor=bogus"} {
		call("GET", dgPrefix+"/delegations?"+q, pa, "", 400, "invalid_request")
	}

	// Withdraw (the manager's own customer only), then the state is final.
	call("POST", dgPrefix+"/delegations/"+gy+"/withdraw", cm, "", 404, "not_found")
	if r := call("POST", dgPrefix+"/delegations/"+gx+"/withdraw", cm, "", 200, ""); r.JSON(t)["state"] != "withdrawn" {
		t.Fatalf("withdraw: %s", r.Body)
	}
	call("POST", dgPrefix+"/delegations/"+gx+"/withdraw", cm, "", 409, "grant_state")
	if ids, _ := grantIDs(t, call("GET", dgPrefix+"/delegations?state=withdrawn", pa, "", 200, "")); fmt.Sprint(ids) != "["+gx+"]" {
		t.Fatalf("state filter: %v", ids)
	}

	// Revoke: only an active grant; with a reason; a new request must
	// name the active grant.
	call("POST", dgPrefix+"/delegations/"+gy+"/revoke", pa, "", 409, "grant_state")
	cy := authz.Subject{User: "cust-y", Roles: []string{authz.RoleCustomer}, Tenant: "acme", Customer: y}
	if _, err := e.Delegations.Approve(t.Context(), "acme", gy, cy); err != nil {
		t.Fatal(err)
	}
	if r := call("GET", dgPrefix+"/delegations/"+gy, pa, "", 200, ""); r.JSON(t)["state"] != "approved" || r.JSON(t)["ends_at"] == nil {
		t.Fatalf("active: %s", r.Body)
	}
	call("POST", dgPrefix+"/delegations", pa, ask(y, ""), 409, "delegation_active")
	call("POST", dgPrefix+"/delegations", pa, ask(y, `,"replaces":"`+gx+`"`), 400, "invalid_request")
	call("POST", dgPrefix+"/delegations/"+gy+"/revoke", cm, "", 404, "not_found")
	call("POST", dgPrefix+"/delegations/"+gy+"/revoke", pa, `{"why":"x"}`, 400, "bad_json")
	r = call("POST", dgPrefix+"/delegations/"+gy+"/revoke", pa, `{"reason":"Work is done"}`, 200, "")
	if m := r.JSON(t); m["state"] != "revoked" || m["revoked_by"] != "pa-acme" || m["revoke_reason"] != "Work is done" {
		t.Fatalf("revoke: %s", r.Body)
	}
	if _, ok, _ := e.Delegations.ActiveGrant(t.Context(), "acme", y); ok {
		t.Fatal("still active after revoke")
	}

	// Another partner's staff: 403 on every route, before anything is read.
	for _, rt := range []struct{ method, path, body string }{
		{"GET", "/delegations", ""}, {"POST", "/delegations", ask(x, "")}, {"GET", "/delegations/" + gx, ""},
		{"POST", "/delegations/" + gx + "/withdraw", ""}, {"POST", "/delegations/" + gy + "/revoke", ""},
		{"GET", "/delegation-agreement", ""}, {"POST", "/delegation-agreement", `{"version":"x"}`},
	} {
		if r := e.API(t, rt.method, dgPrefix+rt.path, other, rt.body, js...); r.Status != http.StatusForbidden {
			t.Errorf("cm-globex %s %s: %d", rt.method, rt.path, r.Status)
		}
	}
	if r := e.API(t, "GET", dgPrefix+"/delegations", "", ""); r.Status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", r.Status)
	}
	if !strings.HasPrefix(gx, "20") {
		t.Errorf("grant id %q", gx)
	}
}
