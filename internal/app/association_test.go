package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"

	"github.com/livery/livery/association"
	"github.com/livery/livery/authz"
	"github.com/livery/livery/cmd/democonsole/console"
	"github.com/livery/livery/delegation"
	"github.com/livery/livery/gateway/sessions"
	"github.com/livery/livery/tenants"
)

// TestAssociationWiring: the association service as serve builds it.
// Invited customers appear in the partner API's customer list (official
// SDK) with their association type and associated_on; a confirmed type
// change moves one between the association_type filters; a confirmed
// unbinding removes one from the list and ends its delegation grant at
// once; an account registered through the partner API cannot be invited.
func TestAssociationWiring(t *testing.T) {
	ctx := context.Background()
	a := startApp(t, upstreamSaying(t, "acme").URL, nil)
	svc := a.app.svc
	as := svc.assoc
	admin := authz.Subject{User: "pat", Roles: []string{authz.RolePartnerAdmin}, Tenant: "acme"}
	account := func(id string) authz.Subject {
		return authz.Subject{User: "user-" + id, Roles: []string{authz.RoleCustomer}, Tenant: "acme", Customer: id}
	}
	invite := func(typ, id string) (association.Binding, error) {
		t.Helper()
		_, tok, err := as.Create(ctx, "acme", association.CreateInput{Kind: association.Online, AssociationType: typ}, admin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := as.Sign(ctx, tok, association.NoticeVersion, account(id)); err != nil {
			t.Fatal(err)
		}
		_, b, err := as.Accept(ctx, tok, account(id))
		return b, err
	}
	key, sk, err := a.app.Credentials().Create(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	sdk := sdkClient(t, a.api, key.AccessKey, sk)
	list := func(typ string, begin, end time.Time) map[string]string {
		t.Helper()
		body := &model.QuerySubCustomerListReq{}
		if typ != "" {
			body.AssociationType = &typ
		}
		if !begin.IsZero() {
			s := begin.UTC().Format("2006-01-02T15:04:05Z")
			body.AssociatedOnBegin = &s
		}
		if !end.IsZero() {
			s := end.UTC().Format("2006-01-02T15:04:05Z")
			body.AssociatedOnEnd = &s
		}
		resp, err := sdk.ListSubCustomers(&model.ListSubCustomersRequest{Body: body})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range *resp.CustomerInfos {
			out[c.CustomerId] = *c.AssociationType
		}
		if int(*resp.Count) != len(out) {
			t.Fatalf("count %d, %d customers", *resp.Count, len(out))
		}
		return out
	}

	reg, err := svc.customers.Create(ctx, "acme", tenants.Registration{XAccountID: "x-1", XAccountType: "plat",
		DomainName: "registered_1", AssociationType: tenants.AssociationResale}, tenants.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	b1, err := invite(association.TypeReferral, "acct-ref")
	if err != nil || b1.State != association.Bound {
		t.Fatalf("accept: %+v %v", b1, err)
	}
	if _, err := invite(association.TypeResale, "acct-res"); err != nil {
		t.Fatal(err)
	}
	if _, err := invite(association.TypeReferral, reg.DomainID); !errors.Is(err, association.ErrAlreadyAssociated) {
		t.Fatalf("inviting a registered account: %v; want ErrAlreadyAssociated", err)
	}
	all := list("", time.Time{}, time.Time{})
	if len(all) != 3 || all["acct-ref"] != "1" || all["acct-res"] != "2" || all[reg.DomainID] != "2" {
		t.Fatalf("ListSubCustomers = %v", all)
	}
	if got := list("1", time.Time{}, time.Time{}); len(got) != 1 || got["acct-ref"] != "1" {
		t.Fatalf("association_type 1 = %v", got)
	}
	if got := list("", before, time.Now().Add(time.Second)); len(got) != 3 {
		t.Fatalf("associated_on window of now = %v", got)
	}
	if got := list("", time.Time{}, before); len(got) != 0 {
		t.Fatalf("associated_on before the invitations = %v", got)
	}

	// A type change, confirmed by the customer: referral → resale.
	ch, err := as.RequestChange(ctx, "acme", "acct-ref", association.KindType, association.TypeResale, "", admin)
	if err != nil {
		t.Fatal(err)
	}
	if got := list("2", time.Time{}, time.Time{}); len(got) != 2 {
		t.Fatalf("changed before the customer confirmed: %v", got)
	}
	if _, err := as.DecideChange(ctx, "acct-ref", ch.ID, true, account("acct-ref")); err != nil {
		t.Fatal(err)
	}
	if got := list("2", time.Time{}, time.Time{}); len(got) != 3 || got["acct-ref"] != "2" {
		t.Fatalf("association_type 2 after the change = %v", got)
	}
	var tooSoon *association.TooSoonError
	if _, err := as.RequestChange(ctx, "acme", "acct-ref", association.KindUnbind, "", "", admin); !errors.As(err, &tooSoon) {
		t.Fatalf("second change within 3 months: %v", err)
	}

	// A delegation grant of the resale customer ends with its unbinding.
	del := svc.delegation
	if _, err := del.AcceptAgreement(ctx, "acme", delegation.AgreementVersion, admin); err != nil {
		t.Fatal(err)
	}
	g, err := del.Request(ctx, "acme", delegation.RequestInput{Customer: "acct-res", Scopes: []delegation.Scope{delegation.ScopeResources},
		Duration: 24 * time.Hour, Reason: "migration"}, admin)
	if err != nil {
		t.Fatalf("delegation request for an invited resale customer: %v", err)
	}
	if _, err := del.Approve(ctx, "acme", g.ID, account("acct-res")); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := del.ActiveGrant(ctx, "acme", "acct-res"); !ok {
		t.Fatal("no active grant: the test does not test anything")
	}
	// And so do its console sessions there (not another tenant's).
	st := a.app.idp.sessions
	own, err := st.Create(ctx, sessions.Session{Tenant: "acme", Kind: sessions.KindCustomer, Issuer: "https://cloud", Subject: "acct-res", AccountID: "acct-res"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.Create(ctx, sessions.Session{Tenant: "down", Kind: sessions.KindCustomer, Issuer: "https://cloud", Subject: "acct-res", AccountID: "acct-res"})
	if err != nil {
		t.Fatal(err)
	}
	ch, err = as.RequestChange(ctx, "acme", "acct-res", association.KindUnbind, "", "contract ended", admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.DecideChange(ctx, "acct-res", ch.ID, true, account("acct-res")); err != nil {
		t.Fatal(err)
	}
	if got := list("", time.Time{}, time.Time{}); len(got) != 2 || got["acct-res"] != "" {
		t.Fatalf("after the unbinding = %v", got)
	}
	if _, ok, err := del.ActiveGrant(ctx, "acme", "acct-res"); ok || err != nil {
		t.Fatalf("grant still active after the unbinding (%v)", err)
	}
	if _, err := st.Get(ctx, own.ID); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("the unbound customer's console session on the partner's console: %v; want ended", err)
	}
	if _, err := st.Get(ctx, other.ID); err != nil {
		t.Fatalf("its session on another console ended too: %v", err)
	}
	ended, err := del.Get(ctx, "acme", g.ID)
	if err != nil || ended.State != delegation.StateRevoked {
		t.Fatalf("grant after the unbinding: %s %v", ended.State, err)
	}
	if _, err := del.Request(ctx, "acme", delegation.RequestInput{Customer: "acct-res", Scopes: []delegation.Scope{delegation.ScopeResources},
		Duration: 24 * time.Hour, Reason: "again"}, admin); !errors.Is(err, delegation.ErrUnknownCustomer) {
		t.Fatalf("delegation request for an unbound customer: %v; want ErrUnknownCustomer", err)
	}
}

// TestInvitationAccountStatus: frozen and partner accounts, as the cloud's
// account API (the tenant's http provisioner) reports them, cannot accept:
// the refusal names the reason and the partner's list keeps it; while the
// API fails, an acceptance fails as unavailable and writes nothing; an
// account the API does not know is accepted.
func TestInvitationAccountStatus(t *testing.T) {
	ctx := context.Background()
	var broken atomic.Bool
	cloud := console.New(console.Options{AccountToken: "acct-token", Existing: []console.Account{
		{DomainID: "acct-frozen", DomainName: "frozen_co", Frozen: true},
		{DomainID: "acct-partner", DomainName: "partner_co", Partner: true},
	}})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		cloud.ServeHTTP(w, r)
	}))
	t.Cleanup(api.Close)
	yaml := "store: {driver: dir, dir: {path: " + filepath.Join(t.TempDir(), "data") + "}}\n" +
		"tenants:\n  - {id: acme, name: {zh: 甲, en: Acme}, hosts: [127.0.0.1], upstream: \"" + upstreamSaying(t, "acme").URL + "\",\n" +
		"     provisioner: {kind: http, url: \"" + api.URL + "/_cloud/accounts\"}}\n"
	a := startAppYAML(t, yaml, map[string]string{"LIVERY_TENANTS_0_PROVISIONER_TOKEN": "acct-token"})
	as := a.app.svc.assoc
	admin := authz.Subject{User: "pat", Roles: []string{authz.RolePartnerAdmin}, Tenant: "acme"}
	try := func(id string) (association.Invitation, error) {
		t.Helper()
		inv, tok, err := as.Create(ctx, "acme", association.CreateInput{Kind: association.Online, AssociationType: association.TypeReferral}, admin)
		if err != nil {
			t.Fatal(err)
		}
		who := authz.Subject{User: id, Roles: []string{authz.RoleCustomer}, Tenant: "acme", Customer: id}
		if _, err := as.Sign(ctx, tok, association.NoticeVersion, who); err != nil {
			t.Fatal(err)
		}
		_, _, err = as.Accept(ctx, tok, who)
		got, gerr := as.Get(ctx, "acme", inv.ID)
		if gerr != nil {
			t.Fatal(gerr)
		}
		return got, err
	}
	for _, c := range []struct {
		id   string
		want error
	}{{"acct-frozen", association.ErrFrozen}, {"acct-partner", association.ErrIsPartner}} {
		inv, err := try(c.id)
		if !errors.Is(err, c.want) {
			t.Fatalf("%s accepts: %v; want %v", c.id, err, c.want)
		}
		if inv.State != association.StatePending || inv.Failure == nil || inv.Failure.Code != association.ReasonOf(c.want).Code || inv.Failure.ZH == "" {
			t.Fatalf("%s: the partner's invitation = %s %+v", c.id, inv.State, inv.Failure)
		}
		if _, found, _ := as.Binding(ctx, c.id); found {
			t.Fatalf("%s: a binding was written", c.id)
		}
	}
	broken.Store(true)
	inv, err := try("acct-fresh")
	if err == nil || association.ReasonOf(err) != nil || inv.State != association.StatePending {
		t.Fatalf("accept while the account API fails: %v, %s; want an unavailable error, still pending", err, inv.State)
	}
	broken.Store(false)
	if inv, err := try("acct-fresh"); err != nil || inv.State != association.StateAccepted {
		t.Fatalf("an account the API does not know: %s %v", inv.State, err)
	}
}
