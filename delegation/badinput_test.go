package delegation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/livery/livery/authz"

	"github.com/livery/livery/delegation"
)

var badInputTests = []testCase{
	{"bad requests are refused and store nothing", testBadRequests},
	{"second pending request", testSecondPending},
	{"approval by another customer", testForeignApproval},
	{"agreement required, then accepted", testAgreement},
}

func testBadRequests(t *testing.T, e *env) {
	long := strings.Repeat("长", delegation.MaxReasonRunes+1)
	cases := []struct {
		name string
		in   func(in *delegation.RequestInput)
		want error
	}{
		{"unknown customer", func(in *delegation.RequestInput) { in.Customer = "nobody" }, delegation.ErrUnknownCustomer},
		{"referral customer", func(in *delegation.RequestInput) { in.Customer = referral }, delegation.ErrReferralCustomer},
		{"malformed customer", func(in *delegation.RequestInput) { in.Customer = "../x" }, delegation.ErrInvalidArgument},
		{"no scopes", func(in *delegation.RequestInput) { in.Scopes = nil }, delegation.ErrBadScope},
		{"unknown scope", func(in *delegation.RequestInput) { in.Scopes = []delegation.Scope{"marketplace"} }, delegation.ErrBadScope},
		{"duplicate scope", func(in *delegation.RequestInput) {
			in.Scopes = []delegation.Scope{delegation.ScopePower, delegation.ScopePower}
		}, delegation.ErrBadScope},
		{"duration too short", func(in *delegation.RequestInput) { in.Duration = time.Hour - time.Second }, delegation.ErrBadDuration},
		{"duration too long", func(in *delegation.RequestInput) { in.Duration = delegation.MaxDuration + time.Second }, delegation.ErrBadDuration},
		{"permanent (zero) duration", func(in *delegation.RequestInput) { in.Duration = 0 }, delegation.ErrBadDuration},
		{"blank reason", func(in *delegation.RequestInput) { in.Reason = "  \t " }, delegation.ErrReasonRequired},
		{"reason too long", func(in *delegation.RequestInput) { in.Reason = long }, delegation.ErrReasonRequired},
	}
	for _, c := range cases {
		in := input(resale)
		c.in(&in)
		_, err := e.svc.Request(e.ctx, tenant, in, manager)
		if !errorsIs(err, c.want) {
			t.Errorf("%s: %v; want %v", c.name, err, c.want)
		}
	}
	// Bounds are inclusive.
	for _, d := range []time.Duration{delegation.MinDuration, delegation.MaxDuration} {
		in := input(resale2)
		in.Duration = d
		g := e.request(t, in)
		_, err := e.svc.Withdraw(e.ctx, tenant, g.ID, admin)
		mustOK(t, err)
	}
	// Staff of another tenant, a customer, a delegated session, an
	// operator (requests are the partner's own).
	for _, who := range []struct {
		name string
		subj func() (err error)
	}{
		{"foreign staff", func() error { _, err := e.svc.Request(e.ctx, tenant, input(resale), foreign); return err }},
		{"a customer", func() error { _, err := e.svc.Request(e.ctx, tenant, input(resale), cust); return err }},
		{"a delegated session", func() error { _, err := e.svc.Request(e.ctx, tenant, input(resale), delegatedSess); return err }},
		{"an operator", func() error { _, err := e.svc.Request(e.ctx, tenant, input(resale), operator); return err }},
	} {
		if err := who.subj(); !errorsIs(err, delegation.ErrNotYourGrant) {
			t.Errorf("request by %s: %v; want ErrNotYourGrant", who.name, err)
		}
	}
	objs, err := e.raw.List(e.ctx, "delegation/"+tenant+"/grants/")
	mustOK(t, err)
	if len(objs) != 2 {
		t.Fatalf("%d grants stored; want only the 2 good ones", len(objs))
	}
	_, err = e.svc.Get(e.ctx, tenant, "not-an-id")
	wantErr(t, err, delegation.ErrNotFound)
}

func testSecondPending(t *testing.T, e *env) {
	g := e.request(t, input(resale))
	_, err := e.svc.Request(e.ctx, tenant, input(resale), admin)
	wantErr(t, err, delegation.ErrPendingExists)
	// Another customer is independent.
	e.request(t, input(resale2))
	// Concurrent requests for one customer: exactly one wins.
	_, err = e.svc.Withdraw(e.ctx, tenant, g.ID, admin)
	mustOK(t, err)
	errs := make(chan error, 6)
	for range 6 {
		go func() { _, err := e.svc.Request(e.ctx, tenant, input(resale), manager); errs <- err }()
	}
	won := 0
	for range 6 {
		switch err := <-errs; {
		case err == nil:
			won++
		case !errorsIs(err, delegation.ErrPendingExists):
			t.Errorf("concurrent request: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent requests won; want 1", won)
	}
	gs, err := e.svc.ForCustomer(e.ctx, tenant, resale)
	mustOK(t, err)
	if len(gs) != 2 { // the withdrawn one and the winner
		t.Fatalf("ForCustomer lists %d grants; want 2", len(gs))
	}
}

func testForeignApproval(t *testing.T, e *env) {
	g := e.request(t, input(resale))
	for _, s := range []struct {
		name string
		err  error
	}{
		{"another customer", func() error { _, err := e.svc.Approve(e.ctx, tenant, g.ID, cust2); return err }()},
		{"same customer id in another tenant", func() error { _, err := e.svc.Approve(e.ctx, tenant, g.ID, custElsewhere); return err }()},
		{"staff", func() error { _, err := e.svc.Approve(e.ctx, tenant, g.ID, admin); return err }()},
		{"a delegated session", func() error { _, err := e.svc.Approve(e.ctx, tenant, g.ID, delegatedSess); return err }()},
		{"reject by another customer", func() error { _, err := e.svc.Reject(e.ctx, tenant, g.ID, cust2, ""); return err }()},
		{"withdraw by a customer", func() error { _, err := e.svc.Withdraw(e.ctx, tenant, g.ID, cust); return err }()},
		{"withdraw by foreign staff", func() error { _, err := e.svc.Withdraw(e.ctx, tenant, g.ID, foreign); return err }()},
	} {
		if !errorsIs(s.err, delegation.ErrNotYourGrant) {
			t.Errorf("%s: %v; want ErrNotYourGrant", s.name, s.err)
		}
	}
	if st := e.get(t, g.ID).State; st != delegation.StateRequested {
		t.Fatalf("state = %s after refused decisions", st)
	}
	_, err := e.svc.Reject(e.ctx, tenant, g.ID, cust, strings.Repeat("x", delegation.MaxReasonRunes+1))
	wantErr(t, err, delegation.ErrReasonRequired)
}

func testAgreement(t *testing.T, e *env) {
	const other = "globex"
	staff := foreign
	svc := e.service(e.store)
	_, err := svc.Request(e.ctx, other, input(resale), staff)
	wantErr(t, err, delegation.ErrAgreementRequired)
	if !strings.Contains(err.Error(), delegation.AgreementVersion) {
		t.Fatalf("%v does not name version %s", err, delegation.AgreementVersion)
	}
	_, err = svc.AcceptAgreement(e.ctx, other, "2000-01", staff)
	wantErr(t, err, delegation.ErrAgreementVersion)
	_, err = svc.AcceptAgreement(e.ctx, other, delegation.AgreementVersion, admin) // staff of acme
	wantErr(t, err, delegation.ErrNotYourGrant)
	a, err := svc.AcceptAgreement(e.ctx, other, delegation.AgreementVersion, staff)
	mustOK(t, err)
	// Accepting again keeps the first acceptance.
	b, err := svc.AcceptAgreement(e.ctx, other, delegation.AgreementVersion, authzWithUser(staff, "gina"))
	mustOK(t, err)
	if b.By.User != staff.User || !b.At.Equal(a.At) {
		t.Fatalf("second acceptance = %+v; want the first (%s at %s)", b, a.By.User, a.At)
	}
	got, ok, err := svc.Accepted(e.ctx, other)
	if err != nil || !ok || got.By.User != staff.User || got.Version != delegation.AgreementVersion {
		t.Fatalf("Accepted = %+v, %v, %v", got, ok, err)
	}
	// Past the agreement the request meets the directory (globex has no
	// customers here).
	_, err = svc.Request(e.ctx, other, input(resale), staff)
	wantErr(t, err, delegation.ErrUnknownCustomer)
	txt := delegation.Agreement()
	if txt.Version != delegation.AgreementVersion || !strings.Contains(txt.ZH, "代客运维") || !strings.Contains(txt.EN, "marketplace") {
		t.Fatalf("agreement text = %+v", txt)
	}
}

func authzWithUser(s authz.Subject, user string) authz.Subject {
	s.User = user
	return s
}
