package association_test

import (
	"strings"
	"testing"

	"github.com/livery/livery/association"
)

var failureTests = []testCase{
	{"every failure reason of an acceptance, recorded for the partner", testFailureReasons},
	{"targeted invitation opened by another account", testWrongAccount},
	{"already associated through another partner's invitation", testAssociatedElsewhere},
}

func testFailureReasons(t *testing.T, e *env) {
	cases := []struct {
		name string
		info association.AccountInfo
		want *association.Reason
	}{
		{"frozen", association.AccountInfo{Frozen: true}, association.ErrFrozen},
		{"partner", association.AccountInfo{IsPartner: true}, association.ErrIsPartner},
		{"registered with another partner", association.AccountInfo{AssociatedWith: other}, association.ErrAlreadyAssociated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.accts.set(cindy.Customer, c.info)
			inv, tok := e.invite(t, association.Online, association.TypeResale)
			e.sign(t, tok, cindy)
			_, _, err := e.svc.Accept(e.ctx, tok, cindy)
			wantErr(t, err, c.want)
			r := association.ReasonOf(err)
			if r == nil || r.Message("zh") == "" || r.Message("en") == "" || r.Message("zh") == r.Message("en") {
				t.Fatalf("reason %+v: want zh and en messages", r)
			}
			got, err := e.svc.Get(e.ctx, tenant, inv.ID)
			mustOK(t, err)
			if got.State != association.StatePending || got.Failure == nil || got.Failure.Code != c.want.Code ||
				got.Failure.ZH != c.want.ZH || got.Failure.Customer != cindy.Customer {
				t.Fatalf("invitation after failure: %+v (failure %+v)", got, got.Failure)
			}
			if _, found, _ := e.svc.Binding(e.ctx, cindy.Customer); found {
				t.Fatal("a refused acceptance wrote a binding")
			}
		})
	}
	// Once the cause is gone, the same link works.
	e.accts.set(cindy.Customer, association.AccountInfo{})
	list, err := e.svc.List(e.ctx, tenant)
	mustOK(t, err)
	if len(list) != 3 {
		t.Fatalf("%d invitations", len(list))
	}
	for _, r := range []*association.Reason{association.ErrLinkNotFound, association.ErrCodeUsed, association.ErrAlreadyAssociated,
		association.ErrIsPartner, association.ErrFrozen, association.ErrTooSoon} {
		if !strings.Contains(r.Error(), r.ZH) || !strings.Contains(r.Error(), r.EN) || r.Code == "" {
			t.Fatalf("reason %+v lacks a language", r)
		}
	}
}

func testWrongAccount(t *testing.T, e *env) {
	_, tok := e.inviteAs(t, admin, association.CreateInput{Kind: association.Online, AssociationType: "2", ForCustomer: dora.Customer})
	_, err := e.svc.Redeem(e.ctx, tok, cindy)
	wantErr(t, err, association.ErrWrongAccount)
	e.sign2(t, tok, cindy, association.ErrWrongAccount)
	e.sign(t, tok, dora)
	_, _, err = e.svc.Accept(e.ctx, tok, cindy)
	wantErr(t, err, association.ErrWrongAccount)
	_, b, err := e.svc.Accept(e.ctx, tok, dora)
	mustOK(t, err)
	if b.Customer != dora.Customer {
		t.Fatalf("binding %+v", b)
	}
}

func testAssociatedElsewhere(t *testing.T, e *env) {
	_, tok1 := e.invite(t, association.Online, association.TypeResale)
	_, tok2 := e.inviteAs(t, otherAdmin, association.CreateInput{Kind: association.Online, AssociationType: "1"})
	e.sign(t, tok1, cindy)
	e.sign(t, tok2, cindy)
	_, _, err := e.svc.Accept(e.ctx, tok1, cindy)
	mustOK(t, err)
	_, _, err = e.svc.Accept(e.ctx, tok2, cindy)
	wantErr(t, err, association.ErrAlreadyAssociated)
	b, _, err := e.svc.Binding(e.ctx, cindy.Customer)
	mustOK(t, err)
	if b.Tenant != tenant {
		t.Fatalf("binding moved to %s", b.Tenant)
	}
	// A second invitation of the same partner is refused as well.
	_, tok3 := e.invite(t, association.Online, association.TypeReferral)
	e.sign(t, tok3, cindy)
	_, _, err = e.svc.Accept(e.ctx, tok3, cindy)
	wantErr(t, err, association.ErrAlreadyAssociated)
}
