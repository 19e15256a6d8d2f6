package adminapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/livery/livery/gateway/gatewaytest"
)

const (
	plainSecret = "s3cret-never-shown"
	plainToken  = "t0ken-never-shown"
)

// tenantBody is a valid creation body for id on host.
func tenantBody(id, host string) string {
	b, _ := json.Marshal(map[string]any{
		"id": id, "name": map[string]string{"zh": id + "中文", "en": id + " Inc"}, "hosts": []string{host},
		"upstream": "https://cloud.example/", "xaccount_type": id + "-platform",
		"provisioner": map[string]any{"kind": "http", "url": "https://prov.example/accounts", "token": plainToken},
		"risk":        map[string]any{"per_device": "3/24h", "per_address": "", "per_partner": "off", "require_device": true},
		"association": map[string]any{"type": "2"},
		"sign_in": map[string]any{"issuer": "https://idp.example", "client_id": "console", "client_secret": plainSecret,
			"scopes": []string{"openid", "profile"}, "account_claim": "sub"},
	})
	return string(b)
}

const jsonCT = "application/json"

// TestTenantRecordsAPI: the operator's onboarding, reading, replacement
// (If-Match required, 412 with the current version), suspension and
// resumption; every refusal with its code; secrets never answered.
func TestTenantRecordsAPI(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	op := e.Token(t, "op-1")
	var bodies []string
	call := func(method, path, tok, body string, headers ...string) gatewaytest.Response {
		t.Helper()
		if body != "" {
			headers = append(headers, "Content-Type", jsonCT)
		}
		r := e.API(t, method, path, tok, body, headers...)
		bodies = append(bodies, r.Body)
		return r
	}
	r := call("POST", "/admin/v1/tenants?skip_discovery=true", op, tenantBody("initech", "console.initech.test"))
	if r.Status != 201 || r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/admin/v1/tenants/initech" {
		t.Fatalf("create: %d %v %s", r.Status, r.Header, r.Body)
	}
	m := r.JSON(t)
	si, _ := m["sign_in"].(map[string]any)
	pv, _ := m["provisioner"].(map[string]any)
	if m["status"] != "active" || si["client_secret_set"] != true || pv["token_set"] != true || m["version"] != 1.0 {
		t.Fatalf("created record: %s", r.Body)
	}
	for _, tc := range []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		code, contains           string
	}{
		{"issuer without discovery", "POST", "/admin/v1/tenants", tenantBody("umbrella", "umbrella.test"), nil, 400, "invalid_request", `"field":"sign_in.issuer"`},
		{"duplicate id", "POST", "/admin/v1/tenants?skip_discovery=true", tenantBody("initech", "other.initech.test"), nil, 409, "tenant_exists", ""},
		{"host of another tenant", "POST", "/admin/v1/tenants?skip_discovery=true", tenantBody("hooli", "CONSOLE.initech.test"), nil, 409, "host_conflict", `\"initech\"`},
		{"invalid fields", "POST", "/admin/v1/tenants?skip_discovery=true", strings.Replace(strings.Replace(tenantBody("x", "a b"), "https://cloud.example/", "ftp://x", 1), `"3/24h"`, `"often"`, 1), nil, 400, "invalid_request", `"field":"hosts[0]"`},
		{"unknown field", "POST", "/admin/v1/tenants?skip_discovery=true", strings.Replace(tenantBody("y", "y.test"), `"hosts"`, `"hostz":[],"hosts"`, 1), nil, 400, "bad_json", "hostz"},
		{"unknown nested field", "POST", "/admin/v1/tenants?skip_discovery=true", strings.Replace(tenantBody("y", "y.test"), `"client_id"`, `"client":"x","client_id"`, 1), nil, 400, "bad_json", "sign_in.client"},
		{"no If-Match", "PUT", "/admin/v1/tenants/initech", tenantBody("initech", "console.initech.test"), nil, 428, "precondition_required", ""},
		{"bad If-Match", "PUT", "/admin/v1/tenants/initech", tenantBody("initech", "console.initech.test"), []string{"If-Match", "abc"}, 400, "invalid_request", "If-Match"},
		{"id change", "PUT", "/admin/v1/tenants/initech", tenantBody("hooli", "console.initech.test"), []string{"If-Match", `"1"`}, 400, "invalid_request", "id cannot be changed"},
		{"unknown tenant", "GET", "/admin/v1/tenants/nosuch", "", nil, 404, "not_found", ""},
		{"unknown tenant put", "PUT", "/admin/v1/tenants/nosuch", tenantBody("nosuch", "n.test"), []string{"If-Match", `"1"`}, 404, "not_found", ""},
		{"suspend without reason", "POST", "/admin/v1/tenants/initech/suspend", `{"reason":"  "}`, nil, 400, "invalid_request", "reason"},
		{"suspend unknown field", "POST", "/admin/v1/tenants/initech/suspend", `{"reason":"x","why":1}`, nil, 400, "bad_json", "why"},
		{"suspend unknown tenant", "POST", "/admin/v1/tenants/nosuch/suspend", `{"reason":"unpaid"}`, nil, 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(tc.method, tc.path, op, tc.body, tc.headers...)
			if r.Status != tc.status || r.ErrorCode(t) != tc.code || !strings.Contains(r.Body, tc.contains) {
				t.Fatalf("%d %s, want %d %s with %q", r.Status, r.Body, tc.status, tc.code, tc.contains)
			}
		})
	}
	// The validation answer lists every field in both languages.
	r = call("POST", "/admin/v1/tenants?skip_discovery=true", op, strings.Replace(tenantBody("x", "a b"), "https://cloud.example/", "ftp://x", 1))
	var ve struct {
		Problems []struct{ Field, Message, MessageZH string } `json:"problems"`
	}
	_ = json.Unmarshal([]byte(strings.ReplaceAll(r.Body, "message_zh", "messagezh")), &ve)
	fields := map[string]bool{}
	for _, p := range ve.Problems {
		fields[p.Field] = p.Message != "" && p.MessageZH != ""
	}
	if !fields["hosts[0]"] || !fields["upstream"] {
		t.Fatalf("problems: %s", r.Body)
	}
	// Content type.
	if r := e.API(t, "POST", "/admin/v1/tenants?skip_discovery=true", op, tenantBody("z", "z.test"), "Content-Type", "text/plain"); r.Status != 415 {
		t.Fatalf("text/plain: %d", r.Status)
	}

	// Replace: the secrets are kept when absent, the version moves on.
	body := strings.Replace(strings.Replace(tenantBody("initech", "console.initech.test"), `"client_secret":"`+plainSecret+`",`, "", 1),
		`"token":"`+plainToken+`"`, `"token":null`, 1)
	body = strings.Replace(body, "initech Inc", "Initech Corporation", 1)
	r = call("PUT", "/admin/v1/tenants/initech", op, body, "If-Match", `"1"`)
	if r.Status != 200 || r.Header.Get("ETag") != `"2"` || !strings.Contains(r.Body, `"client_secret_set":true`) ||
		!strings.Contains(r.Body, `"token_set":true`) || !strings.Contains(r.Body, "Initech Corporation") {
		t.Fatalf("replace: %d %s", r.Status, r.Body)
	}
	// Stale: 412 with the current version.
	r = call("PUT", "/admin/v1/tenants/initech", op, body, "If-Match", `"1"`)
	if r.Status != 412 || r.ErrorCode(t) != "tenant_changed" || r.JSON(t)["current_version"] != 2.0 || r.Header.Get("ETag") != `"2"` {
		t.Fatalf("stale: %d %v %s", r.Status, r.Header, r.Body)
	}
	rec, err := e.Records.Get(context.Background(), "initech")
	if err != nil || rec.Version != 2 || rec.Name.EN != "Initech Corporation" {
		t.Fatalf("stored: %+v %v", rec, err)
	}
	// A secret set to "" is removed.
	r = call("PUT", "/admin/v1/tenants/initech", op, strings.Replace(body, `"token":null`, `"token":""`, 1), "If-Match", `"2"`)
	if r.Status != 200 || !strings.Contains(r.Body, `"token_set":false`) {
		t.Fatalf("remove token: %d %s", r.Status, r.Body)
	}

	// Handing the tenant to the file, and a bad value.
	withManaged := strings.TrimSuffix(body, "}") + `,"managed":"sometimes"}`
	if r := call("PUT", "/admin/v1/tenants/initech", op, withManaged, "If-Match", `"3"`); r.Status != 400 || !strings.Contains(r.Body, `"field":"managed"`) {
		t.Fatalf("bad managed: %d %s", r.Status, r.Body)
	}
	r = call("PUT", "/admin/v1/tenants/initech", op, strings.Replace(withManaged, "sometimes", "file", 1), "If-Match", `"3"`)
	if r.Status != 200 || r.JSON(t)["managed"] != "file" {
		t.Fatalf("managed file: %d %s", r.Status, r.Body)
	}

	// Suspend and resume.
	r = call("POST", "/admin/v1/tenants/initech/suspend", op, `{"reason":"contract ended"}`)
	if r.Status != 200 || r.JSON(t)["status"] != "suspended" {
		t.Fatalf("suspend: %d %s", r.Status, r.Body)
	}
	r = call("POST", "/admin/v1/tenants/initech/resume", op, "")
	if r.Status != 200 || r.JSON(t)["status"] != "active" {
		t.Fatalf("resume: %d %s", r.Status, r.Body)
	}
	r = call("GET", "/admin/v1/tenants", op, "")
	if r.Status != 200 || !strings.Contains(r.Body, `"id":"initech"`) {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	r = call("GET", "/admin/v1/tenants/initech", op, "")
	if r.Status != 200 || r.Header.Get("ETag") != `"6"` {
		t.Fatalf("get: %d %v %s", r.Status, r.Header, r.Body)
	}
	for _, b := range bodies {
		if strings.Contains(b, plainSecret) || strings.Contains(b, plainToken) || strings.Contains(b, "sealed") {
			t.Fatalf("a secret is in an answer: %s", b)
		}
	}
}

// TestTenantRecordsPartnerAdmin: a partner admin reads its own record,
// edits only its sign-in provider (If-Match), tests discovery and reads
// its request summary; it cannot create, replace, suspend or touch
// another tenant; a customer manager cannot edit the sign-in.
func TestTenantRecordsPartnerAdmin(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	op, pa, cm := e.Token(t, "op-1"), e.Token(t, "pa-acme"), e.Token(t, "cm-acme")
	for _, id := range []string{"acme", "globex"} {
		if r := e.API(t, "POST", "/admin/v1/tenants?skip_discovery=true", op, tenantBody(id, "console."+id+".test"), "Content-Type", jsonCT); r.Status != 201 {
			t.Fatalf("create %s: %d %s", id, r.Status, r.Body)
		}
	}
	signIn := `{"issuer":"` + e.IDP.Issuer() + `","client_id":"livery","scopes":["openid"],"account_claim":"sub"}`
	for _, tc := range []struct {
		who, method, path, body string
		headers                 []string
		status                  int
	}{
		{"pa-acme", "GET", "/admin/v1/tenants/acme", "", nil, 200},
		{"pa-acme", "GET", "/admin/v1/tenants/globex", "", nil, 403},
		{"pa-acme", "GET", "/admin/v1/tenants", "", nil, 403},
		{"pa-acme", "POST", "/admin/v1/tenants?skip_discovery=true", tenantBody("hooli", "hooli.test"), nil, 403},
		{"pa-acme", "PUT", "/admin/v1/tenants/acme", tenantBody("acme", "console.acme.test"), []string{"If-Match", `"1"`}, 403},
		{"pa-acme", "POST", "/admin/v1/tenants/acme/suspend", `{"reason":"x"}`, nil, 403},
		{"pa-acme", "POST", "/admin/v1/tenants/acme/resume", "", nil, 403},
		{"pa-acme", "PUT", "/admin/v1/tenants/globex/sign-in", signIn, []string{"If-Match", `"1"`}, 403},
		{"pa-acme", "POST", "/admin/v1/tenants/globex/sign-in/test", `{"issuer":""}`, nil, 403},
		{"pa-acme", "GET", "/admin/v1/tenants/globex/partner-api/summary", "", nil, 403},
		{"pa-acme", "PUT", "/admin/v1/tenants/acme/sign-in", signIn, nil, 428},
		{"pa-acme", "PUT", "/admin/v1/tenants/acme/sign-in", signIn, []string{"If-Match", `"7"`}, 412},
		{"pa-acme", "PUT", "/admin/v1/tenants/acme/sign-in", `{"issuer":"x","name":"y"}`, []string{"If-Match", `"1"`}, 400},
		{"pa-acme", "PUT", "/admin/v1/tenants/acme/sign-in", `{"issuer":"ftp://x","client_id":""}`, []string{"If-Match", `"1"`}, 400},
		{"pa-acme", "GET", "/admin/v1/tenants/acme/partner-api/summary?days=0", "", nil, 400},
		{"pa-acme", "GET", "/admin/v1/tenants/acme/partner-api/summary?days=32", "", nil, 400},
		{"cm-acme", "GET", "/admin/v1/tenants/acme", "", nil, 403},
		{"cm-acme", "PUT", "/admin/v1/tenants/acme/sign-in", signIn, []string{"If-Match", `"1"`}, 403},
		{"cm-acme", "POST", "/admin/v1/tenants/acme/sign-in/test", `{"issuer":""}`, nil, 403},
		{"cm-acme", "GET", "/admin/v1/tenants/acme/partner-api/summary", "", nil, 403},
	} {
		tok := map[string]string{"pa-acme": pa, "cm-acme": cm}[tc.who]
		h := tc.headers
		if tc.body != "" {
			h = append(h, "Content-Type", jsonCT)
		}
		if r := e.API(t, tc.method, tc.path, tok, tc.body, h...); r.Status != tc.status {
			t.Errorf("%s %s %s: %d %s, want %d", tc.who, tc.method, tc.path, r.Status, r.Body, tc.status)
		}
	}
	// The partner admin's sign-in edit changes the sign-in only and keeps
	// the secret.
	r := e.API(t, "PUT", "/admin/v1/tenants/acme/sign-in", pa, signIn, "Content-Type", jsonCT, "If-Match", `"1"`)
	if r.Status != 200 || r.Header.Get("ETag") != `"2"` || !strings.Contains(r.Body, `"client_secret_set":true`) ||
		!strings.Contains(r.Body, `"client_id":"livery"`) || !strings.Contains(r.Body, `"upstream":"https://cloud.example/"`) {
		t.Fatalf("sign-in edit: %d %s", r.Status, r.Body)
	}
	rec, _ := e.Records.Get(context.Background(), "acme")
	if rec.Provisioner.Kind != "http" || len(rec.Provisioner.TokenSealed) == 0 || rec.Name.EN != "acme Inc" || rec.UpdatedBy != "pa-acme" {
		t.Fatalf("other settings changed: %+v", rec)
	}
	// Discovery: the test IdP works; a closed port is explained.
	r = e.API(t, "POST", "/admin/v1/tenants/acme/sign-in/test", pa, `{"issuer":""}`, "Content-Type", jsonCT)
	if r.Status != 200 || r.JSON(t)["ok"] != true || r.JSON(t)["issuer"] != e.IDP.Issuer() {
		t.Fatalf("probe stored issuer: %d %s", r.Status, r.Body)
	}
	r = e.API(t, "POST", "/admin/v1/tenants/acme/sign-in/test", pa, `{"issuer":"http://127.0.0.1:1"}`, "Content-Type", jsonCT)
	if m := r.JSON(t); r.Status != 200 || m["ok"] != false || m["reason"] != "unreachable" || m["message_zh"] == "" || m["message"] == "" {
		t.Fatalf("probe closed port: %d %s", r.Status, r.Body)
	}
	// The request summary.
	ctx := context.Background()
	e.Stats.Record(ctx, "acme", "create", "")
	e.Stats.Record(ctx, "acme", "create", "")
	e.Stats.Record(ctx, "acme", "query", "CBC.0154")
	e.Stats.Record(ctx, "globex", "create", "")
	r = e.API(t, "GET", "/admin/v1/tenants/acme/partner-api/summary", pa, "")
	if r.Status != 200 || r.JSON(t)["total"] != 3.0 || r.JSON(t)["days"] != 7.0 ||
		!strings.Contains(r.Body, `{"operation":"create","code":"success","count":2}`) || !strings.Contains(r.Body, `"code":"CBC.0154"`) {
		t.Fatalf("summary: %d %s", r.Status, r.Body)
	}
	if r := e.API(t, "GET", "/admin/v1/tenants/globex/partner-api/summary?days=31", op, ""); r.Status != 200 || r.JSON(t)["total"] != 1.0 {
		t.Fatalf("operator summary: %d %s", r.Status, r.Body)
	}
}

// TestTenantIssuerDiscoveryOnSave: a new or changed sign-in issuer is
// saved only when its discovery works (else 400 naming sign_in.issuer,
// both languages), unless ?skip_discovery=true; an unchanged one is not
// probed again.
func TestTenantIssuerDiscoveryOnSave(t *testing.T) {
	e := gatewaytest.NewStaffEnv(t)
	op := e.Token(t, "op-1")
	body := strings.Replace(tenantBody("wayne", "console.wayne.test"), "https://idp.example", e.IDP.Issuer(), 1)
	if r := e.API(t, "POST", "/admin/v1/tenants", op, body, "Content-Type", jsonCT); r.Status != 201 {
		t.Fatalf("create with a working issuer: %d %s", r.Status, r.Body)
	}
	down := strings.Replace(body, e.IDP.Issuer(), "http://127.0.0.1:1", 1)
	r := e.API(t, "PUT", "/admin/v1/tenants/wayne", op, down, "Content-Type", jsonCT, "If-Match", `"1"`)
	if r.Status != 400 || !strings.Contains(r.Body, `"field":"sign_in.issuer"`) || !strings.Contains(r.Body, "message_zh") {
		t.Fatalf("changed to an issuer without discovery: %d %s", r.Status, r.Body)
	}
	if g := e.API(t, "GET", "/admin/v1/tenants/wayne", op, ""); !strings.Contains(g.Body, e.IDP.Issuer()) || g.Header.Get("ETag") != `"1"` {
		t.Fatalf("the refused change was stored: %s", g.Body)
	}
	if r := e.API(t, "PUT", "/admin/v1/tenants/wayne?skip_discovery=true", op, down, "Content-Type", jsonCT, "If-Match", `"1"`); r.Status != 200 {
		t.Fatalf("skip_discovery: %d %s", r.Status, r.Body)
	}
	// Unchanged (still down): saved without probing.
	si := `{"issuer":"http://127.0.0.1:1","client_id":"console2","scopes":["openid"]}`
	if r := e.API(t, "PUT", "/admin/v1/tenants/wayne/sign-in", op, si, "Content-Type", jsonCT, "If-Match", `"2"`); r.Status != 200 {
		t.Fatalf("sign-in edit with the issuer unchanged: %d %s", r.Status, r.Body)
	}
}
