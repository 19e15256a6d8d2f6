package adminapi_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/tenants"
)

// staffUsers returns the user ids of a staff list answer and their roles.
func staffUsers(t testing.TB, r gatewaytest.Response) ([]string, map[string][]string) {
	t.Helper()
	raw, ok := r.JSON(t)["staff"].([]any)
	if !ok {
		t.Fatalf("no staff array: %s", r.Body)
	}
	var ids []string
	roles := map[string][]string{}
	for _, x := range raw {
		m := x.(map[string]any)
		id, _ := m["user"].(string)
		ids = append(ids, id)
		roles[id] = stringList(m["roles"])
		if m["first_seen"] == "" || m["last_seen"] == "" {
			t.Fatalf("no first/last seen: %s", r.Body)
		}
	}
	slices.Sort(ids)
	return ids, roles
}

// TestStaffDirectoryAPI: browser sign-ins and bearer calls record staff
// under their home tenant; partner admins (and operators) list their
// tenant's staff with roles; customer managers and other tenants may not.
func TestStaffDirectoryAPI(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	staff := "/admin/v1/tenants/acme/staff"
	pa := e.Token(t, "pa-acme")
	if r := e.API(t, "GET", staff, pa, ""); r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	} else if ids, _ := staffUsers(t, r); !slices.Equal(ids, []string{"pa-acme"}) {
		t.Fatalf("before sign-ins: %v (the caller itself is recorded by its bearer call)", ids)
	}
	c := gatewaytest.StaffBrowser()
	if r := e.StaffSignIn(t, c, "cm-acme"); r.Status != 200 {
		t.Fatalf("sign-in %d %s", r.Status, r.Body)
	}
	for _, who := range []string{"cm-globex", "op-1", "nobody"} {
		e.API(t, "GET", "/admin/whoami", e.Token(t, who), "")
	}
	r := e.API(t, "GET", staff, pa, "")
	ids, roles := staffUsers(t, r)
	if !slices.Equal(ids, []string{"cm-acme", "pa-acme"}) || !slices.Equal(roles["cm-acme"], []string{authz.RoleCustomerManager}) ||
		!slices.Equal(roles["pa-acme"], []string{authz.RolePartnerAdmin}) {
		t.Fatalf("acme staff %v %v: %s", ids, roles, r.Body)
	}
	if !strings.Contains(r.Body, `"name":"Carol"`) {
		t.Fatalf("display name missing: %s", r.Body)
	}
	op := e.Token(t, "op-1")
	if r := e.API(t, "GET", "/admin/v1/tenants/globex/staff", op, ""); r.Status != 200 {
		t.Fatalf("operator: %d", r.Status)
	} else if ids, _ := staffUsers(t, r); !slices.Equal(ids, []string{"cm-globex"}) {
		t.Fatalf("globex staff %v", ids)
	}
	for _, tc := range []struct{ who, path string }{
		{"cm-acme", staff}, {"pa-acme", "/admin/v1/tenants/globex/staff"}, {"cm-globex", "/admin/v1/tenants/globex/staff"},
	} {
		if r := e.API(t, "GET", tc.path, e.Token(t, tc.who), ""); r.Status != 403 {
			t.Errorf("%s GET %s: %d", tc.who, tc.path, r.Status)
		}
	}
}

// failingDirectory fails every Record.
type failingDirectory struct{}

func (failingDirectory) Record(context.Context, authz.Subject, string) error {
	return errors.New("store down")
}

// TestSignInSurvivesDirectoryFailure: a directory that cannot record
// never fails a sign-in or a bearer call.
func TestSignInSurvivesDirectoryFailure(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t, func(_ *gatewaytest.StaffEnv, o *gatewaytest.Options) {
		o.Admin.Staff.Directory = failingDirectory{}
	})
	c := gatewaytest.StaffBrowser()
	if r := e.StaffSignIn(t, c, "pa-acme"); r.Status != 200 || !strings.Contains(r.Body, `"user":"pa-acme"`) {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "GET", "/admin/v1/tenants/acme/customers", e.Token(t, "pa-acme"), ""); r.Status != 200 {
		t.Fatalf("bearer call: %d %s", r.Status, r.Body)
	}
}

// TestManagersMustBeKnownStaff: PUT managers refuses ids that are not
// staff of the customer's tenant (422 unknown_staff naming them), staff of
// another tenant included; accepted changes are audited.
func TestManagersMustBeKnownStaff(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	pa := e.Token(t, "pa-acme")
	// cm-acme and cm-globex become known (each in its home tenant).
	for _, who := range []string{"cm-acme", "cm-globex"} {
		e.API(t, "GET", "/admin/whoami", e.Token(t, who), "")
	}
	z := "/admin/v1/tenants/acme/customers/" + e.Cust["Z"].DomainID + "/managers"
	put := func(body string) gatewaytest.Response {
		return e.API(t, "PUT", z, pa, body, "Content-Type", "application/json")
	}
	for _, tc := range []struct {
		name, body string
		named      []string
	}{
		{"never signed in", managersJSON([]string{"cm-acme", "ghost"}), []string{"ghost"}},
		{"staff of another tenant", managersJSON([]string{"cm-globex"}), []string{"cm-globex"}},
		{"operator", managersJSON([]string{"op-1"}), []string{"op-1"}},
		{"display name instead of id", managersJSON([]string{"Carol"}), []string{"Carol"}},
	} {
		r := put(tc.body)
		if r.Status != 422 || r.ErrorCode(t) != "unknown_staff" {
			t.Fatalf("%s: %d %s", tc.name, r.Status, r.Body)
		}
		for _, id := range tc.named {
			if !strings.Contains(r.JSON(t)["error_msg"].(string), `"`+id+`"`) {
				t.Fatalf("%s: message does not name %s: %s", tc.name, id, r.Body)
			}
		}
		if got := managersOf(e, t, "acme", "Z"); len(got) != 0 {
			t.Fatalf("%s: managers changed to %v", tc.name, got)
		}
	}
	// In globex, cm-globex is fine.
	h := "/admin/v1/tenants/globex/customers/" + e.Cust["H"].DomainID + "/managers"
	if r := e.API(t, "PUT", h, e.Token(t, "op-1"), `{"managers":["cm-globex"]}`, "Content-Type", "application/json"); r.Status != 200 {
		t.Fatalf("globex assignment: %d %s", r.Status, r.Body)
	}
	if r := put(`{"managers":["cm-acme"]}`); r.Status != 200 {
		t.Fatalf("assign: %d %s", r.Status, r.Body)
	}
	recs, err := e.Audit.Records(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, r := range recs {
		if r.Event == tenants.EventManagersSet && r.DomainID == e.Cust["Z"].DomainID {
			found = r.Actor.User == "pa-acme" && r.Detail == `{"before":[],"after":["cm-acme"]}` && r.RequestID != ""
			if !found {
				t.Fatalf("audit record %+v", r)
			}
		}
	}
	if !found {
		t.Fatalf("no %s record in %+v", tenants.EventManagersSet, recs)
	}
}

// TestAccessKeysAPI: partner admins list, create (201, secret once,
// no-store) and revoke (idempotent; unknown 404) their tenant's keys;
// nobody else may; every change is audited.
func TestAccessKeysAPI(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	pa := e.Token(t, "pa-acme")
	keys := "/admin/v1/tenants/acme/keys"
	r := e.API(t, "POST", keys, pa, "")
	m := r.JSON(t)
	ak, _ := m["access_key"].(string)
	sk, _ := m["secret_key"].(string)
	if r.Status != http.StatusCreated || ak == "" || len(sk) != 40 || r.Header.Get("Cache-Control") != "no-store" ||
		m["created_at"] == nil || m["revoked_at"] != nil || m["last_used_at"] != nil {
		t.Fatalf("create: %d %v %s", r.Status, r.Header, r.Body)
	}
	r = e.API(t, "GET", keys, pa, "")
	if r.Status != 200 || !strings.Contains(r.Body, ak) || strings.Contains(r.Body, sk) || strings.Contains(r.Body, "secret") ||
		r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	// Last use is recorded by the partner API (tenants.AccessKeys.Used).
	e.Keys.Used(t.Context(), "acme", ak)
	if r := e.API(t, "GET", keys, pa, ""); !strings.Contains(r.Body, `"last_used_at":"20`) {
		t.Fatalf("no last use: %s", r.Body)
	}
	if r := e.API(t, "POST", keys, pa, ""); r.Status != 201 {
		t.Fatalf("second key: %d", r.Status)
	}
	if r := e.API(t, "POST", keys, pa, ""); r.Status != 409 || r.ErrorCode(t) != "too_many_keys" {
		t.Fatalf("third key: %d %s", r.Status, r.Body)
	}
	rev := keys + "/" + ak + "/revoke"
	r1 := e.API(t, "POST", rev, pa, "")
	if r1.Status != 200 || r1.JSON(t)["revoked_at"] == nil {
		t.Fatalf("revoke: %d %s", r1.Status, r1.Body)
	}
	if r2 := e.API(t, "POST", rev, pa, ""); r2.Status != 200 || r2.JSON(t)["revoked_at"] != r1.JSON(t)["revoked_at"] {
		t.Fatalf("revoke again: %d %s", r2.Status, r2.Body)
	}
	if r := e.API(t, "POST", keys+"/NOSUCHKEY/revoke", pa, ""); r.Status != 404 || r.ErrorCode(t) != "not_found" {
		t.Fatalf("unknown key: %d %s", r.Status, r.Body)
	}
	// The key of acme cannot be revoked through globex (by its operator).
	if r := e.API(t, "POST", "/admin/v1/tenants/globex/keys/"+ak+"/revoke", e.Token(t, "op-1"), ""); r.Status != 404 {
		t.Fatalf("revoke through another tenant: %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct{ who, method, path string }{
		{"cm-acme", "GET", keys}, {"cm-acme", "POST", keys}, {"cm-acme", "POST", rev},
		{"pa-acme", "GET", "/admin/v1/tenants/globex/keys"}, {"pa-acme", "POST", "/admin/v1/tenants/globex/keys"},
	} {
		if r := e.API(t, tc.method, tc.path, e.Token(t, tc.who), ""); r.Status != 403 {
			t.Errorf("%s %s %s: %d", tc.who, tc.method, tc.path, r.Status)
		}
	}
	recs, err := e.Audit.Records(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, r := range recs {
		if r.KeyID != "" {
			events = append(events, r.Event)
			if r.Actor.User != "pa-acme" {
				t.Fatalf("record %+v", r)
			}
		}
	}
	slices.Sort(events)
	if want := []string{tenants.EventKeyCreate, tenants.EventKeyCreate, tenants.EventKeyRevoke}; !slices.Equal(events, want) {
		t.Fatalf("audited %v, want %v", events, want)
	}
}
