package association_test

import (
	"errors"
	"testing"

	"github.com/livery/livery/association"
)

// These tests fail one step (a store write, the registry, the hook, the
// audit) as if the process died there, and check that the next call
// rolls the change forward exactly once.
var recoveryTests = []testCase{
	{"crash writing the binding", testCrashBeforeBinding},
	{"crash after the binding, before the invitation is accepted", testCrashBeforeAccepted},
	{"registry failure during an acceptance", testRegistryFailure},
	{"audit failure after a confirmed change", testAuditFailureOnConfirm},
	{"unbind hook failure", testHookFailure},
	{"crash clearing the effect of an unbinding", testCrashClearingEffect},
}

func accepting(t *testing.T, e *env) (association.Invitation, string) {
	t.Helper()
	inv, tok := e.invite(t, association.Online, association.TypeResale)
	e.sign(t, tok, cindy)
	return inv, tok
}

func testCrashBeforeBinding(t *testing.T, e *env) {
	inv, tok := accepting(t, e)
	e.store.failPuts("association/customers/", 0, 1)
	if _, _, err := e.svc.Accept(e.ctx, tok, cindy); !errors.Is(err, errInjected) {
		t.Fatalf("Accept = %v; want the injected error", err)
	}
	raw, _ := e.svc.Redeem(e.ctx, tok, cindy)
	if raw.State != association.StateAccepting {
		t.Fatalf("state after the crash %s", raw.State)
	}
	// Another account cannot take it meanwhile; a revoke loses too.
	_, _, err := e.svc.Accept(e.ctx, tok, dora)
	wantErr(t, err, association.ErrCodeUsed)
	_, err = e.svc.Revoke(e.ctx, tenant, inv.ID, admin)
	wantErr(t, err, association.ErrState)
	got, err := e.svc.Get(e.ctx, tenant, inv.ID) // rolls forward
	mustOK(t, err)
	if got.State != association.StateAccepted {
		t.Fatalf("after Get: %s", got.State)
	}
	_, b, err := e.svc.Accept(e.ctx, tok, cindy)
	mustOK(t, err)
	if b.State != association.Bound || !b.Settled() {
		t.Fatalf("binding %+v", b)
	}
	if c := count(e.events(t, tenant, cindy.Customer), association.EventAssociated); c != 1 {
		t.Fatalf("%d association records; want 1", c)
	}
}

func testCrashBeforeAccepted(t *testing.T, e *env) {
	inv, tok := accepting(t, e)
	e.store.failPuts("/invitations/", 1, 1) // the claim passes, the final write fails
	if _, _, err := e.svc.Accept(e.ctx, tok, cindy); !errors.Is(err, errInjected) {
		t.Fatalf("Accept = %v; want the injected error", err)
	}
	if b, found, _ := e.svc.Binding(e.ctx, cindy.Customer); !found || b.State != association.Bound {
		t.Fatal("binding not written")
	}
	i, b, err := e.svc.Accept(e.ctx, tok, cindy)
	mustOK(t, err)
	if i.ID != inv.ID || i.State != association.StateAccepted || b.Invitation != inv.ID {
		t.Fatalf("after retry %+v / %+v", i, b)
	}
	if c := count(e.events(t, tenant, cindy.Customer), association.EventAssociated); c != 1 {
		t.Fatalf("%d association records; want 1", c)
	}
}

func testRegistryFailure(t *testing.T, e *env) {
	inv, tok := accepting(t, e)
	e.reg.fail = 2
	if _, _, err := e.svc.Accept(e.ctx, tok, cindy); !errors.Is(err, errInjected) {
		t.Fatalf("Accept = %v; want the injected error", err)
	}
	if c := count(e.events(t, tenant, cindy.Customer), association.EventAssociated); c != 0 {
		t.Fatal("audited before the registry was told")
	}
	// The registry still fails: the partner's list still answers.
	list, err := e.svc.List(e.ctx, tenant)
	mustOK(t, err)
	if list[0].State != association.StateAccepting {
		t.Fatalf("List while the registry fails: %s", list[0].State)
	}
	list, err = e.svc.List(e.ctx, tenant) // rolls forward
	mustOK(t, err)
	if list[0].ID != inv.ID || list[0].State != association.StateAccepted {
		t.Fatalf("List %+v", list)
	}
	if e.reg.get(cindy.Customer).Tenant != tenant {
		t.Fatal("registry never told")
	}
	if c := count(e.events(t, tenant, cindy.Customer), association.EventAssociated); c != 1 {
		t.Fatalf("%d association records; want 1", c)
	}
}

func testAuditFailureOnConfirm(t *testing.T, e *env) {
	e.associate(t, cindy)
	c, err := e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindType, "1", "", admin)
	mustOK(t, err)
	e.store.failPuts("audit/"+tenant+"/association/", 0, 1)
	if _, err := e.svc.DecideChange(e.ctx, cindy.Customer, c.ID, true, cindy); !errors.Is(err, errInjected) {
		t.Fatalf("DecideChange = %v; want the injected error", err)
	}
	b, _, err := e.svc.Binding(e.ctx, cindy.Customer) // completes
	mustOK(t, err)
	if b.Type != "1" || !b.Settled() {
		t.Fatalf("binding %+v", b)
	}
	if n := count(e.events(t, tenant, cindy.Customer), association.EventChangeConfirmed); n != 1 {
		t.Fatalf("%d confirmation records; want 1", n)
	}
}

func testHookFailure(t *testing.T, e *env) {
	e.associate(t, cindy)
	c, err := e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindUnbind, "", "", admin)
	mustOK(t, err)
	e.hook.fail = 1
	if _, err := e.svc.DecideChange(e.ctx, cindy.Customer, c.ID, true, cindy); !errors.Is(err, errInjected) {
		t.Fatalf("DecideChange = %v; want the injected error", err)
	}
	if len(e.hook.list()) != 0 {
		t.Fatal("hook told despite failing")
	}
	// Any call on the customer completes it, e.g. a retried confirmation.
	b, err := e.svc.DecideChange(e.ctx, cindy.Customer, c.ID, true, cindy)
	mustOK(t, err)
	if b.State != association.Unbound || len(e.hook.list()) != 1 {
		t.Fatalf("binding %+v, hook %v", b, e.hook.list())
	}
}

func testCrashClearingEffect(t *testing.T, e *env) {
	e.associate(t, cindy)
	c, err := e.svc.RequestChange(e.ctx, tenant, cindy.Customer, association.KindUnbind, "", "", admin)
	mustOK(t, err)
	e.store.failPuts("association/customers/", 1, 1) // the decision passes, clearing its effect fails
	if _, err := e.svc.DecideChange(e.ctx, cindy.Customer, c.ID, true, cindy); !errors.Is(err, errInjected) {
		t.Fatalf("DecideChange = %v; want the injected error", err)
	}
	b, _, err := e.svc.Binding(e.ctx, cindy.Customer)
	mustOK(t, err)
	if b.State != association.Unbound || !b.Settled() {
		t.Fatalf("binding %+v", b)
	}
	if len(e.hook.list()) < 1 {
		t.Fatal("hook never told")
	}
	if n := count(e.events(t, tenant, cindy.Customer), association.EventChangeConfirmed); n != 1 {
		t.Fatalf("%d confirmation records; want 1 (the effect ran twice, the record is stored once)", n)
	}
	if n := count(e.told.kinds(), association.KindChangeConfirmed+":partner"); n != 1 {
		t.Fatalf("confirmation announced %d times; want 1", n)
	}
}
