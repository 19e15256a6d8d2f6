package adminapi_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/association"
	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/adminapi"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/tenants"
)

type noAccounts struct{}

func (noAccounts) Account(context.Context, string, string) (association.AccountInfo, error) {
	return association.AccountInfo{}, nil
}

type mirror struct{ c *tenants.Customers }

func (m mirror) Apply(ctx context.Context, b association.Binding) error {
	_, err := m.c.Associate(ctx, b.Tenant, tenants.Association{Customer: b.Customer, Type: b.Type, Since: b.Since,
		Bound: b.State == association.Bound})
	return err
}

// TestAdminInvitations: a partner admin creates, lists, reads, resends and
// revokes invitations, draws an offline link's QR code, reads a
// customer's association and requests a change (one at a time, at most
// one confirmed every 3 months: too_soon with the next allowed date);
// customer managers and other partners get 403; bad input 400/404/409.
func TestAdminInvitations(t *testing.T) {
	var as *association.Service
	e := gatewaytest.NewStaffEnv(t, gatewaytest.WithAssociations(func(e *gatewaytest.StaffEnv) adminapi.Associations {
		as = association.New(e.Store, association.Options{Accounts: noAccounts{}, Registry: mirror{e.Customers},
			Logger: slog.New(slog.DiscardHandler)})
		return as
	}, func(tenant, token string) string {
		return "https://" + tenant + ".example/_livery/invitations/" + token
	}))
	ctx := context.Background()
	pa, cm, other := e.Token(t, "pa-acme"), e.Token(t, "cm-acme"), e.Token(t, "cm-globex")
	js := []string{"Content-Type", "application/json"}
	call := func(method, path, tok, body string, wantStatus int, wantCode string) gatewaytest.Response {
		t.Helper()
		var h []string
		if body != "" {
			h = js
		}
		r := e.API(t, method, dgPrefix+path, tok, body, h...)
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

	r := call("POST", "/invitations", pa, `{"kind":"online","association_type":"1"}`, 201, "")
	m := r.JSON(t)
	inv := m["invitation"].(map[string]any)
	online, token := inv["id"].(string), m["token"].(string)
	if inv["state"] != "pending" || inv["expires_at"] == "" || m["link"] != "https://acme.example/_livery/invitations/"+token ||
		r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %s %v", r.Body, r.Header)
	}
	call("POST", "/invitations", pa, `{"kind":"letter","association_type":"1"}`, 400, "invalid_request")
	call("POST", "/invitations", pa, `{"kind":"online","association_type":"1","extra":1}`, 400, "bad_json")
	call("POST", "/invitations", cm, `{"kind":"online","association_type":"1"}`, 403, "")
	call("GET", "/invitations", cm, "", 403, "")
	if r := e.API(t, "GET", "/admin/v1/tenants/acme/invitations", other, ""); r.Status != 403 {
		t.Fatalf("another partner's staff: %d", r.Status)
	}

	// Resend gives a new token; revoke ends the link (again: the same);
	// a revoked one cannot be resent.
	r = call("POST", "/invitations/"+online+"/resend", pa, "", 200, "")
	if tok2 := r.JSON(t)["token"]; tok2 == token || tok2 == "" {
		t.Fatalf("resend: %s", r.Body)
	}
	r = call("POST", "/invitations/"+online+"/revoke", pa, "", 200, "")
	if r.JSON(t)["state"] != "revoked" {
		t.Fatalf("revoke: %s", r.Body)
	}
	call("POST", "/invitations/"+online+"/revoke", pa, "", 200, "") // idempotent
	call("POST", "/invitations/"+online+"/resend", pa, "", 409, "association_state")
	call("GET", "/invitations/20261201T120405123456789Z-1a2b3c4d", pa, "", 404, "not_found")

	// Offline: cannot be resent; its QR code is a PNG of its link.
	r = call("POST", "/invitations", pa, `{"kind":"offline","association_type":"1"}`, 201, "")
	m = r.JSON(t)
	offline, otoken := m["invitation"].(map[string]any)["id"].(string), m["token"].(string)
	call("POST", "/invitations/"+offline+"/resend", pa, "", 409, "association_state")
	r = call("POST", "/invitations/qr", pa, `{"token":"`+otoken+`"}`, 200, "")
	if _, err := png.Decode(bytes.NewReader([]byte(r.Body))); err != nil || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr: %v %v", err, r.Header)
	}
	call("POST", "/invitations/qr", pa, `{"token":"../x"}`, 400, "invalid_request")
	r = call("GET", "/invitations", pa, "", 200, "")
	if list := r.JSON(t)["invitations"].([]any); len(list) != 2 || list[0].(map[string]any)["id"] != offline ||
		strings.Contains(r.Body, otoken) {
		t.Fatalf("list (newest first, no tokens): %s", r.Body)
	}

	// The customer accepts (console side); its association and a change.
	acct := authz.Subject{User: "u-9", Roles: []string{authz.RoleCustomer}, Tenant: "acme", Customer: "acct-9"}
	if _, err := as.Sign(ctx, otoken, association.NoticeVersion, acct); err != nil {
		t.Fatal(err)
	}
	if _, _, err := as.Accept(ctx, otoken, acct); err != nil {
		t.Fatal(err)
	}
	r = call("GET", "/customers/acct-9/association", pa, "", 200, "")
	if b := r.JSON(t); b["state"] != "bound" || b["association_type"] != "1" || b["next_change_allowed"] != nil {
		t.Fatalf("association: %s", r.Body)
	}
	call("GET", "/customers/acct-9/association", cm, "", 403, "")
	call("GET", "/customers/nobody/association", pa, "", 404, "not_found")
	call("POST", "/customers/acct-9/association/changes", pa, `{"kind":"type","to":"1"}`, 409, "same_type")
	r = call("POST", "/customers/acct-9/association/changes", pa, `{"kind":"type","to":"2","reason":"resale contract"}`, 201, "")
	change := r.JSON(t)["id"].(string)
	call("POST", "/customers/acct-9/association/changes", pa, `{"kind":"unbind"}`, 409, "change_pending")
	if _, err := as.DecideChange(ctx, "acct-9", change, true, acct); err != nil {
		t.Fatal(err)
	}
	r = call("POST", "/customers/acct-9/association/changes", pa, `{"kind":"unbind"}`, 409, "too_soon")
	next, _ := r.JSON(t)["problems"].(map[string]any)["next_change_allowed"].(string)
	r = call("GET", "/customers/acct-9/association", pa, "", 200, "")
	if b := r.JSON(t); next == "" || b["next_change_allowed"] != next || b["association_type"] != "2" {
		t.Fatalf("after the change: %s (too_soon said %q)", r.Body, next)
	}
	r = call("GET", "/customers/acct-9/managers/history", pa, "", 200, "")
	if p, ok := r.JSON(t)["periods"].([]any); !ok || len(p) != 0 {
		t.Fatalf("history: %s", r.Body)
	}

	// Manager periods: a customer manager sees the history of the
	// customers it manages only, and asks which it managed on a day.
	call("GET", "/customers/acct-9/managers/history", cm, "", 404, "not_found")
	admin := authz.Subject{User: "pa-acme", Roles: []string{authz.RolePartnerAdmin}, Tenant: "acme"}
	if _, err := e.Customers.SetManagers(ctx, "acme", "acct-9", []string{"cm-acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := as.SetManagers(ctx, "acme", "acct-9", []string{"cm-acme"}, admin); err != nil {
		t.Fatal(err)
	}
	r = call("GET", "/customers/acct-9/managers/history", cm, "", 200, "")
	if p, ok := r.JSON(t)["periods"].([]any); !ok || len(p) != 1 || p[0].(map[string]any)["manager"] != "cm-acme" {
		t.Fatalf("the manager's history: %s", r.Body)
	}
	today, yesterday := time.Now().UTC().Format(time.DateOnly), time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	for _, c := range []struct {
		tok, path string
		status    int
		code      string
		want      []any
	}{
		{pa, "/managers/cm-acme/customers?on=" + today, 200, "", []any{"acct-9"}},
		{cm, "/managers/cm-acme/customers", 200, "", []any{"acct-9"}},
		{pa, "/managers/cm-acme/customers?on=" + yesterday, 200, "", []any{}},
		{pa, "/managers/cm-acme/customers?on=" + url.QueryEscape(time.Now().Format(time.RFC3339)), 200, "", []any{"acct-9"}},
		{pa, "/managers/nobody/customers", 200, "", []any{}},
		{cm, "/managers/pa-acme/customers", 403, "forbidden", nil},
		{pa, "/managers/cm-acme/customers?on=31.12.2026", 400, "invalid_request", nil},
	} {
		r := call("GET", c.path, c.tok, "", c.status, c.code)
		if c.status == 200 {
			if got := r.JSON(t)["customers"]; fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s: customers %v, want %v", c.path, got, c.want)
			}
		}
	}
	if r := e.API(t, "GET", "/admin/v1/tenants/acme/managers/cm-acme/customers", other, ""); r.Status != 403 {
		t.Fatalf("another partner's staff: %d", r.Status)
	}
}
