package workflow_test

import (
	"errors"
	"testing"

	"github.com/livery/livery/branding/workflow"
)

var overviewTests = []testCase{
	{"overview of every tenant's state", testOverview},
	{"approvals, rejections and rollbacks are announced once", testAnnounce},
	{"a decision completed by recovery is announced once", testAnnounceRecovery},
}

func testOverview(t *testing.T, e *env) {
	v1 := e.publish(t, "t1", validDoc("#000001"))
	sub := e.submit(t, "t1", validDoc("#000002"))
	rej := e.submit(t, "t3", validDoc("#000003"))
	if _, err := e.svc.Reject(e.ctx, "t3", rej.ID, op2, "logo too small"); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Overview(e.ctx, []string{"t1", "t2", "t3"})
	if err != nil || len(got) != 3 {
		t.Fatalf("Overview: %+v %v", got, err)
	}
	a, b, c := got[0], got[1], got[2]
	switch {
	case a.Tenant != "t1" || a.Live == nil || a.Live.Version != 1 || !a.Live.ApprovedAt.Equal(v1.ApprovedAt) ||
		a.Live.ApprovedBy != operator.User || a.Live.Action != "approve":
		t.Fatalf("t1 live: %+v", a.Live)
	case a.Draft == nil || a.Draft.UpdatedBy != partner.User || a.Draft.UpdatedAt.IsZero():
		t.Fatalf("t1 draft: %+v", a.Draft)
	case a.Pending == nil || a.Pending.SubmissionID != sub.ID || !a.Pending.Due.Equal(sub.Due) || a.Pending.Overdue ||
		a.Pending.SubmittedBy != partner.User:
		t.Fatalf("t1 pending: %+v", a.Pending)
	case a.LastDecision == nil || a.LastDecision.Status != workflow.StatusApproved || a.LastDecision.Version != 1:
		t.Fatalf("t1 last decision: %+v", a.LastDecision)
	case b.Tenant != "t2" || b.Live != nil || b.Draft != nil || b.Pending != nil || b.LastDecision != nil:
		t.Fatalf("t2 (nothing): %+v", b)
	case c.Live != nil || c.Pending != nil || c.LastDecision == nil || c.LastDecision.Status != workflow.StatusRejected ||
		c.LastDecision.Reason != "logo too small" || c.LastDecision.By.User != op2.User || c.LastDecision.SubmissionID != rej.ID:
		t.Fatalf("t3: %+v %+v", c, c.LastDecision)
	}
	e.clock.mu.Lock()
	e.clock.t = sub.Due
	e.clock.mu.Unlock()
	if got, err := e.svc.Overview(e.ctx, []string{"t1"}); err != nil || !got[0].Pending.Overdue {
		t.Fatalf("after the due date: %+v %v", got, err)
	}
	if _, err := e.svc.Overview(e.ctx, []string{"t1", "bad/id"}); !errors.Is(err, workflow.ErrInvalidArgument) {
		t.Fatalf("bad tenant: %v", err)
	}
}

func testAnnounce(t *testing.T, e *env) {
	v := e.publish(t, tenant, validDoc("#000001"))
	s := e.submit(t, tenant, validDoc("#000002"))
	if _, err := e.svc.Reject(e.ctx, tenant, s.ID, op2, "colours clash"); err != nil {
		t.Fatal(err)
	}
	e.submit(t, tenant, validDoc("#000003"))
	if _, err := e.svc.Withdraw(e.ctx, tenant, partner); err != nil {
		t.Fatal(err)
	}
	e.publish(t, tenant, validDoc("#000004"))
	if _, err := e.svc.Rollback(e.ctx, tenant, 1, operator, "back to the old one"); err != nil {
		t.Fatal(err)
	}
	got := e.told.list()
	if len(got) != 4 {
		t.Fatalf("announced %+v; want approve, reject, approve, rollback", got)
	}
	if o := got[0]; o.Kind != workflow.OutcomeApproved || o.Tenant != tenant || o.Version != v.Number ||
		o.SubmissionID != v.SubmissionID || o.Actor != operator.User || o.Reason != "ok" || !o.At.Equal(v.ApprovedAt) {
		t.Fatalf("approval: %+v", o)
	}
	if o := got[1]; o.Kind != workflow.OutcomeRejected || o.SubmissionID != s.ID || o.Reason != "colours clash" || o.Actor != op2.User {
		t.Fatalf("rejection: %+v", o)
	}
	if o := got[2]; o.Kind != workflow.OutcomeApproved || o.Version != 2 {
		t.Fatalf("second approval: %+v", o)
	}
	if o := got[3]; o.Kind != workflow.OutcomeRolledBack || o.Version != 1 || o.Reason != "back to the old one" {
		t.Fatalf("rollback: %+v", o)
	}
}

func testAnnounceRecovery(t *testing.T, e *env) {
	s := e.submit(t, tenant, validDoc("#111111"))
	e.store.failNextPuts("pending/", 1)
	if _, err := e.svc.Reject(e.ctx, tenant, s.ID, operator, "no"); !errors.Is(err, errInjected) {
		t.Fatalf("Reject with failing store = %v; want the injected error", err)
	}
	if got := e.told.list(); len(got) != 0 {
		t.Fatalf("announced before the decision completed: %+v", got)
	}
	// The next mutating call completes it, and announces it.
	e.saveDraft(t, tenant, validDoc("#222222"))
	if _, err := e.svc.Submit(e.ctx, tenant, partner); err != nil {
		t.Fatal(err)
	}
	got := e.told.list()
	if len(got) != 1 || got[0].Kind != workflow.OutcomeRejected || got[0].SubmissionID != s.ID {
		t.Fatalf("announced %+v; want the rejection once", got)
	}
}
