package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"

	"github.com/livery/livery/association"
	"github.com/livery/livery/authz"
	"github.com/livery/livery/cmd/demopartner/idp"
)

// cloudAccount is the invited customer's existing cloud account (the
// subject at the cloud's own provider).
const cloudAccount = "c10ad0000000000000000000000a0001"

// associationWorld is one running gateway with the partner nova (its own
// provider for customers and staff) and the cloud's account sign-in.
type associationWorld struct {
	staffWorld
	partner, cloud *idp.Provider
}

func startAssociationWorld(t *testing.T) associationWorld {
	t.Helper()
	partner, psrv, err := idp.NewTestServer(idp.Options{Users: []idp.User{
		{Subject: "pat", Name: "Pat", Password: "pw", Claims: map[string]any{"groups": []string{"nova-admins"}, "partner": "nova"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(psrv.Close)
	cloud, csrv, err := idp.NewTestServer(idp.Options{Users: []idp.User{
		{Subject: cloudAccount, Name: "Li Lei", Password: "pw"},
		{Subject: "c10ad0000000000000000000000a0002", Name: "Han Meimei", Password: "pw"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(csrv.Close)
	up := upstreamSaying(t, "nova")
	extra := `identity:
  cloud_sign_in: {issuer: "` + cloud.Issuer() + `", client_id: livery-cloud}
tenants:
  - id: nova
    name: {zh: 新星云, en: Nova Cloud}
    hosts: [127.0.0.1]
    upstream: "` + up.URL + `"
    oidc: {issuer: "` + partner.Issuer() + `", client_id: nova-console}
`
	w := startStaffWorld(t, partner, extra, map[string]string{
		"LIVERY_TENANTS_0_OIDC_CLIENT_SECRET":         "nova-secret",
		"LIVERY_IDENTITY_CLOUD_SIGN_IN_CLIENT_SECRET": "cloud-secret"})
	if err := cloud.AddClient(idp.Client{ID: "livery-cloud", Secret: "cloud-secret",
		RedirectURIs: []string{w.consoleURL + "/_livery/cloud/callback"}}); err != nil {
		t.Fatal(err)
	}
	return associationWorld{staffWorld: w, partner: partner, cloud: cloud}
}

// axe runs axe-core ($LIVERY_AXE, which scripts/test.sh installs) on the
// person's page and fails the test on serious or critical violations.
func (p *person) axe(where string) {
	p.t.Helper()
	path := os.Getenv("LIVERY_AXE")
	if path == "" {
		p.t.Fatal("this test needs axe-core: run ./scripts/test.sh (it installs it) or set LIVERY_AXE to an axe.min.js")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === "object" || (function () {`+string(src)+"\n})() || true")); err != nil {
		p.t.Fatalf("%s: injecting axe-core on %s: %v", p.name, where, err)
	}
	type violation struct{ ID, Impact, Help string }
	res, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Passes     int
		Violations []violation
	}](`axe.run(document, {resultTypes: ["violations"]}).then((r) => ({passes: r.passes.length,
  violations: r.violations.map((v) => ({id: v.id, impact: v.impact || "", help: v.help}))}))`, chromedp.EvalAwaitPromise))
	if err != nil || res.Passes == 0 {
		p.t.Fatalf("%s: axe.run on %s: %v (%d rules passed)", p.name, where, err, res.Passes)
	}
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			p.t.Errorf("%s: axe %s (%s) on %s: %s", p.name, v.ID, v.Impact, where, v.Help)
		}
	}
}

// TestAssociationJourneyInChromium: the whole customer association in a
// real browser. The partner admin invites; the customer, who has a cloud
// account and no account at the partner, opens the link, signs in with
// the cloud account, signs the notice and accepts, and the console opens;
// the partner sees "accepted" and the customer in ListSubCustomers
// (official SDK); the partner requests a change to resale, the customer
// confirms it in My partners, and a second change is refused with the
// next allowed date. LIVERY_JOURNEY_SHOTS=DIR saves the screenshots
// docs/association.md shows.
func TestAssociationJourneyInChromium(t *testing.T) {
	w := startAssociationWorld(t)
	ctx := context.Background()
	browser := chromium(t, 3*time.Minute)

	w.partner.SetAutoLogin("pat")
	pa := newPerson(t, browser, "partner admin")
	pa.do("open the invitations", chromedp.Navigate(w.apiURL+"/ui/t/nova/invitations?lang=en"), chromedp.WaitVisible(chromedp.CSS(`#new-inv-h`)))
	pa.do("create an online referral invitation", chromedp.Click(chromedp.CSS(`form[action="/ui/t/nova/invitations"] button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#inv-link`)))
	link := strings.TrimSpace(eval[string](pa, `document.querySelector("#inv-link").textContent`))
	if !strings.HasPrefix(link, w.consoleURL+"/_livery/invitations/") {
		t.Fatalf("the invitation link %q is not on nova's console %s", link, w.consoleURL)
	}
	pa.shot("association-1-partner-link")

	// The customer: signed out, the link offers the cloud account sign-in.
	w.cloud.SetAutoLogin(cloudAccount)
	cu := newPerson(t, browser, "customer")
	cu.do("open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`#lp-inv-cloud-signin`)))
	cu.axe("the sign-in choice")
	cu.shot("association-2-customer-sign-in")
	cu.do("sign in with the cloud account", chromedp.Click(chromedp.CSS(`#lp-inv-cloud-signin`)), chromedp.WaitVisible(chromedp.CSS(`#lp-inv-sign`)))
	if txt := cu.text(); !strings.Contains(txt, "Nova Cloud") || !strings.Contains(txt, "Referral") && !strings.Contains(txt, "顾问销售") {
		t.Fatalf("the invitation page:\n%.800s", txt)
	}
	// An invitee session does not open the console before accepting.
	cu.do("try the console first", chromedp.Navigate(w.consoleURL+"/home"), chromedp.WaitReady(chromedp.CSS(`body`)))
	if txt := cu.text(); strings.Contains(txt, "upstream nova") || !strings.Contains(txt, "not associated") && !strings.Contains(txt, "尚未关联") {
		t.Fatalf("an invitee reached the console, or no clear refusal:\n%.600s", txt)
	}
	cu.do("try My partners first", chromedp.Navigate(w.consoleURL+"/_livery/partners"), chromedp.WaitReady(chromedp.CSS(`body`)))
	if txt := cu.text(); strings.Contains(txt, "Active authorizations") || !strings.Contains(txt, "not associated with this partner yet") {
		t.Fatalf("an invitee opened My partners (its grants), or no clear refusal:\n%.600s", txt)
	}
	cu.do("back to the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`#lp-inv-sign`)))
	cu.axe("the invitation and its notice")
	cu.shot("association-3-customer-notice")
	// The same page in Chinese at phone width: axe-clean, nothing wider than the screen.
	eval[string](cu, `document.cookie = "livery_lang=zh; path=/"`)
	cu.do("phone width, Chinese", chromedp.EmulateViewport(390, 844), chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`#lp-inv-sign`)))
	if !strings.Contains(cu.text(), "客户关联合作伙伴须知") {
		t.Fatalf("the notice page in Chinese:\n%.600s", cu.text())
	}
	if wide := eval[bool](cu, `document.documentElement.scrollWidth > window.innerWidth + 1`); wide {
		t.Errorf("the notice page is wider than a 390 px screen (%d px)", eval[int](cu, `document.documentElement.scrollWidth`))
	}
	cu.axe("the notice in Chinese at phone width")
	eval[string](cu, `document.cookie = "livery_lang=en; path=/"`)
	cu.do("desktop width", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`#lp-inv-sign`)))
	cu.do("sign the notice", chromedp.Click(chromedp.CSS(`input[name=agree]`)), chromedp.Click(chromedp.CSS(`#lp-inv-sign`)),
		chromedp.WaitVisible(chromedp.CSS(`#lp-inv-accept`)))
	cu.do("accept", chromedp.Click(chromedp.CSS(`#lp-inv-accept`)), chromedp.WaitVisible(chromedp.CSS(`#lp-association`)))
	if txt := eval[string](cu, `document.querySelector("#lp-assoc-type").textContent`); !strings.Contains(txt, "Referral") && !strings.Contains(txt, "顾问销售") {
		t.Fatalf("My partners after accepting shows type %q", txt)
	}
	cu.shot("association-4-customer-associated")
	cu.do("open the console", chromedp.Navigate(w.consoleURL+"/home"), chromedp.WaitReady(chromedp.CSS(`body`)))
	if txt := cu.text(); !strings.Contains(txt, "upstream nova: /home") {
		t.Fatalf("the associated customer's console:\n%.600s", txt)
	}
	cu.do("agreements", chromedp.Navigate(w.consoleURL+"/_livery/partners/agreements"), chromedp.WaitVisible(chromedp.CSS(`#lp-agreements`)))
	if txt := cu.text(); !strings.Contains(txt, association.NoticeVersion) {
		t.Fatalf("the agreements do not list the signed notice:\n%.600s", txt)
	}
	cu.axe("the agreements")

	// The partner sees it accepted, and the partner API lists it.
	pa.do("reopen the invitations", chromedp.Navigate(w.apiURL+"/ui/t/nova/invitations?lang=en"), chromedp.WaitVisible(chromedp.CSS(`#invitations`)))
	if n := eval[int](pa, `document.querySelectorAll("#invitations .badge.inv-accepted").length`); n != 1 {
		t.Fatalf("the partner's list does not show one accepted invitation:\n%.800s", pa.text())
	}
	pa.shot("association-5-partner-accepted")
	key, sk, err := w.app.Credentials().Create(ctx, "nova")
	if err != nil {
		t.Fatal(err)
	}
	sdk := sdkClient(t, w.apiURL, key.AccessKey, sk)
	typeOf := func() string {
		t.Helper()
		resp, err := sdk.ListSubCustomers(&model.ListSubCustomersRequest{Body: &model.QuerySubCustomerListReq{}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range *resp.CustomerInfos {
			if c.CustomerId == cloudAccount {
				return *c.AssociationType
			}
		}
		return ""
	}
	if got := typeOf(); got != association.TypeReferral {
		t.Fatalf("ListSubCustomers: the invited customer's association type %q, want referral", got)
	}

	// A change to resale, requested by the partner, confirmed by the customer.
	pa.do("open the customer", chromedp.Navigate(w.apiURL+"/ui/t/nova/customers/"+cloudAccount+"?lang=en"), chromedp.WaitVisible(chromedp.CSS(`#assoc-change`)))
	pa.do("request the change", chromedp.SetValue(chromedp.CSS(`#achg-reason`), "moving to resale billing"),
		chromedp.Click(chromedp.CSS(`#assoc-change button.primary`)), chromedp.WaitVisible(chromedp.CSS(`#assoc-pending`)))
	pa.shot("association-6-partner-change-requested")
	if got := typeOf(); got != association.TypeReferral {
		t.Fatalf("the change took effect before the customer confirmed it: %q", got)
	}
	cu.do("open My partners", chromedp.Navigate(w.consoleURL+"/_livery/partners"), chromedp.WaitVisible(chromedp.CSS(`#lp-change-confirm`)))
	if txt := cu.text(); !strings.Contains(txt, "moving to resale billing") {
		t.Fatalf("the pending change does not show its reason:\n%.800s", txt)
	}
	cu.axe("My partners with a pending change")
	cu.shot("association-7-customer-confirms")
	cu.do("confirm", chromedp.Click(chromedp.CSS(`#lp-change-confirm`)), chromedp.WaitVisible(chromedp.CSS(`#lp-next-change`)))
	if got := typeOf(); got != association.TypeResale {
		t.Fatalf("ListSubCustomers after the confirmed change: %q, want resale", got)
	}

	// A second change within three months: no form, the next allowed date.
	pa.do("reopen the customer", chromedp.Navigate(w.apiURL+"/ui/t/nova/customers/"+cloudAccount+"?lang=en"), chromedp.WaitVisible(chromedp.CSS(`#assoc-next`)))
	next := strings.TrimSpace(eval[string](pa, `document.querySelector("#assoc-next").textContent`))
	if eval[bool](pa, `!!document.querySelector("#assoc-change")`) {
		t.Fatalf("the change form is offered again within three months:\n%.800s", pa.text())
	}
	_, err = w.app.svc.assoc.RequestChange(ctx, "nova", cloudAccount, association.KindUnbind, "", "",
		authz.Subject{User: "pat", Roles: []string{authz.RolePartnerAdmin}, Tenant: "nova"})
	var tooSoon *association.TooSoonError
	if !errors.As(err, &tooSoon) || !strings.Contains(next, fmt.Sprint(tooSoon.Next.Year())) {
		t.Fatalf("a second change: %v; the page shows the next allowed date %q", err, next)
	}
	pa.shot("association-8-partner-next-change")
}
