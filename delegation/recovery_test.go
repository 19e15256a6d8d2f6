package delegation_test

import (
	"testing"

	"github.com/livery/livery/delegation"
)

// These tests fail one store write between two steps (as if the process
// died there) and check that the next call rolls the change forward
// exactly once.
var recoveryTests = []testCase{
	{"crash between the grant and the pending pointer", testCrashBeforePending},
	{"crash between approval and the active pointer", testCrashBeforeActive},
	{"crash before the pending pointer is cleared", testCrashBeforeClear},
	{"audit failure after an approval", testAuditFailure},
	{"crash in a revocation before the pointer is cleared", testCrashInRevoke},
	{"crash in a replacement", testCrashInReplace},
}

func testCrashBeforePending(t *testing.T, e *env) {
	e.store.failNextPuts("/pending/", 1)
	if _, err := e.svc.Request(e.ctx, tenant, input(resale), manager); !errorsIs(err, errInjected) {
		t.Fatalf("Request = %v; want the injected error", err)
	}
	objs, err := e.raw.List(e.ctx, "delegation/"+tenant+"/grants/")
	mustOK(t, err)
	if len(objs) != 1 {
		t.Fatalf("%d grant objects; want the orphan", len(objs))
	}
	p, err := e.svc.List(e.ctx, tenant, delegation.Query{})
	mustOK(t, err)
	if len(p.Grants) != 0 {
		t.Fatalf("List shows the orphan: %+v", p.Grants)
	}
	if gs, _ := e.svc.ForCustomer(e.ctx, tenant, resale); len(gs) != 0 {
		t.Fatal("ForCustomer shows the orphan")
	}
	g := e.request(t, input(resale)) // the customer is not blocked
	if p, _ := e.svc.List(e.ctx, tenant, delegation.Query{}); len(p.Grants) != 1 || p.Grants[0].ID != g.ID {
		t.Fatalf("List = %+v; want just the new request", p.Grants)
	}
}

func testCrashBeforeActive(t *testing.T, e *env) {
	g := e.request(t, input(resale))
	e.store.failNextPuts("/active/", 1)
	if _, err := e.svc.Approve(e.ctx, tenant, g.ID, cust); !errorsIs(err, errInjected) {
		t.Fatalf("Approve = %v; want the injected error", err)
	}
	// The decision stands: readers see the grant active, not pending.
	if ag, ok, err := e.svc.ActiveGrant(e.ctx, tenant, resale); err != nil || !ok || ag.ID != g.ID {
		t.Fatalf("ActiveGrant after the crash = %v, %v, %v; want the approved grant", ag.ID, ok, err)
	}
	if _, ok, _ := e.svc.Pending(e.ctx, tenant, resale); ok {
		t.Fatal("still pending")
	}
	// A retried approval completes it and reports it decided.
	_, err := e.svc.Approve(e.ctx, tenant, g.ID, cust)
	wantErr(t, err, delegation.ErrState)
	raw, err := e.raw.Stat(e.ctx, "delegation/"+tenant+"/active/"+resale+".json")
	if err != nil || raw.Size == 0 {
		t.Fatalf("active pointer after recovery: %v", err)
	}
	if c := count(e.events(t, resale), delegation.EventApproved); c != 1 {
		t.Fatalf("%d approve records; want 1", c)
	}
	if c := count(e.told.kinds(), "delegation.approved:partner"); c != 1 {
		t.Fatalf("approval announced %d times; want 1", c)
	}
	// And it can be revoked normally.
	_, err = e.svc.Revoke(e.ctx, tenant, g.ID, cust, "")
	mustOK(t, err)
}

func testCrashBeforeClear(t *testing.T, e *env) {
	g := e.request(t, input(resale))
	e.store.failNextPuts("/pending/", 1)
	if _, err := e.svc.Reject(e.ctx, tenant, g.ID, cust, "no thanks"); !errorsIs(err, errInjected) {
		t.Fatalf("Reject = %v; want the injected error", err)
	}
	if len(e.told.kinds()) != 1 {
		t.Fatalf("announced %v before the pointer was cleared", e.told.kinds())
	}
	// The partner's next request rolls the rejection forward first.
	e.request(t, input(resale))
	if c := count(e.told.kinds(), "delegation.rejected:partner"); c != 1 {
		t.Fatalf("rejection announced %d times; want 1", c)
	}
	if c := count(e.events(t, resale), delegation.EventRejected); c != 1 {
		t.Fatalf("%d reject records; want 1", c)
	}
	if st := e.get(t, g.ID).State; st != delegation.StateRejected {
		t.Fatalf("state = %s", st)
	}
}

func testAuditFailure(t *testing.T, e *env) {
	g := e.request(t, input(resale))
	e.store.failNextPuts("audit/"+tenant+"/delegation/", 1)
	if _, err := e.svc.Approve(e.ctx, tenant, g.ID, cust); !errorsIs(err, errInjected) {
		t.Fatalf("Approve = %v; want the injected (audit) error", err)
	}
	if c := count(e.events(t, resale), delegation.EventApproved); c != 0 {
		t.Fatalf("%d approve records after the failure", c)
	}
	// The approval happened; the next mutating call writes the record.
	if _, err := e.svc.Request(e.ctx, tenant, input(resale), manager); !errorsIs(err, delegation.ErrActiveExists) {
		t.Fatalf("Request = %v; want ErrActiveExists", err)
	}
	if c := count(e.events(t, resale), delegation.EventApproved); c != 1 {
		t.Fatalf("%d approve records after recovery; want 1", c)
	}
}

func testCrashInRevoke(t *testing.T, e *env) {
	g := e.active(t)
	e.store.failNextPuts("/active/", 1)
	if _, err := e.svc.Revoke(e.ctx, tenant, g.ID, cust, "stop"); !errorsIs(err, errInjected) {
		t.Fatalf("Revoke = %v; want the injected error", err)
	}
	// The grant object is the truth: no longer active anywhere.
	if _, ok, _ := e.svc.ActiveGrant(e.ctx, tenant, resale); ok {
		t.Fatal("active after a revocation whose pointer was not cleared")
	}
	_, err := e.svc.Revoke(e.ctx, tenant, g.ID, cust, "stop")
	wantErr(t, err, delegation.ErrState)
	e.request(t, input(resale)) // not ErrActiveExists: rolled forward
	if c := count(e.events(t, resale), delegation.EventRevoked); c != 1 {
		t.Fatalf("%d revoke records; want 1", c)
	}
	if c := count(e.told.kinds(), "delegation.revoked:partner"); c != 1 {
		t.Fatalf("revocation announced %d times; want 1", c)
	}
}

func testCrashInReplace(t *testing.T, e *env) {
	old := e.active(t)
	in := input(resale, delegation.ScopeSecurity)
	in.Replaces = old.ID
	g := e.request(t, in)
	e.store.failNextPuts("/active/", 1) // after the old grant is revoked
	if _, err := e.svc.Approve(e.ctx, tenant, g.ID, cust); !errorsIs(err, errInjected) {
		t.Fatalf("Approve = %v; want the injected error", err)
	}
	if ag, ok, _ := e.svc.ActiveGrant(e.ctx, tenant, resale); !ok || ag.ID != g.ID {
		t.Fatalf("active = %v, %v; want the replacement", ag.ID, ok)
	}
	if st := e.get(t, old.ID).State; st != delegation.StateRevoked {
		t.Fatalf("old grant %s", st)
	}
	_, err := e.svc.Request(e.ctx, tenant, input(resale), manager)
	wantErr(t, err, delegation.ErrActiveExists) // the replacement is active, pointer rolled forward
	evs := e.events(t, resale)
	if count(evs, delegation.EventRevoked) != 1 || count(evs, delegation.EventApproved) != 2 {
		t.Fatalf("events %v; want one revoke and two approvals", evs)
	}
}
