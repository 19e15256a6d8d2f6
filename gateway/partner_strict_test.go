package gateway_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
)

// laxForms are the lenient readings of JSON that decodeStrict refuses:
// invalid UTF-8 (raw bytes or a lone surrogate escape), a member named twice,
// and a member name differing from the field's only in case. Each builds one
// member from a field name and a string value; wrap turns a JSON string
// literal into the field's value (identity for string fields).
var laxForms = []struct {
	name   string
	member func(field, value string, wrap func(string) string) string
}{
	{"invalid UTF-8 byte ff", func(f, v string, w func(string) string) string { return strconv.Quote(f) + ":" + w("\""+v+"\xff\"") }},
	{"invalid UTF-8 byte fe", func(f, v string, w func(string) string) string { return strconv.Quote(f) + ":" + w("\""+v+"\xfe\"") }},
	{"lone surrogate escape", func(f, v string, w func(string) string) string { return strconv.Quote(f) + ":" + w(`"`+v+`\ud800"`) }},
	{"lone low surrogate escape", func(f, v string, w func(string) string) string { return strconv.Quote(f) + ":" + w(`"`+v+`\udc00"`) }},
	{"duplicate member", func(f, v string, w func(string) string) string {
		return strconv.Quote(f) + ":" + w(`"other"`) + "," + strconv.Quote(f) + ":" + w(strconv.Quote(v))
	}},
	{"member name in upper case", func(f, v string, w func(string) string) string {
		return strconv.Quote(strings.ToUpper(f)) + ":" + w(strconv.Quote(v))
	}},
	{"member name in mixed case", func(f, v string, w func(string) string) string {
		return strconv.Quote(strings.ToUpper(f[:1])+f[1:]) + ":" + w(strconv.Quote(v))
	}},
}

func same(s string) string { return s }

func obj(member, rest string) string {
	if rest == "" {
		return "{" + member + "}"
	}
	return "{" + member + "," + rest + "}"
}

// TestPartnerStrictJSON: every lax form is refused with 400 CBC.0100 naming
// the member, on every partner endpoint, and nothing is written.
func TestPartnerStrictJSON(t *testing.T) {
	e := gatewaytest.StartPartnerEnv(t, gatewaytest.PartnerConfig{Real: true})
	endpoints := []struct {
		name, path, field, value, rest string
	}{
		{"create", "/v2/partners/sub-customers", "xaccount_id", "coll", `"xaccount_type":"pa_platform"`},
		{"query", "/v2/partners/sub-customers/query", "account_name", "coll", `"limit":10`},
		{"check-identity", "/v2/partners/sub-customers/users/check-identity", "search_value", "some_name", `"search_type":"name"`},
		{"send-code", "/v2/bases/verificationcode/send", "mobile_phone", "13812345678", `"receiver_type":1`},
	}
	before := e.CustomerObjects(t)
	for _, ep := range endpoints {
		for _, lf := range laxForms {
			t.Run(ep.name+"/"+lf.name, func(t *testing.T) {
				body := obj(lf.member(ep.field, ep.value, same), ep.rest)
				r, b := e.Do(t, gatewaytest.RawCall{Tenant: "pa", Path: ep.path, Body: body})
				if r.StatusCode != 400 || !strings.Contains(b, `"error_code":"CBC.0100"`) {
					t.Fatalf("%q: %d %s, want 400 CBC.0100", body, r.StatusCode, b)
				}
				if !strings.Contains(strings.ToLower(b), ep.field+":") {
					t.Fatalf("%q: message does not name %s: %s", body, ep.field, b)
				}
			})
		}
	}
	if after := e.CustomerObjects(t); after != before {
		t.Fatalf("lax JSON created %d customers", after-before)
	}
	if len(e.Outbox.Messages) != 0 {
		t.Fatalf("lax JSON sent %d codes", len(e.Outbox.Messages))
	}
	// The strict reading still accepts what it should: escapes of valid
	// characters, including a surrogate pair.
	r, b := e.Do(t, gatewaytest.RawCall{Tenant: "pa", Path: "/v2/partners/sub-customers",
		Body: `{"xaccount_id":"coll\u00e9\ud83d\ude00","xaccount_type":"pa_platform"}`})
	if r.StatusCode != 200 {
		t.Fatalf("valid escapes refused: %d %s", r.StatusCode, b)
	}
}

// TestAdminStrictJSON: the admin API decodes bodies with the same strict
// decoder and answers its own error shape with the one code bad_json.
func TestAdminStrictJSON(t *testing.T) {
	e := gatewaytest.NewBrandEnv(t)
	pa := e.Token(t, "pa-acme")
	managers := "/admin/v1/tenants/acme/customers/" + e.Cust["X"].DomainID + "/managers"
	draft := "/admin/v1/tenants/acme/branding/draft"
	for _, lf := range laxForms {
		for _, ep := range []struct{ name, path, field, value, rest string }{
			{"managers", managers, "managers", "cm-acme", ""},
			{"branding draft", draft, "nav_color", "#123456", ""},
		} {
			t.Run(ep.name+"/"+lf.name, func(t *testing.T) {
				body := `{"brand":` + obj(lf.member(ep.field, ep.value, same), "") + `}`
				if ep.name == "managers" {
					body = obj(lf.member(ep.field, ep.value, func(s string) string { return "[" + s + "]" }), "")
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
