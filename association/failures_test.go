package association_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/livery/livery/association"
)

var failureTests = []testCase{
	{"every failure reason of an acceptance, recorded for the partner", testFailureReasons},
	{"targeted invitation opened by another account", testWrongAccount},
	{"already associated through another partner's invitation", testAssociatedElsewhere},
	{"two partners' invitations accepted at once: one binding", testConcurrentPartners},
}

func testConcurrentPartners(t *testing.T, e *env) {
	for i := range 4 {
		c := subject{User: "u", Roles: cindy.Roles, Customer: fmt.Sprintf("c-both%d", i)}
		_, tok1 := e.invite(t, association.Offline, association.TypeResale)
		_, tok2 := e.inviteAs(t, otherAdmin, association.CreateInput{Kind: association.Offline, AssociationType: "1"})
		e.sign(t, tok1, c)
		e.sign(t, tok2, c)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for j, tok := range []string{tok1, tok2} {
			wg.Add(1)
			go func() { defer wg.Done(); _, _, errs[j] = e.svc.Accept(e.ctx, tok, c) }()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("accepts: %v / %v; want exactly one to win", errs[0], errs[1])
		}
		for _, err := range errs {
			if err != nil {
				wantErr(t, err, association.ErrAlreadyAssociated)
			}
		}
		b, _, err := e.svc.Binding(e.ctx, c.Customer)
		mustOK(t, err)
		winner := tenant
		if errs[0] != nil {
			winner = other
		}
		if b.Tenant != winner || b.State != association.Bound {
			t.Fatalf("binding %+v; want %s", b, winner)
		}
		// The loser's invitation is pending again with the reason.
		loser := other
		if winner == other {
			loser = tenant
		}
		list, err := e.svc.List(e.ctx, loser)
		mustOK(t, err)
		if list[0].State != association.StatePending || list[0].Failure == nil || list[0].Failure.Code != "already_associated" {
			t.Fatalf("loser's invitation %+v", list[0])
		}
	}
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
