package gatewaytest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/livery/livery/branding/render"
	"github.com/livery/livery/cmd/demopartner/idp"
	"github.com/livery/livery/gateway"
)

// UIEnv is the environment of the staff web UI's journeys: a BrandEnv
// (branding workflow, live cache, console preview, the UI on the API
// listener) in front of the console at upstream, the UI's previews
// rendered with the console's chrome settings up. Staff sign in through
// the test IdP's real authorization-code flow, typing UIPassword into its
// login form.
//
// Tenants: acme (A; console host 127.0.0.1, so ConsoleURL is acme's) and
// globex (B). Staff: "op-1" operator, "pa-acme" partner admin of acme,
// "cm-acme" customer manager of acme, "pa-globex" partner admin of
// globex. Customers of acme: X (console customer "cust-1", managed by
// cm-acme), Y (managed by someone-else) and Z (no manager); their domain
// names are in Cust.
type UIEnv struct{ *BrandEnv }

// UIPassword is every IdP account's password in a UIEnv.
const UIPassword = "pw"

// NewUIEnv starts a UIEnv; each extra adjusts the gateway options after
// the env's own.
func NewUIEnv(t testing.TB, upstream *url.URL, up render.Upstream, extra ...func(e *StaffEnv, o *gateway.Options)) *UIEnv {
	t.Helper()
	e := &UIEnv{NewBrandEnvOn(t, upstream, up, extra...)}
	if err := e.IDP.AddUser(idp.User{Subject: "pa-globex", Name: "Greta Admin", Password: UIPassword,
		Claims: map[string]any{"groups": []string{"acme-admins"}, "partner": "globex"}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// UIURL is the API listener's URL of path (e.g. "/ui/reviews").
func (e *UIEnv) UIURL(path string) string { return e.APIURL + path }

// Draft reads tenant's draft through the admin API as token (an ID token
// from Token): the document as JSON and its ETag ("" when there is none).
func (e *UIEnv) Draft(t testing.TB, tenant, token string) (map[string]any, string) {
	t.Helper()
	r := e.API(t, http.MethodGet, "/admin/v1/tenants/"+tenant+"/branding/draft", token, "")
	if r.Status != http.StatusOK {
		t.Fatalf("draft of %s: %d %s", tenant, r.Status, r.Body)
	}
	var d struct {
		Doc map[string]any `json:"doc"`
	}
	DecodeJSON(t, r.Body, &d)
	return d.Doc, r.Header.Get("ETag")
}

// PutDraft saves doc as tenant's draft through the admin API as token,
// conditional on etag, failing the test unless it is saved.
func (e *UIEnv) PutDraft(t testing.TB, tenant, token string, doc map[string]any, etag string) {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	hdr := []string{"Content-Type", "application/json"}
	if etag != "" {
		hdr = append(hdr, "If-Match", etag)
	}
	if r := e.API(t, http.MethodPut, "/admin/v1/tenants/"+tenant+"/branding/draft", token, string(b), hdr...); r.Status != http.StatusOK {
		t.Fatalf("saving %s's draft: %d %s", tenant, r.Status, r.Body)
	}
}
