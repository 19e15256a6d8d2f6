package association_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/livery/livery/association"
	"github.com/livery/livery/authz"
)

var invitationTests = []testCase{
	{"online link: redeem, sign, accept", testAcceptOnline},
	{"online link expires at 7 days", testExpiry},
	{"resend: new token, old one dead, new expiry", testResend},
	{"resend racing an accept or decline with the old token: the old token loses", testResendRace},
	{"offline link never expires, can be revoked", testOffline},
	{"accept twice gives the same result", testIdempotentAccept},
	{"decline uses the link", testDecline},
	{"signatures are kept and listed", testSignatures},
	{"concurrent accept and revoke: one wins, nothing half-written", testAcceptVersusRevoke},
	{"only a partner admin of the tenant creates, resends, revokes", testAdminOnly},
	{"only a customer account itself redeems", testCustomerOnly},
}

func testAcceptOnline(t *testing.T, e *env) {
	inv, tok := e.invite(t, association.Online, association.TypeReferral)
	if inv.TokenHash == "" || inv.TokenHash == tok || len(tok) < 40 {
		t.Fatalf("token %q / hash %q: want a long random token, only its hash stored", tok, inv.TokenHash)
	}
	if !inv.ExpiresAt.Equal(inv.SentAt.Add(7 * 24 * time.Hour)) {
		t.Fatalf("expires %v; want sent+7d", inv.ExpiresAt)
	}
	got, err := e.svc.Redeem(e.ctx, tok, cindy)
	mustOK(t, err)
	if got.ID != inv.ID || got.State != association.StatePending {
		t.Fatalf("Redeem = %+v", got)
	}
	_, _, err = e.svc.Accept(e.ctx, tok, cindy)
	wantErr(t, err, association.ErrNoticeNotSigned)
	e.sign(t, tok, cindy)
	acc, b, err := e.svc.Accept(e.ctx, tok, cindy)
	mustOK(t, err)
	if acc.State != association.StateAccepted || acc.Customer != cindy.Customer {
		t.Fatalf("invitation = %+v", acc)
	}
	if b.State != association.Bound || b.Tenant != tenant || b.Type != association.TypeReferral || b.Invitation != inv.ID {
		t.Fatalf("binding = %+v", b)
	}
	if r := e.reg.get(cindy.Customer); r.State != association.Bound || r.Tenant != tenant {
		t.Fatalf("registry got %+v", r)
	}
	list, err := e.svc.List(e.ctx, tenant)
	mustOK(t, err)
	if len(list) != 1 || list[0].State != association.StateAccepted {
		t.Fatalf("List = %+v", list)
	}
	if evs := e.events(t, tenant, cindy.Customer); count(evs, association.EventAssociated) != 1 || count(evs, association.EventNoticeSigned) != 1 {
		t.Fatalf("events %v", evs)
	}
	if k := e.told.kinds(); len(k) != 1 || k[0] != association.KindAccepted+":partner" {
		t.Fatalf("announced %v", k)
	}
}

func testExpiry(t *testing.T, e *env) {
	cases := []struct {
		after time.Duration
		want  error
	}{
		{7*24*time.Hour - time.Minute, nil},
		{7 * 24 * time.Hour, association.ErrLinkNotFound},
		{30 * 24 * time.Hour, association.ErrLinkNotFound},
	}
	for _, c := range cases {
		e.clock.Set(t0)
		_, tok := e.invite(t, association.Online, association.TypeResale)
		e.clock.Advance(c.after)
		_, err := e.svc.Redeem(e.ctx, tok, cindy)
		if !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
			t.Fatalf("after %v: Redeem = %v; want %v", c.after, err, c.want)
		}
	}
	// An expired link cannot be accepted either, even signed beforehand.
	e.clock.Set(t0)
	_, tok := e.invite(t, association.Online, association.TypeResale)
	e.sign(t, tok, cindy)
	e.clock.Advance(8 * 24 * time.Hour)
	_, _, err := e.svc.Accept(e.ctx, tok, cindy)
	wantErr(t, err, association.ErrLinkNotFound)
}

func testResend(t *testing.T, e *env) {
	inv, old := e.invite(t, association.Online, association.TypeResale)
	e.clock.Advance(8 * 24 * time.Hour) // expired; resend revives it
	again, tok, err := e.svc.Resend(e.ctx, tenant, inv.ID, admin)
	mustOK(t, err)
	if tok == old || again.Sends != 2 || !again.ExpiresAt.Equal(again.SentAt.Add(association.InvitationTTL)) {
		t.Fatalf("resend = %+v, token changed %v", again, tok != old)
	}
	_, err = e.svc.Redeem(e.ctx, old, cindy)
	wantErr(t, err, association.ErrLinkNotFound)
	e.sign(t, tok, cindy)
	_, _, err = e.svc.Accept(e.ctx, old, cindy)
	wantErr(t, err, association.ErrLinkNotFound)
	_, _, err = e.svc.Accept(e.ctx, tok, cindy)
	mustOK(t, err)
	_, _, err = e.svc.Resend(e.ctx, tenant, inv.ID, admin)
	wantErr(t, err, association.ErrState) // accepted
}

func testOffline(t *testing.T, e *env) {
	inv, tok := e.invite(t, association.Offline, association.TypeResale)
	if !inv.ExpiresAt.IsZero() {
		t.Fatalf("offline link expires %v", inv.ExpiresAt)
	}
	e.clock.Advance(400 * 24 * time.Hour)
	_, err := e.svc.Redeem(e.ctx, tok, cindy)
	mustOK(t, err)
	_, _, err = e.svc.Resend(e.ctx, tenant, inv.ID, admin)
	wantErr(t, err, association.ErrState)
	r, err := e.svc.Revoke(e.ctx, tenant, inv.ID, admin)
	mustOK(t, err)
	if r.State != association.StateRevoked {
		t.Fatalf("state %s", r.State)
	}
	_, err = e.svc.Revoke(e.ctx, tenant, inv.ID, admin) // idempotent
	mustOK(t, err)
	_, err = e.svc.Redeem(e.ctx, tok, cindy)
	wantErr(t, err, association.ErrLinkNotFound)
	_, err = e.svc.Sign(e.ctx, tok, association.NoticeVersion, cindy)
	wantErr(t, err, association.ErrLinkNotFound)
}

func testIdempotentAccept(t *testing.T, e *env) {
	_, tok := e.invite(t, association.Offline, association.TypeResale)
	e.sign(t, tok, cindy)
	i1, b1, err := e.svc.Accept(e.ctx, tok, cindy)
	mustOK(t, err)
	i2, b2, err := e.svc.Accept(e.ctx, tok, cindy)
	mustOK(t, err)
	if i1.ID != i2.ID || i2.State != association.StateAccepted || b1.Since != b2.Since || b1.Seq != b2.Seq {
		t.Fatalf("second accept differs: %+v / %+v", b1, b2)
	}
	if c := count(e.events(t, tenant, cindy.Customer), association.EventAssociated); c != 1 {
		t.Fatalf("%d association records; want 1", c)
	}
	// Another account cannot use it now.
	e.sign2(t, tok, dora, association.ErrCodeUsed)
	_, _, err = e.svc.Accept(e.ctx, tok, dora)
	wantErr(t, err, association.ErrCodeUsed)
	_, err = e.svc.Revoke(e.ctx, tenant, i1.ID, admin)
	wantErr(t, err, association.ErrState)
}

func (e *env) sign2(t *testing.T, tok string, a authz.Subject, want error) {
	t.Helper()
	_, err := e.svc.Sign(e.ctx, tok, association.NoticeVersion, a)
	wantErr(t, err, want)
}

func testDecline(t *testing.T, e *env) {
	_, tok := e.invite(t, association.Online, association.TypeResale)
	d, err := e.svc.Decline(e.ctx, tok, cindy)
	mustOK(t, err)
	if d.State != association.StateDeclined {
		t.Fatalf("state %s", d.State)
	}
	_, err = e.svc.Decline(e.ctx, tok, cindy)
	mustOK(t, err)
	if k := e.told.kinds(); len(k) != 1 || k[0] != association.KindDeclined+":partner" {
		t.Fatalf("announced %v; want one decline", k)
	}
	e.sign2(t, tok, cindy, association.ErrCodeUsed)
	_, _, err = e.svc.Accept(e.ctx, tok, cindy)
	wantErr(t, err, association.ErrCodeUsed)
	_, err = e.svc.Decline(e.ctx, tok, dora)
	wantErr(t, err, association.ErrCodeUsed)
	if b, found, _ := e.svc.Binding(e.ctx, cindy.Customer); found {
		t.Fatalf("binding after decline: %+v", b)
	}
}

func testSignatures(t *testing.T, e *env) {
	_, tok := e.invite(t, association.Online, association.TypeResale)
	_, err := e.svc.Sign(e.ctx, tok, "2020-01", cindy)
	wantErr(t, err, association.ErrNoticeNotSigned)
	s1, err := e.svc.Sign(e.ctx, tok, association.NoticeVersion, cindy)
	mustOK(t, err)
	s2, err := e.svc.Sign(e.ctx, tok, association.NoticeVersion, cindy)
	mustOK(t, err)
	if !s1.At.Equal(s2.At) {
		t.Fatal("a second signature replaced the first")
	}
	_, tok2 := e.inviteAs(t, otherAdmin, association.CreateInput{Kind: association.Online, AssociationType: "1"})
	e.sign(t, tok2, cindy)
	list, err := e.svc.Signatures(e.ctx, cindy.Customer)
	mustOK(t, err)
	if len(list) != 2 || list[0].Tenant != other || list[1].Tenant != tenant || list[1].Version != association.NoticeVersion ||
		list[1].By.User != cindy.User {
		t.Fatalf("Signatures = %+v", list)
	}
	if n := association.Notice(); n.ZH == "" || n.EN == "" || n.Version != association.NoticeVersion {
		t.Fatalf("notice %+v", n)
	}
}

func testAcceptVersusRevoke(t *testing.T, e *env) {
	for i := range 4 {
		c := authz.Subject{User: "u", Roles: []string{authz.RoleCustomer}, Customer: "c-race" + string(rune('a'+i))}
		inv, tok := e.invite(t, association.Offline, association.TypeResale)
		e.sign(t, tok, c)
		var wg sync.WaitGroup
		var aerr, rerr error
		wg.Add(2)
		go func() { defer wg.Done(); _, _, aerr = e.svc.Accept(e.ctx, tok, c) }()
		go func() { defer wg.Done(); _, rerr = e.svc.Revoke(e.ctx, tenant, inv.ID, admin) }()
		wg.Wait()
		if (aerr == nil) == (rerr == nil) {
			t.Fatalf("accept %v, revoke %v: want exactly one to win", aerr, rerr)
		}
		got, err := e.svc.Get(e.ctx, tenant, inv.ID)
		mustOK(t, err)
		b, found, err := e.svc.Binding(e.ctx, c.Customer)
		mustOK(t, err)
		if aerr == nil && (got.State != association.StateAccepted || !found || b.State != association.Bound) {
			t.Fatalf("accept won but invitation %s, binding %v", got.State, found)
		}
		if rerr == nil && (got.State != association.StateRevoked || found) {
			t.Fatalf("revoke won but invitation %s, binding %v", got.State, found)
		}
	}
}

func testAdminOnly(t *testing.T, e *env) {
	in := association.CreateInput{Kind: association.Online, AssociationType: association.TypeResale}
	for _, a := range []authz.Subject{manager, otherAdmin, delegated, cindy} {
		_, _, err := e.svc.Create(e.ctx, tenant, in, a)
		wantErr(t, err, association.ErrNotAllowed)
	}
	for _, bad := range []association.CreateInput{{Kind: "email", AssociationType: "1"}, {Kind: association.Online, AssociationType: "3"}} {
		_, _, err := e.svc.Create(e.ctx, tenant, bad, admin)
		wantErr(t, err, association.ErrInvalid)
	}
	inv, _ := e.invite(t, association.Online, association.TypeResale)
	_, _, err := e.svc.Resend(e.ctx, tenant, inv.ID, manager)
	wantErr(t, err, association.ErrNotAllowed)
	_, err = e.svc.Revoke(e.ctx, tenant, inv.ID, otherAdmin)
	wantErr(t, err, association.ErrNotAllowed)
	_, err = e.svc.Revoke(e.ctx, tenant, "20260101T000000000000000Z-00000000", admin)
	wantErr(t, err, association.ErrLinkNotFound)
}

func testCustomerOnly(t *testing.T, e *env) {
	_, tok := e.invite(t, association.Online, association.TypeResale)
	for _, a := range []authz.Subject{admin, delegated, {User: "x", Roles: []string{authz.RoleCustomer}}} {
		_, err := e.svc.Redeem(e.ctx, tok, a)
		wantErr(t, err, association.ErrNotAllowed)
	}
	_, err := e.svc.Redeem(e.ctx, "not-a-token", cindy)
	wantErr(t, err, association.ErrLinkNotFound)
	_, err = e.svc.Redeem(e.ctx, "", cindy)
	wantErr(t, err, association.ErrLinkNotFound)
}

func testResendRace(t *testing.T, e *env) {
	for _, decline := range []bool{false, true} {
		inv, old := e.invite(t, association.Online, association.TypeResale)
		e.sign(t, old, cindy)
		var fresh string
		e.store.beforeNextPut("/invitations/", func() {
			_, tok, err := e.svc.Resend(e.ctx, tenant, inv.ID, admin)
			if err != nil {
				t.Errorf("Resend: %v", err)
			}
			fresh = tok
		})
		var err error
		if decline {
			_, err = e.svc.Decline(e.ctx, old, cindy)
		} else {
			_, _, err = e.svc.Accept(e.ctx, old, cindy)
		}
		wantErr(t, err, association.ErrLinkNotFound)
		got, gerr := e.svc.Get(e.ctx, tenant, inv.ID)
		mustOK(t, gerr)
		if got.State != association.StatePending || got.Sends != 2 {
			t.Fatalf("decline=%v: invitation %s after %d sends", decline, got.State, got.Sends)
		}
		if _, err := e.svc.Redeem(e.ctx, fresh, cindy); err != nil {
			t.Fatalf("the new token: %v", err)
		}
	}
}
