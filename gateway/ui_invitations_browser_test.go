package gateway_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livery/livery/association"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/tenants"
)

// TestBrowserInvitationPages: the customer-association pages of the staff
// UI in Chromium — the invitations list, a new offline invitation's link
// page with its QR image, the customer detail's association section — in
// both languages at desktop and phone width, checked with axe-core and
// for CSP violations (the QR is a data: image).
func TestBrowserInvitationPages(t *testing.T) {
	chromiumPath(t)
	axe := axeSource(t)
	e := newUIEnv(t, func(e *gatewaytest.StaffEnv, o *gatewaytest.Options) {
		o.AssociationPages = association.New(e.Store, association.Options{Accounts: &gatewaytest.AccountBook{},
			Logger: slog.New(slog.DiscardHandler)})
	})
	cust, err := e.Customers.Create(context.Background(), "acme", tenants.Registration{XAccountID: "inv-1",
		XAccountType: "acme-platform", DomainName: "invited_corp", AssociationType: tenants.AssociationResale}, tenants.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	browser := startBrowser(t, 90*time.Second)
	pa := newUITab(t, browser, e, axe, "partner admin")
	pa.signIn("pa-acme")
	for _, w := range []int64{1280, 390} {
		pa.viewport(w, 844)
		for _, l := range []string{"zh", "en"} {
			pa.openChecked("/ui/t/acme/invitations", l)
			pa.openChecked("/ui/t/acme/customers/"+cust.DomainID, l)
			pa.openChecked("/ui/t/acme/customers?manager=cm-acme&on="+time.Now().UTC().Format(time.DateOnly), l)
			pa.openChecked("/ui/t/acme/customers?on=bad", l) // the field's error
		}
	}
	pa.viewport(1280, 844)
	pa.open(e.UIURL("/ui/t/acme/invitations?lang=en"))
	pa.do("choose offline", chromedp.Evaluate[chromedp.Void](`(() => { const r = document.querySelector('input[name=kind][value=offline]'); if (r) r.checked = true })()`))
	pa.click("create the invitation", chromedp.CSS(`form[action="/ui/t/acme/invitations"] button[type=submit]`))
	if !pa.waitFor(`!!document.querySelector('img[src^="data:image/png"]')`, 5*time.Second) {
		t.Fatalf("the new invitation's page has no QR image: %.600s", evalJS[string](pa.browserTab, `document.body.innerText`))
	}
	if txt := evalJS[string](pa.browserTab, `document.body.innerText`); !strings.Contains(txt, "/_livery/invitations/") {
		t.Fatalf("the link is not shown: %.600s", txt)
	}
	pa.check("the new invitation's link page")
}
