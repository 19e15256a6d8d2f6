package staffui_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/association"
	"github.com/livery/livery/authz"
	"github.com/livery/livery/gateway/gatewaytest"
)

var linkRe = regexp.MustCompile(`<code id="inv-link">([^<]+)</code>`)

// TestInvitationsPage: a partner admin creates an online and an offline
// invitation (the link shown once, with its QR code as a data: image the
// policy allows), sees them listed with state and the reason of a failed
// acceptance (zh/en), resends the online one (the old link dies) and
// revokes the offline one after a confirmation; a customer manager and
// another partner's admin are refused; every form needs the token.
func TestInvitationsPage(t *testing.T) {
	ae := gatewaytest.NewAssociationEnv(t)
	e := &uiEnv{BrandEnv: ae.BrandEnv, browsers: map[string]*http.Client{}}
	ctx := context.Background()
	pa := e.as(t, "pa-acme")
	list := "/ui/t/acme/invitations"

	r := e.get(t, pa, list)
	checkPage(t, list, r)
	if r.Status != 200 || !strings.Contains(r.Body, "Customer invitations") || !strings.Contains(r.Body, "No invitation yet.") ||
		!strings.Contains(r.Body, `href="/ui/t/acme/invitations"`) {
		t.Fatalf("empty list: %d %s", r.Status, r.Body)
	}
	tok := e.csrf(t, pa, list)
	if r := e.post(t, pa, list, url.Values{"kind": {"online"}, "association_type": {"1"}}); r.Status != http.StatusForbidden {
		t.Fatalf("create without token: %d", r.Status)
	}
	r = e.post(t, pa, list, url.Values{"_csrf": {tok}, "kind": {"sideways"}, "association_type": {"1"}})
	location(t, "bad kind", r, "err=assoc_invalid")

	r = e.post(t, pa, list, url.Values{"_csrf": {tok}, "kind": {"online"}, "association_type": {"2"}})
	checkPage(t, "created", r)
	m := linkRe.FindStringSubmatch(r.Body)
	if r.Status != 200 || m == nil || !strings.Contains(r.Body, "shown only once") || !strings.Contains(r.Body, `src="data:image/png;base64,`) {
		t.Fatalf("created: %d %s", r.Status, r.Body)
	}
	link1, _ := url.Parse(m[1])
	if link1.Scheme+"://"+link1.Host != e.ConsoleURL || !strings.HasPrefix(link1.Path, "/_livery/invitations/") {
		t.Fatalf("link %q", m[1])
	}
	token1 := strings.TrimPrefix(link1.Path, "/_livery/invitations/")
	cust := authz.Subject{User: "cust-X", Roles: []string{authz.RoleCustomer}, Tenant: "acme", Customer: e.Cust["X"].DomainID}
	online, err := ae.Associations.Redeem(ctx, token1, cust)
	if err != nil || online.Kind != association.Online || online.AssociationType != "2" || online.CreatedBy.User != "pa-acme" {
		t.Fatalf("the shown link: %+v %v", online, err)
	}

	r = e.post(t, pa, list, url.Values{"_csrf": {tok}, "kind": {"offline"}, "association_type": {"1"}, "for_customer": {e.Cust["X"].DomainID}})
	if r.Status != 200 || !strings.Contains(r.Body, "Print this page") {
		t.Fatalf("offline: %d %s", r.Status, r.Body)
	}
	token2 := strings.TrimPrefix(linkRe.FindStringSubmatch(r.Body)[1], e.ConsoleURL+"/_livery/invitations/")
	// A failed acceptance (frozen account) shows its reason in the list.
	if _, err := ae.Associations.Sign(ctx, token2, association.NoticeVersion, cust); err != nil {
		t.Fatal(err)
	}
	ae.Accounts.Set(cust.Customer, association.AccountInfo{Frozen: true})
	if _, _, err := ae.Associations.Accept(ctx, token2, cust); err == nil {
		t.Fatal("a frozen account accepted")
	}
	offline, _ := ae.Associations.Redeem(ctx, token2, cust)

	r = e.get(t, pa, list)
	for _, want := range []string{`id="inv-` + online.ID + `"`, `id="inv-` + offline.ID + `"`, "Online link", "Offline (printable, QR code)", "Resale", "Referral",
		"Pending", association.ErrFrozen.EN, `action="/ui/t/acme/invitations/` + online.ID + `/resend"`, `action="/ui/t/acme/invitations/` + offline.ID + `/revoke"`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("list: %q missing", want)
		}
	}
	if strings.Contains(r.Body, offline.ID+`/resend"`) {
		t.Error("an offline invitation offers resend")
	}
	if strings.Index(r.Body, `id="inv-`+offline.ID) > strings.Index(r.Body, `id="inv-`+online.ID) {
		t.Error("list is not newest first")
	}
	zh := e.get(t, pa, list, "Accept-Language", "zh-CN")
	for _, want := range []string{"客户邀请", "在线链接", "待接受", association.ErrFrozen.ZH, "代售"} {
		if !strings.Contains(zh.Body, want) {
			t.Errorf("zh list: %q missing", want)
		}
	}

	// Resend: a new link; the old one is dead.
	r = e.post(t, pa, list+"/"+online.ID+"/resend", url.Values{"_csrf": {tok}})
	if r.Status != 200 || !strings.Contains(r.Body, "the old one no longer works") {
		t.Fatalf("resend: %d %s", r.Status, r.Body)
	}
	if _, err := ae.Associations.Redeem(ctx, token1, cust); !errorsIs(err, association.ErrLinkNotFound) {
		t.Fatalf("old link after resend: %v", err)
	}
	r = e.post(t, pa, list+"/"+offline.ID+"/resend", url.Values{"_csrf": {tok}})
	location(t, "resend offline", r, "err=assoc_state")

	// Revoke: the confirmation first.
	r = e.post(t, pa, list+"/"+offline.ID+"/revoke", url.Values{"_csrf": {tok}})
	if r.Status != 200 || !strings.Contains(r.Body, "Revoke invitation "+offline.ID) || !strings.Contains(r.Body, `name="confirm" value="yes"`) {
		t.Fatalf("revoke confirmation: %d %s", r.Status, r.Body)
	}
	if got, _ := ae.Associations.Get(ctx, "acme", offline.ID); got.State != association.StatePending {
		t.Fatalf("revoked without confirmation: %s", got.State)
	}
	r = e.post(t, pa, list+"/"+offline.ID+"/revoke", url.Values{"_csrf": {tok}, "confirm": {"yes"}})
	location(t, "revoke", r, "done=done.invitation_revoked")
	if got, _ := ae.Associations.Get(ctx, "acme", offline.ID); got.State != association.StateRevoked {
		t.Fatalf("after revoke: %s", got.State)
	}

	// Others: a customer manager, another partner's admin.
	if r := e.get(t, e.as(t, "cm-acme"), list); r.Status != http.StatusForbidden {
		t.Errorf("cm-acme: %d", r.Status)
	}
	if r := e.get(t, e.as(t, "cm-acme"), "/ui/t/acme/customers"); strings.Contains(r.Body, `href="/ui/t/acme/invitations"`) {
		t.Error("cm-acme sees the invitations link")
	}
	if r := e.get(t, e.as(t, "pa-acme"), "/ui/t/globex/invitations"); r.Status != http.StatusForbidden {
		t.Errorf("pa-acme on globex: %d", r.Status)
	}
	cmTok := e.csrf(t, e.as(t, "cm-acme"), "/ui/t/acme/customers/"+e.Cust["X"].DomainID)
	if r := e.post(t, e.as(t, "cm-acme"), list, url.Values{"_csrf": {cmTok}, "kind": {"online"}, "association_type": {"1"}}); r.Status != http.StatusForbidden {
		t.Errorf("cm-acme creates: %d", r.Status)
	}
}

// TestCustomerAssociationSection: the customer page shows the binding an
// invitation made, the change form (type or unbind), the pending change,
// the next allowed date after a confirmed change (and no form before it),
// and the manager periods; a customer manager sees it without the form.
func TestCustomerAssociationSection(t *testing.T) {
	ae := gatewaytest.NewAssociationEnv(t)
	e := &uiEnv{BrandEnv: ae.BrandEnv, browsers: map[string]*http.Client{}}
	ctx := context.Background()
	x := e.Cust["X"].DomainID
	pa := e.as(t, "pa-acme")
	page := "/ui/t/acme/customers/" + x

	r := e.get(t, pa, page)
	checkPage(t, page, r)
	if !strings.Contains(r.Body, "not associated through an invitation") || !strings.Contains(r.Body, "No manager has been assigned yet.") {
		t.Fatalf("before: %s", gatewaytest.Grep(r.Body, "association"))
	}

	cust := authz.Subject{User: "cust-X", Roles: []string{authz.RoleCustomer}, Tenant: "acme", Customer: x}
	_, token, err := ae.Associations.Create(ctx, "acme", association.CreateInput{Kind: association.Online, AssociationType: "2"}, gatewaytest.PartnerAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ae.Associations.Sign(ctx, token, association.NoticeVersion, cust); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ae.Associations.Accept(ctx, token, cust); err != nil {
		t.Fatal(err)
	}
	if _, err := ae.Associations.SetManagers(ctx, "acme", x, []string{"cm-acme"}, gatewaytest.PartnerAdmin); err != nil {
		t.Fatal(err)
	}
	r = e.get(t, pa, page)
	for _, want := range []string{`id="association"`, "Associated", `id="assoc-type">Resale`, `action="/ui/t/acme/customers/` + x + `/association-changes"`,
		`name="to" value="1"`, `value="unbind"`, `id="manager-history"`, "<td>cm-acme</td>", "current"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("bound: %q missing", want)
		}
	}
	tok := e.csrf(t, pa, page)
	r = e.post(t, pa, page+"/association-changes", url.Values{"_csrf": {tok}, "kind": {"type"}, "to": {"1"}, "reason": {"lower fees"}})
	location(t, "request", r, "done=done.change_requested")
	b, _, _ := ae.Associations.Binding(ctx, x)
	if b.Pending == nil || b.Pending.To != "1" || b.Pending.Reason != "lower fees" || b.Pending.RequestedBy.User != "pa-acme" {
		t.Fatalf("pending %+v", b.Pending)
	}
	r = e.get(t, pa, page)
	if !strings.Contains(r.Body, "confirmation: association type change to Referral.") || strings.Contains(r.Body, `id="assoc-change"`) {
		t.Errorf("pending not shown: %s", gatewaytest.Grep(r.Body, "assoc-pending"))
	}
	r = e.post(t, pa, page+"/association-changes", url.Values{"_csrf": {tok}, "kind": {"unbind"}})
	location(t, "second request", r, "err=assoc_change_pending")

	if _, err := ae.Associations.DecideChange(ctx, x, b.Pending.ID, true, cust); err != nil {
		t.Fatal(err)
	}
	b, _, _ = ae.Associations.Binding(ctx, x)
	next := b.NextChangeAllowed().UTC().Format("2006-01-02 15:04") + " UTC"
	r = e.get(t, pa, page)
	for _, want := range []string{`id="assoc-type">Referral`, `id="assoc-next">` + next, "At most one change every three months", "Confirmed"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("after the change: %q missing", want)
		}
	}
	if strings.Contains(r.Body, `id="assoc-change"`) {
		t.Error("change form offered before the next allowed date")
	}
	r = e.post(t, pa, page+"/association-changes", url.Values{"_csrf": {tok}, "kind": {"unbind"}})
	location(t, "too soon", r, "err=assoc_too_soon")
	zh := e.get(t, pa, page, "Accept-Language", "zh-CN")
	if !strings.Contains(zh.Body, "关联关系") || !strings.Contains(zh.Body, "客户经理历史") || !strings.Contains(zh.Body, "每三个月最多变更一次") {
		t.Errorf("zh: %s", gatewaytest.Grep(zh.Body, "关联"))
	}

	// A customer manager: sees it, no form, cannot post.
	cm := e.as(t, "cm-acme")
	r = e.get(t, cm, page)
	if !strings.Contains(r.Body, `id="association"`) || strings.Contains(r.Body, `id="assoc-change"`) {
		t.Errorf("cm view: %s", gatewaytest.Grep(r.Body, "assoc"))
	}
	if r := e.post(t, cm, page+"/association-changes", url.Values{"_csrf": {e.csrf(t, cm, page)}, "kind": {"unbind"}}); r.Status != http.StatusForbidden {
		t.Errorf("cm requests a change: %d", r.Status)
	}

	// "Managed on": whom a manager managed on a day, from the periods.
	today, yesterday := time.Now().UTC().Format(time.DateOnly), time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	for _, c := range []struct {
		who, query string
		want       []string
		not        []string
	}{
		{"pa-acme", "manager=cm-acme&on=" + today, []string{`id="managed-on"`, "1 customers managed by cm-acme on " + today, x}, nil},
		{"pa-acme", "manager=cm-acme&on=" + yesterday, []string{"0 customers managed by cm-acme on " + yesterday}, []string{x}},
		{"pa-acme", "on=" + today, []string{"Choose a manager", `aria-invalid="true"`}, []string{`id="managed-on"`}},
		{"pa-acme", "manager=cm-acme&on=30.11.2026", []string{"Enter a date such as", `aria-invalid="true"`}, []string{`id="managed-on"`}},
		{"cm-acme", "on=" + today, []string{"1 customers managed by cm-acme on " + today, x}, nil},
	} {
		b := pa
		if c.who == "cm-acme" {
			b = cm
		}
		r := e.get(t, b, "/ui/t/acme/customers?"+c.query)
		checkPage(t, "customers?"+c.query, r)
		for _, w := range c.want {
			if !strings.Contains(r.Body, w) {
				t.Errorf("%s ?%s: %q missing", c.who, c.query, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(r.Body, w) {
				t.Errorf("%s ?%s: %q present", c.who, c.query, w)
			}
		}
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
