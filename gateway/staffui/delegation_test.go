package staffui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/staffui"
	"github.com/livery/livery/tenants"
)

// location asserts a 303 whose Location contains want.
func location(t *testing.T, what string, r gatewaytest.Response, want string) {
	t.Helper()
	if loc := r.Header.Get("Location"); r.Status != http.StatusSeeOther || !strings.Contains(loc, want) {
		t.Fatalf("%s: %d %q, want 303 with %q: %.300s", what, r.Status, loc, want, r.Body)
	}
}

func customerOf(e *uiEnv, label string) authz.Subject {
	return authz.Subject{User: "cust-" + label, Roles: []string{authz.RoleCustomer}, Tenant: "acme", Customer: e.Cust[label].DomainID}
}

// TestDelegationCustomerPage: the agreement first (only a partner admin
// accepts it), the request form (scopes, duration, reason; refusals shown
// as messages), the pending request and its withdrawal (confirmation
// first), the active grant with the operate confirmation posting to the
// switch route and its revocation (confirmation first); a customer
// manager acts only on their customers; a referral customer gets no form.
func TestDelegationCustomerPage(t *testing.T) {
	e := newUIEnv(t)
	pa, cm := e.as(t, "pa-acme"), e.as(t, "cm-acme")
	x, y := e.Cust["X"].DomainID, e.Cust["Y"].DomainID
	xPage := "/ui/t/acme/customers/" + x
	svc := e.Delegations
	ctx := t.Context()

	// The agreement: shown with its text; only the partner admin accepts.
	r := e.get(t, pa, xPage)
	checkPage(t, xPage, r)
	ag := delegation.Agreement()
	if r.Status != 200 || !strings.Contains(r.Body, "Delegated operations") || !strings.Contains(r.Body, "Accept the agreement (version "+ag.Version+")") ||
		!strings.Contains(r.Body, firstWords(ag.EN)) || !strings.Contains(r.Body, firstWords(ag.ZH)) {
		t.Fatalf("pa before acceptance: %d %s", r.Status, gatewaytest.Grep(r.Body, "agreement"))
	}
	r = e.get(t, cm, xPage)
	if !strings.Contains(r.Body, "A partner admin must accept") || strings.Contains(r.Body, `action="/ui/t/acme/delegation-agreement"`) {
		t.Fatalf("cm before acceptance: %s", gatewaytest.Grep(r.Body, "agreement"))
	}
	paTok := e.csrf(t, pa, xPage)
	req := url.Values{"_csrf": {paTok}, "scopes": {"resources", "power"}, "duration_hours": {"168"}, "reason": {"Migrate the VMs"}}
	r = e.post(t, pa, xPage+"/delegations", req)
	location(t, "request before the agreement", r, "err=agreement_required")
	r = e.post(t, pa, "/ui/t/acme/delegation-agreement", url.Values{"_csrf": {paTok}, "version": {"1999-01"}, "customer": {x}})
	location(t, "old version", r, "err=agreement_version")
	r = e.post(t, pa, "/ui/t/acme/delegation-agreement", url.Values{"_csrf": {paTok}, "version": {ag.Version}, "customer": {x}})
	location(t, "accept", r, xPage+"?done=done.agreement_accepted#delegation")
	if _, ok, err := svc.Accepted(ctx, "acme"); err != nil || !ok {
		t.Fatalf("not accepted: %v %v", ok, err)
	}

	// The request form: every scope, the durations; refusals as messages.
	cmTok := e.csrf(t, cm, xPage)
	req.Set("_csrf", cmTok)
	if r := e.post(t, cm, "/ui/t/acme/delegation-agreement", url.Values{"_csrf": {cmTok}, "version": {ag.Version}}); r.Status != http.StatusForbidden {
		t.Fatalf("cm accepts the agreement: %d", r.Status)
	}
	r = e.get(t, cm, xPage)
	for _, s := range delegation.Scopes() {
		if !strings.Contains(r.Body, `name="scopes" value="`+string(s.Scope)+`"`) || !strings.Contains(r.Body, s.EN) {
			t.Errorf("no checkbox for scope %s", s.Scope)
		}
	}
	for _, h := range []string{"1", "24", "168", "720", "2160", "8760"} {
		if !strings.Contains(r.Body, `<option value="`+h+`"`) {
			t.Errorf("no duration %s h", h)
		}
	}
	for _, tc := range []struct {
		name, key, value, want string
	}{
		{"no scope", "scopes", "", "err=bad_scope"},
		{"unknown scope", "scopes", "marketplace", "err=bad_scope"},
		{"no reason", "reason", " ", "err=reason_required"},
		{"duration 0", "duration_hours", "0", "err=bad_duration"},
		{"duration over a year", "duration_hours", "8761", "err=bad_duration"},
	} {
		f := url.Values{}
		for k, v := range req {
			f[k] = v
		}
		if tc.value == "" {
			f.Del(tc.key)
		} else {
			f.Set(tc.key, tc.value)
		}
		r := e.post(t, cm, xPage+"/delegations", f)
		location(t, tc.name, r, tc.want)
	}
	if _, ok, _ := svc.Pending(ctx, "acme", x); ok {
		t.Fatal("a refused form stored a request")
	}
	if p := e.get(t, cm, xPage+"?err=bad_scope"); !strings.Contains(p.Body, `id="scopes-err"`) || !strings.Contains(p.Body, "Tick at least one scope") {
		t.Errorf("bad scope message not beside the scopes: %s", gatewaytest.Grep(p.Body, "scopes-err"))
	}
	// Another manager's customer: 404, nothing stored.
	if r := e.post(t, cm, "/ui/t/acme/customers/"+y+"/delegations", req); r.Status != http.StatusNotFound {
		t.Fatalf("cm requests for Y: %d", r.Status)
	}
	r = e.post(t, cm, xPage+"/delegations", req)
	location(t, "request", r, "done=done.grant_requested")
	pend, ok, err := svc.Pending(ctx, "acme", x)
	if err != nil || !ok || pend.RequestedBy.User != "cm-acme" || len(pend.Scopes) != 2 || pend.Duration != 168*time.Hour || pend.Reason != "Migrate the VMs" {
		t.Fatalf("pending: %+v %v %v", pend, ok, err)
	}
	r = e.get(t, cm, xPage)
	if !strings.Contains(r.Body, "Request waiting for the customer") || !strings.Contains(r.Body, "Manage resources") ||
		!strings.Contains(r.Body, "/ui/t/acme/delegations/"+pend.ID+"/withdraw") || strings.Contains(r.Body, `name="scopes"`) {
		t.Fatalf("pending section: %s", gatewaytest.Grep(r.Body, "delegation"))
	}
	// The grant's events are on the customer page too (both sides see them).
	if !strings.Contains(r.Body, "Delegation history") || !strings.Contains(r.Body, "<code>"+delegation.EventRequested+"</code>") {
		t.Fatalf("no delegation history: %s", gatewaytest.Grep(r.Body, "ev-h"))
	}
	r = e.post(t, cm, xPage+"/delegations", req)
	location(t, "second request", r, "err=delegation_pending")

	// Withdraw: the confirmation first.
	w := "/ui/t/acme/delegations/" + pend.ID + "/withdraw"
	r = e.post(t, cm, w, url.Values{"_csrf": {cmTok}})
	if r.Status != 200 || !strings.Contains(r.Body, `name="confirm" value="yes"`) || !strings.Contains(r.Body, "acme_x_corp") {
		t.Fatalf("withdraw confirmation: %d %.400s", r.Status, r.Body)
	}
	if _, ok, _ := svc.Pending(ctx, "acme", x); !ok {
		t.Fatal("withdrawn before the confirmation")
	}
	r = e.post(t, cm, w, url.Values{"_csrf": {cmTok}, "confirm": {"yes"}})
	location(t, "withdraw", r, "done=done.grant_withdrawn")
	if g, err := svc.Get(ctx, "acme", pend.ID); err != nil || g.State != delegation.StateWithdrawn {
		t.Fatalf("after withdraw: %v %v", g.State, err)
	}
	r = e.post(t, cm, w, url.Values{"_csrf": {cmTok}, "confirm": {"yes"}})
	location(t, "withdraw again", r, "err=grant_state")

	// Request again; the customer approves: the active grant.
	location(t, "request 2", e.post(t, cm, xPage+"/delegations", req), "done=done.grant_requested")
	pend, _, _ = svc.Pending(ctx, "acme", x)
	if _, err := svc.Approve(ctx, "acme", pend.ID, customerOf(e, "X")); err != nil {
		t.Fatal(err)
	}
	r = e.get(t, cm, xPage)
	op := "/ui/t/acme/delegations/" + pend.ID + "/operate"
	if !strings.Contains(r.Body, "Active grant") || !strings.Contains(r.Body, `href="`+op+`"`) || !strings.Contains(r.Body, "Operate this console") ||
		!strings.Contains(r.Body, "/ui/t/acme/delegations/"+pend.ID+"/revoke") || !strings.Contains(r.Body, "6 d 23 h left") {
		t.Fatalf("active section: %s", gatewaytest.Grep(r.Body, "delegation"))
	}
	// A request now names the active grant it replaces.
	if !strings.Contains(r.Body, `name="replaces" value="`+pend.ID+`"`) {
		t.Errorf("request form without replaces: %s", gatewaytest.Grep(r.Body, "replaces"))
	}
	r = e.get(t, cm, op)
	checkPage(t, op, r)
	if r.Status != 200 || !strings.Contains(r.Body, `action="/admin/v1/tenants/acme/delegations/`+pend.ID+`/switch"`) ||
		!csrfField.MatchString(r.Body) || !strings.Contains(r.Body, "Switch into the console of acme_x_corp for Acme?") {
		t.Fatalf("operate confirmation: %d %s", r.Status, gatewaytest.Grep(r.Body, "switch"))
	}
	// The switch answers with a redirect to the console: the page's
	// form-action allows the console's origin (browsers check redirects).
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+e.ConsoleURL+";") {
		t.Errorf("operate confirmation policy %q does not allow the console %s", csp, e.ConsoleURL)
	}

	// Revoke: the confirmation first.
	rv := "/ui/t/acme/delegations/" + pend.ID + "/revoke"
	if r := e.post(t, pa, rv, url.Values{"_csrf": {paTok}}); r.Status != 200 || !strings.Contains(r.Body, `name="confirm" value="yes"`) {
		t.Fatalf("revoke confirmation: %d", r.Status)
	}
	if _, ok, _ := svc.ActiveGrant(ctx, "acme", x); !ok {
		t.Fatal("revoked before the confirmation")
	}
	r = e.post(t, pa, rv, url.Values{"_csrf": {paTok}, "confirm": {"yes"}})
	location(t, "revoke", r, "done=done.grant_revoked")
	if g, _ := svc.Get(ctx, "acme", pend.ID); g.State != delegation.StateRevoked || g.RevokedBy == nil || g.RevokedBy.User != "pa-acme" {
		t.Fatalf("after revoke: %+v", g)
	}
	// Operating under an ended grant: back with a message.
	r = e.get(t, cm, op)
	location(t, "operate after revoke", r, "err=grant_not_active")

	// A grant of Y (pa's): hidden from cm everywhere.
	yg, err := svc.Request(ctx, "acme", delegation.RequestInput{Customer: y, Scopes: []delegation.Scope{delegation.ScopeBilling},
		Duration: time.Hour, Reason: "Renew"}, authz.Subject{User: "pa-acme", Roles: []string{authz.RolePartnerAdmin}, Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/ui/t/acme/delegations/" + yg.ID + "/operate"} {
		if r := e.get(t, cm, p); r.Status != http.StatusNotFound {
			t.Errorf("cm GET %s: %d", p, r.Status)
		}
	}
	if r := e.post(t, cm, "/ui/t/acme/delegations/"+yg.ID+"/withdraw", url.Values{"_csrf": {cmTok}, "confirm": {"yes"}}); r.Status != http.StatusNotFound {
		t.Errorf("cm withdraws Y's request: %d", r.Status)
	}
	if _, ok, _ := svc.Pending(ctx, "acme", y); !ok {
		t.Fatal("cm withdrew Y's request")
	}

	// A referral customer: no form; a forged request is refused.
	ref, err := e.Customers.Create(ctx, "acme", tenants.Registration{XAccountID: "acct-r", XAccountType: "acme-platform",
		DomainName: "acme_ref_corp", AssociationType: delegation.AssociationReferral}, tenants.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	r = e.get(t, pa, "/ui/t/acme/customers/"+ref.DomainID)
	if !strings.Contains(r.Body, "only for resale customers") || strings.Contains(r.Body, `name="scopes"`) {
		t.Fatalf("referral customer page: %s", gatewaytest.Grep(r.Body, "delegation"))
	}
	req.Set("_csrf", paTok)
	r = e.post(t, pa, "/ui/t/acme/customers/"+ref.DomainID+"/delegations", req)
	location(t, "referral request", r, "err=referral_customer")

	// Without the form token: refused.
	if r := e.post(t, pa, xPage+"/delegations", url.Values{"scopes": {"resources"}, "duration_hours": {"1"}, "reason": {"x"}}); r.Status != http.StatusForbidden {
		t.Fatalf("no CSRF token: %d", r.Status)
	}
	// Another partner: 403 before anything is read.
	if r := e.get(t, pa, "/ui/t/globex/delegations"); r.Status != http.StatusForbidden {
		t.Fatalf("pa-acme on globex: %d", r.Status)
	}
	if r := e.post(t, pa, "/ui/t/globex/customers/"+e.Cust["G"].DomainID+"/delegations", req); r.Status != http.StatusForbidden {
		t.Fatalf("pa-acme requests for globex: %d", r.Status)
	}
	// Chinese: the scope labels in Chinese.
	r = e.get(t, pa, "/ui/t/acme/customers/"+e.Cust["Z"].DomainID, "Accept-Language", "zh-CN")
	if !strings.Contains(r.Body, delegation.Scopes()[0].ZH) || !strings.Contains(r.Body, "代客运维") {
		t.Fatalf("zh page: %s", gatewaytest.Grep(r.Body, "scopes"))
	}
}

// TestGrantsPage: every grant, newest first, the state filter, paging by
// the service's cursor; a customer manager sees only their customers'.
func TestGrantsPage(t *testing.T) {
	e := newUIEnv(t)
	ctx := t.Context()
	svc := e.Delegations
	pa := authz.Subject{User: "pa-acme", Roles: []string{authz.RolePartnerAdmin}, Tenant: "acme"}
	if _, err := svc.AcceptAgreement(ctx, "acme", delegation.AgreementVersion, pa); err != nil {
		t.Fatal(err)
	}
	in := func(label string) delegation.RequestInput {
		return delegation.RequestInput{Customer: e.Cust[label].DomainID, Scopes: []delegation.Scope{delegation.ScopeFinanceRead},
			Duration: 24 * time.Hour, Reason: "Check the bills"}
	}
	// 21 withdrawn requests of Z, one pending of X, one active of Y.
	for i := 0; i < 21; i++ {
		g, err := svc.Request(ctx, "acme", in("Z"), pa)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Withdraw(ctx, "acme", g.ID, pa); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Request(ctx, "acme", in("X"), pa); err != nil {
		t.Fatal(err)
	}
	yg, err := svc.Request(ctx, "acme", in("Y"), pa)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Approve(ctx, "acme", yg.ID, customerOf(e, "Y")); err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`<tr><td><a href="/ui/t/acme/customers/`)
	next := regexp.MustCompile(`href="\?([^"]+)" rel="next"`)
	c := e.as(t, "pa-acme")
	r := e.get(t, c, "/ui/t/acme/delegations")
	checkPage(t, "/ui/t/acme/delegations", r)
	if n := len(rows.FindAllString(r.Body, -1)); r.Status != 200 || n != 20 || !strings.Contains(r.Body, `href="/ui/t/acme/delegations"`) {
		t.Fatalf("first page: %d, %d rows", r.Status, n)
	}
	// Newest first: Y's active grant, then X's pending request.
	if iy, ix := strings.Index(r.Body, "acme_y_corp"), strings.Index(r.Body, "acme_x_corp"); iy < 0 || ix < iy {
		t.Errorf("order: y at %d, x at %d", iy, ix)
	}
	m := next.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatal("no next page")
	}
	t.Logf("next: %s", m[1])
	r = e.get(t, c, "/ui/t/acme/delegations?"+strings.ReplaceAll(m[1], "&amp;", "&"))
	if n := len(rows.FindAllString(r.Body, -1)); n != 3 || next.MatchString(r.Body) {
		t.Fatalf("second page: %d rows", n)
	}
	r = e.get(t, c, "/ui/t/acme/delegations?state=approved")
	if n := len(rows.FindAllString(r.Body, -1)); n != 1 || !strings.Contains(r.Body, "acme_y_corp") || !strings.Contains(r.Body, `value="approved" selected`) {
		t.Fatalf("state filter: %d rows", n)
	}
	if r := e.get(t, c, "/ui/t/acme/delegations?c=bogus"); r.Status != http.StatusBadRequest {
		t.Fatalf("bad cursor: %d", r.Status)
	}
	// The customer manager of X: only X's grant.
	r = e.get(t, e.as(t, "cm-acme"), "/ui/t/acme/delegations")
	if n := len(rows.FindAllString(r.Body, -1)); r.Status != 200 || n != 1 || !strings.Contains(r.Body, "acme_x_corp") {
		t.Fatalf("cm page: %d, %d rows", r.Status, n)
	}
	if r := e.get(t, e.as(t, "cm-acme"), "/ui/"); !strings.Contains(r.Body, `href="/ui/t/acme/delegations"`) {
		t.Error("no Delegations link in the cm's navigation")
	}
}

// TestDelegationErrorTexts: every refusal of delegated operations has a
// text in both languages.
func TestDelegationErrorTexts(t *testing.T) {
	for _, code := range staffui.DelegationErrorCodes() {
		en, zh, ok := staffui.StaffuiText("err." + code)
		if !ok || en == "" || zh == "" {
			t.Errorf("no text for %q", code)
		}
	}
}

func firstWords(s string) string {
	r := []rune(s)
	if len(r) > 12 {
		r = r[:12]
	}
	return string(r)
}
