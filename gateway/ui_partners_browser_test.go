package gateway_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/tenants/records"
)

// TestBrowserPartnerPages: the partner pages in real Chromium, checked
// with axe-core and for CSP violations, in both languages and at phone
// width: the operator onboards a partner (a refusal shown beside its
// field first), opens its settings and the suspension confirmation; the
// partner admin's integration page runs the discovery test.
func TestBrowserPartnerPages(t *testing.T) {
	chromiumPath(t)
	axe := axeSource(t)
	e := newUIEnv(t)
	ctx := context.Background()
	if _, err := e.Records.Create(ctx, records.Input{ID: "acme", Name: records.Names{ZH: "阿克米", EN: "Acme"}, Hosts: []string{"console.acme.test"},
		Upstream: "https://cloud.example/", SignIn: &records.SignInInput{Issuer: e.IDP.Issuer(), ClientID: "livery"}},
		authz.Subject{User: "op-1", Roles: []string{authz.RoleOperator}}); err != nil {
		t.Fatal(err)
	}
	e.Stats.Record(ctx, "acme", "create", "")
	e.Stats.Record(ctx, "acme", "create", "CBC.0101")
	browser := startBrowser(t, 90*time.Second)

	op := newUITab(t, browser, e, axe, "operator")
	op.signIn("op-1")
	for _, w := range []int64{1280, 390} {
		op.viewport(w, 844)
		for _, l := range []string{"zh", "en"} {
			for _, p := range []string{"/ui/partners", "/ui/onboarding", "/ui/partners/acme"} {
				op.openChecked(p, l)
			}
		}
	}
	op.viewport(1280, 844)
	// A refusal beside its field, then the partner is created.
	op.open(e.UIURL("/ui/onboarding?lang=en"))
	op.typeInto(`#id`, "initech")
	op.typeInto(`#name_zh`, "英泰克")
	op.typeInto(`#name_en`, "Initech")
	op.typeInto(`#hosts`, "console.acme.test")
	op.typeInto(`#upstream`, "ftp://cloud.example/")
	op.click("create with problems", `form#partner button[type=submit]`)
	op.mustSee("refusals", "fields need attention", "must")
	op.check("onboarding refusals")
	op.typeInto(`#upstream`, "https://cloud.example/")
	op.click("create with a host of acme", `form#partner button[type=submit]`)
	op.mustSee("host conflict", `"console.acme.test" is already used by partner "acme"`)
	op.check("host conflict")
	op.typeInto(`#hosts`, "console.initech.test")
	op.click("create", `form#partner button[type=submit]`)
	op.mustFlash("create", "done.partner_created")
	op.check("new partner settings")
	op.typeInto(`#reason`, "合同到期 / contract ended")
	op.click("suspend", `form[action="/ui/partners/initech/suspend"] button[type=submit]`)
	op.check("suspend confirmation")
	op.click("confirm suspension", `main form button.danger`)
	op.mustFlash("suspended", "done.partner_suspended")

	pa := newUITab(t, browser, e, axe, "partner admin")
	pa.signIn("pa-acme")
	for _, w := range []int64{1280, 390} {
		pa.viewport(w, 844)
		for _, l := range []string{"zh", "en"} {
			pa.openChecked("/ui/t/acme/integration", l)
		}
	}
	pa.click("test the provider", chromedp.CSS(`button[formaction="/ui/t/acme/integration/test"]`))
	pa.mustSee("probe", "Test passed")
	pa.check("probe result")
}
