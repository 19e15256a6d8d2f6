package mypartners_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/livery/livery/association"
	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/gatewaytest"
	"github.com/livery/livery/gateway/mypartners"
)

// invite creates an invitation of tenant (its partner admin) and returns
// it with its link's path.
func invite(t *testing.T, e *gatewaytest.AssociationEnv, tenant string, in association.CreateInput) (association.Invitation, string) {
	t.Helper()
	admin := authz.Subject{User: "pa-" + tenant, Roles: []string{authz.RolePartnerAdmin}, Tenant: tenant}
	inv, token, err := e.Associations.Create(context.Background(), tenant, in, admin)
	if err != nil {
		t.Fatal(err)
	}
	return inv, mypartners.InvitationsPrefix + url.PathEscape(token)
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// TestInvitationSignAccept: signed out, the link sends the browser to
// sign in and back; signed in, the customer reads the notice (in the
// page's language, the other one beside it), cannot sign without ticking
// the box or without the form token, signs it, accepts, and sees the
// association on My partners and the signature under Agreements. The
// link's pages send no Referer (the token is in the path).
func TestInvitationSignAccept(t *testing.T) {
	e := gatewaytest.NewAssociationEnv(t)
	ctx := context.Background()
	x := e.Cust["X"].DomainID
	inv, link := invite(t, e, "acme", association.CreateInput{Kind: association.Online, AssociationType: association.TypeResale})

	anon := gatewaytest.StepBrowser(nil)
	r := page(t, e.PartnersEnv, anon, link)
	wantStatus(t, "signed out", r, http.StatusFound)
	if loc := r.Header.Get("Location"); loc != "/_livery/login?rd="+url.QueryEscape(link) {
		t.Errorf("signed out: Location %q", loc)
	}

	c, _ := e.CustomerSignIn(t)
	r = page(t, e.PartnersEnv, c, link, "Accept-Language", "en")
	wantStatus(t, "invitation", r, 200)
	n := association.Notice()
	wantIn(t, "invitation", r.Body, `id="livery-chrome"`, "Invitation to associate with a partner", "Acme (阿克米)", "Resale (type 2)",
		"version "+association.NoticeVersion, firstLine(n.EN), firstLine(n.ZH), `name="agree" value="yes"`,
		`action="`+link+`/sign"`, `name="version" value="`+association.NoticeVersion+`"`)
	wantNotIn(t, "invitation before signing", r.Body, `action="`+link+`/accept"`)
	if rp := r.Header.Get("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("Referrer-Policy %q", rp)
	}
	if csp := r.Header.Get("Content-Security-Policy"); strings.Contains(csp, "script-src") || !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("CSP %q", csp)
	}
	zh := page(t, e.PartnersEnv, c, link, "Accept-Language", "zh-CN")
	wantIn(t, "invitation zh", zh.Body, `lang="zh-CN"`, "合作伙伴关联邀请", "代售（类型 2）", "客户关联合作伙伴须知", "签署须知", "English version")

	tok := csrfOf(t, r.Body)
	wantStatus(t, "sign without token", post(t, e.PartnersEnv, c, link+"/sign", []string{"version", association.NoticeVersion, "agree", "yes"}), http.StatusForbidden)
	r = post(t, e.PartnersEnv, c, link+"/sign", []string{"_csrf", tok, "version", association.NoticeVersion}, "Accept-Language", "en")
	wantStatus(t, "sign unticked", r, http.StatusBadRequest)
	wantIn(t, "sign unticked", r.Body, "Tick the box")
	r = post(t, e.PartnersEnv, c, link+"/sign", []string{"_csrf", tok, "version", "1999-01", "agree", "yes"}, "Accept-Language", "en")
	wantStatus(t, "sign old version", r, http.StatusConflict)
	wantIn(t, "sign old version", r.Body, association.ErrNoticeNotSigned.EN)
	// Accepting before signing is refused by the service.
	r = post(t, e.PartnersEnv, c, link+"/accept", []string{"_csrf", tok}, "Accept-Language", "zh-CN")
	wantStatus(t, "accept unsigned", r, http.StatusConflict)
	wantIn(t, "accept unsigned", r.Body, association.ErrNoticeNotSigned.ZH, `data-code="notice_not_signed"`)

	r = post(t, e.PartnersEnv, c, link+"/sign", []string{"_csrf", tok, "version", association.NoticeVersion, "agree", "yes"})
	wantStatus(t, "sign", r, http.StatusSeeOther)
	sigs, err := e.Associations.Signatures(ctx, x)
	if err != nil || len(sigs) != 1 || sigs[0].Tenant != "acme" || sigs[0].Invitation != inv.ID || sigs[0].By.Customer != x {
		t.Fatalf("signatures %+v %v", sigs, err)
	}
	r = page(t, e.PartnersEnv, c, link, "Accept-Language", "en")
	wantIn(t, "signed", r.Body, "You signed the notice on", `action="`+link+`/accept"`, `href="`+link+`/decline"`)

	r = post(t, e.PartnersEnv, c, link+"/accept", []string{"_csrf", tok})
	wantStatus(t, "accept", r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != mypartners.Prefix+"?done=associated" {
		t.Fatalf("accept redirects to %q", loc)
	}
	b, found, err := e.Associations.Binding(ctx, x)
	if err != nil || !found || b.State != association.Bound || b.Tenant != "acme" || b.Type != association.TypeResale {
		t.Fatalf("binding %+v %v %v", b, found, err)
	}
	r = page(t, e.PartnersEnv, c, mypartners.Prefix+"?done=associated", "Accept-Language", "en")
	wantIn(t, "overview", r.Body, "Your account is now associated with the partner.", `id="lp-association"`, "Resale (type 2)",
		`href="`+mypartners.AgreementsPath+`"`)
	r = page(t, e.PartnersEnv, c, link, "Accept-Language", "en")
	wantIn(t, "link after accepting", r.Body, "Your account is associated with Acme (阿克米).")

	r = page(t, e.PartnersEnv, c, mypartners.AgreementsPath, "Accept-Language", "en")
	wantStatus(t, "agreements", r, 200)
	wantIn(t, "agreements", r.Body, `id="lp-agreements"`, "Customer association notice", association.NoticeVersion, "Acme (阿克米)", inv.ID)
	zh = page(t, e.PartnersEnv, c, mypartners.AgreementsPath, "Accept-Language", "zh-CN")
	wantIn(t, "agreements zh", zh.Body, "协议", "签署时间", "客户关联合作伙伴须知")
}

// TestInvitationRefusals: each reason is shown in the page's language
// with its status; the account's reasons are stored on the invitation for
// the partner; a delegated session is refused before anything is read.
func TestInvitationRefusals(t *testing.T) {
	e := gatewaytest.NewAssociationEnv(t)
	ctx := context.Background()
	x := e.Cust["X"].DomainID
	c, _ := e.CustomerSignIn(t)

	_, other := invite(t, e, "globex", association.CreateInput{Kind: association.Offline, AssociationType: association.TypeReferral})
	_, targeted := invite(t, e, "acme", association.CreateInput{Kind: association.Online, AssociationType: association.TypeReferral, ForCustomer: "someone-else"})
	resent, old := invite(t, e, "acme", association.CreateInput{Kind: association.Online, AssociationType: association.TypeReferral})
	if _, _, err := e.Associations.Resend(ctx, "acme", resent.ID, gatewaytest.PartnerAdmin); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what, path string
		status     int
		reason     *association.Reason
	}{
		{"unknown", mypartners.InvitationsPrefix + "nosuchtoken", 404, association.ErrLinkNotFound},
		{"another partner's", other, 404, association.ErrLinkNotFound},
		{"targeted at another account", targeted, 403, association.ErrWrongAccount},
		{"replaced by a resend", old, 404, association.ErrLinkNotFound},
	} {
		for _, lang := range []string{"en", "zh-CN"} {
			r := page(t, e.PartnersEnv, c, tc.path, "Accept-Language", lang)
			wantStatus(t, tc.what, r, tc.status)
			msg := tc.reason.EN
			if lang != "en" {
				msg = tc.reason.ZH
			}
			wantIn(t, tc.what+" "+lang, r.Body, msg, `data-code="`+tc.reason.Code+`"`)
		}
	}

	// A frozen account: refused with the reason, stored for the partner.
	inv, link := invite(t, e, "acme", association.CreateInput{Kind: association.Offline, AssociationType: association.TypeReferral})
	r := page(t, e.PartnersEnv, c, link)
	tok := csrfOf(t, r.Body)
	wantStatus(t, "sign", post(t, e.PartnersEnv, c, link+"/sign", []string{"_csrf", tok, "version", association.NoticeVersion, "agree", "yes"}), http.StatusSeeOther)
	e.Accounts.Set(x, association.AccountInfo{Frozen: true})
	r = post(t, e.PartnersEnv, c, link+"/accept", []string{"_csrf", tok}, "Accept-Language", "zh-CN")
	wantStatus(t, "frozen", r, http.StatusConflict)
	wantIn(t, "frozen", r.Body, association.ErrFrozen.ZH)
	got, err := e.Associations.Get(ctx, "acme", inv.ID)
	if err != nil || got.State != association.StatePending || got.Failure == nil || got.Failure.Code != "frozen" || got.Failure.Customer != x {
		t.Fatalf("after a frozen account's attempt: %+v %v", got, err)
	}

	// A delegated session: 403 on every page and form.
	e.Accounts.Set(x, association.AccountInfo{})
	g := e.Request(t, "X", day, "fix it", "resources")
	d, _ := e.DelegatedBrowser(t, g)
	for _, p := range []string{link, mypartners.AgreementsPath} {
		wantStatus(t, "delegated "+p, page(t, e.PartnersEnv, d, p), http.StatusForbidden)
	}
	wantStatus(t, "delegated accept", post(t, e.PartnersEnv, d, link+"/accept", []string{"_csrf", tok}), http.StatusForbidden)
	if got, _ := e.Associations.Get(ctx, "acme", inv.ID); got.State != association.StatePending {
		t.Fatalf("delegated session changed the invitation: %s", got.State)
	}
}

// TestInvitationDecline: a confirmation page first; a POST without the
// confirmation goes back to it; declined, the link is used up.
func TestInvitationDecline(t *testing.T) {
	e := gatewaytest.NewAssociationEnv(t)
	ctx := context.Background()
	inv, link := invite(t, e, "acme", association.CreateInput{Kind: association.Online, AssociationType: association.TypeReferral})
	c, _ := e.CustomerSignIn(t)
	r := page(t, e.PartnersEnv, c, link+"/decline", "Accept-Language", "en")
	wantStatus(t, "confirm page", r, 200)
	wantIn(t, "confirm page", r.Body, "Decline this invitation?", `name="confirm" value="yes"`)
	tok := csrfOf(t, r.Body)
	r = post(t, e.PartnersEnv, c, link+"/decline", []string{"_csrf", tok})
	wantStatus(t, "decline without confirm", r, http.StatusSeeOther)
	if got, _ := e.Associations.Get(ctx, "acme", inv.ID); got.State != association.StatePending {
		t.Fatalf("declined without confirmation: %s", got.State)
	}
	r = post(t, e.PartnersEnv, c, link+"/decline", []string{"_csrf", tok, "confirm", "yes"})
	wantStatus(t, "decline", r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != mypartners.Prefix+"?done=declined" {
		t.Fatalf("decline redirects to %q", loc)
	}
	if got, _ := e.Associations.Get(ctx, "acme", inv.ID); got.State != association.StateDeclined {
		t.Fatalf("after decline: %s", got.State)
	}
	r = page(t, e.PartnersEnv, c, link, "Accept-Language", "en")
	wantStatus(t, "declined link", r, http.StatusConflict)
	wantIn(t, "declined link", r.Body, association.ErrCodeUsed.EN)
}

// TestChangeConfirmRefuse: the partner's pending change shows on My
// partners with confirm and refuse; a refusal changes nothing; a
// confirmed unbinding ends the association and shows the next date a
// change is allowed.
func TestChangeConfirmRefuse(t *testing.T) {
	e := gatewaytest.NewAssociationEnv(t)
	ctx := context.Background()
	x := e.Cust["X"].DomainID
	_, link := invite(t, e, "acme", association.CreateInput{Kind: association.Online, AssociationType: association.TypeResale})
	c, _ := e.CustomerSignIn(t)
	tok := csrfOf(t, page(t, e.PartnersEnv, c, link).Body)
	wantStatus(t, "sign", post(t, e.PartnersEnv, c, link+"/sign", []string{"_csrf", tok, "version", association.NoticeVersion, "agree", "yes"}), http.StatusSeeOther)
	wantStatus(t, "accept", post(t, e.PartnersEnv, c, link+"/accept", []string{"_csrf", tok}), http.StatusSeeOther)

	ch, err := e.Associations.RequestChange(ctx, "acme", x, association.KindType, association.TypeReferral, `cheaper <i>for you</i>`, gatewaytest.PartnerAdmin)
	if err != nil {
		t.Fatal(err)
	}
	r := page(t, e.PartnersEnv, c, mypartners.Prefix, "Accept-Language", "en")
	wantIn(t, "pending change", r.Body, `id="lp-change-`+ch.ID+`"`, "Association type Resale (type 2) → Referral (type 1)",
		"cheaper &lt;i&gt;for you&lt;/i&gt;", `action="/_livery/partners/changes/`+ch.ID+`/confirm"`, `action="/_livery/partners/changes/`+ch.ID+`/refuse"`)
	wantStatus(t, "refuse without token", post(t, e.PartnersEnv, c, "/_livery/partners/changes/"+ch.ID+"/refuse", nil), http.StatusForbidden)
	r = post(t, e.PartnersEnv, c, "/_livery/partners/changes/"+ch.ID+"/refuse", []string{"_csrf", tok})
	wantStatus(t, "refuse", r, http.StatusSeeOther)
	if b, _, _ := e.Associations.Binding(ctx, x); b.Type != association.TypeResale || b.Pending != nil {
		t.Fatalf("after refusal: %+v", b)
	}
	// Answering a decided change otherwise is a conflict.
	wantStatus(t, "confirm a refused change", post(t, e.PartnersEnv, c, "/_livery/partners/changes/"+ch.ID+"/confirm", []string{"_csrf", tok}), http.StatusConflict)

	ch, err = e.Associations.RequestChange(ctx, "acme", x, association.KindUnbind, "", "", gatewaytest.PartnerAdmin)
	if err != nil {
		t.Fatal(err)
	}
	r = page(t, e.PartnersEnv, c, mypartners.Prefix, "Accept-Language", "zh-CN")
	wantIn(t, "pending unbind zh", r.Body, "待您确认的变更", "解除关联（当前为代售（类型 2））", "代客运维授权随之终止")
	r = post(t, e.PartnersEnv, c, "/_livery/partners/changes/"+ch.ID+"/confirm", []string{"_csrf", tok})
	wantStatus(t, "confirm", r, http.StatusSeeOther)
	b, _, _ := e.Associations.Binding(ctx, x)
	if b.State != association.Unbound {
		t.Fatalf("after confirmed unbinding: %+v", b)
	}
	r = page(t, e.PartnersEnv, c, mypartners.Prefix+"?done=change_confirmed", "Accept-Language", "en")
	wantIn(t, "unbound", r.Body, "The change is confirmed and in effect.", "Not associated (unbound)",
		b.NextChangeAllowed().UTC().Format("2006-01-02 15:04 UTC"), "Refused", "Confirmed")
}
