package workflow_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding/workflow"
)

var submitTests = []testCase{
	{"submit freezes the draft", testSubmitFreezes},
	{"concurrent submits: exactly one wins", testConcurrentSubmit},
	{"withdraw", testWithdraw},
	{"queue is oldest first", testQueueOrder},
	{"review shows live and changes", testReview},
}

func testSubmitFreezes(t *testing.T, e *env) {
	if _, err := e.svc.Submit(e.ctx, tenant, partner); !errors.Is(err, workflow.ErrNotFound) {
		t.Fatalf("Submit without a draft = %v; want ErrNotFound", err)
	}
	s := e.submit(t, tenant, validDoc("#111111"))
	if s.Status != workflow.StatusPending || s.SubmittedBy.User != partner.User || s.BaseVersion != 0 {
		t.Fatalf("submission = %+v", s)
	}
	if want := workflow.DueDate(s.SubmittedAt, workflow.Holidays{}, time.UTC); !s.Due.Equal(want) {
		t.Fatalf("Due = %v; want %v", s.Due, want)
	}
	// Editing the draft afterwards does not change the submission.
	e.saveDraft(t, tenant, validDoc("#222222"))
	p, err := e.svc.Pending(e.ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != s.ID || p.Doc.Brand.NavColor != "#111111" {
		t.Fatalf("Pending = %s %s; want %s with the frozen #111111", p.ID, p.Doc.Brand.NavColor, s.ID)
	}
	if _, err := e.svc.Submit(e.ctx, tenant, partner); !errors.Is(err, workflow.ErrPendingExists) {
		t.Fatalf("second Submit = %v; want ErrPendingExists", err)
	}
	if _, err := e.svc.Submit(e.ctx, tenant, authz.Subject{}); !errors.Is(err, workflow.ErrInvalidArgument) {
		t.Fatalf("Submit without actor = %v; want ErrInvalidArgument", err)
	}
}

func testConcurrentSubmit(t *testing.T, e *env) {
	e.saveDraft(t, tenant, validDoc("#111111"))
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	ids := make([]string, n)
	for i := range n {
		wg.Go(func() {
			s, err := e.svc.Submit(e.ctx, tenant, partner)
			errs[i], ids[i] = err, s.ID
		})
	}
	wg.Wait()
	won := ""
	for i, err := range errs {
		switch {
		case err == nil && won == "":
			won = ids[i]
		case err == nil:
			t.Fatalf("two submits succeeded: %s and %s", won, ids[i])
		case !errors.Is(err, workflow.ErrPendingExists):
			t.Fatalf("losing submit: %v; want ErrPendingExists", err)
		}
	}
	if won == "" {
		t.Fatal("no submit succeeded")
	}
	hist, err := e.svc.Submissions(e.ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].ID != won {
		t.Fatalf("history = %d submissions; want only the winner %s", len(hist), won)
	}
	if q, _ := e.svc.Queue(e.ctx); len(q) != 1 || q[0].ID != won {
		t.Fatalf("queue = %v; want the winner", q)
	}
	if c := count(e.events(t, tenant), workflow.EventSubmit); c != 1 {
		t.Fatalf("%d submit audit records; want 1", c)
	}
}

func testWithdraw(t *testing.T, e *env) {
	if _, err := e.svc.Withdraw(e.ctx, tenant, partner); !errors.Is(err, workflow.ErrNoPending) {
		t.Fatalf("Withdraw with nothing pending = %v; want ErrNoPending", err)
	}
	s := e.submit(t, tenant, validDoc("#111111"))
	w, err := e.svc.Withdraw(e.ctx, tenant, partner2)
	if err != nil {
		t.Fatal(err)
	}
	if w.ID != s.ID || w.Status != workflow.StatusWithdrawn || w.DecidedBy == nil || w.DecidedBy.User != partner2.User {
		t.Fatalf("withdrawn = %+v", w)
	}
	if _, err := e.svc.Pending(e.ctx, tenant); !errors.Is(err, workflow.ErrNoPending) {
		t.Fatalf("Pending after withdraw = %v; want ErrNoPending", err)
	}
	if _, err := e.svc.Approve(e.ctx, tenant, s.ID, operator, ""); !errors.Is(err, workflow.ErrStale) {
		t.Fatalf("Approve withdrawn = %v; want ErrStale", err)
	}
	s2, err := e.svc.Submit(e.ctx, tenant, partner)
	if err != nil {
		t.Fatalf("Submit after withdraw: %v", err)
	}
	hist, err := e.svc.Submissions(e.ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].ID != s2.ID || hist[1].Status != workflow.StatusWithdrawn {
		t.Fatalf("history = %+v; want [pending %s, withdrawn %s]", hist, s2.ID, s.ID)
	}
	if c := count(e.events(t, tenant), workflow.EventWithdraw); c != 1 {
		t.Fatalf("%d withdraw audit records; want 1", c)
	}
}

func testQueueOrder(t *testing.T, e *env) {
	order := []string{"zeta", "alpha", "mid"} // not alphabetical
	for _, tn := range order {
		e.submit(t, tn, validDoc("#111111"))
	}
	q, err := e.svc.Queue(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(q))
	for i, s := range q {
		got[i] = s.Tenant
	}
	if len(got) != 3 || got[0] != "zeta" || got[1] != "alpha" || got[2] != "mid" {
		t.Fatalf("queue = %v; want %v (oldest first)", got, order)
	}
	if _, err := e.svc.Approve(e.ctx, "alpha", q[1].ID, operator, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Reject(e.ctx, "zeta", q[0].ID, operator, "logo too small"); err != nil {
		t.Fatal(err)
	}
	q, err = e.svc.Queue(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || q[0].Tenant != "mid" {
		t.Fatalf("queue after decisions = %+v; want only mid", q)
	}
}

func testReview(t *testing.T, e *env) {
	if _, err := e.svc.Review(e.ctx, tenant); !errors.Is(err, workflow.ErrNoPending) {
		t.Fatalf("Review with nothing pending = %v; want ErrNoPending", err)
	}
	v1 := e.publish(t, tenant, validDoc("#111111"))
	s := e.submit(t, tenant, validDoc("#222222"))
	if s.BaseVersion != v1.Number {
		t.Fatalf("BaseVersion = %d; want %d", s.BaseVersion, v1.Number)
	}
	r, err := e.svc.Review(e.ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if r.Submission.ID != s.ID || r.Live == nil || r.Live.Number != v1.Number {
		t.Fatalf("review = %+v", r)
	}
	if len(r.Changes) != 1 || r.Changes[0].Path != "brand.nav_color" || r.Changes[0].Old != "#111111" || r.Changes[0].New != "#222222" {
		t.Fatalf("changes = %+v; want only brand.nav_color #111111 → #222222", r.Changes)
	}
}
