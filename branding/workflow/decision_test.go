package workflow_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/internal/objstore"
)

var decisionTests = []testCase{
	{"concurrent approvals: exactly one version", testConcurrentApprove},
	{"stale and unknown submission ids", testStale},
	{"self-approval refused", testSelfApproval},
	{"reject needs a reason", testRejectReason},
}

func testConcurrentApprove(t *testing.T, e *env) {
	s := e.submit(t, tenant, validDoc("#111111"))
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.svc.Approve(e.ctx, tenant, s.ID, authz.Subject{User: "op" + string(rune('a'+i))}, "")
		})
	}
	// A concurrent reject competes for the same decision.
	var rejErr error
	wg.Go(func() { _, rejErr = e.svc.Reject(e.ctx, tenant, s.ID, op2, "no") })
	wg.Wait()
	wins := 0
	for _, err := range append(errs, rejErr) {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, workflow.ErrStale):
			t.Fatalf("losing decision: %v; want ErrStale", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d decisions succeeded; want exactly 1", wins)
	}
	vs, err := e.svc.Versions(e.ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	objs, _ := e.raw.List(e.ctx, "versions/"+tenant+"/")
	hist, _ := e.svc.Submissions(e.ctx, tenant)
	if rejErr == nil {
		if len(vs) != 0 || len(objs) != 0 || hist[0].Status != workflow.StatusRejected {
			t.Fatalf("reject won but %d versions exist", len(vs))
		}
		return
	}
	if len(vs) != 1 || len(objs) != 1 || vs[0].Number != 1 || vs[0].SubmissionID != s.ID {
		t.Fatalf("versions = %+v (%d objects); want exactly version 1 of %s", vs, len(objs), s.ID)
	}
	if e.liveNumber(t, tenant) != 1 || hist[0].Status != workflow.StatusApproved || hist[0].Version != 1 {
		t.Fatalf("live/history not updated: %+v", hist[0])
	}
	if c := count(e.events(t, tenant), workflow.EventApprove); c != 1 {
		t.Fatalf("%d approve audit records; want 1", c)
	}
}

func testStale(t *testing.T, e *env) {
	s1 := e.submit(t, tenant, validDoc("#111111"))
	if _, err := e.svc.Withdraw(e.ctx, tenant, partner); err != nil {
		t.Fatal(err)
	}
	s2 := e.submit(t, tenant, validDoc("#222222"))
	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"approve withdrawn", func() error { _, err := e.svc.Approve(e.ctx, tenant, s1.ID, operator, ""); return err }, workflow.ErrStale},
		{"reject withdrawn", func() error { _, err := e.svc.Reject(e.ctx, tenant, s1.ID, operator, "x"); return err }, workflow.ErrStale},
		{"approve unknown", func() error {
			_, err := e.svc.Approve(e.ctx, tenant, "20200101T000000000000000Z-00000000", operator, "")
			return err
		}, workflow.ErrNotFound},
		{"approve traversal", func() error { _, err := e.svc.Approve(e.ctx, tenant, "../../live/acme", operator, ""); return err }, workflow.ErrNotFound},
		{"approve in other tenant", func() error { _, err := e.svc.Approve(e.ctx, "other", s2.ID, operator, ""); return err }, workflow.ErrNotFound},
		{"bad tenant", func() error { _, err := e.svc.Approve(e.ctx, "a/b", s2.ID, operator, ""); return err }, workflow.ErrInvalidArgument},
	}
	for _, c := range cases {
		if err := c.call(); !errors.Is(err, c.want) {
			t.Errorf("%s: %v; want %v", c.name, err, c.want)
		}
	}
	if p, err := e.svc.Pending(e.ctx, tenant); err != nil || p.ID != s2.ID {
		t.Fatalf("Pending = %s, %v; want %s untouched", p.ID, err, s2.ID)
	}
	v, err := e.svc.Approve(e.ctx, tenant, s2.ID, operator, "fine")
	if err != nil || v.Number != 1 || v.Note != "fine" || v.ApprovedBy.User != operator.User {
		t.Fatalf("Approve = %+v, %v", v, err)
	}
	if _, err := e.svc.Approve(e.ctx, tenant, s2.ID, op2, ""); !errors.Is(err, workflow.ErrStale) {
		t.Fatalf("second Approve = %v; want ErrStale", err)
	}
}

func testSelfApproval(t *testing.T, e *env) {
	s := e.submit(t, tenant, validDoc("#111111"))
	if _, err := e.svc.Approve(e.ctx, tenant, s.ID, partner, ""); !errors.Is(err, workflow.ErrSelfApproval) {
		t.Fatalf("self-approval = %v; want ErrSelfApproval", err)
	}
	// Same user name, even with operator roles.
	sneaky := authz.Subject{User: partner.User, Roles: []string{"operator"}}
	if _, err := e.svc.Approve(e.ctx, tenant, s.ID, sneaky, ""); !errors.Is(err, workflow.ErrSelfApproval) {
		t.Fatalf("self-approval with operator role = %v; want ErrSelfApproval", err)
	}
	if p, err := e.svc.Pending(e.ctx, tenant); err != nil || p.ID != s.ID {
		t.Fatalf("Pending after refused approval = %v; want %s", err, s.ID)
	}
	if e.liveNumber(t, tenant) != 0 {
		t.Fatal("something went live")
	}
	if c := count(e.events(t, tenant), workflow.EventApprove); c != 0 {
		t.Fatalf("%d approve audit records; want 0", c)
	}
}

func testRejectReason(t *testing.T, e *env) {
	s := e.submit(t, tenant, validDoc("#111111"))
	for _, r := range []string{"", "   \t\n", strings.Repeat("长", workflow.MaxReasonRunes+1), "\xff\xfe"} {
		if _, err := e.svc.Reject(e.ctx, tenant, s.ID, operator, r); !errors.Is(err, workflow.ErrReasonRequired) {
			t.Errorf("Reject(reason %d bytes) = %v; want ErrReasonRequired", len(r), err)
		}
	}
	if p, err := e.svc.Pending(e.ctx, tenant); err != nil || p.ID != s.ID {
		t.Fatalf("Pending after refused rejects = %v", err)
	}
	if _, err := e.raw.Stat(e.ctx, "decisions/"+tenant+"/"+s.ID+".json"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("a decision was stored: %v", err)
	}
	if c := count(e.events(t, tenant), workflow.EventReject); c != 0 {
		t.Fatalf("%d reject audit records; want 0", c)
	}
	long := strings.Repeat("长", workflow.MaxReasonRunes)
	r, err := e.svc.Reject(e.ctx, tenant, s.ID, operator, "  "+long+"\n")
	if err != nil {
		t.Fatalf("Reject with a %d-rune reason: %v", workflow.MaxReasonRunes, err)
	}
	if r.Status != workflow.StatusRejected || r.Reason != long {
		t.Fatalf("rejected = %s %q; want trimmed reason", r.Status, r.Reason)
	}
	hist, err := e.svc.Submissions(e.ctx, tenant)
	if err != nil || len(hist) != 1 || hist[0].Reason != long || hist[0].DecidedBy.User != operator.User {
		t.Fatalf("partner's history = %+v, %v; want the rejection with its reason", hist, err)
	}
	if _, err := e.svc.Pending(e.ctx, tenant); !errors.Is(err, workflow.ErrNoPending) {
		t.Fatalf("Pending after reject = %v", err)
	}
	if vs, _ := e.svc.Versions(e.ctx, tenant); len(vs) != 0 {
		t.Fatalf("reject created versions: %v", vs)
	}
}
