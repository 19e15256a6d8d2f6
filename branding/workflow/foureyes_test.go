package workflow_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/livery/livery/authz"
	"github.com/livery/livery/branding"
	"github.com/livery/livery/branding/workflow"
)

var fourEyesTests = []testCase{
	{"four eyes: no editor of the submission approves it", testFourEyes},
	{"four eyes: an edit after submission counts in the next one", testFourEyesLateEdit},
	{"four eyes: an approval clears the editors it covered", testFourEyesCleared},
}

// saveAs stores doc as the draft as actor a, whatever the current ETag.
func (e *env) saveAs(t *testing.T, a authz.Subject, doc branding.Document) {
	t.Helper()
	cur, err := e.svc.Draft(e.ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.PutDraft(e.ctx, tenant, doc, cur.ETag, a); err != nil {
		t.Fatalf("PutDraft as %s: %v", a.User, err)
	}
}

func (e *env) submitAs(t *testing.T, a authz.Subject) workflow.Submission {
	t.Helper()
	s, err := e.svc.Submit(e.ctx, tenant, a)
	if err != nil {
		t.Fatalf("Submit as %s: %v", a.User, err)
	}
	return s
}

// testFourEyes: an operator edits the partner's draft, the partner
// submits, the same operator tries to approve.
func testFourEyes(t *testing.T, e *env) {
	e.saveAs(t, partner, validDoc("#111111"))
	e.saveAs(t, operator, validDoc("#222222"))
	e.saveAs(t, partner2, validDoc("#333333"))
	s := e.submitAs(t, partner)
	if want := []string{"alice", "bob", "oscar"}; !slices.Equal(s.Authors, want) {
		t.Fatalf("authors = %v; want %v", s.Authors, want)
	}
	for _, a := range []authz.Subject{operator, partner2, partner} {
		if _, err := e.svc.Approve(e.ctx, tenant, s.ID, a, ""); !errors.Is(err, workflow.ErrSelfApproval) {
			t.Fatalf("approval by editor %s = %v; want ErrSelfApproval", a.User, err)
		}
	}
	if e.liveNumber(t, tenant) != 0 {
		t.Fatal("an editor's approval went live")
	}
	if _, err := e.svc.Approve(e.ctx, tenant, s.ID, op2, ""); err != nil {
		t.Fatalf("approval by a non-editor: %v", err)
	}
}

// testFourEyesLateEdit: the operator edits the draft after the partner
// submitted; another operator approves that submission (which does not
// contain the edit); the partner submits again, now with the operator's
// edit: the operator may not approve it.
func testFourEyesLateEdit(t *testing.T, e *env) {
	e.saveAs(t, partner, validDoc("#111111"))
	s1 := e.submitAs(t, partner)
	e.saveAs(t, operator, validDoc("#222222"))
	if _, err := e.svc.Approve(e.ctx, tenant, s1.ID, op2, ""); err != nil {
		t.Fatal(err)
	}
	s2 := e.submitAs(t, partner)
	if _, err := e.svc.Approve(e.ctx, tenant, s2.ID, operator, ""); !errors.Is(err, workflow.ErrSelfApproval) {
		t.Fatalf("approval of own unreviewed edit = %v; want ErrSelfApproval", err)
	}
	if _, err := e.svc.Approve(e.ctx, tenant, s2.ID, op2, ""); err != nil {
		t.Fatalf("approval by a non-editor: %v", err)
	}
}

// testFourEyesCleared: edits covered by an approval no longer bar their
// editor; a rollback does not change that.
func testFourEyesCleared(t *testing.T, e *env) {
	e.saveAs(t, operator, validDoc("#111111"))
	s1 := e.submitAs(t, partner)
	if _, err := e.svc.Approve(e.ctx, tenant, s1.ID, op2, ""); err != nil {
		t.Fatal(err)
	}
	e.saveAs(t, partner, validDoc("#222222"))
	s2 := e.submitAs(t, partner)
	if !slices.Equal(s2.Authors, []string{"alice"}) {
		t.Fatalf("authors after approval = %v; want [alice]", s2.Authors)
	}
	if _, err := e.svc.Approve(e.ctx, tenant, s2.ID, operator, ""); err != nil {
		t.Fatalf("approval by an editor of an already approved save: %v", err)
	}
	if _, err := e.svc.Rollback(e.ctx, tenant, 1, op2, "back"); err != nil {
		t.Fatal(err)
	}
	e.saveAs(t, partner2, validDoc("#333333"))
	s3 := e.submitAs(t, partner)
	if !slices.Equal(s3.Authors, []string{"alice", "bob"}) {
		t.Fatalf("authors after rollback = %v; want [alice bob]", s3.Authors)
	}
}
