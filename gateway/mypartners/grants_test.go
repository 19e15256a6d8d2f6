package mypartners_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/mypartners"
)

const day = 24 * time.Hour

// TestOverviewApproveRevoke: the customer sees the pending request (the
// partner, scopes in its language, duration, reason escaped) in the
// tenant's chrome under a CSP without script, approves it (active at
// once), sees it active with its end, and revokes it after the
// confirmation page.
func TestOverviewApproveRevoke(t *testing.T) {
	e := gatewaytest.NewPartnersEnv(t)
	ctx := context.Background()
	g := e.Request(t, "X", 7*day, `patch <b>the</b> "db"`, delegation.ScopeResources, delegation.ScopeFinanceRead)
	c, _ := e.CustomerSignIn(t)

	r := page(t, e, c, mypartners.Prefix, "Accept-Language", "en")
	wantStatus(t, "overview", r, 200)
	wantIn(t, "overview", r.Body, `id="livery-chrome"`, `id="livery-partners" class="livery-partners" href="/_livery/partners"`, "My partners", "Acme (阿克米)", "Manage resources",
		"View account, spending, orders, discounts and contracts", "7 days", "patch &lt;b&gt;the&lt;/b&gt; &#34;db&#34;",
		`action="/_livery/partners/grants/`+g.ID+`/approve"`, `action="/_livery/partners/grants/`+g.ID+`/reject"`, "pa-acme")
	wantNotIn(t, "overview", r.Body, "<b>the</b>")
	csp := r.Header.Get("Content-Security-Policy")
	if strings.Contains(csp, "script-src") || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	zh := page(t, e, c, mypartners.Prefix, "Accept-Language", "zh-CN")
	wantIn(t, "overview zh", zh.Body, `lang="zh-CN"`, "我的合作伙伴", "阿克米 (Acme)", "管理资源", "7 天", "批准", "拒绝")

	tok := csrfOf(t, r.Body)
	r = post(t, e, c, "/_livery/partners/grants/"+g.ID+"/approve", []string{"_csrf", tok})
	wantStatus(t, "approve", r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != mypartners.Prefix+"?done=approved" {
		t.Fatalf("approve redirects to %q", loc)
	}
	got, err := e.Delegation.Get(ctx, "acme", g.ID)
	if err != nil || got.State != delegation.StateApproved || got.DecidedBy == nil || got.DecidedBy.Customer != e.Cust["X"].DomainID {
		t.Fatalf("after approve: %+v %v", got, err)
	}
	r = page(t, e, c, mypartners.Prefix+"?done=approved")
	wantIn(t, "active", r.Body, "The authorization is active.", `id="lp-active"`, got.EndsAt.UTC().Format("2006-01-02 15:04 UTC"),
		`href="/_livery/partners/grants/`+g.ID+`/revoke"`)
	wantNotIn(t, "active", r.Body, `/approve"`)
	// The authorization history: the request and the approval, newest
	// first, with who did them.
	wantIn(t, "history", r.Body, `id="lp-events"`, "<td>approved</td>", "<td>requested</td>", "<code>"+g.ID+"</code>")
	if strings.Index(r.Body, "<td>approved</td>") > strings.Index(r.Body, "<td>requested</td>") {
		t.Error("history is not newest first")
	}

	// Revocation: the confirmation page, a POST without confirm goes back
	// to it, then the confirmed POST.
	r = page(t, e, c, "/_livery/partners/grants/"+g.ID+"/revoke")
	wantStatus(t, "confirm page", r, 200)
	wantIn(t, "confirm page", r.Body, "Revoke this authorization?", `name="confirm" value="yes"`, "Manage resources")
	r = post(t, e, c, "/_livery/partners/grants/"+g.ID+"/revoke", []string{"_csrf", tok})
	wantStatus(t, "revoke without confirm", r, http.StatusSeeOther)
	if got, _ := e.Delegation.Get(ctx, "acme", g.ID); got.State != delegation.StateApproved {
		t.Fatalf("revoked without confirmation: %s", got.State)
	}
	r = post(t, e, c, "/_livery/partners/grants/"+g.ID+"/revoke", []string{"_csrf", tok, "confirm", "yes", "reason", "done with it"})
	wantStatus(t, "revoke", r, http.StatusSeeOther)
	got, _ = e.Delegation.Get(ctx, "acme", g.ID)
	if got.State != delegation.StateRevoked || got.RevokeReason != "done with it" || got.RevokedBy == nil || got.RevokedBy.Customer != e.Cust["X"].DomainID {
		t.Fatalf("after revoke: %+v", got)
	}
	if _, found, _ := e.Delegation.ActiveGrant(ctx, "acme", e.Cust["X"].DomainID); found {
		t.Fatal("still an active grant after revocation")
	}
	r = page(t, e, c, mypartners.Prefix)
	wantIn(t, "past", r.Body, `id="lp-past"`, "Revoked", "done with it", "No authorization is active.")
	// A second revocation of the ended grant: its confirmation page and
	// the POST are refused with the state.
	wantStatus(t, "confirm ended", page(t, e, c, "/_livery/partners/grants/"+g.ID+"/revoke"), http.StatusConflict)
	wantStatus(t, "revoke ended", post(t, e, c, "/_livery/partners/grants/"+g.ID+"/revoke",
		[]string{"_csrf", tok, "confirm", "yes"}), http.StatusConflict)
}

// TestReject: a rejection with a note is stored with the note; answering
// the rejected request again is a conflict, and a note over 500
// characters is refused.
func TestReject(t *testing.T) {
	e := gatewaytest.NewPartnersEnv(t)
	ctx := context.Background()
	g := e.Request(t, "X", time.Hour, "look at billing", delegation.ScopeBilling)
	c, _ := e.CustomerSignIn(t)
	tok := csrfOf(t, page(t, e, c, mypartners.Prefix).Body)
	wantStatus(t, "long note", post(t, e, c, "/_livery/partners/grants/"+g.ID+"/reject",
		[]string{"_csrf", tok, "note", strings.Repeat("n", 501)}), http.StatusBadRequest)
	r := post(t, e, c, "/_livery/partners/grants/"+g.ID+"/reject", []string{"_csrf", tok, "note", "not now, 谢谢"})
	wantStatus(t, "reject", r, http.StatusSeeOther)
	got, _ := e.Delegation.Get(ctx, "acme", g.ID)
	if got.State != delegation.StateRejected || got.DecisionNote != "not now, 谢谢" {
		t.Fatalf("after reject: %+v", got)
	}
	wantStatus(t, "approve rejected", post(t, e, c, "/_livery/partners/grants/"+g.ID+"/approve", []string{"_csrf", tok}), http.StatusConflict)
	r = page(t, e, c, mypartners.Prefix+"?done=rejected")
	wantIn(t, "after reject", r.Body, "The request was rejected.", "Rejected", "not now, 谢谢", "No request is waiting for your answer.")
}

// TestOtherCustomersGrants: grants of another customer of the same
// partner, and of another partner, are not found for this customer: it
// can neither see, approve, reject nor revoke them.
func TestOtherCustomersGrants(t *testing.T) {
	e := gatewaytest.NewPartnersEnv(t)
	ctx := context.Background()
	y := e.Request(t, "Y", time.Hour, "for Y", delegation.ScopePower)
	z := e.Request(t, "Z", time.Hour, "for Z", delegation.ScopePower)
	if _, err := e.Delegation.Approve(ctx, "acme", z.ID, e.CustomerOf("Z")); err != nil {
		t.Fatal(err)
	}
	gx := e.Request(t, "G", time.Hour, "for G", delegation.ScopePower)
	own := e.Request(t, "X", time.Hour, "for X", delegation.ScopePower) // its form carries the token
	c, _ := e.CustomerSignIn(t)
	r := page(t, e, c, mypartners.Prefix)
	wantIn(t, "overview", r.Body, own.ID, "for X")
	wantNotIn(t, "overview", r.Body, y.ID, z.ID, gx.ID, "for Y", "for Z")
	tok := csrfOf(t, r.Body)
	for _, tc := range []struct {
		name, path string
		fields     []string
	}{
		{"approve Y", "/_livery/partners/grants/" + y.ID + "/approve", nil},
		{"reject Y", "/_livery/partners/grants/" + y.ID + "/reject", nil},
		{"revoke Z", "/_livery/partners/grants/" + z.ID + "/revoke", []string{"confirm", "yes"}},
		{"approve G of globex", "/_livery/partners/grants/" + gx.ID + "/approve", nil},
		{"malformed id", "/_livery/partners/grants/not-a-grant/approve", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, e, c, tc.path, append([]string{"_csrf", tok}, tc.fields...))
			wantStatus(t, tc.name, r, http.StatusNotFound)
		})
	}
	wantStatus(t, "confirm page of Z", page(t, e, c, "/_livery/partners/grants/"+z.ID+"/revoke"), http.StatusNotFound)
	for id, want := range map[string]delegation.State{y.ID: delegation.StateRequested, z.ID: delegation.StateApproved} {
		if g, _ := e.Delegation.Get(ctx, "acme", id); g.State != want {
			t.Errorf("grant %s is %s, want %s", id, g.State, want)
		}
	}
	if g, _ := e.Delegation.Get(ctx, "globex", gx.ID); g.State != delegation.StateRequested {
		t.Errorf("globex grant is %s", g.State)
	}
}

// TestDelegatedSessionRefused: a delegated session (partner staff
// operating the console) never reaches the pages, reads or forms, even
// with a valid form token of its own session; signed out, a browser is
// sent to sign-in and an API client gets 401.
func TestDelegatedSessionRefused(t *testing.T) {
	e := gatewaytest.NewPartnersEnv(t)
	ctx := context.Background()
	g := e.Request(t, "X", time.Hour, "ops", delegation.ScopeResources)
	c, _ := e.DelegatedBrowser(t, g)
	for _, p := range []string{mypartners.Prefix, mypartners.ActivityPath, mypartners.ExportPath, "/_livery/partners/grants/" + g.ID + "/revoke"} {
		r := page(t, e, c, p)
		wantStatus(t, "delegated GET "+p, r, http.StatusForbidden)
		wantIn(t, p, r.Body, "delegated session cannot")
	}
	r := post(t, e, c, "/_livery/partners/grants/"+g.ID+"/approve", []string{"_csrf", strings.Repeat("0", 64)})
	wantStatus(t, "delegated approve", r, http.StatusForbidden)
	if got, _ := e.Delegation.Get(ctx, "acme", g.ID); got.State != delegation.StateRequested {
		t.Fatalf("a delegated session decided the grant: %s", got.State)
	}

	anon := gatewaytest.StepBrowser(nil)
	r = page(t, e, anon, mypartners.ActivityPath+"?result=denied")
	wantStatus(t, "signed out", r, http.StatusFound)
	if loc := r.Header.Get("Location"); loc != "/_livery/login?rd=%2F_livery%2Fpartners%2Factivity%3Fresult%3Ddenied" {
		t.Errorf("signed out: Location %q", loc)
	}
	req := gatewaytest.NewRequest(t, http.MethodGet, e.ConsoleURL+mypartners.Prefix, nil, "Accept", "application/json")
	wantStatus(t, "signed out API", gatewaytest.Send(t, anon, req), http.StatusUnauthorized)
}

// TestCSRF: a form without the token, with another session's token, or
// from another origin changes nothing.
func TestCSRF(t *testing.T) {
	e := gatewaytest.NewPartnersEnv(t)
	ctx := context.Background()
	g := e.Request(t, "X", time.Hour, "ops", delegation.ScopeResources)
	c, _ := e.CustomerSignIn(t)
	tok := csrfOf(t, page(t, e, c, mypartners.Prefix).Body)
	c2, _ := e.CustomerSignIn(t) // another browser, another session of the same customer
	tok2 := csrfOf(t, page(t, e, c2, mypartners.Prefix).Body)
	if tok == tok2 {
		t.Fatal("two sessions share a form token")
	}
	path := "/_livery/partners/grants/" + g.ID + "/approve"
	for _, tc := range []struct {
		name    string
		fields  []string
		headers []string
		code    string
	}{
		{"no token", nil, nil, "csrf_failed"},
		{"empty token", []string{"_csrf", ""}, nil, "csrf_failed"},
		{"another session's token", []string{"_csrf", tok2}, nil, "csrf_failed"},
		{"cross-site", []string{"_csrf", tok}, []string{"Sec-Fetch-Site", "cross-site"}, "cross_origin"},
		{"other origin", []string{"_csrf", tok}, []string{"Origin", "http://evil.example"}, "cross_origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, e, c, path, tc.fields, append([]string{"Accept", "application/json"}, tc.headers...)...)
			wantStatus(t, tc.name, r, http.StatusForbidden)
			if code := r.ErrorCode(t); code != tc.code {
				t.Errorf("code %q, want %q", code, tc.code)
			}
		})
	}
	if got, _ := e.Delegation.Get(ctx, "acme", g.ID); got.State != delegation.StateRequested {
		t.Fatalf("a refused form decided the grant: %s", got.State)
	}
	// The same form from this site, with the token, works.
	wantStatus(t, "same origin", post(t, e, c, path, []string{"_csrf", tok}, "Origin", e.ConsoleURL, "Sec-Fetch-Site", "same-origin"), http.StatusSeeOther)
}
