package association_test

import (
	"errors"
	"testing"
	"time"

	"github.com/livery/livery/association"
)

var changeTests = []testCase{
	{"type change: request, confirm, 3-month rule with next date", testTypeChange},
	{"refused change changes nothing and does not count", testRefuse},
	{"only the partner admin requests, only the customer answers", testChangeActors},
	{"unbinding ends the association and tells the hook", testUnbind},
}

func testTypeChange(t *testing.T, e *env) {
	e.associate(t, cindy)
	c, err := e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindType, association.TypeReferral, "advice only", admin)
	mustOK(t, err)
	b, _, _ := e.svc.Binding(e.ctx, cindy.Customer)
	if b.Type != association.TypeResale || b.Pending == nil || b.Pending.ID != c.ID {
		t.Fatalf("before confirmation: %+v", b)
	}
	_, err = e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindUnbind, "", "", admin)
	wantErr(t, err, association.ErrChangePending)
	e.clock.Advance(time.Hour)
	b, err = e.svc.DecideChange(e.ctx, cindy.Customer, c.ID, true, cindy)
	mustOK(t, err)
	confirmedAt := b.LastChangeAt
	if b.Type != association.TypeReferral || b.Pending != nil || len(b.Changes) != 1 || b.Changes[0].State != association.ChangeConfirmed {
		t.Fatalf("after confirmation: %+v", b)
	}
	if e.reg.get(cindy.Customer).Type != association.TypeReferral {
		t.Fatal("registry not told of the new type")
	}
	_, err = e.svc.DecideChange(e.ctx, cindy.Customer, c.ID, true, cindy) // again: idempotent
	mustOK(t, err)
	_, err = e.svc.DecideChange(e.ctx, cindy.Customer, c.ID, false, cindy)
	wantErr(t, err, association.ErrState)
	_, err = e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindType, association.TypeReferral, "", admin)
	wantErr(t, err, association.ErrSameType)

	next := confirmedAt.AddDate(0, 3, 0)
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{confirmedAt.Add(24 * time.Hour), false},
		{next.Add(-time.Second), false},
		{next, true},
	} {
		e.clock.Set(c.at)
		_, err := e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindType, association.TypeResale, "", admin)
		var soon *association.TooSoonError
		if c.want {
			mustOK(t, err)
			continue
		}
		if !errors.As(err, &soon) || !errors.Is(err, association.ErrTooSoon) || !soon.Next.Equal(next) {
			t.Fatalf("at %v: %v; want TooSoonError next %v", c.at, err, next)
		}
	}
	k := e.told.kinds()
	if count(k, association.KindChangeRequested+":customer") != 2 || count(k, association.KindChangeConfirmed+":partner") != 1 {
		t.Fatalf("announced %v", k)
	}
	evs := e.events(t, tenant, cindy.Customer)
	if count(evs, association.EventChangeRequested) != 2 || count(evs, association.EventChangeConfirmed) != 1 {
		t.Fatalf("events %v", evs)
	}
}

func testRefuse(t *testing.T, e *env) {
	e.associate(t, cindy)
	c, err := e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindUnbind, "", "", admin)
	mustOK(t, err)
	b, err := e.svc.DecideChange(e.ctx, cindy.Customer, c.ID, false, cindy)
	mustOK(t, err)
	if b.State != association.Bound || !b.LastChangeAt.IsZero() || b.Pending != nil || b.Changes[0].State != association.ChangeRefused {
		t.Fatalf("after refusal %+v", b)
	}
	if len(e.hook.list()) != 0 {
		t.Fatal("hook told of a refused unbinding")
	}
	// A refusal does not start the 3 months.
	_, err = e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindType, association.TypeReferral, "", admin)
	mustOK(t, err)
	if c := count(e.events(t, tenant, cindy.Customer), association.EventChangeRefused); c != 1 {
		t.Fatalf("%d refusal records", c)
	}
}

func testChangeActors(t *testing.T, e *env) {
	e.associate(t, cindy)
	e.associate(t, dora)
	for _, a := range []subject{manager, otherAdmin, cindy, delegated} {
		_, err := e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindUnbind, "", "", a)
		wantErr(t, err, association.ErrNotAllowed)
	}
	_, err := e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindType, "3", "", admin)
	wantErr(t, err, association.ErrInvalid)
	_, err = e.svc.RequestChange(e.ctx, tenant, cindy.Customer, "merge", "", "", admin)
	wantErr(t, err, association.ErrInvalid)
	_, err = e.svc.RequestChange(e.ctx, other, cindy.Customer, association.KindUnbind, "", "", otherAdmin)
	wantErr(t, err, association.ErrNotAssociated)
	_, err = e.svc.RequestChange(e.ctx, tenant, "c-nobody", association.KindUnbind, "", "", admin)
	wantErr(t, err, association.ErrNotAssociated)
	c, err := e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindUnbind, "", "", admin)
	mustOK(t, err)
	for _, a := range []subject{dora, admin, delegated} {
		_, err := e.svc.DecideChange(e.ctx, cindy.Customer, c.ID, true, a)
		wantErr(t, err, association.ErrNotAllowed)
	}
	// dora answering with her own customer id finds no such change.
	_, err = e.svc.DecideChange(e.ctx, dora.Customer, c.ID, true, dora)
	wantErr(t, err, association.ErrState)
	if b, _, _ := e.svc.Binding(e.ctx, cindy.Customer); b.State != association.Bound || b.Pending == nil {
		t.Fatalf("changed by the wrong people: %+v", b)
	}
}

func testUnbind(t *testing.T, e *env) {
	e.associate(t, cindy)
	c, err := e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindUnbind, "", "contract ended", admin)
	mustOK(t, err)
	if len(e.hook.list()) != 0 {
		t.Fatal("hook told before the customer confirmed")
	}
	b, err := e.svc.DecideChange(e.ctx, cindy.Customer, c.ID, true, cindy)
	mustOK(t, err)
	if b.State != association.Unbound || e.reg.get(cindy.Customer).State != association.Unbound {
		t.Fatalf("after unbinding %+v", b)
	}
	if h := e.hook.list(); len(h) != 1 || h[0] != tenant+"/"+cindy.Customer {
		t.Fatalf("hook told %v", h)
	}
	_, err = e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindType, "1", "", admin)
	wantErr(t, err, association.ErrNotAssociated)
	// The customer may now join another partner; the 3 months carry over.
	_, tok := e.inviteAs(t, otherAdmin, association.CreateInput{Kind: association.Online, AssociationType: "1"})
	e.sign(t, tok, cindy)
	_, nb, err := e.svc.Accept(e.ctx, tok, cindy)
	mustOK(t, err)
	if nb.Tenant != other || nb.State != association.Bound || !nb.LastChangeAt.Equal(b.LastChangeAt) || len(nb.Changes) != 0 {
		t.Fatalf("new binding %+v", nb)
	}
	_, err = e.svc.RequestChange(e.ctx, other, cindy.Customer, association.KindType, "2", "", otherAdmin)
	wantErr(t, err, association.ErrTooSoon)
}
