package association_test

import (
	"testing"
	"time"

	"github.com/livery/livery/association"
)

var sweepTests = []testCase{
	{"expiry sweep: each expired online invitation announced once; offline, answered and resent ones not", testSweepExpired},
}

func testSweepExpired(t *testing.T, e *env) {
	expiring, _ := e.invite(t, association.Online, "2")
	resent, _ := e.invite(t, association.Online, "1")
	e.invite(t, association.Offline, "2")
	e.clock.Advance(8 * 24 * time.Hour)
	if _, _, err := e.svc.Resend(e.ctx, tenant, resent.ID, admin); err != nil {
		t.Fatal(err)
	}
	n, err := e.svc.SweepExpired(e.ctx, tenant, e.clock.Now())
	if err != nil || n != 1 {
		t.Fatalf("first sweep = %d, %v; want 1 (the expired online invitation)", n, err)
	}
	if n, err := e.svc.SweepExpired(e.ctx, tenant, e.clock.Now()); err != nil || n != 0 {
		t.Fatalf("second sweep = %d, %v; want 0 (announced once)", n, err)
	}
	if got := count(e.told.kinds(), association.KindExpired+":"+association.AudiencePartner); got != 1 {
		t.Fatalf("expired announcements = %d (%v); want 1", got, e.told.kinds())
	}
	inv, err := e.svc.Get(e.ctx, tenant, expiring.ID)
	if err != nil || inv.StateAt(e.clock.Now()) != association.StateExpired {
		t.Fatalf("expired invitation = %+v, %v", inv, err)
	}
	// The resent one expires later, and is announced then, once.
	e.clock.Advance(8 * 24 * time.Hour)
	if n, err := e.svc.SweepExpired(e.ctx, tenant, e.clock.Now()); err != nil || n != 1 {
		t.Fatalf("sweep after the resent one expired = %d, %v; want 1", n, err)
	}
}
