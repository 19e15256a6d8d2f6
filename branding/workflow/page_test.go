package workflow_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/livery/livery/branding/workflow"
	"github.com/livery/livery/internal/audit"
)

var pageTests = []testCase{
	{"submissions page newest first, reading only the page", testSubmissionsPage},
	{"versions page newest first", testVersionsPage},
	{"bad cursors and limits are refused", testBadCursor},
	{"audit pages with filters equal the filtered full list", testAuditPage},
	{"queue pages oldest first with overdue", testQueuePage},
}

// rejectN makes n rejected submissions and returns their ids, oldest
// first.
func (e *env) rejectN(t *testing.T, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		s := e.submit(t, tenant, validDoc("#11111"+string(rune('0'+i))))
		if _, err := e.svc.Reject(e.ctx, tenant, s.ID, operator, "no"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	return ids
}

func testSubmissionsPage(t *testing.T, e *env) {
	ids := e.rejectN(t, 5)
	pending := e.submit(t, tenant, validDoc("#999999"))
	rev := slices.Clone(ids)
	slices.Reverse(rev)
	want := append([]string{pending.ID}, rev...)
	all, err := e.svc.Submissions(e.ctx, tenant)
	if err != nil || len(all) != 6 {
		t.Fatalf("Submissions: %d, %v", len(all), err)
	}
	var got []string
	p := workflow.Page{Limit: 2}
	for pages := 0; ; pages++ {
		before := e.store.calls.Load()
		l, next, err := e.svc.SubmissionsPage(e.ctx, tenant, p)
		if err != nil {
			t.Fatal(err)
		}
		// One List, the pending pointer, a submission and a decision per
		// entry: never the whole history.
		if calls := e.store.calls.Load() - before; calls > 2+2*int64(p.Limit) {
			t.Fatalf("page %d made %d store calls; want at most %d", pages, calls, 2+2*p.Limit)
		}
		for i, s := range l {
			got = append(got, s.ID)
			if s.ID != pending.ID && (s.Status != workflow.StatusRejected || s.Reason != "no") {
				t.Fatalf("page entry %d = %+v; want its rejection", i, s)
			}
		}
		if next == "" {
			if pages != 2 {
				t.Fatalf("%d pages; want 3", pages+1)
			}
			break
		}
		p.Cursor = next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged ids %v; want newest first %v", got, want)
	}
	// The default limit holds the whole (short) history on one page.
	l, next, err := e.svc.SubmissionsPage(e.ctx, tenant, workflow.Page{})
	if err != nil || len(l) != 6 || next != "" {
		t.Fatalf("default page: %d, %q, %v", len(l), next, err)
	}
}

func testVersionsPage(t *testing.T, e *env) {
	for i := range 3 {
		e.publish(t, tenant, validDoc("#00000"+string(rune('1'+i))))
	}
	l, next, err := e.svc.VersionsPage(e.ctx, tenant, workflow.Page{Limit: 2})
	if err != nil || len(l) != 2 || l[0].Number != 3 || l[1].Number != 2 || next == "" {
		t.Fatalf("first page: %+v %q %v", l, next, err)
	}
	l, next, err = e.svc.VersionsPage(e.ctx, tenant, workflow.Page{Limit: 2, Cursor: next})
	if err != nil || len(l) != 1 || l[0].Number != 1 || l[0].Doc.Brand.NavColor != "#000001" || next != "" {
		t.Fatalf("second page: %+v %q %v", l, next, err)
	}
	// Exactly a page's worth: no empty trailing page is announced.
	if l, next, err := e.svc.VersionsPage(e.ctx, tenant, workflow.Page{Limit: 3}); err != nil || len(l) != 3 || next != "" {
		t.Fatalf("page of 3: %d %q %v", len(l), next, err)
	}
	if l, next, err := e.svc.VersionsPage(e.ctx, "globex", workflow.Page{}); err != nil || len(l) != 0 || next != "" {
		t.Fatalf("tenant without versions: %v %q %v", l, next, err)
	}
}

func testBadCursor(t *testing.T, e *env) {
	e.rejectN(t, 2)
	e.publish(t, tenant, validDoc("#000001"))
	e.publish(t, tenant, validDoc("#000002"))
	_, subCursor, err := e.svc.SubmissionsPage(e.ctx, tenant, workflow.Page{Limit: 1})
	if err != nil || subCursor == "" {
		t.Fatalf("SubmissionsPage: %q %v", subCursor, err)
	}
	_, verCursor, err := e.svc.VersionsPage(e.ctx, tenant, workflow.Page{Limit: 1})
	if err != nil || verCursor == "" {
		t.Fatalf("VersionsPage: %q %v", verCursor, err)
	}
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"garbage", func() error {
			_, _, err := e.svc.SubmissionsPage(e.ctx, tenant, workflow.Page{Cursor: "%%%"})
			return err
		}},
		{"versions cursor for submissions", func() error {
			_, _, err := e.svc.SubmissionsPage(e.ctx, tenant, workflow.Page{Cursor: verCursor})
			return err
		}},
		{"submissions cursor for versions", func() error {
			_, _, err := e.svc.VersionsPage(e.ctx, tenant, workflow.Page{Cursor: subCursor})
			return err
		}},
		{"submissions cursor for audit", func() error {
			_, _, err := e.svc.AuditPage(e.ctx, tenant, audit.Filter{}, workflow.Page{Cursor: subCursor})
			return err
		}},
		{"submissions cursor for the queue", func() error {
			_, _, err := e.svc.QueuePage(e.ctx, workflow.Page{Cursor: subCursor})
			return err
		}},
		{"limit above the maximum", func() error {
			_, _, err := e.svc.VersionsPage(e.ctx, tenant, workflow.Page{Limit: workflow.MaxPageLimit + 1})
			return err
		}},
		{"negative limit", func() error {
			_, _, err := e.svc.AuditPage(e.ctx, tenant, audit.Filter{}, workflow.Page{Limit: -1})
			return err
		}},
	} {
		if err := c.call(); !errors.Is(err, workflow.ErrBadCursor) {
			t.Errorf("%s: %v; want ErrBadCursor", c.name, err)
		}
	}
	if _, _, err := e.svc.VersionsPage(e.ctx, tenant, workflow.Page{Limit: workflow.MaxPageLimit, Cursor: verCursor}); err != nil {
		t.Errorf("the maximum limit with a good cursor: %v", err)
	}
	if _, _, err := e.svc.SubmissionsPage(e.ctx, "../x", workflow.Page{}); !errors.Is(err, workflow.ErrInvalidArgument) {
		t.Errorf("bad tenant: %v", err)
	}
}

// testAuditPage checks every filter, paged by 2, against the full list
// filtered in memory (newest first).
func testAuditPage(t *testing.T, e *env) {
	e.rejectN(t, 3)
	mid := e.clock.Now()
	e.publish(t, tenant, validDoc("#000001"))
	e.publish(t, tenant, validDoc("#000002"))
	if _, err := e.svc.Rollback(e.ctx, tenant, 1, op2, "back"); err != nil {
		t.Fatal(err)
	}
	all, err := e.svc.Audit(e.ctx, tenant)
	if err != nil || len(all) < 15 {
		t.Fatalf("Audit: %d %v", len(all), err)
	}
	slices.Reverse(all)
	for _, f := range []audit.Filter{
		{},
		{Action: workflow.EventReject},
		{Action: workflow.EventSubmit},
		{Action: "branding"}, // an event name's prefix is not the event
		{Actor: operator.User},
		{Actor: op2.User},
		{Actor: "nobody"},
		{Since: mid},
		{Until: mid},
		{Since: mid, Until: mid.Add(5 * time.Second)},
		{Action: workflow.EventApprove, Actor: operator.User, Since: mid},
	} {
		var want []audit.Record
		for _, r := range all {
			if f.Match(r) {
				want = append(want, r)
			}
		}
		var got []audit.Record
		p := workflow.Page{Limit: 2}
		for range 50 {
			l, next, err := e.svc.AuditPage(e.ctx, tenant, f, p)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			got = append(got, l...)
			if next == "" {
				break
			}
			p.Cursor = next
		}
		if len(got) != len(want) {
			t.Fatalf("filter %+v: %d records; want %d", f, len(got), len(want))
		}
		for i := range got {
			if got[i].Event != want[i].Event || !got[i].Time.Equal(want[i].Time) || got[i].ID != want[i].ID {
				t.Fatalf("filter %+v: record %d = %s %v; want %s %v", f, i, got[i].Event, got[i].Time, want[i].Event, want[i].Time)
			}
		}
	}
	if len(all) > 0 && all[0].Event != workflow.EventRollback {
		t.Fatalf("newest record %s; want the rollback", all[0].Event)
	}
}

func testQueuePage(t *testing.T, e *env) {
	tenants := []string{"t3", "t1", "t2"}
	subs := map[string]workflow.Submission{}
	for _, tn := range tenants {
		subs[tn] = e.submit(t, tn, validDoc("#123456"))
	}
	l, next, err := e.svc.QueuePage(e.ctx, workflow.Page{Limit: 2})
	if err != nil || len(l) != 2 || next == "" || l[0].Tenant != "t3" || l[1].Tenant != "t1" {
		t.Fatalf("first page: %+v %q %v", l, next, err)
	}
	if l[0].Overdue || !l[0].Due.Equal(subs["t3"].Due) {
		t.Fatalf("fresh entry: overdue %v due %v; want not overdue, due %v", l[0].Overdue, l[0].Due, subs["t3"].Due)
	}
	// Just after the first submission's due date, only it is overdue.
	e.clock.mu.Lock()
	e.clock.t = subs["t3"].Due
	e.clock.mu.Unlock()
	l, _, err = e.svc.QueuePage(e.ctx, workflow.Page{})
	if err != nil || len(l) != 3 || !l[0].Overdue || l[1].Overdue || l[2].Overdue {
		t.Fatalf("after t3's due date: %+v %v", l, err)
	}
	l, next, err = e.svc.QueuePage(e.ctx, workflow.Page{Limit: 2, Cursor: next})
	if err != nil || len(l) != 1 || l[0].Tenant != "t2" || next != "" {
		t.Fatalf("second page: %+v %q %v", l, next, err)
	}
	// A decided submission leaves the queue; the cursor still works.
	if _, err := e.svc.Reject(e.ctx, "t1", subs["t1"].ID, operator, "no"); err != nil {
		t.Fatal(err)
	}
	_, c1, _ := e.svc.QueuePage(e.ctx, workflow.Page{Limit: 1})
	l, _, err = e.svc.QueuePage(e.ctx, workflow.Page{Limit: 5, Cursor: c1})
	if err != nil || len(l) != 1 || l[0].Tenant != "t2" {
		t.Fatalf("after a decision: %+v %v", l, err)
	}
}
