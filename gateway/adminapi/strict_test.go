package adminapi_test

import (
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
)

// TestAdminStrictJSON: the admin API decodes bodies with the same strict
// decoder and answers its own error shape with the one code bad_json.
func TestAdminStrictJSON(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa := e.Token(t, "pa-acme")
	managers := "/admin/v1/tenants/acme/customers/" + e.Cust["X"].DomainID + "/managers"
	draft := "/admin/v1/tenants/acme/branding/draft"
	for _, lf := range gatewaytest.LaxForms {
		for _, ep := range []struct{ name, path, field, value, rest string }{
			{"managers", managers, "managers", "cm-acme", ""},
			{"branding draft", draft, "nav_color", "#123456", ""},
		} {
			t.Run(ep.name+"/"+lf.Name, func(t *testing.T) {
				body := `{"brand":` + gatewaytest.Object(lf.Member(ep.field, ep.value, gatewaytest.Same), "") + `}`
				if ep.name == "managers" {
					body = gatewaytest.Object(lf.Member(ep.field, ep.value, func(s string) string { return "[" + s + "]" }), "")
				}
				r := e.API(t, "PUT", ep.path, pa, body, "Content-Type", "application/json")
				if r.Status != 400 || r.ErrorCode(t) != "bad_json" {
					t.Fatalf("%q: %d %s, want 400 bad_json", body, r.Status, r.Body)
				}
				if msg, _ := r.JSON(t)["error_msg"].(string); !strings.Contains(strings.ToLower(msg), ep.field) {
					t.Fatalf("%q: message %q does not name %s", body, msg, ep.field)
				}
			})
		}
	}
	if got := managersOf(e.StaffEnv, t, "acme", "X"); len(got) != 1 || got[0] != "cm-acme" {
		t.Fatalf("managers changed to %v", got)
	}
}
